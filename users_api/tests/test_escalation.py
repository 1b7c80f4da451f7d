"""Regression tests for the attacks a tester found: each one as it was tried."""

import json

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "spelling",
    [
        str.upper,
        lambda pk: "{" + pk + "}",
        lambda pk: pk.replace("-", ""),
        lambda pk: f"urn:uuid:{pk}",
    ],
    ids=["upper", "braces", "no dashes", "urn"],
)
def test_an_own_id_in_another_spelling_is_not_found(auth_client, user, spelling):
    response = auth_client.patch(
        f"/api/v1/users/{spelling(str(user.pk))}/", {"is_staff": True}, format="json"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert not User.objects.get(pk=user.pk).is_staff


def test_an_own_id_in_canonical_form_cannot_raise_privileges(auth_client, user):
    response = auth_client.patch(f"/api/v1/users/{user.pk}/", {"is_staff": True}, format="json")

    assert response.status_code == 403
    assert not User.objects.get(pk=user.pk).is_staff


def test_staff_cannot_take_over_a_superuser(staff_client):
    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)

    email = staff_client.patch(
        f"/api/v1/users/{boss.pk}/", {"email": "mine@example.com"}, format="json"
    )
    deactivate = staff_client.delete(f"/api/v1/users/{boss.pk}/")

    assert email.status_code == 403 and deactivate.status_code == 403
    row = User.objects.get(pk=boss.pk)
    assert row.email == boss.email and row.is_active and row.check_password(PASSWORD)


def test_staff_cannot_demote_or_edit_another_staff_member(staff_client):
    other = UserFactory(is_staff=True)

    response = staff_client.patch(
        f"/api/v1/users/{other.pk}/", {"is_staff": False, "first_name": "X"}, format="json"
    )

    assert response.status_code == 403
    row = User.objects.get(pk=other.pk)
    assert row.is_staff and row.first_name == other.first_name


def test_is_superuser_is_not_settable_through_the_api():
    boss = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()

    bearer_client(boss).patch(f"/api/v1/users/{user.pk}/", {"is_superuser": True}, format="json")
    created = bearer_client(boss).post(
        "/api/v1/users/", {"email": "n@example.com", "is_superuser": True}, format="json"
    )

    assert not User.objects.get(pk=user.pk).is_superuser
    assert created.status_code == 201
    assert not User.objects.with_email("n@example.com").get().is_superuser


def test_the_browsable_api_login_is_not_a_side_door_for_guessing(settings, user):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "100000/minute"}
    for _ in range(10):
        Client().post("/api-auth/login/", {"username": user.email, "password": "guess"})

    api = Client().post(
        "/api/v1/auth/token/",
        json.dumps({"email": user.email, "password": PASSWORD}),
        content_type="application/json",
    )

    assert api.status_code == 429
