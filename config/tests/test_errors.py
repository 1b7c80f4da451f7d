"""Negotiation and the problem-details format over the whole contract."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from config import urls as project_urls

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    assert "Traceback" not in response.content.decode()
    return body


@api_view(["GET"])
@permission_classes([AllowAny])
def _broken_api_view(request):
    raise RuntimeError("boom with a secret-ish internal detail")


def _broken_page(request):
    raise RuntimeError("boom with a secret-ish internal detail")


urlpatterns = [
    path("api/v1/test-broken/", _broken_api_view),
    path("broken-page/", _broken_page),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


@pytest.fixture
def raising_client(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


# --- every status of the contract ---------------------------------------------------------------


def test_400_lists_errors_per_field(api_client):
    response = api_client.post("/api/v1/auth/register/", {"email": "not-an-email"})

    body = assert_problem(response, 400)
    assert set(body["errors"]) == {"email", "password"}
    assert all(isinstance(m, list) and m for m in body["errors"].values())


def test_400_for_malformed_json(api_client):
    response = api_client.post(
        "/api/v1/auth/token/", data="{not json", content_type="application/json"
    )

    body = assert_problem(response, 400)
    assert "non_field_errors" in body["errors"]


def test_401_carries_a_bearer_challenge(api_client):
    response = api_client.get("/api/v1/users/")

    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_401_for_a_garbage_bearer_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    body = assert_problem(api_client.get("/api/v1/users/me/"), 401)

    assert body["code"] == "token_not_valid"


def test_403_for_a_non_staff_user(auth_client):
    assert_problem(auth_client.get("/api/v1/users/"), 403)


def test_404_for_an_unknown_api_url(api_client):
    assert_problem(api_client.get("/api/v1/no-such-thing/"), 404)
    assert_problem(api_client.get("/api/nothing"), 404)


def test_405_names_the_allowed_methods(auth_client):
    response = auth_client.delete("/api/v1/auth/password/change/")

    assert_problem(response, 405)
    assert response["Allow"] == "POST, OPTIONS"


@pytest.mark.parametrize(
    "path", ["/", "/healthz", "/.well-known/jwks.json", "/.well-known/openid-configuration"]
)
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_405_outside_the_api_is_a_problem_for_a_json_client(client, path, method):
    """Django's own 405 (`require_GET`, a view's methods) was an empty text/html body for every
    client: a JSON client (a JWKS fetcher) gets the problem the README promises at any URL."""
    response = getattr(client, method)(path, HTTP_ACCEPT="application/json")
    assert_problem(response, 405)
    assert "GET" in response["Allow"]
    page = getattr(client, method)(path, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert page.status_code == 405 and "GET" in page["Allow"]


def test_415_for_an_unsupported_body_type(api_client):
    response = api_client.post("/api/v1/auth/token/", data="email=x", content_type="text/plain")

    assert_problem(response, 415)


def test_429_carries_retry_after(api_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "1/hour"}
    api_client.post("/api/v1/auth/token/", {"email": "a@example.com", "password": "x"})

    response = api_client.post("/api/v1/auth/token/", {"email": "a@example.com", "password": "x"})

    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0


def test_500_in_an_api_view_is_a_problem_without_internals(raising_client):
    response = raising_client.get("/api/v1/test-broken/")

    body = assert_problem(response, 500)
    assert "boom" not in response.content.decode()
    assert body["title"] == "Internal Server Error"


def test_503_when_the_database_is_unreachable_even_in_middleware(raising_client, staff):
    raising_client.force_login(staff)  # the session middleware then needs the database
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load",
        side_effect=OperationalError("could not connect to server: secret-host"),
    ):
        response = raising_client.get("/api/v1/users/me/", HTTP_ACCEPT="application/json")

    assert_problem(response, 503)
    assert response["Retry-After"]
    assert "secret-host" not in response.content.decode()


def test_503_from_inside_a_drf_view(auth_client):
    with mock.patch(
        "users_api.views.user_data", side_effect=OperationalError("connection refused")
    ):
        response = auth_client.get("/api/v1/users/me/")

    assert_problem(response, 503)
    assert response["Retry-After"]


# --- negotiation -------------------------------------------------------------------------------


def test_json_client_gets_json_and_format_json_forces_it(auth_client):
    as_json = auth_client.get("/api/v1/users/me/", HTTP_ACCEPT="application/json")
    forced = auth_client.get("/api/v1/users/me/?format=json", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert as_json["Content-Type"] == "application/json"
    assert forced["Content-Type"] == "application/json"
    assert forced.json()["email"] == as_json.json()["email"]


def test_browser_on_an_api_url_gets_the_browsable_api(client, user):
    client.force_login(user)

    response = client.get("/api/v1/users/me/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Roster API" in html and user.email in html


def test_browser_gets_the_404_template_and_json_client_a_problem(client):
    page = client.get("/no-such-page/", HTTP_ACCEPT=BROWSER_ACCEPT)
    problem = client.get("/no-such-page/", HTTP_ACCEPT="application/json")

    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    assert "404" in page.content.decode() and "Roster" in page.content.decode()
    assert_problem(problem, 404)


def test_browser_gets_the_500_template(raising_client):
    response = raising_client.get("/broken-page/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Server error" in response.content.decode()
    assert "boom" not in response.content.decode()


def test_json_client_gets_a_500_problem_outside_the_api(raising_client):
    assert_problem(raising_client.get("/broken-page/", HTTP_ACCEPT="application/json"), 500)


def test_400_page_for_a_disallowed_host(client):
    page = client.get("/", HTTP_HOST="evil.example", HTTP_ACCEPT=BROWSER_ACCEPT)
    problem = client.get("/", HTTP_HOST="evil.example", HTTP_ACCEPT="application/json")

    assert page.status_code == 400 and "Bad request" in page.content.decode()
    assert_problem(problem, 400)


def test_403_page_for_a_failed_csrf_check(user, password):
    client = Client(enforce_csrf_checks=True)

    page = client.post(
        "/api-auth/login/",
        {"username": user.email, "password": password},
        HTTP_ACCEPT=BROWSER_ACCEPT,
    )
    problem = client.post(
        "/api-auth/login/",
        {"username": user.email, "password": password},
        HTTP_ACCEPT="application/json",
    )

    assert page.status_code == 403 and "Forbidden" in page.content.decode()
    assert_problem(problem, 403)


def test_home_page_links_the_docs_the_browsable_api_and_the_admin(client):
    response = client.get("/", HTTP_ACCEPT=BROWSER_ACCEPT)

    html = response.content.decode()
    assert response.status_code == 200
    for link in (
        'href="/api/v1/docs/"',
        'href="/api/v1/redoc/"',
        'href="/api/v1/"',
        'href="/admin/"',
    ):
        assert link in html


def _too_many_parameters():
    from django.conf import settings

    return "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))


def test_400_for_more_query_parameters_than_django_reads(staff_client, api_client, client):
    """Past DATA_UPLOAD_MAX_NUMBER_FIELDS parameters, reading `request.GET` raises: DRF's content
    negotiation did, Django answered with handler400, whose negotiation (`?format=json`) read
    `request.GET` again and raised, and so did handler500: the server's bare 500 at any URL."""
    query = _too_many_parameters()
    assert_problem(staff_client.get(f"/api/v1/users/?{query}"), 400)
    assert_problem(api_client.get(f"/api/v1/auth/sessions/?{query}"), 400)
    assert_problem(
        api_client.post(f"/api/v1/auth/token/?{query}", {"email": "a@example.com"}, format="json"),
        400,
    )
    # A page that reads its query string (`next`) answers the same, as a page or a problem.
    assert_problem(client.get(f"/api-auth/login/?{query}", HTTP_ACCEPT="application/json"), 400)
    page = client.get(f"/api-auth/login/?{query}", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert page.status_code == 400 and "Bad request" in page.content.decode()


DOC_PAGES = ["/api/v1/docs/", "/api/v1/docs/?script", "/api/v1/redoc/", "/api/v1/schema/"]


@pytest.mark.parametrize("path", DOC_PAGES)
@pytest.mark.parametrize("method", ["get", "head", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("accept", ["application/json", "text/html", "application/xml", "*/*"])
def test_the_documentation_pages_errors_are_problems(path, method, accept):
    """The docs render with templates (Swagger UI, ReDoc) or as YAML: their 405 and 406 were
    the template renderer's plain text (`406 Not Acceptable`) or YAML, labelled
    `application/problem+json` or not labelled a problem at all."""
    response = getattr(Client(), method)(path, HTTP_ACCEPT=accept)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM
        if method != "head":
            assert_problem(response, response.status_code)


@pytest.mark.parametrize("path", DOC_PAGES)
@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*", None])
def test_options_of_the_documentation_pages_is_not_a_500(path, accept):
    """OPTIONS's metadata (a dict) went to Swagger UI's template renderer, which has no template
    for it: a 500 for anyone, no login needed. OPTIONS answers JSON."""
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = Client(raise_request_exception=False).options(path, **headers)
    assert response.status_code < 500, response.content[:300]
    if response.status_code == 200:
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["name"]
    else:
        assert_problem(response, response.status_code)
