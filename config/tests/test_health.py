from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper


def test_healthz_answers_without_touching_the_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_problem_when_the_database_fails(client):
    # The real outage (PostgreSQL stopped) is exercised by the reliability tests; here the
    # cursor fails the way psycopg does when the server is gone.
    with mock.patch.object(CursorWrapper, "execute", side_effect=OperationalError("gone")):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"]
    assert response.json()["status"] == 503
    assert "gone" not in response.content.decode()
