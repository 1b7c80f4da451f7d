"""Scale-out: two gunicorn app servers behind nginx, one PostgreSQL, one Redis.

The app servers share nothing but the database and the cache, so whatever one of them does, the
other must honour: tokens, logouts, throttle counts. nginx is the one trusted proxy (NUM_PROXIES=1).
"""

import base64
import json
import os
import secrets

import pytest

from config.tests.servers import PASSWORD, call, live, register_and_login, worker_rss_kib
from deploy.soak import soak

pytestmark = live

# Room for the soak's logins from one IP; login_failures and password_reset keep their defaults.
RATES = "login=100000/minute,register=100000/hour,register_email=100/hour,user=1000000/hour"
SOAK_SECONDS = float(os.environ.get("ROSTER_SOAK_SECONDS", 30))
SOAK_CONNECTIONS = int(os.environ.get("ROSTER_SOAK_CONNECTIONS", 32))


@pytest.fixture(scope="module")
def deployment(live_servers):
    with live_servers.deployment(
        "scaleout", app_servers=2, nginx=True, NUM_PROXIES="1", THROTTLE_RATES=RATES
    ) as deployment:
        yield deployment


@pytest.fixture
def ports(deployment):
    """The two app servers' ports, then nginx's."""
    first, second = deployment.app_servers
    return first.port, second.port, deployment.nginx.port


def test_a_token_issued_by_one_app_server_works_on_the_other(ports):
    first, second, _ = ports
    email, tokens = register_and_login(first)

    me = call(second, "GET", "/api/v1/users/me/", token=tokens["access"])
    refreshed = call(second, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert me.status == 200
    assert me.json()["email"] == email
    assert refreshed.status == 200
    assert call(first, "GET", "/api/v1/users/me/", token=refreshed.json()["access"]).status == 200


def test_a_logout_on_one_app_server_is_honoured_by_the_other(ports):
    first, second, _ = ports
    _, tokens = register_and_login(first)

    logout = call(first, "POST", "/api/v1/auth/logout/", {"refresh": tokens["refresh"]})
    refreshed = call(second, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})

    assert logout.status == 204
    assert refreshed.status == 401
    assert refreshed.headers["content-type"] == "application/problem+json"


# --- Sessions: ending one on either server kills its access token at the next request ----------


def _login(port, email):
    reply = call(port, "POST", "/api/v1/auth/token/", {"email": email, "password": PASSWORD})
    assert reply.status == 200
    return reply.json()


def _sid(tokens):
    payload = tokens["refresh"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]


def _make_superuser(deployment):
    email, tokens = register_and_login(deployment.app_servers[0].port)
    deployment.query(
        "UPDATE accounts_user SET is_staff = true, is_superuser = true WHERE email = %s", (email,)
    )
    return tokens


def _user_id(port, tokens):
    return call(port, "GET", "/api/v1/users/me/", token=tokens["access"]).json()["id"]


SESSION_ENDINGS = {
    "logout": lambda port, victim, helper, staff, user_id: call(
        port, "POST", "/api/v1/auth/logout/", {"refresh": victim["refresh"]}
    ),
    "ended from another session": lambda port, victim, helper, staff, user_id: call(
        port, "DELETE", f"/api/v1/auth/sessions/{_sid(victim)}/", token=helper["access"]
    ),
    "revoke-others": lambda port, victim, helper, staff, user_id: call(
        port, "POST", "/api/v1/auth/sessions/revoke-others/", token=helper["access"]
    ),
    "staff end all": lambda port, victim, helper, staff, user_id: call(
        port, "DELETE", f"/api/v1/users/{user_id}/sessions/", token=staff["access"]
    ),
    "staff deactivation": lambda port, victim, helper, staff, user_id: call(
        port, "DELETE", f"/api/v1/users/{user_id}/", token=staff["access"]
    ),
    "password change": lambda port, victim, helper, staff, user_id: call(
        port,
        "POST",
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": "a-brand-new-passw0rd!"},
        token=helper["access"],
    ),
    "refresh reuse": lambda port, victim, helper, staff, user_id: [
        call(port, "POST", "/api/v1/auth/token/refresh/", {"refresh": victim["refresh"]})
        for _ in range(2)
    ][-1],
}


