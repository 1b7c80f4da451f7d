"""Token confusion: every kind of token Roster hands out works only where it was meant to."""

import time

import pyotp
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tokens import issue_token_pair
from conftest import PASSWORD, bearer_client
from users_api.tests.test_mfa import enable_totp, password_login

AUTH = "/api/v1/auth/"
ME = "/api/v1/users/me/"
pytestmark = pytest.mark.django_db


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_refresh_token_is_not_an_access_token(user):
    pair = issue_token_pair(user)
    assert bearer(pair["refresh"]).get(ME).status_code == 401
    assert bearer(pair["access"]).get(ME).status_code == 200


def test_an_access_token_is_not_a_refresh_token(user):
    pair = issue_token_pair(user)
    for path in ("token/refresh/", "logout/"):
        response = APIClient().post(f"{AUTH}{path}", {"refresh": pair["access"]})
        assert response.status_code == 401, path
    assert bearer(pair["access"]).get(ME).status_code == 200


def test_an_mfa_token_is_neither_access_nor_refresh_and_not_anothers(user, other_user):
    owner = bearer_client(user)
    secret, _ = enable_totp(owner)
    mfa_token = password_login(user).json()["mfa_token"]
    assert bearer(mfa_token).get(ME).status_code == 401
    for path in ("token/refresh/", "logout/", "token/verify/"):
        body = {"token": mfa_token} if path == "token/verify/" else {"refresh": mfa_token}
        assert APIClient().post(f"{AUTH}{path}", body).status_code == 401, path
    # A refresh or access token is not an mfa_token either.
    for token in (owner.refresh_token, owner.access_token):
        response = APIClient().post(
            f"{AUTH}mfa/verify/", {"mfa_token": token, "code": pyotp.TOTP(secret).now()}
        )
        assert response.status_code in (400, 401)
    # The other user's code does not finish my login.
    other = bearer_client(other_user)
    other_secret, _ = enable_totp(other)
    response = APIClient().post(
        f"{AUTH}mfa/verify/", {"mfa_token": mfa_token, "code": pyotp.TOTP(other_secret).now()}
    )
    assert response.status_code == 401


def test_a_forged_sid_is_refused(user, other_user):
    """A token re-signed with another session's sid cannot be made without the key, and one of
    my sessions' ids in a token of another user is no session of theirs."""
    mine = issue_token_pair(user)
    theirs = issue_token_pair(other_user)
    their_sid = AccessToken(theirs["access"])["sid"]
    token = AccessToken(mine["access"])
    token["sid"] = their_sid
    assert bearer(str(token)).get(ME).status_code == 401  # re-signed by the server's key: still
    assert bearer(mine["access"]).get(ME).status_code == 200


def test_the_refresh_does_not_mint_a_fresh_auth_time(user):
    old = int(time.time()) - 3600
    pair = issue_token_pair(user, auth_time=old)
    fresh = APIClient().post(f"{AUTH}token/refresh/", {"refresh": pair["refresh"]}).json()
    assert AccessToken(fresh["access"])["auth_time"] == old
    stale = bearer(fresh["access"])
    assert stale.post(f"{AUTH}password/change/", {}).json()["code"] == ("reauthentication_required")


def test_reauthenticate_keeps_the_session_and_ends_with_it(user):
    client = bearer_client(user)
    pair = client.post(f"{AUTH}reauthenticate/", {"password": PASSWORD}).json()
    assert AccessToken(pair["access"])["sid"] == AccessToken(client.access_token)["sid"]
    assert APIClient().post(f"{AUTH}logout/", {"refresh": client.refresh_token}).status_code == 204
    assert bearer(pair["access"]).get(ME).status_code == 401
    refreshed = APIClient().post(f"{AUTH}token/refresh/", {"refresh": pair["refresh"]})
    assert refreshed.status_code == 401


def test_a_refresh_token_of_an_older_password_cannot_be_used_after_a_change(user):
    client = bearer_client(user)
    stolen = RefreshToken(client.refresh_token)
    client.post(
        f"{AUTH}password/change/",
        {"current_password": PASSWORD, "new_password": "another-Long-passw0rd"},
    )
    response = APIClient().post(f"{AUTH}token/refresh/", {"refresh": str(stolen)})
    assert response.status_code == 401
