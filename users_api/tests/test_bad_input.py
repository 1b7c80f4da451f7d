"""Malformed input of any kind is a clear 4xx and changes nothing; never a 5xx."""

import json

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

MEGABYTE = "p" * (1024 * 1024)

PUBLIC_BODIES = {
    "/api/v1/auth/register/": {"email": "a@example.com", "password": "a-Long-enough-passw0rd"},
    "/api/v1/auth/token/": {"email": "a@example.com", "password": "a-Long-enough-passw0rd"},
    "/api/v1/auth/token/refresh/": {"refresh": "x"},
    "/api/v1/auth/token/verify/": {"token": "x"},
    "/api/v1/auth/logout/": {"refresh": "x"},
    "/api/v1/auth/email/verify/": {"uid": "x", "token": "y"},
    "/api/v1/auth/password/reset/": {"email": "a@example.com"},
    "/api/v1/auth/password/reset/confirm/": {
        "uid": "x",
        "token": "y",
        "new_password": "a-Long-enough-passw0rd",
    },
}


def mutations(body):
    """Bodies a careless or hostile client sends, derived from a valid one."""
    first = next(iter(body))
    yield "missing fields", {}
    yield "wrong type: list", {**body, first: ["a", "b"]}
    yield "wrong type: object", {**body, first: {"nested": True}}
    yield "null", {**body, first: None}
    yield "NUL byte", {**body, first: "a\x00b@example.com"}
    yield "huge field", {**body, first: MEGABYTE}
    yield "not an object", ["just", "a", "list"]


CASES = [(url, name, bad) for url, body in PUBLIC_BODIES.items() for name, bad in mutations(body)]


@pytest.mark.parametrize(("url", "name", "body"), CASES, ids=[f"{u}:{n}" for u, n, _ in CASES])
def test_malformed_bodies_are_4xx_and_write_nothing(api_client, user, url, name, body):
    before = list(User.objects.values_list("pk", "password", "email_verified"))

    response = api_client.post(url, data=json.dumps(body), content_type="application/json")

    assert 400 <= response.status_code < 500, (url, name, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    assert list(User.objects.values_list("pk", "password", "email_verified")) == before


@pytest.mark.parametrize("url", list(PUBLIC_BODIES))
def test_bodies_that_are_not_json_are_400(api_client, url):
    response = api_client.post(url, data=b"\xff\xfe{{", content_type="application/json")

    assert response.status_code == 400


def test_a_megabyte_password_is_refused_before_hashing(api_client, user):
    response = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": MEGABYTE})

    assert response.status_code == 400
    assert "password" in response.json()["errors"]


@pytest.mark.parametrize(
    "query",
    ["search=%00", "page=abc", "page=999999", "page_size=-5", "page_size=abc", "ordering=%00"],
)
def test_bad_query_parameters_are_4xx(staff_client, query):
    response = staff_client.get(f"/api/v1/users/?{query}")

    assert response.status_code < 500
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"


def test_patch_me_with_wrong_types_is_400_and_changes_nothing(auth_client, user):
    response = auth_client.patch("/api/v1/users/me/", {"first_name": ["x"], "last_name": "ok"})

    assert response.status_code == 400
    assert "first_name" in response.json()["errors"]
    assert User.objects.get(pk=user.pk).last_name == user.last_name


def test_patch_me_with_a_nul_byte_is_400(auth_client, user):
    response = auth_client.patch("/api/v1/users/me/", {"first_name": "a\x00b"})

    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).first_name == user.first_name


def test_staff_create_with_bad_types_is_400(staff_client):
    response = staff_client.post("/api/v1/users/", {"email": "x@example.com", "is_staff": "maybe"})

    assert response.status_code == 400
    assert not User.objects.filter(email="x@example.com").exists()
