"""The operator's commands: seed_users, export_users, import_users."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import USER_FIELDS, User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD
from users_api.serializers import UserSerializer

pytestmark = pytest.mark.django_db


def run(*args):
    """Run a command; return (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args):
    """Run a command expected to fail; return (the CommandError's message, stderr)."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(*args, stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def export(tmp_path, fmt="csv"):
    target = tmp_path / f"users.{fmt}"
    run("export_users", "--format", fmt, "--output", str(target))
    return target


def api_shape():
    users = User.objects.order_by("date_joined", "id")
    return [dict(UserSerializer(user).data) for user in users]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- seed_users -------------------------------------------------------------------------------


def test_seed_users_creates_named_users_with_unique_emails_and_one_password():
    out, _ = run("seed_users", "--count", "25", "--password", PASSWORD, "--batch-size", "10")
    out_again, _ = run("seed_users", "--count", "25")

    assert out.startswith("Created 25 users in ") and out_again.startswith("Created 25 users")
    users = list(User.objects.all())
    assert len(users) == 50
    assert len({user.email.lower() for user in users}) == 50
    assert all(user.first_name and user.last_name for user in users)
    assert all(user.email.endswith((".com", ".org", ".net")) for user in users)
    first_run = [user for user in users if user.has_usable_password()]
    assert len(first_run) == 25
    assert len({user.password for user in first_run}) == 1
    assert first_run[0].check_password(PASSWORD)


def test_seed_users_refuses_a_count_below_one():
    message, _ = run_failing("seed_users", "--count", "0")

    assert "--count" in message and "0 is not at least 1" in message
    assert not User.objects.exists()


def test_seed_users_shows_progress_on_a_terminal_only():
    import pty

    main, secondary = pty.openpty()
    with os.fdopen(secondary, "w") as terminal:
        call_command("seed_users", "--count", "3", "--batch-size", "1", stderr=terminal)
    shown = os.read(main, 10_000).decode()
    os.close(main)
    _, piped = run("seed_users", "--count", "3", "--batch-size", "1")

    assert "seed_users: " in shown and "/ 3" in shown
    assert piped == ""


def test_bad_argument_exits_2_with_usage_from_the_command_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_users", "--count", "many"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("usage: manage.py seed_users")
    assert "argument --count: 'many' is not a whole number" in result.stderr
    assert "Traceback" not in result.stderr


# --- export_users -----------------------------------------------------------------------------


def test_export_json_to_stdout_is_the_api_user_shape(user, staff):
    user.last_login = user.date_joined
    user.save()

    out, err = run("export_users", "--format", "json")

    assert json.loads(out) == api_shape()
    assert err.strip() == "Exported 2 users as json to stdout."
    assert "password" not in out and user.password not in out


def test_export_csv_to_a_file_has_every_user_and_no_hash(tmp_path, user, staff):
    target = tmp_path / "users.csv"

    out, _ = run("export_users", "--output", str(target))

    assert out.strip() == f"Exported 2 users as csv to {target}."
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert list(rows[0]) == list(USER_FIELDS)
    assert [row["email"] for row in rows] == [u["email"] for u in api_shape()]
    assert rows[0]["is_active"] == "true" and rows[0]["last_login"] == ""
    assert user.password not in target.read_text()
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    assert target.stat().st_mode & 0o777 == 0o600  # personal data: readable by its owner only


def test_export_of_an_empty_table_is_valid():
    out, _ = run("export_users", "--format", "json")

    assert json.loads(out) == []


def test_export_refuses_an_unknown_format_and_an_unwritable_output(tmp_path):
    message, _ = run_failing("export_users", "--format", "xml")
    assert "argument --format: invalid choice: 'xml'" in message

    message, _ = run_failing("export_users", "--output", str(tmp_path / "missing" / "u.csv"))
    assert message.startswith("Cannot write ")


# --- import_users -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_export_then_import_into_an_empty_table_gives_the_same_users(tmp_path, fmt):
    UserFactory(email="ann@example.com", first_name='Ann, "Jr"', email_verified=True)
    UserFactory(email="bob@example.com", is_active=False, is_staff=True, last_name="Ünal")
    UserFactory(email="cy@example.com", first_name="", last_login="2024-01-02T03:04:05.678901Z")
    before = api_shape()
    target = export(tmp_path, fmt)
    User.objects.all().delete()

    out, _ = run("import_users", str(target))

    assert out.strip() == f"Imported {target}: 3 created, 0 updated, 0 unchanged."
    assert api_shape() == before
    assert not any(user.has_usable_password() for user in User.objects.all())


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_importing_the_same_file_twice_changes_nothing_the_second_time(tmp_path, fmt):
    path = write(tmp_path, "new.csv", "email,first_name,is_staff\nNew@Example.com,Neo,true\n")
    if fmt == "json":
        path = write(tmp_path, "new.json", '[{"email": "New@Example.com", "first_name": "Neo"}]')
    run("import_users", str(path))
    before = api_shape()
    password_before = User.objects.get().password

    out, _ = run("import_users", str(path))

    assert out.strip() == f"Imported {path}: 0 created, 0 updated, 1 unchanged."
    assert api_shape() == before
    assert User.objects.get().password == password_before


def test_import_updates_an_existing_user_found_by_email_ignoring_case(tmp_path, user):
    path = write(tmp_path, "u.csv", f"email,last_name\n{user.email.upper()},Renamed\n")

    out, _ = run("import_users", str(path))

    assert "0 created, 1 updated" in out
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.last_name == "Renamed"
    assert user.check_password(PASSWORD)  # no password column: the password is kept


def test_import_with_only_emails_gives_new_users_an_unusable_password(tmp_path):
    path = write(tmp_path, "u.csv", "email\nfirst@example.com\nsecond@example.com\n")

    run("import_users", str(path))

    users = User.objects.order_by("email")
    assert [u.email for u in users] == ["first@example.com", "second@example.com"]
    assert all(u.is_active and not u.email_verified for u in users)
    assert not any(u.has_usable_password() for u in users)


def test_import_sets_a_password_from_a_password_column(tmp_path):
    path = write(tmp_path, "u.csv", f"email,password\npw@example.com,{PASSWORD}\n")

    run("import_users", str(path))

    assert User.objects.get().check_password(PASSWORD)


def test_import_deactivating_a_user_revokes_their_tokens(tmp_path, user, api_client):
    refresh = RefreshToken.for_user(user)
    path = write(tmp_path, "u.csv", f"email,is_active\n{user.email},false\n")

    run("import_users", str(path))

    user.refresh_from_db()
    assert not user.is_active
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": str(refresh)})
    assert response.status_code == 401


def test_import_setting_a_new_password_ends_every_session_and_is_recorded(tmp_path, user):
    """Like staff setting it in the admin: an operator who replaces a (perhaps leaked) password
    leaves no session listed, no login waiting for its second factor, and an event."""
    from accounts.audit.models import SecurityEvent
    from accounts.mfa.models import PendingLogin
    from accounts.mfa.services import pending_login_start
    from accounts.usersessions.models import UserSession
    from conftest import bearer_client

    signed_in = bearer_client(user)
    pending_login_start(user=user)  # a thief's correct password, waiting for a second factor
    path = write(tmp_path, "u.csv", f"email,password\n{user.email},another-Long-passw0rd\n")

    run("import_users", str(path))

    assert signed_in.get("/api/v1/users/me/").status_code == 401
    assert not UserSession.objects.filter(user=user, ended_at__isnull=True).exists()
    assert not PendingLogin.objects.filter(user=user).exists()
    event = SecurityEvent.objects.get(user_id=user.pk, type="password_set")
    assert (event.actor_id, event.data) == (None, {"actor": "operator", "usable": True})


def test_an_invalid_row_aborts_the_whole_import_naming_each_line(tmp_path, user):
    path = write(
        tmp_path,
        "u.csv",
        "email,first_name,is_staff\n"
        f"{user.email},Changed,false\n"
        "fine@example.com,Fine,false\n"
        "not-an-email,X,false\n"
        "FINE@example.com,Again,false\n"
        "ok@example.com,Ok,perhaps\n"
        f"weak@example.com,Weak,false\n",
    )
    path_with_password = write(tmp_path, "p.csv", "email,password\nweak@example.com,short\n")

    message, err = run_failing("import_users", str(path))

    assert message == f"Import of {path} aborted: 3 problems listed above; nothing was written."
    assert err.splitlines() == [
        f"{path}:4: email: 'not-an-email' is not a valid email address",
        f"{path}:5: email duplicates line 3 (same mailbox)",
        f"{path}:6: is_staff: 'perhaps' is not true or false",
    ]
    assert list(User.objects.all()) == [user]
    user.refresh_from_db()
    assert user.first_name != "Changed"

    _, err = run_failing("import_users", str(path_with_password))
    assert err.startswith(f"{path_with_password}:2: password: This password is too short.")
    assert not User.objects.with_email("weak@example.com").exists()


def test_an_unknown_column_aborts_the_import(tmp_path):
    path = write(tmp_path, "u.csv", "email,nickname,password_hash\na@example.com,A,x\n")

    message, err = run_failing("import_users", str(path))

    assert err.splitlines() == [
        f"{path}:1: unknown column 'nickname'",
        f"{path}:1: unknown column 'password_hash'",
    ]
    assert "aborted: 2 problems" in message
    assert not User.objects.exists()


def test_json_problems_name_the_line_of_the_object(tmp_path):
    text = '[\n  {"email": "a@example.com"},\n  {\n    "email": "b@",\n    "is_staff": 1\n  }\n]\n'
    path = write(tmp_path, "u.json", text)

    _, err = run_failing("import_users", str(path))

    assert err.splitlines() == [
        f"{path}:3: email: 'b@' is not a valid email address",
        f"{path}:3: is_staff: 1 is not true or false",
    ]
    assert not User.objects.exists()


def test_a_problem_after_the_first_chunk_still_writes_nothing(tmp_path):
    rows = "".join(f"user{n}@example.com\n" for n in range(1500))
    path = write(tmp_path, "u.csv", f"email\n{rows}broken\n")

    _, err = run_failing("import_users", str(path))

    assert err.strip() == f"{path}:1502: email: 'broken' is not a valid email address"
    assert not User.objects.exists()


def test_dry_run_reports_without_writing(tmp_path, user):
    path = write(tmp_path, "u.csv", f"email,last_name\n{user.email},New\nnew@example.com,N\n")

    out, _ = run("import_users", str(path), "--dry-run")

    assert out.strip() == (
        f"Dry run of {path}: would create 1, update 1, leave 0 unchanged; nothing written."
    )
    assert list(User.objects.all()) == [user]
    user.refresh_from_db()
    assert user.last_name != "New"


def test_dry_run_still_finds_the_problems(tmp_path):
    path = write(tmp_path, "u.csv", "email\nnope\n")

    _, err = run_failing("import_users", str(path), "--dry-run")

    assert err.strip() == f"{path}:2: email: 'nope' is not a valid email address"


def test_import_refuses_bad_arguments(tmp_path):
    message, _ = run_failing("import_users")
    assert "the following arguments are required: file" in message

    message, _ = run_failing("import_users", str(tmp_path / "absent.csv"))
    assert message == f"No file at {tmp_path / 'absent.csv'}."

    message, _ = run_failing("import_users", str(write(tmp_path, "users.txt", "email\n")))
    assert message.endswith("from its name; pass --format.")

    message, _ = run_failing("import_users", "--format", "yaml", "x")
    assert "argument --format: invalid choice: 'yaml'" in message


# --- changepassword -----------------------------------------------------------------------------


def test_changepassword_goes_through_the_service_as_the_operator(monkeypatch, user):
    """Django's own command saved the row directly: no event, sessions listed open, a thief's
    login waiting for its second factor still alive. Roster's asks the policy and the service."""
    from accounts.audit.models import SecurityEvent
    from accounts.mfa.models import PendingLogin
    from accounts.mfa.services import pending_login_start
    from accounts.usersessions.models import UserSession
    from conftest import bearer_client

    signed_in = bearer_client(user)
    pending_login_start(user=user)
    new = "another-Long-passw0rd"
    monkeypatch.setattr("getpass.getpass", lambda prompt="": new)

    out, _ = run("changepassword", user.email.upper())

    assert f"Password changed successfully for user '{user.email}'" in out
    assert User.objects.get(pk=user.pk).check_password(new)
    assert signed_in.get("/api/v1/users/me/").status_code == 401
    assert not UserSession.objects.filter(user=user, ended_at__isnull=True).exists()
    assert not PendingLogin.objects.filter(user=user).exists()
    event = SecurityEvent.objects.get(user_id=user.pk, type="password_set")
    assert event.data == {"actor": "operator", "usable": True}


