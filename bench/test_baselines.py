"""The benchmark's baselines serve what Roster serves, behind the same authentication.

Not collected by default (bench/ is outside pytest.ini's testpaths):
`.venv/bin/python -m pytest bench/test_baselines.py -q`.
"""

import pytest

from accounts.tests.factories import UserFactory
from conftest import bearer_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


@pytest.fixture
def crowd(db):
    return UserFactory.create_batch(7)


def ids(rows):
    return [row["id"] for row in rows]


def test_naive_list_is_rosters_first_page(staff_client, crowd):
    roster = staff_client.get("/api/v1/users/?page_size=5").json()
    naive = staff_client.get("/bench/naive/users/?page_size=5").json()

    assert naive["results"] == roster["results"]
    assert naive["count"] == roster["count"] == 8
    assert naive["next"].endswith("/bench/naive/users/?page=2&page_size=5")


def test_raw_list_has_rosters_rows_in_rosters_order(staff_client, crowd):
    roster = staff_client.get("/api/v1/users/?page_size=50").json()["results"]
    raw = staff_client.get("/bench/raw/users/").json()["results"]

    assert ids(raw) == ids(roster)
    assert set(raw[0]) == set(roster[0])


def test_naive_search_finds_what_roster_finds(staff_client, crowd):
    term = crowd[3].email.split("@")[0]

    roster = staff_client.get(f"/api/v1/users/?search={term}").json()["results"]
    naive = staff_client.get(f"/bench/naive/users/?search={term}").json()["results"]

    assert ids(naive) == ids(roster) == [str(crowd[3].pk)]


@pytest.mark.parametrize("prefix", ["/api/v1/users/", "/bench/naive/users/", "/bench/raw/users/"])
def test_detail_baselines_answer_the_same_user(staff_client, crowd, prefix):
    body = staff_client.get(f"{prefix}{crowd[0].pk}/").json()

    assert body["id"] == str(crowd[0].pk)
    assert body["email"] == crowd[0].email


def test_raw_me_is_the_callers_record_for_any_user(user, auth_client):
    roster = auth_client.get("/api/v1/users/me/").json()
    raw = auth_client.get("/bench/raw/users/me/").json()

    assert raw["id"] == roster["id"] == str(user.pk)
    assert set(raw) == set(roster)


@pytest.mark.parametrize("path", ["/bench/raw/users/", "/bench/naive/users/"])
def test_user_lists_need_a_token(api_client, path):
    assert api_client.get(path).status_code == 401


@pytest.mark.parametrize("path", ["/bench/raw/users/", "/bench/naive/users/"])
def test_user_lists_are_for_staff_only(user, path):
    assert bearer_client(user).get(path).status_code == 403


def test_bare_view_needs_nothing(api_client):
    response = api_client.get("/bench/bare/")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
