"""The security event log at scale, on PostgreSQL: listing stays flat from 10k to 10M events, and
what recording an event adds to a login.

    .venv/bin/python bench/events.py                         # 10k, 100k, 1M, 10M events
    .venv/bin/python bench/events.py --sizes 10000,100000    # quicker
    .venv/bin/python bench/events.py --smoke                 # 2,000 events: proves it works

One database `<name>_events` (DATABASE_URL's name, or roster_bench), migrated, then grown to each
size with one INSERT ... SELECT generate_series (events spread over 10,000 users, every type) and
ANALYZEd. At each size, in-process through Django's test client (no server, no network): the
median of `--repeat` requests of a user's first page (`audit/events/?user=`), a deep cursor page of
that user, the first page of one type, and `users/me/events/`. Then the cost of `record()` (one
INSERT in the login's transaction) beside a password login with the production Argon2 hasher.
Prints one Markdown table; writes it to bench/results/events-<timestamp>.md.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
USERS = 10_000


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/events.py", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/roster_bench"),
    )
    args = parser.parse_args(argv)
    args.sizes = [2_000] if args.smoke else [int(s) for s in args.sizes.split(",")]
    if args.smoke:
        args.repeat = 20
    return args


def setup_django(url):
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "roster_bench"
    url = urlunsplit(parts._replace(path=f"/{name}_events"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=url,
        DEBUG="False",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="False",
        LOG_LEVEL="ERROR",
        THROTTLE_RATES="anon=1000000000/1s,user=1000000000/1s,login=1000000000/1s",
    )
    import psycopg2

    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}_events"')
        cursor.execute(f'CREATE DATABASE "{name}_events"')
    admin.close()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def grow(to_size):
    """Insert events until the table holds `to_size`, spread over USERS users and every type."""
    from django.db import connection

    from accounts.audit.models import EventType

    types = [t.value for t in EventType]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_securityevent")
        have = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO audit_securityevent
                (type, at, user_id, actor_id, ip_address, user_agent, request_id, data)
            SELECT (%s::text[])[1 + n %% %s],
                   now() - (%s - n) * interval '1 second',
                   md5((n %% %s)::text)::uuid, NULL, '203.0.113.7', 'Firefox/140 on Linux',
                   md5(n::text), '{"method": "password", "purpose": "login"}'::jsonb
            FROM generate_series(%s, %s) AS n
            """,
            [types, len(types), to_size, USERS, have + 1, to_size],
        )
        cursor.execute("ANALYZE audit_securityevent")


def median_ms(call, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_lists(repeat):
    import uuid

    from rest_framework.test import APIClient

    from accounts.models import User

    staff = User.objects.filter(email="bench-staff@example.com").first() or (
        User.objects.create_user("bench-staff@example.com", is_staff=True)
    )
    subject = str(uuid.UUID(__import__("hashlib").md5(b"42").hexdigest()))
    client = APIClient()
    client.force_authenticate(staff)
    first = client.get("/api/v1/audit/events/", {"user": subject})
    assert first.status_code == 200, first.content
    deep = first
    for _ in range(5):  # five pages in: a cursor past 250 of the user's events
        if deep.json()["next"]:
            deep = client.get(deep.json()["next"])
    deep_url = deep.wsgi_request.get_full_path()
    me = APIClient()
    me.force_authenticate(User(id=subject, is_active=True))

    def ok(response):
        assert response.status_code == 200, response.content
        return response

    return {
        "user's first page": median_ms(
            lambda: ok(client.get("/api/v1/audit/events/", {"user": subject})), repeat
        ),
        "user's 6th page (cursor)": median_ms(lambda: ok(client.get(deep_url)), repeat),
        "one type's first page": median_ms(
            lambda: ok(client.get("/api/v1/audit/events/", {"type": "login_failed"})), repeat
        ),
        "users/me/events/": median_ms(lambda: ok(me.get("/api/v1/users/me/events/")), repeat),
    }


def measure_recording(repeat):
    """record() alone (one INSERT, in its transaction) beside a password login with Argon2."""
    from django.db import transaction

    from accounts import login_gate, services
    from accounts.audit.events import record
    from accounts.models import User

    password = "a-Long-enough-bench-passw0rd"  # noqa: S105 - the bench's own throwaway user
    user = User.objects.filter(email="bench-login@example.com").first()
    if user is None:
        user = User.objects.create_user("bench-login@example.com", password=password)
    client = login_gate.Client(ip="203.0.113.9", user_agent="bench")

    def one_record():
        with transaction.atomic():
            record("login_succeeded", user=user, client=client, data={"method": "password"})

    def one_login():
        services.login(email=user.email, password=password, client=client)

    return median_ms(one_record, repeat), median_ms(one_login, max(10, repeat // 10))


def main(argv=None):
    args = parse_args(argv)
    setup_django(args.database_url)
    rows = []
    for size in args.sizes:
        started = time.monotonic()
        grow(size)
        print(f"seeded {size:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr)
        rows.append((size, measure_lists(args.repeat)))
    record_ms, login_ms = measure_recording(args.repeat)
    names = list(rows[0][1])
    lines = [
        "| events | " + " | ".join(names) + " |",
        "|---:|" + "---:|" * len(names),
        *(
            f"| {size:,} | " + " | ".join(f"{r[n]:.2f} ms" for n in names) + " |"
            for size, r in rows
        ),
        "",
        f"record() one event: {record_ms:.2f} ms median; a password login (Argon2, "
        f"recording its event): {login_ms:.1f} ms median; the event is "
        f"{100 * record_ms / login_ms:.1f}% of the login.",
    ]
    text = "\n".join(lines)
    print(text)
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"events-{datetime.now():%Y%m%d-%H%M%S}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
