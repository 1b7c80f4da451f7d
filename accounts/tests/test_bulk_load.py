"""Bulk loads: fresh planner statistics afterwards, mailboxes in imports, JSON read in one pass."""

import json

import pytest
from django.db import connection
from django.utils import timezone

from accounts.management.commands import import_users
from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.test_commands import run, run_failing

pytestmark = pytest.mark.django_db


def statistics_of_users():
    """What the planner knows of accounts_user: (rows it believes, when it last learnt it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.reltuples::bigint, s.last_analyze FROM pg_class c "
                "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'accounts_user'"
            )
            return cursor.fetchone()
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone()[0]:
            return None, None
        # One row per index, its first number the rows it covers: the full ones cover the table.
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'accounts_user'")
        stats = [int(stat.split()[0]) for (stat,) in cursor.fetchall()]
        return (max(stats), "analyzed") if stats else (None, None)


def assert_analyzed_since(started, rows):
    believed, when = statistics_of_users()
    assert believed == rows
    if connection.vendor == "postgresql":
        assert when is not None and when >= started
    else:
        assert when == "analyzed"


def test_seed_users_leaves_the_planner_statistics_fresh():
    started = timezone.now()

    run("seed_users", "--count", "120", "--batch-size", "50")

    assert_analyzed_since(started, 120)


def test_import_users_leaves_the_planner_statistics_fresh(tmp_path):
    UserFactory.create_batch(3)
    path = tmp_path / "u.json"
    path.write_text(json.dumps([{"email": f"bulk{i}@example.com"} for i in range(40)]))
    started = timezone.now()

    run("import_users", str(path))

    assert_analyzed_since(started, 43)


def test_a_dry_run_import_changes_no_statistics(tmp_path):
    path = tmp_path / "u.json"
    path.write_text(json.dumps([{"email": "dry@example.com"}]))
    before = statistics_of_users()

    run("import_users", str(path), "--dry-run")

    assert statistics_of_users() == before


def test_import_matches_existing_users_by_mailbox_and_refuses_two_spellings_of_one(tmp_path):
    existing = UserFactory(email="victim@strasse.example", first_name="Old")
    update = tmp_path / "update.csv"
    update.write_text("email,first_name\nVICTIM@stra\u00dfe.example,New\n")
    twice = tmp_path / "twice.csv"
    twice.write_text("email\nnew@\uff45xample.com\nNEW@example.com\nx@p\u0430ypal.com\n")

    run("import_users", str(update))
    message, errors = run_failing("import_users", str(twice))

    existing.refresh_from_db()
    assert existing.first_name == "New" and User.objects.count() == 1
    assert "twice.csv:3: email duplicates line 2 (same mailbox)" in errors
    assert "twice.csv:4: email: 'x@p\u0430ypal.com' is refused" in errors
    assert "nothing was written" in message


def test_the_json_reader_takes_linear_time(tmp_path):
    # Not a timing assert: a count of the work. The old reader copied the rest of the file for
    # every object (text[start:]), so the characters it touched grew with the square of the rows.
    rows = [{"email": f"user.{i}@example.com", "first_name": "Ada"} for i in range(4000)]
    path = tmp_path / "u.json"
    path.write_text(json.dumps(rows, indent=2))
    touched = []
    original = import_users._JSON_SPACE

    class Counting:
        def match(self, text, position):
            found = original.match(text, position)
            touched.append(found.end() - position)
            return found

    import_users._JSON_SPACE = Counting()
    try:
        with path.open() as handle:
            records = [record for _, record in import_users._read_json(handle)]
    finally:
        import_users._JSON_SPACE = original

    assert records == rows
    assert sum(touched) < path.stat().st_size  # only whitespace is scanned, each space once
