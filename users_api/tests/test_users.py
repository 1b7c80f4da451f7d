"""The users/ rows of the contract and every permission boundary."""

import uuid

import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import USER_SHAPE, bearer_client

pytestmark = pytest.mark.django_db


# --- users/me/ --------------------------------------------------------------------------------


def test_me_shows_the_user_shape_and_never_a_password(auth_client, user):
    response = auth_client.get("/api/v1/users/me/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_SHAPE
    assert body["id"] == str(user.pk) and body["email"] == user.email
    assert user.password not in response.content.decode()


def test_me_needs_authentication(api_client):
    response = api_client.get("/api/v1/users/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_patch_me_changes_the_names_and_ignores_everything_else(auth_client, user):
    response = auth_client.patch(
        "/api/v1/users/me/",
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "is_staff": True,
            "is_active": False,
            "email_verified": True,
            "email": "takeover@example.com",
            "id": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 200
    row = User.objects.get(pk=user.pk)
    assert (row.first_name, row.last_name) == ("Grace", "Hopper")
    assert not row.is_staff and row.is_active and not row.email_verified
    assert row.email == user.email
    assert response.json()["first_name"] == "Grace"


def test_put_me_is_not_allowed(auth_client):
    response = auth_client.put("/api/v1/users/me/", {"first_name": "X"})

    assert response.status_code == 405
    assert "PATCH" in response["Allow"]


def test_delete_me_needs_the_password_then_deactivates_and_kills_tokens(
    auth_client, user, password
):
    wrong = auth_client.delete("/api/v1/users/me/", {"password": "not-my-password"})
    assert wrong.status_code == 400
    assert User.objects.get(pk=user.pk).is_active

    response = auth_client.delete("/api/v1/users/me/", {"password": password})

    assert response.status_code == 204
    assert User.objects.filter(pk=user.pk, is_active=False).exists()
    assert auth_client.get("/api/v1/users/me/").status_code == 401
    refresh = auth_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": auth_client.refresh_token}
    )
    assert refresh.status_code == 401


# --- users/{id}/ --------------------------------------------------------------------------------


def test_a_user_reads_their_own_record_by_id(auth_client, user):
    response = auth_client.get(f"/api/v1/users/{user.pk}/")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_another_users_id_is_404_to_a_non_staff_user(auth_client, other_user):
    for method in ("get", "patch", "put", "delete"):
        response = getattr(auth_client, method)(f"/api/v1/users/{other_user.pk}/", {})
        assert response.status_code in (403, 404), method
    assert auth_client.get(f"/api/v1/users/{other_user.pk}/").status_code == 404
    assert (
        auth_client.patch(f"/api/v1/users/{other_user.pk}/", {"first_name": "X"}).status_code == 404
    )
    other_user.refresh_from_db()
    assert other_user.first_name != "X" and other_user.is_active


def test_a_user_cannot_raise_their_own_privileges_by_id(auth_client, user):
    response = auth_client.put(
        f"/api/v1/users/{user.pk}/",
        {"email": user.email, "first_name": "Me", "is_staff": True, "email_verified": True},
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    row = User.objects.get(pk=user.pk)
    assert row.first_name != "Me" and not row.is_staff and not row.email_verified


def test_a_user_puts_their_own_record_back_with_new_names(auth_client, user):
    body = {**auth_client.get(f"/api/v1/users/{user.pk}/").json(), "first_name": "Me"}

    response = auth_client.put(f"/api/v1/users/{user.pk}/", body)

    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).first_name == "Me"


def test_a_user_cannot_deactivate_themselves_through_the_staff_endpoint(auth_client, user):
    response = auth_client.delete(f"/api/v1/users/{user.pk}/")

    assert response.status_code == 403
    assert User.objects.get(pk=user.pk).is_active


def test_staff_read_and_edit_any_ordinary_user(staff_client, user):
    response = staff_client.patch(
        f"/api/v1/users/{user.pk}/", {"is_active": False, "email_verified": True, "last_name": "L"}
    )

    assert response.status_code == 200
    row = User.objects.get(pk=user.pk)
    assert not row.is_active and row.email_verified and row.last_name == "L"


def test_only_a_superuser_makes_staff(staff_client, user):
    superuser = UserFactory(is_staff=True, is_superuser=True)

    refused = staff_client.patch(f"/api/v1/users/{user.pk}/", {"is_staff": True})
    granted = bearer_client(superuser).patch(f"/api/v1/users/{user.pk}/", {"is_staff": True})

    assert refused.status_code == 403 and granted.status_code == 200
    assert User.objects.get(pk=user.pk).is_staff


def test_staff_changing_an_email_resets_verification(staff_client, user):
    user.email_verified = True
    user.save()

    response = staff_client.patch(f"/api/v1/users/{user.pk}/", {"email": "moved@example.com"})

    assert response.status_code == 200
    row = User.objects.get(pk=user.pk)
    assert row.email == "moved@example.com" and not row.email_verified


def test_staff_cannot_give_a_user_an_email_taken_in_another_case(staff_client, user, other_user):
    response = staff_client.patch(f"/api/v1/users/{user.pk}/", {"email": other_user.email.upper()})

    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert User.objects.get(pk=user.pk).email == user.email


def test_staff_delete_deactivates_and_keeps_the_row(staff_client, user):
    victim = bearer_client(user)

    response = staff_client.delete(f"/api/v1/users/{user.pk}/")

    assert response.status_code == 204
    assert User.objects.filter(pk=user.pk, is_active=False).exists()
    assert victim.get("/api/v1/users/me/").status_code == 401
    refresh = victim.post("/api/v1/auth/token/refresh/", {"refresh": victim.refresh_token})
    assert refresh.status_code == 401


@pytest.mark.parametrize("bad_id", [uuid.uuid4(), "not-a-uuid", "1", "00000000-0000"])
def test_unknown_or_malformed_ids_are_404(staff_client, bad_id):
    response = staff_client.get(f"/api/v1/users/{bad_id}/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --- users/ --------------------------------------------------------------------------------------


def test_the_collection_is_staff_only(api_client, auth_client):
    assert api_client.get("/api/v1/users/").status_code == 401
    assert auth_client.get("/api/v1/users/").status_code == 403
    assert auth_client.post("/api/v1/users/", {"email": "x@example.com"}).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_staff_create_a_user_with_or_without_a_password(staff_client):
    with_password = staff_client.post(
        "/api/v1/users/",
        {"email": "Pw@Example.com", "password": "a-Long-enough-passw0rd", "first_name": "P"},
    )
    without = staff_client.post("/api/v1/users/", {"email": "nopw@example.com", "is_active": False})

    assert with_password.status_code == 201 and without.status_code == 201
    assert set(with_password.json()) == USER_SHAPE
    assert User.objects.get(email="pw@example.com").check_password("a-Long-enough-passw0rd")
    created = User.objects.get(email="nopw@example.com")
    assert not created.has_usable_password() and not created.is_active
    assert len(mail.outbox) == 2  # both get the verification email


def test_staff_create_refuses_a_duplicate_and_a_weak_password(staff_client, user):
    duplicate = staff_client.post("/api/v1/users/", {"email": user.email.upper()})
    weak = staff_client.post("/api/v1/users/", {"email": "w@example.com", "password": "123"})

    assert duplicate.status_code == 400 and "email" in duplicate.json()["errors"]
    assert weak.status_code == 400 and "password" in weak.json()["errors"]
    assert User.objects.count() == 2


def test_list_is_a_page_with_count_and_links(staff_client):
    UserFactory.create_batch(4)

    response = staff_client.get("/api/v1/users/?page_size=2")

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "page=2" in body["next"] and body["previous"] is None
    assert set(body["results"][0]) == USER_SHAPE


def test_page_size_is_capped_at_100(staff_client):
    UserFactory.create_batch(101)

    response = staff_client.get("/api/v1/users/?page_size=1000000")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 100


def test_search_matches_email_and_names_ignoring_case(staff_client):
    UserFactory(email="ada@lovelace.org", first_name="Ada", last_name="Lovelace")
    UserFactory(email="grace@navy.mil", first_name="Grace", last_name="Hopper")

    by_name = staff_client.get("/api/v1/users/?search=LOVELACE").json()["results"]
    by_email = staff_client.get("/api/v1/users/?search=navy.mil").json()["results"]

    assert [u["email"] for u in by_name] == ["ada@lovelace.org"]
    assert [u["email"] for u in by_email] == ["grace@navy.mil"]


@pytest.mark.parametrize("field", ["email", "date_joined", "last_name", "first_name"])
def test_ordering_ascending_and_descending(staff_client, field):
    UserFactory.create_batch(5)
    expected = sorted(str(v) for v in User.objects.values_list(field, flat=True))

    ascending = staff_client.get(f"/api/v1/users/?ordering={field}&page_size=100").json()
    descending = staff_client.get(f"/api/v1/users/?ordering=-{field}&page_size=100").json()

    values = [str(getattr(User.objects.get(pk=u["id"]), field)) for u in ascending["results"]]
    assert values == expected
    assert [u["id"] for u in descending["results"]] != [u["id"] for u in ascending["results"]]


def test_ordering_by_last_login_puts_never_logged_in_users_consistently(staff_client, user):
    response = staff_client.get("/api/v1/users/?ordering=-last_login")

    assert response.status_code == 200
    assert {u["id"] for u in response.json()["results"]} == {
        str(user.pk),
        *{str(pk) for pk in User.objects.exclude(pk=user.pk).values_list("pk", flat=True)},
    }


def test_unknown_ordering_field_is_ignored_not_an_error(staff_client):
    response = staff_client.get("/api/v1/users/?ordering=password")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("is_active=false", {"gone@example.com"}),
        ("is_staff=true", {"staff"}),
        ("email_verified=true", {"ok@example.com"}),
    ],
)
def test_boolean_filters(staff_client, staff, query, expected):
    UserFactory(email="gone@example.com", is_active=False)
    UserFactory(email="ok@example.com", email_verified=True)

    emails = {u["email"] for u in staff_client.get(f"/api/v1/users/?{query}").json()["results"]}

    assert emails == {staff.email if e == "staff" else e for e in expected}


def test_a_bad_filter_value_is_400(staff_client):
    response = staff_client.get("/api/v1/users/?is_active=perhaps")

    assert response.status_code == 400
    assert "is_active" in response.json()["errors"]


def test_staff_cannot_deactivate_themselves_without_the_password(staff_client, staff):
    response = staff_client.delete(f"/api/v1/users/{staff.pk}/")

    assert response.status_code == 403
    assert "users/me/" in response.json()["detail"]
    assert User.objects.get(pk=staff.pk).is_active
