"""The admin: a user's open sessions on their page, and the action that ends them (through the
policy, like every admin write)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from accounts import login_gate
from accounts.tests.factories import UserFactory
from accounts.tokens import issue_token_pair
from accounts.usersessions.models import UserSession
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def operator(**flags):
    account = UserFactory(password=PASSWORD, is_staff=True, **flags)
    account.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_user", "view_user"])
    )
    client = Client()
    client.force_login(account)
    return client


def access_works(pair):
    response = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    return response.status_code == 200


def test_the_user_page_lists_their_open_sessions_read_only(user):
    firefox = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
    issue_token_pair(user, client=login_gate.Client(ip="203.0.113.9", user_agent=firefox))
    ended = UserSession.objects.create(
        user=user, kind="token", device="Ended Browser", expires_at="2099-01-01T00:00:00Z"
    )
    UserSession.objects.filter(pk=ended.pk).end("logout")
    client = operator(is_superuser=True)

    page = client.get(f"{CHANGELIST}{user.pk}/change/").content.decode()

    assert "Open sessions" in page
    assert "Firefox on Ubuntu" in page and "203.0.113.9" in page
    assert "Ended Browser" not in page
    assert 'name="sessions-0-device"' not in page  # shown, not editable


@pytest.mark.parametrize(
    ("flags", "target_flags", "ended"),
    [
        ({}, {}, True),  # staff, ordinary user
        ({}, {"is_staff": True}, False),  # staff, another staff member
        ({"is_superuser": True}, {"is_staff": True}, True),
    ],
)
def test_the_end_sessions_action_follows_the_policy(flags, target_flags, ended):
    target = UserFactory(password=PASSWORD, **target_flags)
    pair = issue_token_pair(target)

    response = operator(**flags).post(
        CHANGELIST,
        {"action": "end_sessions", "_selected_action": [str(target.pk)]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert access_works(pair) is not ended
    if ended:
        assert "Ended the sessions of 1 user." in messages
        assert UserSession.objects.get(user=target).ended_reason == "revoked_by_staff"
    else:
        assert any(m.startswith("Not allowed for 1 user") for m in messages)
