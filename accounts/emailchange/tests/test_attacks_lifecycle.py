"""Attacks on the email change through an account's life (deactivation, reactivation, a new
password) and under races, kept as regressions."""

import re
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction
from rest_framework.test import APIClient

from accounts import login_gate, services
from accounts.emailchange import services as email_change
from accounts.emailchange.models import EmailChange
from accounts.links import encode_uid, password_reset_tokens
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, bearer_client

CLIENT = login_gate.Client(ip="203.0.113.5", user_agent="Firefox/140")
CONFIRM = "/api/v1/auth/email/change/confirm/"
NEW_PASSWORD = "another-Long-passw0rd"
THIEF = "thief@example.org"


def confirm_token():
    for message in reversed(mail.outbox):
        found = re.search(r"/accounts/email/change/confirm/([A-Za-z0-9_:-]+)/", message.body)
        if found:
            return found[1]
    raise AssertionError("no confirm link was mailed")


def _staff_deactivates_then_reactivates(user):
    staff = bearer_client(UserFactory(is_staff=True))
    for active in (False, True):
        response = staff.patch(f"/api/v1/users/{user.pk}/", {"is_active": active})
        assert response.status_code == 200, response.content


def _owner_changes_password(user):
    services.password_change(
        user=user, current_password=PASSWORD, new_password=NEW_PASSWORD, client=CLIENT
    )


def _owner_resets_password(user):
    services.password_reset_confirm(
        uidb64=encode_uid(user),
        token=password_reset_tokens.make_token(user),
        new_password=NEW_PASSWORD,
    )


def _owner_closes_then_staff_reopens(user):
    services.user_close_own_account(user=user, password=PASSWORD, client=CLIENT)
    staff = UserFactory(is_staff=True)
    services.user_reactivate(actor=staff, user=user)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "every_session_ends",
    [
        _staff_deactivates_then_reactivates,
        _owner_changes_password,
        _owner_resets_password,
        _owner_closes_then_staff_reopens,
    ],
)
def test_a_pending_email_change_dies_with_every_session(user, every_session_ends):
    # A thief with the password and a session asks to move the account to their own address...
    email_change.email_change_request(user=user, new_email=THIEF, password=PASSWORD, client=CLIENT)
    token = confirm_token()
    # ...then the owner (or staff) ends every session: a new password, a deactivation.
    every_session_ends(User.objects.get(pk=user.pk))

    response = APIClient().post(CONFIRM, {"token": token})

    assert response.status_code == 400, response.content
    assert User.objects.get(pk=user.pk).email == user.email


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks to order")
def test_a_confirm_racing_a_newer_request_waits_instead_of_deadlocking():
    """The confirm locked the change then the user; a new request (and a deactivation) lock the
    user then the pending changes: PostgreSQL killed one as a deadlock, answered 503."""
    user = UserFactory(password=PASSWORD)
    email_change.email_change_request(
        user=user, new_email="first@example.org", password=PASSWORD, client=CLIENT
    )
    token = confirm_token()
    request_holds_the_user = threading.Event()
    confirm_started = threading.Event()
    answers = {}

    def newer_request():
        try:
            with transaction.atomic():
                # What the request does first, held until the confirm is under way.
                User.objects.select_for_update().get(pk=user.pk)
                request_holds_the_user.set()
                confirm_started.wait(5)
                wait_until_blocked()
                email_change.email_change_request(
                    user=user, new_email="second@example.org", password=PASSWORD, client=CLIENT
                )
            answers["request"] = "done"
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            answers["request"] = repr(exc)
        finally:
            close_old_connections()
            connection.close()

    def confirm():
        request_holds_the_user.wait(5)
        confirm_started.set()
        try:
            answers["confirm"] = APIClient().post(CONFIRM, {"token": token}).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=newer_request), threading.Thread(target=confirm)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert answers == {"request": "done", "confirm": 400}
    assert User.objects.get(pk=user.pk).email == user.email


def wait_until_blocked():
    """Until another connection waits for a lock (the confirm, on a row this transaction holds)."""
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)


@pytest.mark.django_db
def test_a_request_that_loses_a_race_with_a_deactivation_leaves_no_link(user):
    """The request checked the password on the account it was given, then wrote the change: a
    deactivation committed in between left a pending change that confirmed after reactivation.
    (`user` here is the request's copy, read before staff deactivated the row.)"""
    User.objects.filter(pk=user.pk).update(is_active=False)
    mail.outbox.clear()

    with pytest.raises(ValidationError):
        email_change.email_change_request(
            user=user, new_email=THIEF, password=PASSWORD, client=CLIENT
        )

    assert not EmailChange.objects.filter(user=user).exists()
    assert mail.outbox == []
