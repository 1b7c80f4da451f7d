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


# --- The JSON parser's limits (users_api/parsers.py) ---------------------------------------------

REGISTER = "/api/v1/auth/register/"
HOSTILE_JSON = {
    "nesting past the limit": '{"email": ' + "[" * 33 + "]" * 33 + "}",
    "nesting past the recursion limit": "[" * 100_000 + "]" * 100_000,
    "lone surrogate in a value": '{"email": "\\ud800@x.com", "password": "a-Long-enough-passw0rd"}',
    "lone low surrogate": '{"email": "a\\udfff@x.com", "password": "a-Long-enough-passw0rd"}',
    "lone surrogate in a key": '{"\\ud800": 1, "email": "a@example.com"}',
    "NUL escape in a key": '{"a\\u0000b": 1}',
    "NUL escape in a nested value": '{"email": "a@example.com", "x": [{"y": "\\u0000"}]}',
    "NaN": '{"email": NaN}',
    "Infinity": '{"email": -Infinity}',
    "float overflow": '{"email": 1e400}',
    "integer past 64 bits": '{"email": 123456789012345678901234567890}',
    "integer of 5000 digits": '{"email": ' + "9" * 5000 + "}",
    "duplicate keys": '{"email": "a@example.com", "email": "b@example.com"}',
    "bad UTF-8": b'{"email": "\xc3\x28"}',
    "UTF-8 of a surrogate": b'{"email": "\xed\xa0\x80@x.com"}',
    "BOM": b'\xef\xbb\xbf{"email": "a@example.com"}',
    "trailing garbage": '{"email": "a@example.com"} {}',
    "empty": "",
}


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON)
def test_hostile_json_is_a_400_problem_and_writes_nothing(api_client, body):
    response = api_client.post(REGISTER, data=body, content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400
    assert not User.objects.exists()


def test_nesting_up_to_the_limit_parses(api_client):
    """32 levels parse (the serializer then refuses the shape: an error on `email`)."""
    body = '{"email": ' + "[" * 31 + "]" * 31 + "}"

    response = api_client.post(REGISTER, data=body, content_type="application/json")

    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert "non_field_errors" not in response.json()["errors"]


def test_a_json_body_over_the_limit_is_a_413_problem(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"email": "a" * 2000})

    response = api_client.post(REGISTER, data=body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413


FORM_BODIES = [
    ("application/x-www-form-urlencoded", "a%00b=1&email=a@example.com&password=x"),
    ("application/x-www-form-urlencoded", "email=" + "a" * 5000),
    (
        "multipart/form-data; boundary=b",
        '--b\r\nContent-Disposition: form-data; name="email"'
        "\r\n\r\na\x00b@example.com\r\n--b--\r\n",
    ),
    ("text/plain", '{"email": "a@example.com", "password": "a-Long-enough-passw0rd"}'),
]


@pytest.mark.parametrize(("content_type", "body"), FORM_BODIES)
def test_anything_but_json_is_a_415_problem_and_creates_nothing(
    api_client, settings, content_type, body
):
    """The API speaks JSON alone: a form, multipart or text body is not parsed at all, whatever
    it holds (NUL bytes, any size), so no form-parsing path can reach a view."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api_client.post(REGISTER, data=body, content_type=content_type)

    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 415
    assert not User.objects.exists()


# --- Types: a login with the wrong types is a 400, never a 401 -----------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"email": 123, "password": "a-Long-enough-passw0rd"},
        {"email": 1.5, "password": "a-Long-enough-passw0rd"},
        {"email": True, "password": "a-Long-enough-passw0rd"},
        {"email": "a@example.com", "password": 123456789012},
        {"email": "a@example.com", "password": False},
    ],
)
def test_a_login_with_wrong_types_is_400_not_401(api_client, user, body):
    body = {key: (user.email if value == "a@example.com" else value) for key, value in body.items()}

    response = api_client.post(
        "/api/v1/auth/token/", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    wrong = next(key for key, value in body.items() if not isinstance(value, str))
    assert wrong in response.json()["errors"]


def test_a_password_of_digits_sent_as_a_number_does_not_log_in(api_client):
    """`123456789012` as a JSON number is not the password "123456789012"."""
    from accounts.tests.factories import UserFactory

    account = UserFactory(password="123456789012x")
    body = {"email": account.email, "password": 123456789012}

    response = api_client.post(
        "/api/v1/auth/token/", data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400


def test_patch_with_a_number_for_a_name_is_400(auth_client, user):
    response = auth_client.patch("/api/v1/users/me/", {"first_name": 42}, format="json")

    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).first_name == user.first_name


# --- Query parameters: search, ordering, cursors ------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("search=" + "+".join(["a"] * 11), "at most 10 words"),
        ("search=" + "a" * 255, "at most 254 characters"),
    ],
)
def test_search_beyond_its_limits_is_400_on_search(staff_client, query, message):
    response = staff_client.get(f"/api/v1/users/?{query}")

    assert response.status_code == 400
    assert message in response.json()["errors"]["search"][0]


def test_search_at_its_limits_works(staff_client, staff):
    local = staff.email.split("@")[0]
    query = "+".join([local] * 10)

    response = staff_client.get(f"/api/v1/users/?search={query}")

    assert response.status_code == 200
    assert [row["email"] for row in response.json()["results"]] == [staff.email]


def test_the_admin_search_has_the_same_limits_and_shows_them(client, staff):
    from accounts.tests.factories import UserFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    response = client.get("/admin/accounts/user/", {"q": " ".join(["a"] * 11)})
    nul = client.get("/admin/accounts/user/", {"q": "a\x00b"})

    assert response.status_code == 200
    assert b"at most 10 words" in response.content
    assert response.context["cl"].result_count == 0
    assert nul.status_code == 200
    assert b"Null characters" in nul.content


def test_an_ordering_repeated_a_thousand_times_orders_once(staff_client, staff, user):
    response = staff_client.get("/api/v1/users/?ordering=" + ",".join(["-email"] * 1000))

    assert response.status_code == 200
    emails = [row["email"] for row in response.json()["results"]]
    assert emails == sorted(emails, reverse=True)


@pytest.mark.parametrize(
    "query",
    [
        "ordering=password",
        "ordering=-is_superuser,password",
        "page_size=99999999999999999999999",
        "page_size=1e3",
        "page=-1",
        "page=99999999999999999999999999999999",
        "page=" + "9" * 5000,
        "is_active=maybe",
        "search=a%00b",
        "is_active=%00",
        "email_verified=" + "x" * 5000,
    ],
)
def test_garbage_parameters_are_4xx_or_ignored_never_5xx(staff_client, staff, query):
    response = staff_client.get(f"/api/v1/users/?{query}")

    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def _cursor(ordering, values, **extra):
    import base64

    payload = json.dumps({"o": ordering, "v": values, **extra}).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


SOME_ID = "0b4a1d7e-3c1f-4c55-9a51-1f2f4a5d6e7f"
BAD_CURSORS = {
    "year 1 east of UTC": _cursor(["date_joined", "id"], ["0001-01-01T00:00:00+14:00", SOME_ID]),
    "year 9999 west of UTC": _cursor(["date_joined", "id"], ["9999-12-31T23:59:59-12:00", SOME_ID]),
    "no time zone": _cursor(["date_joined", "id"], ["2024-01-01T00:00:00", SOME_ID]),
    "year 0": _cursor(["date_joined", "id"], ["0000-01-01T00:00:00+00:00", SOME_ID]),
    "offset of a day": _cursor(["date_joined", "id"], ["2024-01-01T00:00:00+24:00", SOME_ID]),
    "a number for a time": _cursor(["date_joined", "id"], [1700000000, SOME_ID]),
    "not a UUID": _cursor(["date_joined", "id"], ["2024-01-01T00:00:00+00:00", "x"]),
    "lone surrogate": _cursor(["email", "id"], ["\ud800", SOME_ID]),
    "NUL": _cursor(["email", "id"], ["a\x00", SOME_ID]),
    "three values": _cursor(["email", "id"], ["a", SOME_ID, "c"]),
    "a list": "WzEsMiwzXQ",
    "nested arrays": __import__("base64").urlsafe_b64encode(b"[" * 50_000).decode(),
    "not base64": "!!!",
    "not ASCII": "é",
    "very long": "A" * 5000,
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS)
def test_odd_cursors_are_400_on_cursor(staff_client, cursor):
    ordering = "email" if "ZW1haWw" in cursor else "date_joined"

    response = staff_client.get("/api/v1/users/", {"cursor": cursor, "ordering": ordering})

    assert response.status_code == 400, response.content[:300]
    assert "cursor" in response.json()["errors"]


def test_a_cursor_with_an_odd_but_valid_offset_pages_in_utc(staff_client, staff, user):
    """+05:45 (Nepal) is a real offset: the cursor compares the same instant in UTC."""
    first = min(staff.date_joined, user.date_joined)
    from datetime import timedelta, timezone

    nepal = first.astimezone(timezone(timedelta(hours=5, minutes=45)))
    cursor = _cursor(["date_joined", "id"], [nepal.isoformat(), SOME_ID])

    response = staff_client.get("/api/v1/users/", {"cursor": cursor, "ordering": "date_joined"})

    assert response.status_code == 200
    later = max(staff, user, key=lambda account: account.date_joined)
    assert str(later.pk) in [row["id"] for row in response.json()["results"]]


def test_a_list_of_another_model_answers(staff_client):
    """Found by the fuzzing pass: the default paginator asked every queryset for the users'
    `count_estimated`, so the first list of another model (webhooks) answered 500. Webhook
    endpoints are a handful: one plain list."""
    response = staff_client.get("/api/v1/webhooks/")

    assert response.status_code == 200
    assert response.json() == []


def test_reauthentication_with_an_empty_credential_is_400(auth_client):
    """Found by schemathesis' negative data: `{"credential": {}}` answered 500 (StopIteration
    while naming the field of the wrong proof)."""
    response = auth_client.post("/api/v1/auth/reauthenticate/", {"credential": {}}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_errors_of_nested_fields_are_named_by_their_path(staff_client):
    """Found by schemathesis' negative data: a list field's item errors came out as
    {"event_types": {"1": [...]}}, not the documented {field: [messages]}."""
    response = staff_client.post(
        "/api/v1/webhooks/",
        {"url": "https://example.com/hook", "event_types": ["user.created", "nonsense", 3]},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert all(isinstance(messages, list) for messages in errors.values()), errors
    assert all(isinstance(message, str) for messages in errors.values() for message in messages)
    assert "event_types.1" in errors


def test_a_webhook_created_inactive_is_stored_inactive(staff_client):
    """Found by schemathesis: `is_active` in the create body, which the schema allows, reached
    the service as an unknown argument (500)."""
    from accounts.webhooks.models import WebhookEndpoint

    response = staff_client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["account_deleted"], "is_active": False},
        format="json",
    )

    assert response.status_code == 201, response.content[:300]
    assert WebhookEndpoint.objects.get(pk=response.json()["id"]).is_active is False