@pytest.mark.parametrize("way", SESSION_ENDINGS)
def test_a_session_ended_on_one_app_server_is_refused_by_the_other_at_once(deployment, ports, way):
    first, second, _ = ports
    staff = _make_superuser(deployment)
    email, victim = register_and_login(first)
    helper = _login(second, email)
    user_id = _user_id(second, victim)
    assert call(second, "GET", "/api/v1/users/me/", token=victim["access"]).status == 200

    ended = SESSION_ENDINGS[way](first, victim, helper, staff, user_id)

    assert ended.status in (200, 204, 401), ended.body
    me = call(second, "GET", "/api/v1/users/me/", token=victim["access"])
    refreshed = call(second, "POST", "/api/v1/auth/token/refresh/", {"refresh": victim["refresh"]})
    assert me.status == 401 and me.headers["content-type"] == "application/problem+json"
    assert refreshed.status == 401


def test_reactivation_on_one_server_does_not_revive_old_tokens_on_the_other(deployment, ports):
    first, second, _ = ports
    staff = _make_superuser(deployment)
    email, victim = register_and_login(first)
    user_id = _user_id(first, victim)

    deactivated = call(first, "DELETE", f"/api/v1/users/{user_id}/", token=staff["access"])
    reactivated = call(
        second, "PATCH", f"/api/v1/users/{user_id}/", {"is_active": True}, token=staff["access"]
    )

    assert (deactivated.status, reactivated.status) == (204, 200)
    assert call(second, "GET", "/api/v1/users/me/", token=victim["access"]).status == 401
    assert call(first, "GET", "/api/v1/users/me/", token=victim["access"]).status == 401
    assert (
        call(second, "GET", "/api/v1/users/me/", token=_login(first, email)["access"]).status == 200
    )


def test_failed_logins_are_counted_across_app_servers(ports):
    # login_failures is 10 per 15 minutes: the 11th attempt is refused wherever it lands,
    # exactly as on a single server, even with the right password.
    first, second, _ = ports
    email, _ = register_and_login(first)
    wrong = {"email": email.upper(), "password": "not-the-password-at-all"}

    failures = [
        call((first, second)[n % 2], "POST", "/api/v1/auth/token/", wrong) for n in range(10)
    ]
    right = {"email": email, "password": PASSWORD}
    after_on_first = call(first, "POST", "/api/v1/auth/token/", right)
    after_on_second = call(second, "POST", "/api/v1/auth/token/", right)

    assert [reply.status for reply in failures] == [401] * 10
    assert after_on_first.status == 429
    assert after_on_second.status == 429
    assert int(after_on_second.headers["retry-after"]) > 0


def test_throttles_count_the_real_client_ip_that_nginx_reports(ports):
    # password_reset allows 10 requests per hour per client IP. Two clients on their own loopback
    # addresses reach Roster only through nginx, so Roster's socket peer is always nginx.
    _, _, nginx = ports

    def reset(source, **headers):
        body = {"email": f"nobody-{secrets.token_hex(6)}@example.com"}
        return call(
            nginx, "POST", "/api/v1/auth/password/reset/", body, source=source, headers=headers
        )

    first_client = [reset("127.0.0.2").status for _ in range(10)]
    eleventh = reset("127.0.0.2")
    forged = reset("127.0.0.2", **{"X-Forwarded-For": "203.0.113.9"})
    other_client = reset("127.0.0.3")

    assert first_client == [202] * 10
    assert eleventh.status == 429
    assert forged.status == 429, "a client-sent X-Forwarded-For must not reset its count"
    assert other_client.status == 202, "another client behind the same nginx has its own count"


