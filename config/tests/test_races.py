"""Races on PostgreSQL through two real app servers: concurrent requests with one winner.

Requests are released together by a barrier and alternate between the two app servers, so the
only thing that can order them is the database.
"""

import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest

from config.tests.servers import PASSWORD, call, live, register_and_login

pytestmark = live

RATES = "register=100000/hour,register_email=100000/hour,login=100000/minute"


@pytest.fixture(scope="module")
def deployment(live_servers):
    with live_servers.deployment("races", app_servers=2, THROTTLE_RATES=RATES) as deployment:
        yield deployment


@pytest.fixture
def ports(deployment):
    return [server.port for server in deployment.app_servers]


def race(ports, requests):
    """Send `requests` (method, path, body) all at once, alternating app servers; the replies."""
    barrier = threading.Barrier(len(requests))

    def send(numbered):
        number, (method, path, body) = numbered
        barrier.wait(timeout=30)
        return call(ports[number % len(ports)], method, path, body, timeout=60)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, enumerate(requests)))


def statuses(replies):
    return sorted(reply.status for reply in replies)


def mixed_case(text):
    return "".join(char.upper() if secrets.randbelow(2) else char.lower() for char in text)


def test_concurrent_registrations_of_one_email_create_one_user(deployment, ports):
    address = f"racer-{secrets.token_hex(4)}@example.com"
    emails = [mixed_case(address) for _ in range(40)]
    body = {"password": PASSWORD}

    replies = race(
        ports, [("POST", "/api/v1/auth/register/", {**body, "email": e}) for e in emails]
    )

    assert statuses(replies).count(201) == 1, statuses(replies)
    assert set(statuses(replies)) <= {201, 400, 409}, statuses(replies)
    rows = deployment.query("SELECT count(*) FROM accounts_user WHERE lower(email) = %s", [address])
    assert rows == [(1,)]


def test_concurrent_refreshes_of_one_token_have_one_winner(deployment, ports):
    email, tokens = register_and_login(ports[0])
    refresh = ("POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})

    replies = race(ports, [refresh] * 10)

    assert statuses(replies) == [200] + [401] * 9
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for r in replies[1:]
        if r.status == 401
    )
    # The nine losers presented a token that had just been rotated: each is recorded as reuse.
    reuses = deployment.query(
        "SELECT count(*) FROM accounts_refreshtokenreuse r JOIN accounts_user u ON u.id = r.user_id"
        " WHERE u.email = %s",
        [email],
    )
    assert reuses == [(9,)]


def test_reusing_a_rotated_refresh_token_ends_its_whole_session(deployment, ports):
    first, second = ports
    email, stolen = register_and_login(first)
    other_session = call(
        first, "POST", "/api/v1/auth/token/", {"email": email, "password": PASSWORD}
    )
    rotated = call(first, "POST", "/api/v1/auth/token/refresh/", {"refresh": stolen["refresh"]})
    assert rotated.status == 200

    reuse = call(second, "POST", "/api/v1/auth/token/refresh/", {"refresh": stolen["refresh"]})

    assert reuse.status == 401
    # the family's newest tokens die with it, on either server; another login is another family
    newest = rotated.json()
    reply = call(first, "POST", "/api/v1/auth/token/refresh/", {"refresh": newest["refresh"]})
    assert reply.status == 401, "after a reuse no token of that session may work"
    assert call(first, "GET", "/api/v1/users/me/", token=newest["access"]).status == 401
    other = other_session.json()
    assert call(second, "GET", "/api/v1/users/me/", token=other["access"]).status == 200
    recorded = deployment.query(
        "SELECT r.jti FROM accounts_refreshtokenreuse r JOIN accounts_user u ON u.id = r.user_id"
        " WHERE u.email = %s",
        [email],
    )
    assert len(recorded) >= 1
    assert "Refresh token reuse" in deployment.app_servers[1].log_text()


def test_concurrent_password_reset_confirms_with_one_token_have_one_winner(deployment, ports):
    email, _ = register_and_login(ports[0])
    assert call(ports[0], "POST", "/api/v1/auth/password/reset/", {"email": email}).status == 202
    deployment.run_tasks()
    [message] = [
        text
        for text in deployment.emails_to(email)
        if "Subject: Reset your Roster password" in text
    ]
    uid, token = re.search(r"/accounts/password/reset/([^/\s]+)/([^/\s]+)/", message).groups()
    passwords = [f"new-Passw0rd-{n}-{secrets.token_hex(4)}" for n in range(8)]
    confirm = "/api/v1/auth/password/reset/confirm/"

    replies = race(
        ports,
        [("POST", confirm, {"uid": uid, "token": token, "new_password": p}) for p in passwords],
    )

    assert statuses(replies) == [204] + [400] * 7
    [winner] = [p for p, reply in zip(passwords, replies, strict=True) if reply.status == 204]
    logins = {
        password: call(
            ports[1], "POST", "/api/v1/auth/token/", {"email": email, "password": password}
        ).status
        for password in passwords
    }
    assert logins == {password: 200 if password == winner else 401 for password in passwords}


def test_concurrent_wrong_passwords_get_no_more_guesses_than_the_failure_limit(ports):
    # login_failures allows 10 failures per 15 minutes; a burst must not check more passwords.
    email, _ = register_and_login(ports[0])
    guess = ("POST", "/api/v1/auth/token/", {"email": email, "password": "a-wrong-guess-123"})

    replies = race(ports, [guess] * 30)

    assert statuses(replies) == [401] * 10 + [429] * 20


def _with_totp(ports):
    """A new user with TOTP on (through the API): (credentials, their TOTP, recovery codes)."""
    email, tokens = register_and_login(ports[0])
    access = tokens["access"]
    secret = call(ports[0], "POST", "/api/v1/auth/mfa/totp/", token=access).json()["secret"]
    totp = pyotp.TOTP(secret)
    confirm = {"code": totp.at(time.time() - 30)}  # the previous step: the current one stays new
    reply = call(ports[1], "POST", "/api/v1/auth/mfa/totp/confirm/", confirm, token=access)
    assert reply.status == 200
    return {"email": email, "password": PASSWORD}, totp, reply.json()["recovery_codes"]


def _mfa_tokens(ports, credentials, count):
    replies = [call(ports[n % 2], "POST", "/api/v1/auth/token/", credentials) for n in range(count)]
    assert {reply.json()["code"] for reply in replies} == {"mfa_required"}
    return [reply.json()["mfa_token"] for reply in replies]


def test_concurrent_second_steps_with_one_totp_code_have_one_winner(ports):
    credentials, totp, _ = _with_totp(ports)
    mfa_tokens = _mfa_tokens(ports, credentials, 8)
    code = totp.now()

    replies = race(
        ports,
        [("POST", "/api/v1/auth/mfa/verify/", {"mfa_token": t, "code": code}) for t in mfa_tokens],
    )

    assert statuses(replies) == [200] + [401] * 7


def test_concurrent_second_steps_with_one_mfa_token_have_one_winner(ports):
    credentials, _, recovery_codes = _with_totp(ports)
    [mfa_token] = _mfa_tokens(ports, credentials, 1)

    replies = race(
        ports,
        [
            ("POST", "/api/v1/auth/mfa/verify/", {"mfa_token": mfa_token, "code": code})
            for code in recovery_codes[:8]
        ],
    )

    assert statuses(replies) == [200] + [401] * 7
