"""Attacker-tester probes: inputs that once answered 5xx or leaked, pinned as regressions."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01T00:00:00%2B14:00",
        "until=9999-12-31T23:59:59-14:00",
        "since=0001-01-01T00:00:00-01:00",
        "since=10000-01-01",
        "since=0000-01-01",
        "until=%00",
        "since=2020-01-01T00:00:00%2B99:00",
        "user=%00",
        "type=%ED%A0%80",
        "cursor=%00",
        "cursor=cD0tMQ%3D%3D",
        "page_size=-1",
        "page_size=99999999999999999999999",
    ],
)
def test_event_filters_never_5xx(staff_client, query):
    for url in ("/api/v1/audit/events/", "/api/v1/users/me/events/"):
        response = staff_client.get(f"{url}?{query}", HTTP_ACCEPT="application/json")
        assert response.status_code < 500, (url, query, response.content[:300])


@pytest.mark.parametrize(
    "query", ["since=0001-01-01T00:00:00%2B14:00", "until=9999-12-31T23:59:59-14:00"]
)
def test_event_filter_instant_outside_utc_range_is_a_400(staff_client, query):
    response = staff_client.get(f"/api/v1/audit/events/?{query}", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {query.split("=")[0]}


@pytest.mark.parametrize(
    "user_agent", ["Firefox\x00/1", "\x00" * 600, "\ud800 Firefox", "a\r\nb\x7f"]
)
def test_a_user_agent_with_nul_or_surrogates_is_stored_cleaned(api_client, user, user_agent):
    # PostgreSQL refuses NUL in text: the login (and the failure) recorded it and answered 500.
    from accounts.audit.models import SecurityEvent
    from conftest import PASSWORD

    for secret, expected in ((PASSWORD, 200), ("wrong", 401)):
        response = api_client.post(
            "/api/v1/auth/token/",
            {"email": user.email, "password": secret},
            format="json",
            HTTP_USER_AGENT=user_agent,
        )
        assert response.status_code == expected
    for stored in SecurityEvent.objects.values_list("user_agent", flat=True):
        assert not any(ord(c) < 32 or ord(c) == 127 for c in stored)
        stored.encode("utf-8")


def test_a_list_fields_item_errors_are_flat_strings(staff_client):
    # ValidationProblem promises {field: [string]}; a ListField answered {"1": [...]} per item.
    response = staff_client.post(
        "/api/v1/webhooks/",
        {"url": "https://example.com/", "event_types": ["login_failed", "AAA", None]},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert all(isinstance(message, str) for messages in errors.values() for message in messages)
    assert any(key.startswith("event_types.") for key in errors)  # named by their path


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/api/v1/auth/mfa/totp/"), ("post", "/api/v1/auth/mfa/recovery-codes/")],
)
def test_the_400_of_a_second_factor_that_is_not_on_is_documented(auth_client, method, path):
    from drf_spectacular.generators import SchemaGenerator

    response = getattr(auth_client, method)(path)
    assert response.status_code == 400
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "400" in schema["paths"][path][method]["responses"]
