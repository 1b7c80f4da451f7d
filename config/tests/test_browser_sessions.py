"""The refresh cookie in a real browser (Debian's Chromium through Playwright): a script cannot
read it, the app can refresh with it, and a page of another site cannot use it."""

import http.server
import threading

import pytest

from accounts.tests.factories import UserFactory
from accounts.usersessions.models import UserSession
from config.tests import test_browser
from config.tests.servers import free_port

# The browser tests' own fixtures and marks: a live server, a fresh Chromium profile, a page.
pytestmark = test_browser.pytestmark
site, browser, page = test_browser.site, test_browser.browser, test_browser.page

LOGIN_AND_REFRESH = """async ([email, password]) => {
  const post = (path, body, headers = {}) => fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "Accept": "application/json", ...headers},
    body: JSON.stringify(body),
  });
  const login = await post("/api/v1/auth/token/", {email, password, refresh_in_cookie: true});
  const loginBody = await login.json();
  const csrf = document.cookie.split("; ").find(c => c.startsWith("csrftoken=")).split("=")[1];
  const withoutHeader = await post("/api/v1/auth/token/refresh/", {});
  const refreshed = await post("/api/v1/auth/token/refresh/", {}, {"X-CSRFToken": csrf});
  const refreshedBody = await refreshed.json();
  const me = await fetch("/api/v1/users/me/", {
    headers: {"Authorization": `Bearer ${refreshedBody.access}`, "Accept": "application/json"},
  });
  return {
    loginStatus: login.status, loginKeys: Object.keys(loginBody).sort(),
    withoutHeader: withoutHeader.status,
    refreshStatus: refreshed.status, refreshKeys: Object.keys(refreshedBody).sort(),
    meStatus: me.status, cookies: document.cookie,
  };
}"""

REFRESH_AGAIN = """async () => {
  const csrf = document.cookie.split("; ").find(c => c.startsWith("csrftoken=")).split("=")[1];
  const refreshed = await fetch("/api/v1/auth/token/refresh/", {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf}, body: "{}",
  });
  return refreshed.status;
}"""

ATTACK_PAGE = """<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="{target}"><input type="hidden" name="x" value="1"></form>
<script>document.getElementById("f").submit()</script>"""


@pytest.fixture
def other_site(site):
    """A page on another site (127.0.0.1 when Roster is on localhost, and the other way round)
    whose form posts to Roster's refresh endpoint as soon as it loads."""
    host = "127.0.0.1" if "localhost" in site else "localhost"
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}", pages
    finally:
        server.shutdown()


def test_the_refresh_cookie_is_unreadable_by_scripts_works_for_the_app_and_not_for_other_sites(
    site, page, browser, password, other_site, settings
):
    settings.REFRESH_COOKIE_SECURE = True
    user = UserFactory(password=password)
    page.goto(f"{site}/api/v1/")

    result = page.evaluate(LOGIN_AND_REFRESH, [user.email, password])

    assert result["loginStatus"] == 200 and result["loginKeys"] == ["access"]
    assert result["withoutHeader"] == 403  # the cookie alone is not enough
    assert result["refreshStatus"] == 200 and result["refreshKeys"] == ["access"]
    assert result["meStatus"] == 200
    assert "roster_refresh" not in result["cookies"]
    # not even on a page under the cookie's own path
    page.goto(f"{site}/api/v1/auth/sessions/")
    assert "roster_refresh" not in page.evaluate("document.cookie")
    (cookie,) = [c for c in browser.cookies() if c["name"] == "roster_refresh"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth/"
    session = UserSession.objects.get(user=user)

    origin, pages = other_site
    for endpoint in ("token/refresh/", "logout/"):
        target = f"{site}/api/v1/auth/{endpoint}"
        pages[f"/{endpoint}"] = ATTACK_PAGE.format(target=target)
        with page.expect_response(lambda r, target=target: r.url == target) as attacked:
            page.goto(f"{origin}/{endpoint}")
        # A form can only send a form or text body, and the API reads JSON alone; SameSite=Strict
        # keeps the cookie off it anyway (the session stays open and refreshes below).
        assert attacked.value.status == 415

    # neither form spent the refresh token nor ended the session
    session.refresh_from_db()
    assert session.ended_at is None
    page.goto(f"{site}/api/v1/")
    assert page.evaluate(REFRESH_AGAIN) == 200
