"""What a person sees: Debian's Chromium, driven by Playwright, against a live Roster.

Screenshots of every page land in artifacts/screenshots/ (git-ignored) for a human to look at.
"""

import email
import os
import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from accounts.tests.factories import UserFactory

# Playwright's sync API runs an event loop in this thread; Django would refuse the ORM inside it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
NEW_PASSWORD = "An0ther-long-enough-passw0rd"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: run scripts/system-deps.sh (apt-get install chromium)",
    ),
]


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's base URL (static files come from the apps, as conftest sets up)."""
    return live_server.url


@pytest.fixture
def browser(tmp_path):
    """A fresh Chromium profile per test; the browser is closed whatever happens."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
            # ORM calls made while Playwright runs get their own context-local database
            # connection Django's teardown cannot see; PostgreSQL won't drop a database in use.
            connections.close_all()


@pytest.fixture
def page(browser):
    return browser.new_page()


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def log_in(page, *, email_address, password):
    """Fill Django's login form (the admin's and the browsable API's alike) and submit it."""
    page.fill("#id_username", email_address)
    page.fill("#id_password", password)
    page.locator("form input[type=submit], form button[type=submit]").first.click()


def test_home_page_links_the_docs_the_admin_and_the_browsable_api(site, page):
    response = page.goto(f"{site}/")

    assert response.status == 200
    expect(page).to_have_title("Home · Roster")
    expect(page.locator("main h1")).to_have_text("Roster")
    for href in ("/api/v1/docs/", "/api/v1/redoc/", "/api/v1/", "/admin/"):
        expect(page.locator(f"main a[href='{href}']")).to_be_visible()
    screenshot(page, "home")


def test_unknown_page_shows_the_sites_own_404_page(site, page):
    response = page.goto(f"{site}/no-such-page/")

    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("main h1")).to_have_text("404 · Page not found")
    expect(page.locator("header .brand")).to_have_text("Roster")  # it extends base.html
    screenshot(page, "404")


def test_admin_login_and_user_search(site, page, password):
    admin = UserFactory(password=password, is_staff=True, is_superuser=True)
    UserFactory(email="needle.person@example.com", first_name="Needle")
    UserFactory(email="haystack.person@example.com", first_name="Hay")

    page.goto(f"{site}/admin/")
    expect(page.locator("#site-name")).to_have_text("Roster administration")
    screenshot(page, "admin-login")
    log_in(page, email_address=admin.email, password=password)
    expect(page.locator("#user-tools")).to_contain_text(f"Welcome, {admin.first_name}")

    page.goto(f"{site}/admin/accounts/user/")
    page.fill("#searchbar", "needle")
    page.locator("#changelist-search input[type=submit]").click()

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("needle.person@example.com")
    screenshot(page, "admin-user-search")


def test_browsable_api_session_login_shows_users_me(site, page, password):
    user = UserFactory(password=password, email="browser.user@example.com")

    page.goto(f"{site}/api-auth/login/?next=/api/v1/users/me/")
    log_in(page, email_address=user.email, password=password)

    page.wait_for_url(f"{site}/api/v1/users/me/")
    expect(page).to_have_title(re.compile("Roster API"))
    expect(page.locator(".response-info")).to_contain_text('"email": "browser.user@example.com"')
    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    screenshot(page, "browsable-api-users-me")


def _reset_link_from_the_mailbox(mailbox, site_url):
    """The reset link in the text part of the one email the file backend wrote."""
    (mail_file,) = mailbox.glob("*.log")
    message = email.message_from_bytes(mail_file.read_bytes())
    text = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    match = re.search(re.escape(site_url) + r"/accounts/password/reset/[^/\s]+/[^/\s]+/", text)
    assert match, f"no reset link in the email:\n{text}"
    return match[0]


def test_password_reset_from_the_emailed_link_to_a_login_with_the_new_password(
    site, page, settings, tmp_path, password
):
    user = UserFactory(password=password)
    mailbox = tmp_path / "mail"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(mailbox)
    settings.SITE_URL = site
    api = page.request

    requested = api.post(f"{site}/api/v1/auth/password/reset/", data={"email": user.email})
    assert requested.status == 202

    page.goto(_reset_link_from_the_mailbox(mailbox, site))
    expect(page.locator("main h1")).to_have_text("Choose a new password")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    screenshot(page, "password-reset-form")
    page.get_by_role("button", name="Set my password").click()

    expect(page.locator("main h1")).to_have_text("Your password has been changed")
    screenshot(page, "password-reset-done")
    token_url = f"{site}/api/v1/auth/token/"
    with_new = api.post(token_url, data={"email": user.email, "password": NEW_PASSWORD})
    with_old = api.post(token_url, data={"email": user.email, "password": password})
    assert with_new.status == 200
    assert set(with_new.json()) == {"access", "refresh"}
    assert with_old.status == 401


def test_swagger_ui_and_redoc_render_the_schema_from_roster_own_assets(site, page):
    # Redoc's bundle hard-codes its attribution logo (an <img>, hidden when it fails to load);
    # everything the pages need to work (documents, scripts, styles, fonts, the schema) is ours.
    needed = {"document", "script", "stylesheet", "font", "xhr", "fetch"}
    foreign = []
    page.on(
        "request",
        lambda r: (
            r.resource_type in needed
            and not r.url.startswith((site, "blob:", "data:"))
            and foreign.append(r.url)
        ),
    )

    page.goto(f"{site}/api/v1/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/users/me/").first
    ).to_be_visible()
    screenshot(page, "swagger-ui")
    page.goto(f"{site}/api/v1/redoc/")
    expect(page.get_by_role("heading", name=re.compile("Roster API"))).to_be_visible()
    screenshot(page, "redoc")

    assert foreign == [], foreign
