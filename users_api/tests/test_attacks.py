"""Attacks on the API's authentication that once worked, kept as regressions."""

import pytest
from rest_framework.test import APIClient

from conftest import PASSWORD, bearer_client

AUTH = "/api/v1/auth/"
WRONG = "wrong-password-1234"
pytestmark = pytest.mark.django_db


def lock_out(user):
    """A stranger (no device credential, no session) spends the account's failures."""
    stranger = APIClient(REMOTE_ADDR="203.0.113.9")
    for _ in range(11):
        stranger.post(f"{AUTH}token/", {"email": user.email, "password": WRONG})
    locked = APIClient().post(f"{AUTH}token/", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("post", "password/change/", {"new_password": "another-Long-passw0rd"}, 204),
        ("post", "reauthenticate/", {}, 200),
    ],
)
def test_a_stranger_cannot_stop_a_signed_in_app_confirming_its_password(
    user, method, path, body, expected
):
    signed_in = bearer_client(user)  # an app holding tokens, without a cookie jar
    lock_out(user)
    password_field = "current_password" if path == "password/change/" else "password"

    response = getattr(signed_in, method)(f"{AUTH}{path}", {**body, password_field: PASSWORD})

    assert response.status_code == expected, response.content


def test_a_signed_in_session_still_gets_only_ten_wrong_passwords(user):
    signed_in = bearer_client(user)  # e.g. a stolen access token
    answers = [
        signed_in.post(f"{AUTH}reauthenticate/", {"password": WRONG}).status_code for _ in range(11)
    ]

    assert answers == [400] * 10 + [429]
    assert signed_in.post(f"{AUTH}reauthenticate/", {"password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("change", ["password change", "deactivation"])
def test_an_mfa_token_dies_when_the_password_changes_or_the_account_is_deactivated(
    user, staff, change
):
    import pyotp

    from users_api.tests.test_mfa import enable_totp, password_login

    owner = bearer_client(user)
    secret, _ = enable_totp(owner)
    mfa_token = password_login(user).json()["mfa_token"]  # an attacker who phished the password
    if change == "password change":
        answer = owner.post(
            f"{AUTH}password/change/",
            {"current_password": PASSWORD, "new_password": "another-Long-passw0rd"},
        )
        assert answer.status_code == 204
    else:
        assert bearer_client(staff).delete(f"/api/v1/users/{user.pk}/").status_code == 204
        assert (
            bearer_client(staff).patch(f"/api/v1/users/{user.pk}/", {"is_active": True}).status_code
            == 200
        )

    late = APIClient().post(
        f"{AUTH}mfa/verify/", {"mfa_token": mfa_token, "code": pyotp.TOTP(secret).now()}
    )

    assert late.status_code == 401
    assert late.json()["code"] == "mfa_token_invalid"
