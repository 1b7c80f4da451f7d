"""Outages of the database and of the cache, with the real servers stopped and started again.

The PostgreSQL and Redis stopped here are the test run's private ones (config/tests/servers.py).
"""

import secrets

import pytest

from config.tests.servers import PASSWORD, call, live, register_and_login, wait_until

pytestmark = live

INTERNALS = ("psycopg", "OperationalError", "Traceback", "connection to server", "127.0.0.1")


@pytest.fixture(scope="module")
def deployment(live_servers):
    with live_servers.deployment("outages", app_servers=1) as deployment:
        yield deployment


@pytest.fixture
def server(deployment):
    return deployment.app_servers[0]


def assert_database_unavailable(reply):
    assert reply.status == 503, reply
    assert reply.seconds < 5
    assert reply.headers["content-type"] == "application/problem+json"
    assert int(reply.headers["retry-after"]) > 0
    assert reply.json()["status"] == 503
    for internal in INTERNALS:
        assert internal not in reply.body.decode(), f"{internal!r} leaked: {reply.body!r}"


def test_a_database_outage_answers_503_fast_and_recovers_without_a_restart(deployment, server):
    email, tokens = register_and_login(server.port)
    credentials = {"email": email, "password": PASSWORD}
    workers = server.worker_pids()

    deployment.postgres.stop()
    try:
        ready = call(server.port, "GET", "/readyz")
        health = call(server.port, "GET", "/healthz")
        api = [
            call(server.port, "GET", "/api/v1/users/me/", token=tokens["access"]),
            call(server.port, "POST", "/api/v1/auth/token/", credentials),
            call(
                server.port, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
            ),
            call(
                server.port,
                "POST",
                "/api/v1/auth/register/",
                {"email": f"new-{secrets.token_hex(4)}@example.com", "password": PASSWORD},
            ),
        ]
    finally:
        deployment.postgres.start()

    assert_database_unavailable(ready)
    for reply in api:
        assert_database_unavailable(reply)
    assert health.status == 200
    # Back within seconds, on the same workers: persistent connections are health-checked.
    wait_until(
        lambda: call(server.port, "GET", "/api/v1/users/me/", token=tokens["access"]).status == 200,
        timeout=10,
        what="a request succeeding after PostgreSQL came back",
    )
    assert call(server.port, "GET", "/readyz").status == 200
    assert call(server.port, "POST", "/api/v1/auth/token/", credentials).status == 200
    assert server.worker_pids() == workers


def reset_password(port):
    body = {"email": f"nobody-{secrets.token_hex(6)}@example.com"}
    return call(port, "POST", "/api/v1/auth/password/reset/", body).status


def test_a_cache_outage_degrades_throttling_but_logins_and_reads_keep_working(deployment, server):
    email, tokens = register_and_login(server.port)
    credentials = {"email": email, "password": PASSWORD}
    wrong = {**credentials, "password": "not-the-password-at-all"}

    deployment.redis.stop()
    try:
        login = call(server.port, "POST", "/api/v1/auth/token/", credentials)
        failed_login = call(server.port, "POST", "/api/v1/auth/token/", wrong)
        me = call(server.port, "GET", "/api/v1/users/me/", token=tokens["access"])
        refreshed = call(
            server.port, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
        )
        # password_reset allows 10 per hour per IP: with no cache to count in, all pass.
        resets = [reset_password(server.port) for _ in range(12)]
    finally:
        deployment.redis.start()

    assert login.status == 200
    assert failed_login.status == 401
    assert me.status == 200
    assert refreshed.status == 200
    assert resets == [202] * 12
    for reply in (login, failed_login, me, refreshed):
        assert reply.seconds < 5
    log = server.log_text()
    assert "Throttle password_reset skipped: the cache is unreachable" in log
    assert "Login attempt not counted: the cache is unreachable" in log

    # Redis is back (empty): the per-IP limit of 10 applies again.
    after = [reset_password(server.port) for _ in range(12)]
    assert after[:10] == [202] * 10, after
    assert 429 in after, after
