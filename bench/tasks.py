"""The benchmark's work inside Django, one command per call, each printing one JSON line.

`python -m bench.tasks <command> ...` with DJANGO_SETTINGS_MODULE=bench.settings and the
benchmark database's DATABASE_URL; bench/run.py calls these and reads the last line of stdout.
"""

import argparse
import json
import random
import statistics
import sys
import time

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import (  # noqa: E402
    check_password,
    identify_hasher,
    make_password,
)
from django.db import connection  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402

SEARCH_FIELDS = ("email", "first_name", "last_name")


def staff(email, password):
    """The one account the benchmark logs in as (staff, so it may list users)."""
    User.objects.with_email(email).delete()
    user = User.objects.create_user(email, password, is_staff=True, email_verified=True)
    return {"id": str(user.pk)}


def _search_q(term):
    query = Q()
    for field in SEARCH_FIELDS:
        query |= Q(**{f"{field}__icontains": term})
    return query


def probe(staff_email, max_matches):
    """What the scenarios need from the seeded table: a row to fetch and a selective search term."""
    rng = random.Random(6)
    total = User.objects.count()
    others = User.objects.exclude(email__iexact=staff_email).order_by("-date_joined", "id")
    detail = others.values_list("pk", flat=True)[total // 3]
    for _ in range(50):
        email = others.values_list("email", flat=True)[rng.randrange(total - 1)]
        term = email.split("@")[0]
        # The local part's tail is what makes it rare; keep the shortest tail that still is.
        for length in range(min(8, len(term)), len(term) + 1):
            candidate = term[-length:]
            matches = User.objects.filter(_search_q(candidate)).count()
            if matches <= max_matches:
                return {
                    "users": total,
                    "detail_id": str(detail),
                    "search_term": candidate,
                    "search_matches": matches,
                }
    raise SystemExit("no selective search term found")


def inspect(token, urls, search_url):
    """Queries per request for each URL, and EXPLAIN ANALYZE of the search's queries."""
    client = Client(
        headers={"authorization": f"Bearer {token}", "accept": "application/json"},
        HTTP_HOST="127.0.0.1",
    )
    counts = {}
    for name, url in urls.items():
        # Steady state: a process's first request also reads what it keeps for a while (the
        # signing keys, the table's estimated size), which is not per request.
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        counts[name] = {"status": response.status_code, "queries": len(captured)}
    with CaptureQueriesContext(connection) as captured:
        client.get(search_url)
    plans = []
    if connection.vendor == "postgresql":
        term = search_url.split("search=", 1)[1].split("&", 1)[0]
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                if term.lower() not in query["sql"].lower():
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                plans.append({"sql": query["sql"], "plan": plan})
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                [User._meta.db_table],
            )
            indexes = dict(cursor.fetchall())
    else:
        indexes = {}
    trigram = sorted(name for name, ddl in indexes.items() if "gin_trgm_ops" in ddl)
    used = sorted(name for name in trigram if any(name in plan["plan"] for plan in plans))
    return {
        "queries": counts,
        "search_plans": plans,
        "trigram_indexes": trigram,
        "trigram_indexes_used": used,
    }


def hashing(repeat, email, password):
    """Median milliseconds of one hash and one check with Roster's hasher, and of one whole login
    (POST auth/token/ through Django), interleaved so that all three see the same machine."""
    encoded = make_password(password)
    client = Client(HTTP_HOST="127.0.0.1")
    body = {"email": email, "password": password}
    timings = {"make_ms": [], "check_ms": [], "login_ms": []}

    def timed(name, work):
        start = time.perf_counter()
        result = work()
        timings[name].append((time.perf_counter() - start) * 1000)
        return result

    for _ in range(repeat):
        timed("make_ms", lambda: make_password(password))
        timed("check_ms", lambda: check_password(password, encoded))
        response = timed(
            "login_ms",
            lambda: client.post("/api/v1/auth/token/", body, content_type="application/json"),
        )
        if response.status_code != 200:
            raise SystemExit(f"login answered {response.status_code}: {response.content[:200]}")
    summary = identify_hasher(encoded).safe_summary(encoded)
    return {
        "hasher": ", ".join(
            f"{label} {value}" for label, value in summary.items() if label not in ("salt", "hash")
        ),
        **{name: statistics.median(values) for name, values in timings.items()},
    }


