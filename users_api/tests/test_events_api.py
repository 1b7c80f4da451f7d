"""`audit/events/`, `users/me/events/` and `X-Request-ID`: in the response, the log line and the
event of the same request."""

import io
import json
import logging

import pytest
from django.conf import settings as django_settings
from pythonjsonlogger.json import JsonFormatter

from accounts.audit.events import record
from accounts.audit.models import EventType, SecurityEvent
from config.request_id import RequestIdFilter

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/events/"


def login(api_client, user, password, **headers):
    return api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": password}, **headers
    )


def test_a_valid_client_request_id_is_kept_in_response_log_and_event(api_client, user):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    options = dict(django_settings.LOGGING["formatters"]["json"])
    options.pop("()")
    handler.setFormatter(JsonFormatter(**options))
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)
    try:
        response = login(api_client, user, "wrong-password", HTTP_X_REQUEST_ID="trace-42.a_b")
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 401
    assert response["X-Request-ID"] == "trace-42.a_b"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line["request_id"] == "trace-42.a_b" and line["level"] for line in lines)
    assert SecurityEvent.objects.get(type="login_failed").request_id == "trace-42.a_b"


@pytest.mark.parametrize("sent", ["", "x" * 201, "evil\nline", "<script>", "ä", "a b"])
def test_an_invalid_client_request_id_is_replaced(api_client, sent):
    response = api_client.get("/api/v1/", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 36


def test_every_response_has_an_id_errors_included(api_client):
    first = api_client.get("/api/v1/no-such-thing/")
    second = api_client.get("/api/v1/no-such-thing/")
    assert first.status_code == 404
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_event_has_the_requests_client(api_client, user, password):
    login(api_client, user, password, HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="198.51.100.9")
    event = SecurityEvent.objects.get(type="login_succeeded")
    assert (event.user, event.ip_address, event.user_agent) == (user, "198.51.100.9", "Firefox/140")


def test_staff_list_filters_and_pages_by_cursor(staff_client, user, other_user):
    for _ in range(3):
        record(EventType.LOGIN_SUCCEEDED, user=user)
    record(EventType.LOGIN_FAILED, user=other_user)
    record(EventType.LOGIN_FAILED, user=user)
    response = staff_client.get(URL, {"user": str(user.pk), "page_size": 2})
    assert response.status_code == 200
    page = response.json()
    assert [e["type"] for e in page["results"]] == ["login_failed", "login_succeeded"]
    assert set(page["results"][0]) == {
        "id", "type", "at", "actor", "user", "ip_address", "user_agent", "request_id", "data"
    }  # fmt: skip
    seen = [e["id"] for e in page["results"]]
    while page["next"]:
        page = staff_client.get(page["next"]).json()
        seen += [e["id"] for e in page["results"]]
    assert seen == sorted(seen, reverse=True) and len(seen) == 4
    by_type = staff_client.get(URL, {"type": "login_failed"}).json()["results"]
    assert {e["user"] for e in by_type} == {str(user.pk), str(other_user.pk)}


def test_since_and_until_bound_the_time(staff_client, user):
    event = record(EventType.LOGIN_SUCCEEDED, user=user)
    at = event.at.isoformat()
    assert len(staff_client.get(URL, {"since": at}).json()["results"]) == 1
    assert staff_client.get(URL, {"until": at}).json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [{"user": "nope"}, {"type": "made_up"}, {"since": "yesterday"}, {"until": "\x00"}],
)
def test_bad_filters_are_400(staff_client, query):
    response = staff_client.get(URL, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "cursor", ["garbage", "cD1ub3Q=", "cD0xZTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "%00", "a" * 5000]
)
def test_bad_cursors_are_404(staff_client, cursor):
    assert staff_client.get(URL, {"cursor": cursor}).status_code == 404


def test_only_staff_read_every_event(auth_client, api_client):
    assert auth_client.get(URL).status_code == 403
    assert api_client.get(URL).status_code == 401


def test_a_user_reads_only_their_own_events(auth_client, user, other_user):
    mine = record(EventType.LOGIN_SUCCEEDED, user=user)
    record(EventType.LOGIN_SUCCEEDED, user=other_user)
    response = auth_client.get("/api/v1/users/me/events/", {"user": str(other_user.pk)})
    assert [e["id"] for e in response.json()["results"]] == [mine.pk]


def test_my_events_do_not_show_where_staff_acted_from(user, staff_client):
    """Staff acting on me is my security activity; their address and browser are not mine to see."""
    from conftest import bearer_client

    office = {"REMOTE_ADDR": "10.20.30.40", "HTTP_USER_AGENT": "StaffBrowser/7 (office PC 12)"}
    assert staff_client.delete(f"/api/v1/users/{user.pk}/", **office).status_code == 204
    reactivated = staff_client.patch(f"/api/v1/users/{user.pk}/", {"is_active": True}, **office)
    assert reactivated.status_code == 200
    me = bearer_client(user)
    me.post(
        "/api/v1/auth/reauthenticate/",
        {"password": "wrong-password-1234"},
        **{"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "MyPhone/1"},
    )

    events = me.get("/api/v1/users/me/events/").json()["results"]

    by_staff = [e for e in events if e["actor"] is not None]
    assert {e["type"] for e in by_staff} == {"account_deactivated", "account_reactivated"}
    assert all(e["ip_address"] is None and e["user_agent"] == "" for e in by_staff)
    mine = next(e for e in events if e["type"] == "login_failed")
    assert (mine["ip_address"], mine["user_agent"]) == ("198.51.100.7", "MyPhone/1")
    # Staff still see everything.
    staff_view = staff_client.get(URL, {"user": str(user.pk)}).json()["results"]
    assert {e["ip_address"] for e in staff_view if e["actor"]} == {"10.20.30.40"}
