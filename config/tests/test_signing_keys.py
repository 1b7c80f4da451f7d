"""Another service verifies Roster's tokens with the JWKS alone, across a key rotation on two app
servers, while clients keep using Roster: nobody is logged out, a retired key's tokens die.

The resource server (config/tests/resource_server.py) is a separate process holding no secret.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time

import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization

from config.tests.servers import (
    HOST,
    REPO,
    _stop_process,
    call,
    free_port,
    live,
    register_and_login,
    wait_until,
)

pytestmark = live

RATES = "login=100000/minute,register=100000/hour,register_email=100/hour,user=1000000/hour"
ISSUER = AUDIENCE = "http://localhost"  # SITE_URL of the live deployments


@pytest.fixture(scope="module")
def deployment(live_servers):
    with live_servers.deployment(
        "signing",
        app_servers=2,
        THROTTLE_RATES=RATES,
        JWKS_MAX_AGE="1",
        SIGNING_KEYS_CACHE_SECONDS="1",
    ) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def resource_server(deployment, live_servers):
    port = free_port()
    log = live_servers.root / "resource-server.log"
    environment = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "JWKS_URL": f"http://{HOST}:{deployment.app_servers[0].port}/.well-known/jwks.json",
        "ISSUER": ISSUER,
        "AUDIENCE": AUDIENCE,
        "JWKS_LIFESPAN": "2",
    }
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "config.tests.resource_server"],
            cwd=REPO,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: call(port, "GET", "/").status == 401, timeout=15, what="resource server")
        yield port
    finally:
        _stop_process(process)


def rs(port, token):
    return call(port, "GET", "/orders/", token=token)


def kid_of(token):
    return jwt.get_unverified_header(token)["kid"]


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, claims, key=b""):
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{_b64(signature)}"


def roster_private_key(deployment, live_servers, kid):
    """The test plays an attacker who stole the database *and* SECRET_KEY, to forge claims with
    Roster's real key: it proves the verifier checks exp, aud and iss, not only the signature."""
    from accounts.signing import crypto

    [(ciphertext,)] = deployment.query(
        "SELECT private_key_encrypted FROM signing_signingkey WHERE kid = %s", (kid,)
    )
    fernet = Fernet(crypto._derived_fernet_key(live_servers.secret_key))
    return crypto.load_private_key(fernet.decrypt(ciphertext.encode()))


def test_the_resource_server_accepts_roster_tokens_and_refuses_forgeries(
    deployment, live_servers, resource_server
):
    first, second = (server.port for server in deployment.app_servers)
    _, tokens = register_and_login(second)
    access = tokens["access"]
    kid = kid_of(access)
    claims = jwt.decode(access, options={"verify_signature": False})
    key = roster_private_key(deployment, live_servers, kid)
    [jwk] = [
        k for k in call(first, "GET", "/.well-known/jwks.json").json()["keys"] if k["kid"] == kid
    ]
    public_pem = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk)).public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    header = {"kid": kid}

    def signed(**changes):
        return jwt.encode({**claims, **changes}, key, algorithm="ES256", headers=header)

    head, _, signature = access.split(".")
    tampered_claims = _b64(json.dumps({**claims, "user_id": "0" * 32}).encode())
    forgeries = {
        "tampered": f"{head}.{tampered_claims}.{signature}",
        "expired": signed(exp=int(time.time()) - 10),
        "wrong aud": signed(aud="https://other.example"),
        "wrong iss": signed(iss="https://other.example"),
        "alg none": forge({"alg": "none", **header}, claims),
        "HS256 with the public key": forge({"alg": "HS256", **header}, claims, public_pem),
        "HS256 with the JWK": forge({"alg": "HS256", **header}, claims, json.dumps(jwk).encode()),
        "unknown kid": jwt.encode(claims, key, algorithm="ES256", headers={"kid": "nope"}),
    }

    accepted = rs(resource_server, access)
    assert accepted.status == 200
    assert accepted.json()["user_id"] == claims["user_id"]
    assert {
        name: rs(resource_server, token).status for name, token in forgeries.items()
    } == dict.fromkeys(forgeries, 401)
    # Roster itself agrees on every forgery, on both servers.
    for port in (first, second):
        statuses = {
            name: call(port, "GET", "/api/v1/users/me/", token=token).status
            for name, token in forgeries.items()
        }
        assert statuses == dict.fromkeys(forgeries, 401)