def second_factor(repeat, password):
    """Median milliseconds of what a second factor adds to a login, interleaved: the password step
    of an account with TOTP (it answers 401 `mfa_required`), `auth/mfa/verify/` with a TOTP code,
    and a passwordless passkey login (options, then the assertion, ES256)."""
    import pyotp

    from accounts import login_gate
    from accounts.mfa import services as mfa
    from accounts.mfa.models import TOTPDevice
    from accounts.mfa.tests.authenticator import SoftAuthenticator

    email = "bench-mfa@example.com"
    User.objects.with_email(email).delete()
    user = User.objects.create_user(email, password, email_verified=True)
    secret = mfa.totp_begin(user=user)["secret"]
    gate = login_gate.Client(ip="127.0.0.2")
    mfa.totp_confirm(user=user, code=pyotp.TOTP(secret).at(time.time() - 30), client=gate)
    authenticator = SoftAuthenticator(
        origin=settings.WEBAUTHN_ORIGINS[0], rp_id=settings.WEBAUTHN_RP_ID
    )
    options = mfa.passkey_registration_options(user=user)
    mfa.passkey_register(user=user, credential=authenticator.create(options), name="bench")
    client = Client(HTTP_HOST="127.0.0.1")
    timings = {"password_step_ms": [], "totp_verify_ms": [], "passkey_login_ms": []}

    def timed(name, work, status):
        start = time.perf_counter()
        response = work()
        timings[name].append((time.perf_counter() - start) * 1000)
        if response.status_code != status:
            raise SystemExit(f"{name}: answered {response.status_code}: {response.content[:200]}")
        return response

    def post(path, body):
        return client.post(path, body, content_type="application/json")

    def passkey_login():
        options = post("/api/v1/auth/passkeys/login/options/", {}).json()
        return post("/api/v1/auth/passkeys/login/", {"credential": authenticator.get(options)})

    body = {"email": email, "password": password}
    for _ in range(repeat):
        step = timed("password_step_ms", lambda: post("/api/v1/auth/token/", body), 401)
        TOTPDevice.objects.filter(user=user).update(last_used_step=None)  # one code per step
        verify = {"mfa_token": step.json()["mfa_token"], "code": pyotp.TOTP(secret).now()}
        timed("totp_verify_ms", lambda v=verify: post("/api/v1/auth/mfa/verify/", v), 200)
        timed("passkey_login_ms", passkey_login, 200)
    user.delete()
    return {name: statistics.median(values) for name, values in timings.items()}


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.tasks")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("staff")
    command.add_argument("--email", required=True)
    command.add_argument("--password", required=True)
    command = commands.add_parser("probe")
    command.add_argument("--staff-email", required=True)
    command.add_argument("--max-matches", type=int, default=20)
    command = commands.add_parser("inspect")
    command.add_argument("--token", required=True)
    command.add_argument("--urls", required=True, help="JSON object: name -> path")
    command.add_argument("--search-url", required=True)
    command = commands.add_parser("hashing")
    command.add_argument("--repeat", type=int, default=7)
    command.add_argument("--email", required=True)
    command.add_argument("--password", required=True)
    command = commands.add_parser("second-factor")
    command.add_argument("--repeat", type=int, default=7)
    command.add_argument("--email", required=True)
    command.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    if args.command == "staff":
        result = staff(args.email, args.password)
    elif args.command == "probe":
        result = probe(args.staff_email, args.max_matches)
    elif args.command == "inspect":
        result = inspect(args.token, json.loads(args.urls), args.search_url)
    elif args.command == "second-factor":
        result = second_factor(args.repeat, args.password)
    else:
        result = hashing(args.repeat, args.email, args.password)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
