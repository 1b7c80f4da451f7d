"""What background work costs: the enqueue a request pays, and the mails a worker sends per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/roster_bench_background \\
        .venv/bin/python bench/background.py [--enqueues 2000] [--mails 500]

Uses (and migrates) the database DATABASE_URL names, a scratch one: it deletes every task row.
Mail goes to aiosmtpd on loopback (the test suite's server), through Django's SMTP backend, sent by
the library's worker exactly as `manage.py db_worker` runs it. Prints one Markdown table.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ["TASKS_IN_PROCESS"] = "False"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tasks_db.management.commands.db_worker import Worker  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from accounts import emails  # noqa: E402
from accounts.background.tests.smtp import MailServer  # noqa: E402
from accounts.models import User  # noqa: E402


def per_call_us(function, count):
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings), statistics.quantiles(timings, n=100)[98]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enqueues", type=int, default=2000)
    parser.add_argument("--mails", type=int, default=500)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    DBTaskResult.objects.all().delete()
    user, _ = User.objects.get_or_create(email="bench-mail@example.com")

    def empty():
        with transaction.atomic():
            user.save(update_fields=["last_login"])

    def with_task():
        with transaction.atomic():
            user.save(update_fields=["last_login"])
            emails.send_password_reset_to_address("nobody@example.com")

    base = per_call_us(empty, args.enqueues)
    queued = per_call_us(with_task, args.enqueues)
    DBTaskResult.objects.all().delete()

    smtp = MailServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    for _ in range(args.mails):
        emails.send_notice(user, "password_changed", {})
    worker = Worker(
        queue_names=["default"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="bench", excluded_queue_names=[],
    )  # fmt: skip
    started = time.perf_counter()
    worker.run()
    elapsed = time.perf_counter() - started
    smtp.stop()
    assert len(smtp.messages) == args.mails, (len(smtp.messages), args.mails)
    DBTaskResult.objects.all().delete()

    print(
        f"Background work on {connection.vendor}, {args.enqueues} transactions, {args.mails} mails"
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| transaction, no task (p50 / p99) | {base[0]:.0f} µs / {base[1]:.0f} µs |")
    print(f"| same + one queued task (p50 / p99) | {queued[0]:.0f} µs / {queued[1]:.0f} µs |")
    print(f"| enqueue cost added (p50) | {queued[0] - base[0]:.0f} µs |")
    print(f"| mails sent by one worker | {args.mails / elapsed:.0f} mails/s |")


if __name__ == "__main__":
    main()
