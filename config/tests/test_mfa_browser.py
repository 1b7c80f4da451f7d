"""Passkeys and TOTP as a person uses them: Debian's Chromium with a virtual authenticator
(Chrome DevTools Protocol `WebAuthn.addVirtualAuthenticator`), against a live Roster."""

import time

import pyotp
import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect
from rest_framework_simplejwt.tokens import AccessToken

from accounts.mfa.models import Passkey
from accounts.reauth import SESSION_AUTH_TIME
from accounts.tests.factories import UserFactory
from accounts.usersessions.models import UserSession
from config.tests import test_browser
from config.tests.test_browser import CHROMIUM, log_in, screenshot

# The browser tests' fixtures: a live server, a fresh Chromium profile, a page.
site, browser, page = test_browser.site, test_browser.browser, test_browser.page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]

PASSKEY_LOGIN = """async () => {
  const options = await RosterWebAuthn.api("POST", "/api/v1/auth/passkeys/login/options/");
  const credential = await RosterWebAuthn.get(options.body);
  return await RosterWebAuthn.api("POST", "/api/v1/auth/passkeys/login/", {credential});
}"""


@pytest.fixture
def relying_party(site, settings):
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [site]
    return site


@pytest.fixture
def authenticator(page):
    """A platform authenticator with resident keys and user verification, inside this page."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def open_security_page(page, site, account, password):
    page.csp_violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),
    )
    page.goto(f"{site}/api-auth/login/?next=/accounts/security/")
    log_in(page, email_address=account.email, password=password)
    expect(page.locator("h1")).to_have_text("Security of your account")


def test_security_page_registers_a_passkey_that_then_logs_in_through_the_api(
    relying_party, page, authenticator, password
):
    account = UserFactory(password=password)
    open_security_page(page, relying_party, account, password)

    page.fill("#passkey-name", "Test laptop")
    page.click("#passkey-form button[type=submit]")

    expect(page.locator("#passkey-list li")).to_have_count(1)
    expect(page.locator("#passkey-list li span")).to_have_text("Test laptop")
    expect(page.locator("#codes-list li")).to_have_count(10)  # the first factor: shown once
    passkey = Passkey.objects.get(user=account)
    assert passkey.name == "Test laptop"

    answer = page.evaluate(PASSKEY_LOGIN)
    assert answer["status"] == 200, answer
    payload = AccessToken(answer["body"]["access"]).payload
    assert payload["amr"] == ["hwk"] and payload["user_id"] == str(account.pk)
    passkey.refresh_from_db()
    assert passkey.sign_count >= 1

    # a cloned authenticator: the server has seen a higher counter than this one will send
    Passkey.objects.filter(pk=passkey.pk).update(sign_count=passkey.sign_count + 1000)
    refused = page.evaluate(PASSKEY_LOGIN)
    assert refused["status"] == 401


def test_security_page_turns_totp_on_with_the_qr_code_and_removes_a_passkey(
    relying_party, page, authenticator, password
):
    account = UserFactory(password=password)
    open_security_page(page, relying_party, account, password)

    page.click("#totp-enable")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    expect(page.locator("#totp-disable")).to_be_hidden()
    screenshot(page, "security-totp-enrolment")
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#totp-code", pyotp.TOTP(secret).now())
    page.click("#totp-confirm button[type=submit]")

    expect(page.locator("#totp-state")).to_have_text("On")
    expect(page.locator("#totp-enable")).to_be_hidden()
    expect(page.locator("#codes-list li")).to_have_count(10)
    page.fill("#passkey-name", "Phone")
    page.click("#passkey-form button[type=submit]")
    expect(page.locator("#passkey-list li")).to_have_count(1)
    expect(page.locator("#message")).to_contain_text("Added the passkey")
    screenshot(page, "security")

    page.locator("#passkey-list button").click()
    expect(page.locator("#passkey-list li")).to_have_count(0)
    assert not Passkey.objects.filter(user=account).exists()
    response = page.goto(f"{relying_party}/accounts/security/")
    assert "script-src" in response.headers["content-security-policy"]
    assert page.csp_violations == []


def test_admin_login_with_a_passkey_as_second_step(relying_party, page, authenticator, password):
    admin = UserFactory(password=password, is_staff=True, is_superuser=True)
    open_security_page(page, relying_party, admin, password)
    page.fill("#passkey-name", "Admin key")
    page.click("#passkey-form button[type=submit]")
    expect(page.locator("#passkey-list li")).to_have_count(1)
    page.context.clear_cookies()

    page.goto(f"{relying_party}/admin/")
    log_in(page, email_address=admin.email, password=password)
    expect(page.locator("h1")).to_have_text("Confirm it is you")
    screenshot(page, "login-second-step")
    page.click("#use-passkey")

    expect(page.locator("#site-name")).to_have_text("Roster administration")
    expect(page.locator("#user-tools")).to_be_visible()


def test_security_page_asks_for_the_password_past_the_window_then_does_what_was_asked(
    relying_party, page, password
):
    # The page's session is older than REAUTH_WINDOW: turning TOTP on answers
    # reauthentication_required, the page asks for the password (a browser session's
    # reauthentication answers 204, no tokens) and then retries the action.
    account = UserFactory(password=password)
    open_security_page(page, relying_party, account, password)
    key = UserSession.objects.get(user=account, kind="browser").session_key
    session = SessionStore(session_key=key)
    session[SESSION_AUTH_TIME] = int(time.time()) - 3600
    session.save()

    page.click("#totp-enable")
    expect(page.locator("#reauth")).to_be_visible()
    page.fill("#reauth-password", password)
    page.click("#reauth-form button[type=submit]")

    expect(page.locator("#totp-qr svg")).to_be_visible()
    expect(page.locator("#reauth")).to_be_hidden()
    expect(page.locator("#reauth-error")).to_have_text("")
