"""Races the live tests (config/tests/test_races.py) do not run: one secret presented by several
requests at once, in this process on threads. Each asks the database to decide, so they run on
PostgreSQL (SQLite takes one writer at a time and has no row locks)."""

import re
import threading

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, bearer_client
from users_api.tests.test_mfa import enable_totp, password_login

AUTH = "/api/v1/auth/"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="races need PostgreSQL's locks"),
]


def race(*calls):
    """Run the calls at once, one thread each; their answers' status codes, in call order."""
    start = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(index, call):
        try:
            start.wait(5)
            answers[index] = call().status_code
        except Exception as exc:  # noqa: BLE001 - reported as the answer
            answers[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def confirm_token(address):
    [message] = [m for m in mail.outbox if address in m.to]
    return re.search(r"/accounts/email/change/confirm/([A-Za-z0-9_:-]+)/", message.body)[1]


def test_one_recovery_code_finishes_one_of_several_concurrent_logins():
    user = UserFactory(password=PASSWORD)
    _, codes = enable_totp(bearer_client(user))
    tokens = [password_login(user).json()["mfa_token"] for _ in range(4)]

    def finish(token):
        return lambda: APIClient().post(
            f"{AUTH}mfa/verify/", {"mfa_token": token, "code": codes[0]}
        )

    answers = race(*(finish(token) for token in tokens))

    assert sorted(answers, key=str) == [200, 401, 401, 401]


def test_one_recovery_code_reauthenticates_one_of_several_concurrent_requests():
    user = UserFactory(password=PASSWORD)
    _, codes = enable_totp(bearer_client(user))
    clients = [bearer_client(user) for _ in range(4)]

    def reauthenticate(client):
        return lambda: client.post(f"{AUTH}reauthenticate/", {"code": codes[1]})

    answers = race(*(reauthenticate(client) for client in clients))

    assert sorted(answers, key=str) == [200, 400, 400, 400]


def test_one_email_change_link_confirms_once_under_concurrent_clicks():
    user = UserFactory(password=PASSWORD)
    response = bearer_client(user).post(
        "/api/v1/users/me/email/", {"new_email": "new@example.org", "password": PASSWORD}
    )
    assert response.status_code == 202
    token = confirm_token("new@example.org")

    def confirm():
        return APIClient().post(f"{AUTH}email/change/confirm/", {"token": token})

    answers = race(*(confirm for _ in range(4)))

    assert sorted(answers, key=str) == [204, 400, 400, 400]
    assert User.objects.get(pk=user.pk).email == "new@example.org"


def test_two_accounts_confirming_one_new_address_at_once_give_it_to_one():
    changes = []
    for _ in range(2):
        user = UserFactory(password=PASSWORD)
        bearer_client(user).post(
            "/api/v1/users/me/email/", {"new_email": "wanted@example.org", "password": PASSWORD}
        )
        changes.append(confirm_token("wanted@example.org"))
        mail.outbox.clear()

    answers = race(
        *(
            (lambda t=token: APIClient().post(f"{AUTH}email/change/confirm/", {"token": t}))
            for token in changes
        )
    )

    assert sorted(answers, key=str) == [204, 400]
    assert User.objects.filter(email="wanted@example.org").count() == 1


def test_removing_the_last_two_factors_at_once_leaves_no_recovery_code():
    # Each removal keeps the codes while another factor is on: two at once must not both see
    # the other one still there and leave codes that no factor backs (they would still prove
    # who the caller is to auth/reauthenticate/).
    from accounts.mfa.models import RecoveryCode
    from users_api.tests.test_mfa import register_passkey

    for _ in range(5):
        user = UserFactory(password=PASSWORD)
        client = bearer_client(user)
        enable_totp(client)
        _, passkey = register_passkey(client)
        passkey_client, totp_client = bearer_client(user), bearer_client(user)

        answers = race(
            lambda c=totp_client: c.delete(f"{AUTH}mfa/totp/"),
            lambda c=passkey_client, p=passkey["id"]: c.delete(f"{AUTH}passkeys/{p}/"),
        )

        assert answers == [204, 204]
        assert not RecoveryCode.objects.filter(user=user).exists()
