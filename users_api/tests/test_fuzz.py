"""A fuzzing pass that hunts 5xx: every operation of the OpenAPI schema, as anonymous, a user and
staff, with arbitrary JSON (lone surrogates, NUL, deep nesting, huge numbers), arbitrary bytes under
any Content-Type, garbage headers and garbage query strings. Whatever comes in, the answer is below
500, and an API error is a problem. (The test client re-raises a view's exception: a crash fails
the example with its traceback, not only its status.)

scripts/schemathesis.sh does the same from the schema's side against a real gunicorn."""

import json
import uuid
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from conftest import bearer_client

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


OPERATIONS = _operations()
WRITES = [operation for operation in OPERATIONS if operation[1] in {"POST", "PUT", "PATCH"}]
FIELDS = [
    "email",
    "password",
    "new_password",
    "current_password",
    "first_name",
    "last_name",
    "is_staff",
    "is_active",
    "is_superuser",
    "email_verified",
    "refresh",
    "token",
    "uid",
    "refresh_in_cookie",
    "id",
]
NASTY = ["\ud800", "\udfff", "\x00", "\u202e", "\ufeff", "'", '"', "\\", "%", "@", "ß", "\uff45"]
# Joined by hand: st.text() never yields a surrogate, even when its alphabet offers one.
TEXT = st.lists(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=40).map("".join)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(st.sampled_from(FIELDS), TEXT), children, max_size=4)
    ),
    max_leaves=12,
)
# Bodies shaped like the real ones (known fields, any values) reach the serializers and services.
# Addresses that pass a first look (a local part of anything at a real-looking domain) get past
# the shape checks into normalisation, throttles and lookups.
EMAILS = st.builds(
    "{}@{}".format,
    TEXT,
    st.sampled_from(["example.com", "x.com", "stra\u00dfe.example", "\uff45xample.com", ""]),
)
# Each known field present half the time, so every serializer sees its own fields misused.
SHAPED_BODIES = st.fixed_dictionaries(
    {}, optional={field: st.one_of(EMAILS, TEXT, JSON_VALUES) for field in FIELDS}
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/json; charset=rot13",
        "application/json; charset=nonsense",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/xml",
        "",
    ]
)
LATIN1 = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)


@pytest.fixture
def clients(user, staff):
    return {"anonymous": APIClient(), "user": bearer_client(user), "staff": bearer_client(staff)}


def _fill(path, user, staff, spelling):
    ids = {
        "own": str(user.pk),
        "staff": str(staff.pk),
        "unknown": str(uuid.uuid4()),
        "upper": str(user.pk).upper(),
        "garbage": "%00",
    }
    for name in ("{id}", "{user_id}", "{session_id}"):
        path = path.replace(name, ids[spelling])
    return path


def _assert_answered(response, path):
    assert response.status_code < 500, (path, response.status_code, response.content[:300])
    if response.status_code >= 400 and response.get("Content-Type", "").startswith("application"):
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


SPELLINGS = st.sampled_from(["own", "staff", "unknown", "upper", "garbage"])
WHO = st.sampled_from(["anonymous", "user", "staff"])


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    who=WHO,
    spelling=SPELLINGS,
    body=st.one_of(JSON_VALUES, SHAPED_BODIES),
)
def test_any_json_body_on_any_operation_is_not_a_5xx(
    clients, user, staff, operation, who, spelling, body
):
    path, method = operation
    path = _fill(path, user, staff, spelling)

    response = clients[who].generic(
        method,
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )

    _assert_answered(response, path)


@pytest.mark.parametrize("operation", WRITES, ids=[" ".join(op[::-1]) for op in WRITES])
@settings(FUZZ, max_examples=30)
@given(who=WHO, body=SHAPED_BODIES)
def test_bodies_shaped_like_real_ones_are_not_a_5xx(clients, user, staff, operation, who, body):
    """Known field names with hostile values reach the serializers, services and database."""
    path, method = operation
    path = _fill(path, user, staff, "own")

    response = clients[who].generic(
        method,
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )

    _assert_answered(response, path)


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    who=WHO,
    body=st.binary(max_size=300),
    content_type=CONTENT_TYPES,
)
def test_any_bytes_under_any_content_type_is_not_a_5xx(
    clients, user, staff, operation, who, body, content_type
):
    path = _fill(operation[0], user, staff, "own")

    response = clients[who].generic(
        operation[1], path, body, content_type=content_type, HTTP_ACCEPT="application/json"
    )

    _assert_answered(response, path)


@FUZZ
@given(
    operation=st.sampled_from(OPERATIONS),
    authorization=st.one_of(LATIN1, LATIN1.map("Bearer {}".format), st.just("Bearer ")),
    accept=st.one_of(LATIN1, st.sampled_from(["text/html", "*/*", "application/xml", "a/b;q=x"])),
    request_id=LATIN1,
    cookie=LATIN1,
)
def test_garbage_headers_are_not_a_5xx(
    api_client, user, staff, operation, authorization, accept, request_id, cookie
):
    path = _fill(operation[0], user, staff, "own")

    response = api_client.generic(
        operation[1],
        path,
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
        HTTP_ACCEPT=accept,
        HTTP_X_REQUEST_ID=request_id,
        HTTP_COOKIE=cookie,
    )

    assert response.status_code < 500, (path, response.status_code, response.content[:300])


QUERY_NAMES = ["search", "ordering", "page", "page_size", "cursor", "is_active", "is_staff"]
QUERY_NAMES += ["email_verified", "format", "user", "type", "since", "until"]


@FUZZ
@given(
    operation=st.sampled_from([op for op in OPERATIONS if op[1] == "GET"]),
    who=WHO,
    query=st.dictionaries(st.one_of(st.sampled_from(QUERY_NAMES), TEXT), TEXT, max_size=4),
)
def test_garbage_query_strings_are_not_a_5xx(clients, user, staff, operation, who, query):
    path = _fill(operation[0], user, staff, "own")
    encoded = urlencode(
        {
            key.encode("utf-8", "surrogatepass"): value.encode("utf-8", "surrogatepass")
            for key, value in query.items()
        }
    )

    response = clients[who].get(f"{path}?{encoded}", HTTP_ACCEPT="application/json")

    _assert_answered(response, path)
