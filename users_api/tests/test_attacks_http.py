"""Attacks on the HTTP surface around the API: OPTIONS metadata, the browsable API's forms,
query parameters and content negotiation."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

# A changed value for each writable field of the user shape.
CHANGED = {
    "email": lambda user: f"changed-{user.pk}@example.com",
    "first_name": lambda user: user.first_name + "x",
    "last_name": lambda user: user.last_name + "x",
    "email_verified": lambda user: not user.email_verified,
    "is_active": lambda user: not user.is_active,
    "is_staff": lambda user: not user.is_staff,
}
KINDS = {
    "user": {},
    "staff": {"is_staff": True},
    "superuser": {"is_staff": True, "is_superuser": True},
}


def test_options_of_the_staff_only_collection_is_refused_like_its_get(auth_client, staff_client):
    """OPTIONS ran as DRF's `metadata` action, which the view's staff-only actions did not name:
    an ordinary user got 200 and a POST form (is_staff writable) for a collection that is 403."""
    assert auth_client.get("/api/v1/users/").status_code == 403
    response = auth_client.options("/api/v1/users/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "actions" not in response.json()

    staff_options = staff_client.options("/api/v1/users/")
    assert staff_options.status_code == 200
    # The form OPTIONS describes is the one POST takes (the create serializer, password too).
    assert "password" in staff_options.json()["actions"]["POST"]


def test_options_of_own_record_offers_no_field_the_policy_refuses(user, auth_client):
    actions = auth_client.options(f"/api/v1/users/{user.pk}/").json().get("actions", {})
    put = actions.get("PUT", {})
    writable = {name for name, info in put.items() if not info["read_only"]}
    assert writable <= {"first_name", "last_name"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actor_kind=st.sampled_from(sorted(KINDS)),
    target_kind=st.sampled_from([*sorted(KINDS), "self"]),
    field=st.sampled_from(sorted(CHANGED)),
)
def test_options_says_writable_exactly_when_the_api_takes_the_change(
    actor_kind, target_kind, field
):
    """What OPTIONS calls writable (`read_only: false`) on a user is what a PATCH of that field
    is allowed to change, for every actor and target: the policy, not the serializer, decides."""
    actor = UserFactory(password=PASSWORD, **KINDS[actor_kind])
    target = actor if target_kind == "self" else UserFactory(**KINDS[target_kind])
    client = bearer_client(actor)
    url = f"/api/v1/users/{target.pk}/"
    response = client.options(url)
    assert response.status_code == 200
    put = response.json().get("actions", {}).get("PUT", {})
    advertised = bool(put) and not put[field]["read_only"]
    patched = client.patch(url, {field: CHANGED[field](target)}, format="json")
    if not put:  # a user they may not read: no form, and a PATCH finds nothing
        assert patched.status_code == 404
        return
    assert patched.status_code in (200, 403), patched.content
    assert advertised == (patched.status_code == 200), (actor_kind, target_kind, field)


@pytest.mark.parametrize("actor_kind", ["staff", "superuser"])
def test_options_of_the_collection_marks_what_the_actor_may_not_create(actor_kind):
    actor = UserFactory(password=PASSWORD, **KINDS[actor_kind])
    client = bearer_client(actor)
    post = client.options("/api/v1/users/").json()["actions"]["POST"]
    created = client.post(
        "/api/v1/users/", {"email": "new-staff@example.com", "is_staff": True}, format="json"
    )
    assert (not post["is_staff"]["read_only"]) == (created.status_code == 201)
    assert not post["email"]["read_only"]