def test_changepassword_refuses_an_unknown_user_and_a_weak_password(monkeypatch, user):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "short")

    assert run_failing("changepassword", "nobody@example.com")[0] == (
        "user 'nobody@example.com' does not exist"
    )
    message, err = run_failing("changepassword", user.email)
    assert "This password is too short" in err
    assert message.startswith("Aborting password change")
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    __import__("django.db").db.connection.vendor != "postgresql",
    reason="row locks are PostgreSQL's",
)
def test_an_import_does_not_undo_a_deactivation_made_while_it_ran(tmp_path):
    """The import wrote every changed column of a chunk for every updated row, from the rows it
    had read: a renamed user got back the `is_active` they had before staff deactivated them
    meanwhile (the event said deactivated; the row said active)."""
    import threading
    import time

    from django.db import connection, transaction

    from accounts import services

    renamed, other = UserFactory(), UserFactory()
    boss = UserFactory(is_staff=True, is_superuser=True)
    rows = [
        {"email": renamed.email, "last_name": "Renamed"},
        {"email": other.email, "is_active": False},
    ]
    path = write(tmp_path, "u.json", json.dumps(rows))
    staff_holds_the_row, done = threading.Event(), {}

    def staff_deactivates():
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=renamed.pk)
                staff_holds_the_row.set()
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not _someone_waits_for_a_lock():
                    time.sleep(0.02)
                services.user_deactivate(actor=boss, user=User.objects.get(pk=renamed.pk))
            done["staff"] = True
        finally:
            connection.close()

    staff = threading.Thread(target=staff_deactivates)
    staff.start()
    staff_holds_the_row.wait(5)
    run("import_users", str(path))
    staff.join(10)

    row = User.objects.get(pk=renamed.pk)
    assert done == {"staff": True}
    assert (row.last_name, row.is_active) == ("Renamed", False)


def _someone_waits_for_a_lock():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0
