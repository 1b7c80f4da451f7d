"""Paging at scale: cursor links for deep pages, cheap counts, the fast row serializer."""

import datetime as dt

import pytest
from django.db import connection

from accounts import managers
from accounts.models import User
from accounts.tests.factories import UserFactory
from users_api import pagination
from users_api.serializers import UserSerializer, user_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def early_cursors(monkeypatch):
    """Switch to cursor links after the first 4 rows, so a small table exercises keyset paging."""
    monkeypatch.setattr(pagination, "KEYSET_AFTER_ROWS", 4)


@pytest.fixture
def users(staff):
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    # Pairs of users share a join time, so the id tie-breaker matters.
    for i in range(11):
        UserFactory(date_joined=base + dt.timedelta(hours=i // 2), last_name=f"N{i % 3}")
    return User.objects.all()


def walk(client, url, link="next"):
    ids, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids.extend(user["id"] for user in body["results"])
        url, pages = body[link], pages + 1
        assert pages < 50
    return ids, body


@pytest.mark.parametrize(
    ("ordering", "sort_key"),
    [
        ("-date_joined", lambda u: (u.date_joined, u.pk)),
        ("date_joined", lambda u: (u.date_joined, u.pk)),
        ("email", lambda u: (u.email, u.pk)),
        ("-last_name", lambda u: (u.last_name, u.pk)),
    ],
)
def test_following_next_links_visits_every_user_once_in_order(
    staff_client, users, early_cursors, ordering, sort_key
):
    expected = sorted(users, key=sort_key, reverse=ordering.startswith("-"))

    ids, _ = walk(staff_client, f"/api/v1/users/?ordering={ordering}&page_size=2")

    assert ids == [str(u.pk) for u in expected]


def test_deep_next_links_are_cursors_and_previous_links_walk_back(
    staff_client, users, early_cursors
):
    first = staff_client.get("/api/v1/users/?page_size=2").json()
    assert "page=2" in first["next"]

    forward, last = walk(staff_client, "/api/v1/users/?page_size=2")
    third = staff_client.get("/api/v1/users/?page=3&page_size=2").json()
    assert "cursor=" in third["next"] and "page=" not in third["next"]

    cursor_page = staff_client.get(third["next"]).json()
    back = staff_client.get(cursor_page["previous"]).json()
    assert [u["id"] for u in back["results"]] == [u["id"] for u in third["results"]]
    assert last["next"] is None
    assert len(forward) == len(set(forward)) == 12


def test_cursor_pages_keep_the_count(staff_client, users, early_cursors):
    third = staff_client.get("/api/v1/users/?page=3&page_size=2").json()

    body = staff_client.get(third["next"]).json()

    assert body["count"] == 12


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjogWyJ4Il19", "%00"])
def test_a_bad_cursor_is_400_problem(staff_client, cursor):
    response = staff_client.get(f"/api/v1/users/?cursor={cursor}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "cursor" in response.json()["errors"]


def test_a_cursor_of_another_ordering_is_refused(staff_client, users, early_cursors):
    third = staff_client.get("/api/v1/users/?page=3&page_size=2&ordering=email").json()
    cursor = third["next"].split("cursor=")[1].split("&")[0]

    response = staff_client.get(f"/api/v1/users/?cursor={cursor}&ordering=-email")

    assert response.status_code == 400
    assert response.json()["errors"]["cursor"] == ["This cursor belongs to another ordering."]


def test_nullable_last_login_ordering_keeps_page_links(staff_client, users, early_cursors):
    ids, _ = walk(staff_client, "/api/v1/users/?ordering=last_login&page_size=2")

    assert sorted(ids) == sorted(str(pk) for pk in User.objects.values_list("pk", flat=True))


def test_the_fast_row_equals_the_model_serializer(user):
    user.last_login = dt.datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    user.save()
    never = UserFactory(last_login=None)

    for account in (User.objects.get(pk=user.pk), never):
        assert user_data(account) == UserSerializer(account).data


def test_count_is_exact_for_a_small_table(staff_client, users):
    assert staff_client.get("/api/v1/users/").json()["count"] == 12


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner estimates are PostgreSQL's")
def test_huge_unfiltered_count_is_the_planner_estimate_and_filtered_counts_stay_exact(
    staff_client, users, monkeypatch
):
    monkeypatch.setattr(managers, "ESTIMATE_COUNT_FROM", 5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
        cursor.execute("UPDATE pg_class SET reltuples = 1000000 WHERE relname = 'accounts_user'")

    unfiltered = staff_client.get("/api/v1/users/").json()
    filtered = staff_client.get("/api/v1/users/?is_staff=true").json()

    assert unfiltered["count"] == 1_000_000
    assert filtered["count"] == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_search_uses_the_trigram_index():
    UserFactory(last_name="Quetzalcoatl")
    queryset = User.objects.search(["etzalco"]).order_by("-date_joined", "-id")[:50]
    with connection.cursor() as cursor:
        # A tiny table would otherwise be scanned; only a bitmap (GIN) scan is left to choose.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()

    assert "accounts_user_search_trgm" in plan
    assert [u.last_name for u in queryset] == ["Quetzalcoatl"]
