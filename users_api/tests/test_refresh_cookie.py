"""The refresh token in an HttpOnly cookie (`"refresh_in_cookie": true`): what the cookie
looks like, and that using it needs the CSRF header (Django's double submit)."""

import pytest
from rest_framework.test import APIClient

from accounts.usersessions.models import UserSession
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"


@pytest.fixture
def browser(user, settings):
    settings.REFRESH_COOKIE_SECURE = True
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD, "refresh_in_cookie": True},
    )
    assert response.status_code == 200
    client.login_response = response
    return client


def csrf(client):
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def test_login_puts_the_refresh_token_in_a_strict_httponly_cookie(browser):
    response = browser.login_response
    cookie = response.cookies["roster_refresh"]

    assert set(response.json()) == {"access"}
    assert cookie.value.count(".") == 2  # a JWT
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth/"
    assert int(cookie["max-age"]) == 86400
    assert "csrftoken" in response.cookies


def test_without_the_flag_the_body_holds_the_refresh_token_and_no_cookie_is_set(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})

    assert set(response.json()) == {"access", "refresh"}
    assert "roster_refresh" not in response.cookies


def test_refresh_from_the_cookie_with_the_csrf_header_rotates_the_cookie(browser):
    old = browser.cookies["roster_refresh"].value

    response = browser.post(REFRESH, {}, **csrf(browser))

    assert response.status_code == 200
    assert set(response.json()) == {"access"}
    assert response.cookies["roster_refresh"].value not in ("", old)
    me = APIClient().get(
        "/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}"
    )
    assert me.status_code == 200


@pytest.mark.parametrize("header", [None, "wrong-token-value-of-the-right-length-0123456789abc"])
def test_refresh_or_logout_from_the_cookie_without_the_csrf_header_is_403(browser, header):
    extra = {"HTTP_X_CSRFTOKEN": header} if header else {}
    old = browser.cookies["roster_refresh"].value

    refresh = browser.post(REFRESH, {}, **extra)
    logout = browser.post(LOGOUT, {}, **extra)

    assert refresh.status_code == logout.status_code == 403
    assert refresh["Content-Type"] == "application/problem+json"
    assert UserSession.objects.get().ended_at is None
    # the cookie was not spent: with the header it still works
    browser.cookies["roster_refresh"] = old
    assert browser.post(REFRESH, {}, **csrf(browser)).status_code == 200


def test_logout_from_the_cookie_ends_the_session_and_clears_the_cookie(browser):
    access = browser.login_response.json()["access"]

    response = browser.post(LOGOUT, {}, **csrf(browser))

    assert response.status_code == 204
    assert response.cookies["roster_refresh"].value == ""
    assert UserSession.objects.get().ended_reason == "logout"
    me = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 401


def test_no_token_in_body_or_cookie_is_401(api_client):
    assert api_client.post(REFRESH, {}).status_code == 401
    assert api_client.post(LOGOUT, {}).status_code == 401


def test_a_token_in_the_body_wins_and_needs_no_csrf(browser, user):
    other = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})

    response = browser.post(REFRESH, {"refresh": other.json()["refresh"]})

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
