"""A bounded soak of a running Roster: mixed reads, logins and refreshes on keep-alive connections.

    python deploy/soak.py http://127.0.0.1:8080 --seconds 120 --connections 32

Each connection registers its own user, logs in, then until the time is up sends, at random,
GET users/me/ (80 %), a login (5 %) or a refresh with rotation (15 %). It stops by itself and
prints one JSON object: requests, req/s, latency percentiles, counts by status and 5xx. Standard
library only. The target must allow enough logins and registrations per client IP (THROTTLE_RATES),
and must be a test or staging deployment: the users it registers stay.
"""

import argparse
import http.client
import json
import random
import secrets
import statistics
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

PASSWORD = "soak-Long-enough-passw0rd"  # noqa: S105 - the throwaway soak users' password


class Client:
    """One keep-alive HTTP connection that reconnects when the server closes it."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.connection = None

    def call(self, method, path, body=None, token=None):
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                # A keep-alive connection closed by the server between requests: reopen once.
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return response.status, data
        raise AssertionError("unreachable")


class Session:
    """A user's tokens, kept current across refreshes."""

    def __init__(self, client, email):
        self.client, self.email = client, email
        self.access = self.refresh = None

    def register_and_login(self):
        body = {"email": self.email, "password": PASSWORD}
        status, _ = self.client.call("POST", "/api/v1/auth/register/", body)
        if status != 201:
            raise RuntimeError(f"registration answered {status}")
        self.login()

    def login(self):
        body = {"email": self.email, "password": PASSWORD}
        status, data = self.client.call("POST", "/api/v1/auth/token/", body)
        if status == 200:
            tokens = json.loads(data)
            self.access, self.refresh = tokens["access"], tokens["refresh"]
        return status

    def read(self):
        return self.client.call("GET", "/api/v1/users/me/", token=self.access)[0]

    def rotate(self):
        body = {"refresh": self.refresh}
        status, data = self.client.call("POST", "/api/v1/auth/token/refresh/", body)
        if status == 200:
            tokens = json.loads(data)
            self.access, self.refresh = tokens["access"], tokens["refresh"]
        return status


def soak(base_url, *, seconds, connections, seed=None):
    """Run the mix for `seconds` on `connections` connections; return the figures as a dict."""
    url = urlsplit(base_url)
    run = secrets.token_hex(4)
    rng = random.Random(seed)  # noqa: S311 - load mix, not security
    sessions = [
        Session(Client(url.hostname, url.port or 80), f"soak-{run}-{n}@example.com")
        for n in range(connections)
    ]
    for session in sessions:
        session.register_and_login()

    lock = threading.Lock()
    statuses, latencies, failures = Counter(), [], Counter()
    deadline = time.monotonic() + seconds

    def work(session, choices):
        mine, times = Counter(), []
        for action in choices:
            if time.monotonic() >= deadline:
                break
            started = time.monotonic()
            try:
                status = action(session)
            except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                with lock:
                    failures[type(exc).__name__] += 1
                continue
            times.append(time.monotonic() - started)
            mine[status] += 1
        with lock:
            statuses.update(mine)
            latencies.extend(times)

    # Each thread gets a bounded, pre-drawn list of actions: the loop ends by time or by list.
    weights = {Session.read: 80, Session.login: 5, Session.rotate: 15}
    bound = int(seconds * 1000)
    threads = [
        threading.Thread(
            target=work,
            args=(session, rng.choices(list(weights), list(weights.values()), k=bound)),
        )
        for session in sessions
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "seconds": round(elapsed, 1),
        "connections": connections,
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(quantiles[49] * 1000, 1),
            "p95": round(quantiles[94] * 1000, 1),
            "p99": round(quantiles[98] * 1000, 1),
            "max": round(max(latencies, default=0) * 1000, 1),
        },
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "server_errors": sum(count for status, count in statuses.items() if status >= 500),
        "client_failures": dict(failures),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8080 (nginx in front of Roster)")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--connections", type=int, default=32)
    arguments = parser.parse_args()
    figures = soak(arguments.base_url, seconds=arguments.seconds, connections=arguments.connections)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
