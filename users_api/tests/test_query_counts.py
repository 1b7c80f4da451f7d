"""A fixed number of queries per request for every endpoint, whatever the page or table size."""

import pytest
from django.db import connection

from accounts.signing.keyring import keyring
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "/api/v1/users/?page_size={n}",
    "/api/v1/users/?page_size={n}&search=example",
    "/api/v1/users/?page_size={n}&is_active=true&ordering=email",
    "/api/v1/users/?page_size={n}&ordering=-last_login",
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_queries_do_not_grow_with_page_or_table_size(
    staff_client, django_assert_num_queries, url
):
    UserFactory.create_batch(5)
    # the caller (JWT), the count, the page; on PostgreSQL an unfiltered list first asks the
    # planner's estimate of the table size (and counts exactly when the table is small)
    unfiltered = "search" not in url and "is_active" not in url
    expected = 4 if unfiltered and connection.vendor == "postgresql" else 3
    with django_assert_num_queries(expected):
        small = staff_client.get(url.format(n=2))
    UserFactory.create_batch(60)
    with django_assert_num_queries(expected):
        large = staff_client.get(url.format(n=100))

    assert small.status_code == large.status_code == 200
    assert len(small.json()["results"]) == 2
    assert len(large.json()["results"]) > 2


def test_detail_and_me_are_two_queries_and_one(staff_client, user, django_assert_num_queries):
    # the caller is read only if the token's session is open: one query with a join
    with django_assert_num_queries(2):  # the caller, the row
        detail = staff_client.get(f"/api/v1/users/{user.pk}/")
    with django_assert_num_queries(1):  # the caller is the row
        me = staff_client.get("/api/v1/users/me/")

    assert detail.json()["id"] == str(user.pk)
    assert me.status_code == 200


def test_patch_me_is_a_fixed_number_of_queries(auth_client, django_assert_num_queries):
    # the caller; then, in a transaction (a savepoint here), the row locked for the policy to
    # judge what is stored, and the update of the changed column
    with django_assert_num_queries(5):
        response = auth_client.patch("/api/v1/users/me/", {"first_name": "New"})

    assert response.json()["first_name"] == "New"


def test_login_is_a_fixed_number_of_queries(api_client, user, password, django_assert_num_queries):
    keyring.signing_key()  # the signing keys are read every few seconds, not per request
    # the user, whether a second factor is on, the outstanding refresh token, last_login, the
    # new session, the new-sign-in notice's task (a client without the device cookie; here it
    # runs in the process: its user, and for the mail's reset link the latest deactivation,
    # which a worker reads in production), the login's security event, the webhook endpoints
    # (for the event's outbox), and whether a second factor is on asked again by the service (it
    # records the login only when complete)
    with django_assert_num_queries(10):
        response = api_client.post(
            "/api/v1/auth/token/", {"email": user.email, "password": password}
        )

    assert response.status_code == 200


def test_refresh_is_a_fixed_number_of_queries(auth_client, django_assert_num_queries):
    # the locked token row, the blacklist insert, the new outstanding token, the session's
    # last use (+ savepoints: the test runs inside a transaction, so atomic blocks are
    # savepoints here)
    with django_assert_num_queries(8):
        response = auth_client.post(
            "/api/v1/auth/token/refresh/", {"refresh": auth_client.refresh_token}
        )

    assert response.status_code == 200
