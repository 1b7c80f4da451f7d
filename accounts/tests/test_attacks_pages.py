"""Attacks on the browser pages: open redirects through `next`, framing, caching, the login's
second step skipped, and CSRF on every form."""

import pyotp
import pytest
from django.test import Client

from accounts.mfa.tests.test_login_pages import VERIFY, with_totp
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

EVIL = [
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "https:evil.com",
    "https://evil.com",
    "http:/evil.com",
    "%2F%2Fevil.com",
    "/%2F/evil.com",
    "/%09/evil.com",
    "\t//evil.com",
    " //evil.com",
    "//evil.com%2F..",
    "javascript:alert(1)",
    "https://testserver@evil.com",
    "//testserver.evil.com",
]
LOGINS = ["/api-auth/login/", "/admin/login/"]


def is_off_site(location):
    from django.utils.http import url_has_allowed_host_and_scheme

    return not url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"})


@pytest.mark.parametrize("login", LOGINS)
@pytest.mark.parametrize("target", EVIL)
@pytest.mark.parametrize("second_factor", [False, True])
def test_no_login_redirects_off_site(login, target, second_factor):
    account = UserFactory(password=PASSWORD, is_staff=True)
    secret = with_totp(account) if second_factor else None
    browser = Client()
    response = browser.post(
        f"{login}?next={target}", {"username": account.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    if second_factor:
        assert response["Location"] == VERIFY
        response = browser.post(VERIFY, {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 302
    assert not is_off_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_no_logout_redirects_off_site(user, target):
    browser = Client()
    browser.force_login(user)
    response = browser.post(f"/api-auth/logout/?next={target}")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert not is_off_site(response["Location"]), response["Location"]


def test_the_password_step_alone_opens_no_page():
    account = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    with_totp(account)
    browser = Client()
    browser.post("/admin/login/", {"username": account.email, "password": PASSWORD})
    for page in ("/accounts/security/", "/admin/", "/api/v1/users/me/?format=api"):
        response = browser.get(page, HTTP_ACCEPT="text/html")
        assert response.status_code in (302, 401, 403), page
    response = browser.get("/api/v1/auth/mfa/", HTTP_ACCEPT="application/json")
    assert response.status_code in (401, 403)


def test_forms_refuse_a_post_without_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    for page in ("/api-auth/login/", "/admin/login/"):
        response = browser.post(page, {"username": user.email, "password": PASSWORD})
        assert response.status_code == 403, page
    browser.force_login(user)
    response = browser.post("/api/v1/auth/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 403


def test_the_security_page_is_neither_framed_nor_cached(user):
    browser = Client()
    browser.force_login(user)
    response = browser.get("/accounts/security/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