class Clients(threading.Thread):
    """Signed-in clients using Roster and the resource server in a loop, refreshing as they go.

    Every answer that is not a success is kept: a rotation must not produce a single one.
    """

    def __init__(self, ports, rs_port, count=3):
        super().__init__(daemon=True)
        self.ports, self.rs_port = ports, rs_port
        self.sessions = [register_and_login(ports[n % 2])[1] for n in range(count)]
        self.failures, self.kids_seen, self.rounds = [], set(), 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for number, tokens in enumerate(self.sessions):
                port = self.ports[(self.rounds + number) % 2]
                for what, reply in (
                    ("me", call(port, "GET", "/api/v1/users/me/", token=tokens["access"])),
                    ("resource server", rs(self.rs_port, tokens["access"])),
                ):
                    if reply.status != 200:
                        self.failures.append((what, reply.status, reply.body[:200]))
                if self.rounds % 3 == number % 3:
                    reply = call(
                        port, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
                    )
                    if reply.status != 200:
                        self.failures.append(("refresh", reply.status, reply.body[:200]))
                    else:
                        self.sessions[number] = tokens = reply.json()
                self.kids_seen.add(kid_of(tokens["access"]))
            self.rounds += 1


def test_a_rotation_on_two_servers_logs_nobody_out_and_a_retired_key_dies(
    deployment, live_servers, resource_server
):
    app1, app2 = deployment.app_servers
    ports = (app1.port, app2.port)
    _, idle = register_and_login(app2.port)  # a client that sleeps through the rotation
    old_kid = kid_of(idle["access"])
    clients = Clients(ports, resource_server)
    clients.start()
    try:
        created = app1.manage("signing_keys", "create")
        assert created.returncode == 0, created.stderr
        last = []

        def rotated():
            last[:] = [app2.manage("signing_keys", "rotate")]
            return last[0].returncode == 0

        try:
            wait_until(rotated, timeout=30, what="rotate accepted once the key was published")
        except TimeoutError:
            pytest.fail(f"rotate: {last[0].stderr}")
        new_kid = wait_until(
            lambda: {kid_of(register_and_login(p)[1]["access"]) for p in ports} - {old_kid},
            timeout=15,
            what="both servers signing with the new key",
        )
        rounds = clients.rounds
        wait_until(lambda: clients.rounds >= rounds + 2, timeout=60, what="two more rounds")
    finally:
        clients.stop.set()
        clients.join(60)

    assert len(new_kid) == 1
    assert clients.failures == []
    assert new_kid <= clients.kids_seen  # the clients' refreshes moved to the new key
    # The client that slept: its old-key tokens still work everywhere, and it refreshes.
    assert rs(resource_server, idle["access"]).status == 200
    assert call(app1.port, "GET", "/api/v1/users/me/", token=idle["access"]).status == 200
    refreshed = call(app2.port, "POST", "/api/v1/auth/token/refresh/", {"refresh": idle["refresh"]})
    assert refreshed.status == 200
    assert kid_of(refreshed.json()["access"]) in new_kid
    assert rs(resource_server, refreshed.json()["access"]).status == 200


def test_a_retired_keys_tokens_are_refused_by_roster_and_the_resource_server(
    deployment, resource_server
):
    app1, app2 = deployment.app_servers
    _, tokens = register_and_login(app1.port)
    kid = kid_of(tokens["access"])
    assert rs(resource_server, tokens["access"]).status == 200
    created = app2.manage("signing_keys", "create")
    assert created.returncode == 0, created.stderr
    wait_until(
        lambda: app2.manage("signing_keys", "rotate").returncode == 0, timeout=60, what="rotate"
    )

    retired = app1.manage("signing_keys", "retire", kid)

    assert retired.returncode == 0, retired.stderr
    for server in (app1, app2):
        wait_until(
            lambda port=server.port: (
                call(port, "GET", "/api/v1/users/me/", token=tokens["access"]).status == 401
            ),
            timeout=10,
            what=f"{server.name} refusing the retired key's access token",
        )
        refresh = call(
            server.port, "POST", "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}
        )
        assert refresh.status == 401
    wait_until(
        lambda: rs(resource_server, tokens["access"]).status == 401,
        timeout=10,
        what="the resource server refusing the retired key's token once its JWKS cache expired",
    )
    jwks = call(app2.port, "GET", "/.well-known/jwks.json").json()
    assert kid not in {key["kid"] for key in jwks["keys"]}


def test_no_private_key_in_any_log(deployment, live_servers):
    from accounts.signing import crypto

    fernet = Fernet(crypto._derived_fernet_key(live_servers.secret_key))
    logs = "\n".join(
        [server.log_text() for server in deployment.app_servers]
        + [(live_servers.root / "resource-server.log").read_text(errors="replace")]
    )
    rows = deployment.query("SELECT algorithm, private_key_encrypted FROM signing_signingkey")
    assert len(rows) >= 2
    for algorithm, ciphertext in rows:
        private_key = crypto.load_private_key(fernet.decrypt(ciphertext.encode()))
        jwk_algorithm = (
            jwt.algorithms.ECAlgorithm if algorithm == "ES256" else jwt.algorithms.OKPAlgorithm
        )
        d = jwk_algorithm.to_jwk(private_key, as_dict=True)["d"]
        assert d not in logs
        assert ciphertext not in logs
    assert "PRIVATE KEY" not in logs
