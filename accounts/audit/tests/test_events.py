"""Security events: each appears exactly when its change commits (never on a rollback), holds the
actor, the client and the request id, and can never be changed or deleted (only pruned)."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from accounts import login_gate, policy, services, tokens
from accounts.audit.events import record
from accounts.audit.models import AppendOnly, EventType, SecurityEvent
from accounts.emailchange import links as email_change_links
from accounts.emailchange import services as email_change
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "a-Brand-new-passw0rd-here"
CLIENT = login_gate.Client(ip="203.0.113.7", user_agent="Firefox/140")


class Rollback(Exception):
    pass


@pytest.fixture
def people():
    return {
        "user": UserFactory(password=PASSWORD),
        "staff": UserFactory(password=PASSWORD, is_staff=True),
        "superuser": UserFactory(password=PASSWORD, is_staff=True, is_superuser=True),
    }


def _reuse(people):
    pair = tokens.issue_token_pair(people["user"])
    tokens.rotate_refresh_token(pair["refresh"])
    with pytest.raises(tokens.RefreshTokenReused):
        tokens.rotate_refresh_token(pair["refresh"])


# (event type, who it is about, who acted, the change) for every change made through a service.
ACTIONS = [
    (
        EventType.LOGIN_SUCCEEDED,
        "user",
        None,
        lambda p: services.login(email=p["user"].email, password=PASSWORD, client=CLIENT),
    ),
    (
        EventType.PASSWORD_CHANGED,
        "user",
        None,
        lambda p: services.password_change(
            user=p["user"], current_password=PASSWORD, new_password=NEW, client=CLIENT
        ),
    ),
    (
        EventType.PASSWORD_SET,
        "user",
        "staff",
        lambda p: services.password_set(actor=p["staff"], user=p["user"], password=None),
    ),
    (
        EventType.PRIVILEGES_CHANGED,
        "user",
        "superuser",
        lambda p: services.user_update(
            actor=p["superuser"], user=p["user"], data={"is_staff": True}
        ),
    ),
    (
        EventType.ACCOUNT_DEACTIVATED,
        "user",
        "staff",
        lambda p: services.user_deactivate(actor=p["staff"], user=p["user"]),
    ),
    (
        EventType.EMAIL_CHANGED,
        "user",
        "staff",
        lambda p: services.user_update(
            actor=p["staff"], user=p["user"], data={"email": "moved@example.com"}
        ),
    ),
    (
        EventType.ACCOUNT_CLOSED,
        "user",
        None,
        lambda p: services.user_close_own_account(user=p["user"], password=PASSWORD, client=CLIENT),
    ),
    (
        EventType.LOGIN_LOCKOUT_LIFTED,
        "user",
        "staff",
        lambda p: services.login_lockout_lift(actor=p["staff"], user=p["user"]),
    ),
    (EventType.REFRESH_TOKEN_REUSED, "user", None, _reuse),
    (EventType.PASSWORD_RESET, "user", None, lambda p: _reset(p["user"])),
    (
        EventType.ACCOUNT_REACTIVATED,
        "user",
        "staff",
        lambda p: (
            services.user_deactivate(actor=p["staff"], user=p["user"]),
            services.user_reactivate(actor=p["staff"], user=p["user"]),
        ),
    ),
    (
        EventType.ACCOUNT_DELETED,
        "user",
        "superuser",
        lambda p: services.user_delete(actor=p["superuser"], user=p["user"]),
    ),
    (EventType.EMAIL_CHANGE_REQUESTED, "user", None, lambda p: _email_change(p["user"])),
    (
        EventType.EMAIL_CHANGED,
        "user",
        None,
        lambda p: _email_change(p["user"], then=email_change.email_change_confirm),
    ),
    (
        EventType.EMAIL_CHANGE_REVERTED,
        "user",
        None,
        lambda p: _email_change(p["user"], then=email_change.email_change_revert),
    ),
    (EventType.SESSION_ENDED, "user", "staff", lambda p: _end_sessions(p["staff"], p["user"])),
    (EventType.SECOND_FACTOR_ADDED, "user", None, lambda p: _totp(p["user"])),
]


def _reset(user):
    from accounts.links import encode_uid, password_reset_tokens

    token = password_reset_tokens.make_token(user)
    services.password_reset_confirm(uidb64=encode_uid(user), token=token, new_password=NEW)


def _email_change(user, then=None):
    change = email_change.email_change_request(
        user=user, new_email="moved@example.org", password=PASSWORD, client=CLIENT
    )
    if then is not None:
        purpose = "confirm" if then is email_change.email_change_confirm else "revert"
        then(token=email_change_links.token_for(change.pk, purpose))


def _end_sessions(staff, user):
    from accounts.usersessions import services as sessions

    tokens.issue_token_pair(user, client=CLIENT)
    sessions.end_all(actor=staff, user=user)


def _totp(user):
    import pyotp

    from accounts.mfa import services as mfa

    secret = mfa.totp_begin(user=user)["secret"]
    mfa.totp_confirm(user=user, code=pyotp.TOTP(secret).now(), client=CLIENT)


@pytest.mark.parametrize(("kind", "about", "by", "action"), ACTIONS, ids=lambda v: str(v))
def test_an_event_is_recorded_when_its_change_commits(people, kind, about, by, action):
    action(people)
    event = SecurityEvent.objects.get(type=kind)
    assert event.user_id == people[about].pk  # ids: a deleted user's events outlive it
    assert event.actor_id == (people[by].pk if by else None)
    assert event.at is not None


@pytest.mark.parametrize(("kind", "about", "by", "action"), ACTIONS, ids=lambda v: str(v))
def test_no_event_when_the_change_rolls_back(people, kind, about, by, action):
    with pytest.raises(Rollback), transaction.atomic():
        action(people)
        raise Rollback
    assert not SecurityEvent.objects.filter(type=kind).exists()


def test_a_refused_change_records_nothing(people):
    with pytest.raises(policy.PermissionDenied):
        services.user_update(actor=people["staff"], user=people["user"], data={"is_staff": True})
    assert not SecurityEvent.objects.exists()


def test_reactivating_and_deleting_are_recorded_with_the_actor(people):
    services.user_deactivate(actor=people["staff"], user=people["user"])
    services.user_reactivate(actor=people["staff"], user=people["user"])
    user_id = people["user"].pk
    services.user_delete(actor=people["staff"], user=people["user"])
    kinds = list(SecurityEvent.objects.filter(user_id=user_id).values_list("type", flat=True))
    assert kinds == ["account_deleted", "account_reactivated", "account_deactivated"]
    # The events outlive the user they name.
    assert SecurityEvent.objects.filter(user_id=user_id).count() == 3


def test_login_failures_name_the_account_and_the_client(people):
    user = people["user"]
    with pytest.raises(login_gate.WrongCredentials):
        services.login(email=user.email.upper(), password="wrong-password", client=CLIENT)
    with pytest.raises(login_gate.WrongCredentials):
        services.login(email="nobody@example.com", password="wrong-password", client=CLIENT)
    known, unknown = SecurityEvent.objects.filter(type="login_failed").order_by("id")
    assert known.user == user and unknown.user is None
    assert known.ip_address == "203.0.113.7" and known.user_agent == "Firefox/140"
    assert known.data == {"method": "password", "purpose": "login"}


def test_a_wrong_password_confirming_a_change_is_a_failure_not_a_login(people):
    with pytest.raises(services.ValidationError):
        services.password_change(
            user=people["user"], current_password="wrong", new_password=NEW, client=CLIENT
        )
    event = SecurityEvent.objects.get()
    assert (event.type, event.data["purpose"]) == ("login_failed", "confirm")


def test_the_lockout_is_recorded_once_when_it_begins(people, settings):
    user = people["user"]
    for _ in range(13):
        with pytest.raises((login_gate.WrongCredentials, login_gate.TooManyAttempts)):
            services.login(email=user.email, password="wrong-password", client=CLIENT)
    assert SecurityEvent.objects.filter(type="login_failed", user=user).count() == 10
    assert SecurityEvent.objects.filter(type="login_locked_out", user=user).count() == 1


def test_events_are_append_only(people):
    event = record(EventType.LOGIN_SUCCEEDED, user=people["user"])
    event.data = {"forged": True}
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        SecurityEvent.objects.filter(pk=event.pk).update(data={})
    with pytest.raises(AppendOnly):
        SecurityEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.data == {}


@pytest.mark.parametrize(
    "key", ["password", "new_password", "refresh_token", "totp_code", "Secret"]
)
def test_an_event_never_holds_a_secret(people, key):
    with pytest.raises(ValueError, match="secret"):
        record(EventType.LOGIN_FAILED, user=people["user"], data={key: "x"})


def test_the_operator_is_recorded_as_such(people):
    record(EventType.ACCOUNT_DEACTIVATED, user=people["user"], actor=policy.OPERATOR)
    event = SecurityEvent.objects.get()
    assert event.actor is None and event.data == {"actor": "operator"}


def test_prune_events_removes_only_the_old_ones(people):
    with time_machine.travel(dt.datetime(2025, 1, 1, tzinfo=dt.UTC), tick=False):
        old = record(EventType.LOGIN_SUCCEEDED, user=people["user"])
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False):
        recent = record(EventType.LOGIN_SUCCEEDED, user=people["user"])
        call_command("prune_events", "--older-than", "300d")
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


def test_ended_sessions_are_recorded_with_who_ended_them(people):
    from rest_framework.test import APIClient

    user, staff = people["user"], people["staff"]
    client = APIClient()
    pair = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}).json()
    assert client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]}).status_code == 204
    client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
    client.force_authenticate(staff)
    assert client.delete(f"/api/v1/users/{user.pk}/sessions/").status_code == 204
    ended = SecurityEvent.objects.filter(type="session_ended").order_by("id")
    assert [(e.actor, e.data["reason"]) for e in ended] == [
        (None, "logout"),
        (staff, "revoked_by_staff"),
    ]
    assert all(e.user == user for e in ended)


def test_second_factor_events_and_a_login_recorded_only_when_complete(people):
    import pyotp

    from accounts.mfa import services as mfa

    user, staff = people["user"], people["superuser"]
    with time_machine.travel(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC), tick=False) as clock:
        secret = mfa.totp_begin(user=user)["secret"]
        mfa.totp_confirm(user=user, code=pyotp.TOTP(secret).now(), client=CLIENT)
        clock.shift(dt.timedelta(seconds=60))
        services.login(email=user.email, password=PASSWORD, client=CLIENT)
        assert not SecurityEvent.objects.filter(type="login_succeeded").exists()  # not yet
        token = mfa.pending_login_start(user=user)
        with pytest.raises(login_gate.WrongCredentials):
            mfa.second_factor_login(mfa_token=token, client=CLIENT, code="000000")
        mfa.second_factor_login(mfa_token=token, client=CLIENT, code=pyotp.TOTP(secret).now())
        mfa.second_factors_reset(actor=staff, user=user)
    events = list(SecurityEvent.objects.filter(user=user).order_by("id"))
    assert [(e.type, e.data.get("kind") or e.data.get("method")) for e in events] == [
        ("second_factor_added", "totp"),
        ("mfa_failed", "code"),
        ("login_succeeded", "pwd+otp"),
        ("second_factor_removed", "all"),
    ]
    assert events[-1].actor == staff