def test_a_soak_through_nginx_has_no_server_errors_and_flat_worker_memory(deployment, ports):
    _, _, nginx = ports
    per_server = [server.worker_pids() for server in deployment.app_servers]
    workers = [pid for pids in per_server for pid in pids]
    # Warm up first: imports, connections and allocator arenas settle before memory is measured.
    soak(f"http://127.0.0.1:{nginx}", seconds=min(10, SOAK_SECONDS), connections=SOAK_CONNECTIONS)
    before = {pid: worker_rss_kib(pid) for pid in workers}

    figures = soak(f"http://127.0.0.1:{nginx}", seconds=SOAK_SECONDS, connections=SOAK_CONNECTIONS)

    after = {pid: worker_rss_kib(pid) for pid in workers}
    figures["worker_rss_mib"] = {
        "before": [round(before[pid] / 1024, 1) for pid in workers],
        "after": [round(after[pid] / 1024, 1) for pid in workers],
    }
    print("\nsoak figures:", json.dumps(figures))
    assert figures["server_errors"] == 0, figures
    assert figures["client_failures"] == {}, figures
    assert set(figures["statuses"]) == {"200"}, figures
    assert figures["requests"] > 100 * SOAK_SECONDS / 30, figures
    assert [server.worker_pids() for server in deployment.app_servers] == per_server, (
        "no worker died or was replaced during the soak"
    )
    for pid in workers:
        assert after[pid] - before[pid] < 32 * 1024, f"worker {pid} grew: {figures}"


def test_nginx_sends_requests_to_the_other_app_server_when_one_is_down(deployment, ports):
    first, _, nginx = ports
    _, tokens = register_and_login(first)
    deployment.app_servers[1].stop()
    try:
        replies = [
            call(nginx, "GET", "/api/v1/users/me/", token=tokens["access"]) for _ in range(6)
        ]
        refreshed = call(
            nginx, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
        )
    finally:
        deployment.app_servers[1].start()

    assert [reply.status for reply in replies] == [200] * 6
    assert refreshed.status == 200


def test_flushexpiredtokens_removes_expired_refresh_tokens(deployment, ports):
    email, _ = register_and_login(ports[0])
    expired = deployment.query(
        "UPDATE token_blacklist_outstandingtoken SET expires_at = now() - interval '1 day'"
        " WHERE user_id = (SELECT id FROM accounts_user WHERE email = %s)",
        [email],
    )

    flush = deployment.app_servers[0].manage("flushexpiredtokens")

    assert expired >= 1
    assert flush.returncode == 0, flush.stderr
    left = deployment.query(
        "SELECT count(*) FROM token_blacklist_outstandingtoken t JOIN accounts_user u"
        " ON u.id = t.user_id WHERE u.email = %s",
        [email],
    )
    assert left == [(0,)]


def test_rotating_secret_key_on_every_app_server_logs_no_api_client_out(deployment, ports):
    """JWTs are signed by the signing keys, not SECRET_KEY (DESIGN, "Signing keys and JWKS"):
    rotated as the runbook says (the old key kept in SECRET_KEY_FALLBACKS until the signing keys
    are re-encrypted), a new SECRET_KEY leaves every token working."""
    # Last in this module: it restarts both app servers with a new key.
    first, second, _ = ports
    _, old = register_and_login(first)
    new_key = secrets.token_urlsafe(64)
    for server in deployment.app_servers:
        server.stop()
        previous = server.environment["SECRET_KEY"]
        server.environment.update(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=previous)
        server.start()

    old_access = call(second, "GET", "/api/v1/users/me/", token=old["access"])
    old_refresh = call(first, "POST", "/api/v1/auth/token/refresh/", {"refresh": old["refresh"]})
    _, new = register_and_login(first)

    assert old_access.status == 200
    assert old_refresh.status == 200
    assert call(second, "GET", "/api/v1/users/me/", token=new["access"]).status == 200
    rotated = old_refresh.json()
    assert call(second, "GET", "/api/v1/users/me/", token=rotated["access"]).status == 200
