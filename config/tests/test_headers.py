"""Hardening headers: a Content-Security-Policy on every HTML page (inline scripts only with this
response's nonce), `Cache-Control: no-store` on the API's personal data and tokens, and
Cross-Origin-Opener-Policy everywhere, the docs included. The Chromium tests check that the pages
really work under the policy: no violation in the console."""

import re
from html.parser import HTMLParser

import pytest
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory

from accounts.tests.factories import UserFactory
from config import views
from config.tests.test_browser import CHROMIUM, browser, log_in, page, site  # noqa: F401

PASSWORD = "a-Long-enough-passw0rd"


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class _Scripts(HTMLParser):
    """Every <script> of a page, and every inline event handler attribute (onclick=...)."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers = [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def scripts_of(html):
    parser = _Scripts()
    parser.feed(html)
    return parser


def assert_strict_policy(response):
    directives = policy(response)
    scripts = directives["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "*" not in scripts and "data:" not in scripts
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    nonces = {source[len("'nonce-") : -1] for source in scripts if source.startswith("'nonce-")}
    found = scripts_of(response.content.decode())
    assert found.handlers == [], "inline event handlers never run under this policy"
    for script in found.scripts:
        # A script runs if it comes from Roster itself, carries the nonce, or is data (JSON).
        runs_from_self = script.get("src", "").startswith("/")
        is_data = script.get("type") == "application/json"
        assert runs_from_self or is_data or script.get("nonce") in nonces, script


@pytest.fixture
def superuser(db):
    return UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def browser_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


HTML = {"HTTP_ACCEPT": "text/html"}
ANONYMOUS_PAGES = [
    "/",
    "/admin/login/",
    "/api-auth/login/",
    "/api/v1/",
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/accounts/password/reset/MQ/not-a-token/",
    "/accounts/email/verify/MQ/not-a-token/",
    "/accounts/email/change/confirm/not-a-token/",
    "/accounts/login/verify/",
    "/no-such-page/",
    "/api/v1/users/",  # the browsable API's 401 page
]
SIGNED_IN_PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/password_change/",
    "/api/v1/users/me/",
    "/api/v1/users/",
    "/api/v1/auth/sessions/",
    "/accounts/security/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_anonymous_html_page_has_a_strict_policy(client, path):
    response = client.get(path, **HTML)

    assert response["Content-Type"].startswith("text/html"), path
    assert_strict_policy(response)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_every_signed_in_html_page_has_a_strict_policy(browser_client, path):
    response = browser_client.get(path, **HTML)

    assert response.status_code == 200, path
    assert response["Content-Type"].startswith("text/html")
    assert_strict_policy(response)


def test_a_user_change_page_has_a_strict_policy(browser_client, user):
    response = browser_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert_strict_policy(response)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 403, 500])
def test_error_pages_have_a_strict_policy(rf, status):
    handler = {400: views.bad_request, 403: views.permission_denied, 500: views.server_error}
    request = rf.get("/somewhere/", HTTP_ACCEPT="text/html")
    response = handler[status](request, *([None] if status != 500 else []))
    # The views render outside the middleware here: run the CSP middleware over them.
    middleware = CSPMiddleware(lambda request: response)
    middleware.process_request(request)
    response = middleware.process_response(request, response)

    assert response.status_code == status
    assert_strict_policy(response)


def test_a_nonce_is_fresh_for_every_response():
    """A template that asks for the nonce gets one the header names, different every time."""
    template = engines["django"].from_string("<script nonce='{{ CSP_NONCE }}'>1</script>")
    seen = set()
    for _ in range(2):
        request = RequestFactory().get("/")
        middleware = CSPMiddleware(lambda request: None)
        middleware.process_request(request)
        html = template.render({"CSP_NONCE": request.csp_nonce}, request)
        response = middleware.process_response(request, HttpResponse(html))
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
        assert f"nonce='{nonce}'" in html
        seen.add(nonce)
    assert len(seen) == 2


def test_swagger_ui_loads_its_init_script_from_roster(client, db):
    page_html = client.get("/api/v1/docs/").content.decode()
    script_src = [s["src"] for s in scripts_of(page_html).scripts if "script" in s.get("src", "")]

    script = client.get(script_src[0].replace("&amp;", "&"))

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    # It carries the caller's CSRF token: never kept by a cache.
    assert "no-store" in script["Cache-Control"]


# --- Cache-Control: no-store --------------------------------------------------------------------


def test_token_responses_are_never_stored(api_client, user):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path", ["/api/v1/users/me/", "/api/v1/users/", "/api/v1/auth/sessions/", "/api/v1/nope/"]
)
def test_personal_data_and_errors_under_the_api_are_never_stored(staff_client, path):
    response = staff_client.get(path)

    assert response.status_code in (200, 404)
    assert "no-store" in response["Cache-Control"]


def test_a_401_under_the_api_is_never_stored(api_client, db):
    response = api_client.get("/api/v1/users/me/")

    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/redoc/"])
def test_the_schema_and_redoc_stay_cacheable(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- Cross-Origin-Opener-Policy -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/v1/docs/", "/api/v1/redoc/", "/api/v1/schema/"])
def test_cross_origin_opener_policy_on_pages_and_docs(client, path):
    response = client.get(path)

    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- The browsable API's logout: a POST form, no script -------------------------------------------


def test_the_browsable_api_logs_out_with_a_plain_post_form(browser_client):
    html = browser_client.get("/api/v1/users/me/", **HTML).content.decode()
    form = re.search(r'<form[^>]*action="(/api-auth/logout/[^"]*)"[^>]*>', html)

    assert form and 'method="post"' in form[0]
    response = browser_client.post(form[1].replace("&amp;", "&"))

    assert response.status_code == 302
    assert browser_client.get("/api/v1/users/me/", **HTML).status_code == 401


# --- In Chromium: the pages render and the console reports no violation --------------------------

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")


def _watch_console(page):  # noqa: F811
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    return messages


# ReDoc's sidebar links its maker with a logo from its CDN: blocked on purpose (every asset comes
# from Roster), and nothing on the page depends on it.
BLOCKED_ON_PURPOSE = ("Loading the image 'https://cdn.redoc.ly/",)


def _violations(messages):
    return [
        text
        for text in messages
        if ("Content Security Policy" in text or "CSP" in text)
        and not text.startswith(BLOCKED_ON_PURPOSE)
    ]


@pytest.mark.browser
@needs_chromium
def test_swagger_ui_and_redoc_render_with_no_policy_violation(site, page):  # noqa: F811
    messages = _watch_console(page)

    page.goto(f"{site}/api/v1/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()
    operations = page.locator(".swagger-ui .opblock").count()

    page.goto(f"{site}/api/v1/redoc/")
    page.get_by_text("Roster API", exact=False).first.wait_for()
    page.locator("[data-section-id]").first.wait_for()
    sections = page.locator("[data-section-id]").count()

    assert operations > 10
    assert sections > 10
    assert _violations(messages) == []


@pytest.mark.browser
@needs_chromium
def test_admin_and_browsable_api_work_with_no_policy_violation_and_log_out(site, page):  # noqa: F811
    admin = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    messages = _watch_console(page)

    page.goto(f"{site}/admin/")
    log_in(page, email_address=admin.email, password=PASSWORD)
    page.wait_for_url(f"{site}/admin/")
    page.goto(f"{site}/admin/accounts/user/")
    page.locator("#result_list").wait_for()
    page.goto(f"{site}/admin/accounts/user/{admin.pk}/change/")
    page.locator("#user_form").wait_for()

    page.goto(f"{site}/api/v1/users/me/")
    page.locator(".response-info").wait_for()
    page.locator("#logout").click()
    page.wait_for_load_state()
    page.goto(f"{site}/api/v1/users/me/")

    assert "HTTP 401" in page.locator(".response-info").inner_text()
    assert _violations(messages) == []


@pytest.mark.browser
@needs_chromium
def test_the_security_page_runs_its_scripts_with_no_policy_violation(site, page):  # noqa: F811
    account = UserFactory(password=PASSWORD)
    messages = _watch_console(page)

    page.goto(f"{site}/api-auth/login/?next=/accounts/security/")
    log_in(page, email_address=account.email, password=PASSWORD)
    page.wait_for_url(f"{site}/accounts/security/")
    page.wait_for_load_state("networkidle")

    assert _violations(messages) == []
