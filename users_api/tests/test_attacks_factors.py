"""Attacks on managing second factors and sessions once signed in (recent auth, the refresh
cookie, session families)."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client as BrowserClient
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.audit.models import SecurityEvent
from accounts.usersessions.models import UserSession
from conftest import PASSWORD, bearer_client
from users_api.tests.test_mfa import enable_totp

pytestmark = pytest.mark.django_db

AUTH = "/api/v1/auth/"


def cookie_login(user, settings):
    settings.REFRESH_COOKIE_SECURE = True
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        f"{AUTH}token/", {"email": user.email, "password": PASSWORD, "refresh_in_cookie": True}
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def test_reauthenticating_a_cookie_session_keeps_its_refresh_token_out_of_the_body(user, settings):
    # A browser app keeps its refresh token in the HttpOnly cookie so that no script (an XSS)
    # can read it: the reauthentication's new pair must not hand it to the page in JSON.
    client = cookie_login(user, settings)
    with time_machine.travel(timedelta(minutes=11)):
        csrf = {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
        access = client.post(f"{AUTH}token/refresh/", {}, **csrf).json()["access"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert client.post(f"{AUTH}mfa/totp/").status_code == 401  # not recent any more
        held = client.cookies["roster_refresh"].value
        response = client.post(f"{AUTH}reauthenticate/", {"password": PASSWORD})

        assert response.status_code == 200
        assert set(response.json()) == {"access"}
        cookie = response.cookies["roster_refresh"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        # The cookie's refresh token carries the new auth_time: after the access token's
        # lifetime, a refresh from the cookie still counts as a recent login.
        refreshed = client.post(f"{AUTH}token/refresh/", {}, **csrf)
        assert refreshed.status_code == 200
        assert abs(AccessToken(refreshed.json()["access"])["auth_time"] - time.time()) < 5
        # The cookie's old token was spent like a rotation: the session keeps one line of
        # refresh tokens, and the old one presented again is a reuse.
        assert APIClient().post(f"{AUTH}token/refresh/", {"refresh": held}).status_code == 401


def test_a_reauthentication_does_not_fork_the_session_into_two_lines_of_refresh_tokens(user):
    # A thief holding the session's refresh token must not keep a line of their own once the
    # owner reauthenticates (the new pair replaces the old one, as a rotation does): presenting
    # the replaced token again is a reuse, and the session ends (the thief is caught).
    owner = APIClient()
    stolen = owner.post(f"{AUTH}token/", {"email": user.email, "password": PASSWORD}).json()
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {stolen['access']}")
    renewed = owner.post(f"{AUTH}reauthenticate/", {"password": PASSWORD}).json()
    verify = f"{AUTH}token/verify/"
    assert APIClient().post(verify, {"token": stolen["refresh"]}).status_code == 401
    assert APIClient().post(verify, {"token": renewed["refresh"]}).status_code == 200

    thief = APIClient().post(f"{AUTH}token/refresh/", {"refresh": stolen["refresh"]})

    assert thief.status_code == 401
    sid = AccessToken(renewed["access"])["sid"]
    assert UserSession.objects.get(pk=sid).ended_reason == "token_reuse"
    owner.credentials(HTTP_AUTHORIZATION=f"Bearer {renewed['access']}")
    assert owner.get("/api/v1/users/me/").status_code == 401


def test_the_reauthenticated_pair_keeps_rotating(user):
    client = APIClient()
    pair = client.post(f"{AUTH}token/", {"email": user.email, "password": PASSWORD}).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    pair = client.post(f"{AUTH}reauthenticate/", {"password": PASSWORD}).json()
    for _ in range(3):
        response = APIClient().post(f"{AUTH}token/refresh/", {"refresh": pair["refresh"]})
        assert response.status_code == 200
        pair = response.json()


def test_new_recovery_codes_are_recorded_and_the_user_is_told(user, auth_client, mailoutbox):
    # Whoever holds a fresh session (a hijacker too) can mint new recovery codes: a way in that
    # outlives the session, and the owner's own codes die. That must not happen silently.
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    enable_totp(auth_client)
    mailoutbox.clear()

    response = auth_client.post(f"{AUTH}mfa/recovery-codes/")

    assert response.status_code == 200
    events = auth_client.get("/api/v1/users/me/events/").json()["results"]
    assert events[0]["type"] == "recovery_codes_regenerated"
    assert [message.to for message in mailoutbox] == [[user.email]]
    assert "recovery codes" in mailoutbox[0].body


def test_a_cookie_session_reauthenticating_right_after_a_rotation_still_gets_the_cookie(
    user, settings
):
    # The cookie's token was just spent by a concurrent refresh (here: the same token rotated
    # through the body): the session is still a cookie session, so no refresh token in the body.
    client = cookie_login(user, settings)
    held = client.cookies["roster_refresh"].value
    assert APIClient().post(f"{AUTH}token/refresh/", {"refresh": held}).status_code == 200

    response = client.post(f"{AUTH}reauthenticate/", {"password": PASSWORD})

    assert response.status_code == 200
    assert set(response.json()) == {"access"}
    assert response.cookies["roster_refresh"].value not in ("", held)


def test_logging_in_as_someone_else_in_one_browser_ends_the_first_browser_session(user, other_user):
    # Django's login flushes the Django session of the account signed in before: its Roster
    # session must end with it (recorded), not stay listed as open where it can never be used.
    browser = BrowserClient()
    browser.post("/api-auth/login/", {"username": user.email, "password": PASSWORD})
    first = UserSession.objects.get(user=user, kind="browser")

    browser.post("/api-auth/login/", {"username": other_user.email, "password": PASSWORD})

    first.refresh_from_db()
    assert first.ended_at is not None and first.ended_reason == "logout"
    listed = bearer_client(user).get(f"{AUTH}sessions/").json()
    assert [s for s in listed if s["kind"] == "browser"] == []
    assert SecurityEvent.objects.filter(user=user, type="session_ended").exists()
    assert UserSession.objects.get(user=other_user, kind="browser").ended_at is None
    assert browser.get("/api/v1/users/me/", HTTP_ACCEPT="application/json").json()["id"] == str(
        other_user.pk
    )
