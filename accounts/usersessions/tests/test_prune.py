"""manage.py prune_sessions: old ended and expired rows go, open sessions and their tokens stay."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts import login_gate
from accounts.tokens import issue_token_pair
from accounts.usersessions.models import UserSession

CLIENT = login_gate.Client(ip="127.0.0.1", user_agent="pytest")


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_old_ended_and_expired_sessions_go_and_an_open_one_keeps_working(user):
    long_ago = dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=40)
    for _ in range(3):
        issue_token_pair(user, client=CLIENT)
    ended, expired, kept = UserSession.objects.order_by("created_at")
    UserSession.objects.filter(pk=ended.pk).update(ended_at=long_ago)
    UserSession.objects.filter(pk=expired.pk).update(expires_at=long_ago)
    fresh = issue_token_pair(user, client=CLIENT)  # a fourth, open session

    call_command("prune_sessions", "--older-than", "30d")

    left = set(UserSession.objects.values_list("pk", flat=True))
    assert ended.pk not in left and expired.pk not in left
    assert kept.pk in left and len(left) == 2
    assert bearer(fresh["access"]).get("/api/v1/users/me/").status_code == 200


def test_recent_ended_sessions_stay(user):
    issue_token_pair(user, client=CLIENT)
    UserSession.objects.update(ended_at=dt.datetime.now(tz=dt.UTC))

    call_command("prune_sessions", "--older-than", "1h")

    assert UserSession.objects.count() == 1


@pytest.mark.parametrize("age", ["", "30", "d", "-1d", "1w", "99999999d"])
def test_a_bad_age_is_one_clear_error(age, db):
    with pytest.raises(CommandError, match="--older-than"):
        call_command("prune_sessions", "--older-than", age)
