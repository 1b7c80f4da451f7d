"""The browsable indexes: /api/v1/ lists every endpoint group, /api/v1/auth/ every auth endpoint."""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as site_patterns

BASE = "http://testserver/api/v1/"


class GadgetListView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response([])


# The site's URL map plus a group that registers no index of its own, as a later feature might.
urlpatterns = [*site_patterns, path("api/v1/gadgets/list/", GadgetListView.as_view())]


def test_the_root_links_every_endpoint_group_for_anyone(api_client):
    response = api_client.get("/api/v1/")

    assert response.status_code == 200
    assert response.json() == {
        "audit": f"{BASE}audit/events/",
        "auth": f"{BASE}auth/",
        "docs": f"{BASE}docs/",
        "redoc": f"{BASE}redoc/",
        "schema": f"{BASE}schema/",
        "users": f"{BASE}users/",
        "webhooks": f"{BASE}webhooks/",
    }


@override_settings(ROOT_URLCONF=__name__)
def test_a_group_added_later_appears_linked_to_its_first_endpoint(api_client):
    groups = api_client.get("/api/v1/").json()

    assert groups["gadgets"] == f"{BASE}gadgets/list/"
    assert api_client.get(groups["gadgets"]).json() == []


def test_the_auth_index_links_every_auth_endpoint(api_client):
    response = api_client.get("/api/v1/auth/")

    assert response.status_code == 200
    links = response.json()
    assert links["register"] == f"{BASE}auth/register/"
    assert links["token/refresh"] == f"{BASE}auth/token/refresh/"
    assert links["password/reset/confirm"] == f"{BASE}auth/password/reset/confirm/"
    documented = api_client.get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    assert set(links.values()) == {
        f"http://testserver{path}"
        for path in documented
        if path.startswith("/api/v1/auth/") and "{" not in path
    }


@pytest.mark.parametrize("page", ["/api/v1/", "/api/v1/auth/"])
def test_indexes_render_as_browsable_pages_with_each_link(client, page):
    links = client.get(page, HTTP_ACCEPT="application/json").json()

    html = client.get(page, HTTP_ACCEPT="text/html").content.decode()

    for url in links.values():
        assert f'href="{url}"' in html


def test_indexes_are_not_operations_of_the_schema(api_client):
    paths = api_client.get("/api/v1/schema/", {"format": "json"}).json()["paths"]

    assert "/api/v1/" not in paths
    assert "/api/v1/auth/" not in paths


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_form_body_is_refused_as_unsupported_media_type(api_client, content_type):
    response = api_client.post(
        "/api/v1/auth/register/", data="email=a%40example.com", content_type=content_type
    )

    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 415
