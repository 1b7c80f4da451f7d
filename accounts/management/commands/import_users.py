"""`manage.py import_users FILE [--format csv|json] [--dry-run]`: upsert users by email, all or
nothing."""

import csv
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from accounts import names, policy, services
from accounts.mailboxes import MAX_INPUT_LENGTH, MIXED_SCRIPTS, normalize_mailbox
from accounts.management.commands._operator import (
    CSV_TEXT_FIELDS,
    USER_FIELDS,
    Progress,
    analyze_users,
    csv_text_in,
    users_by_email,
)
from accounts.models import MAX_PASSWORD_LENGTH, User
from accounts.passwords import hashable

COLUMNS = (*USER_FIELDS, "password")  # the export's columns, plus a password for new accounts
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
CHUNK = 1000  # rows looked up and written together
RESERVED = (
    "email is reserved: an account left it by an email change that its revert link can still undo"
)


class Command(BaseCommand):
    help = (
        "Create or update users from a CSV or JSON file, matched by email ignoring case. Only an "
        "email column is required; other columns of export_users are taken when present, and a "
        "password column sets a password. New users without one get an unusable password (they "
        "set it through a reset). Any invalid row aborts the whole import: nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with a header row, or a JSON array of objects")
        parser.add_argument(
            "--format", choices=("csv", "json"), help="default: from the file name's extension"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report; write nothing"
        )

    def handle(self, *, file, format, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        read = {"csv": _read_csv, "json": _read_json}[format or _format_of(path)]
        importer = _Importer(dry_run=dry_run, progress=Progress(self.stderr, "import_users"))
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle, transaction.atomic():
                importer.run(read(handle))
                if importer.problems:
                    transaction.set_rollback(True)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text; nothing was written.") from exc
        except IntegrityError as exc:
            raise CommandError(
                f"Another process wrote a user with an email of {path} meanwhile; nothing was "
                "written. Run the import again."
            ) from exc
        finally:
            importer.progress.close()
        if importer.problems:
            for line, message in importer.problems:
                self.stderr.write(f"{path}:{line}: {message}")
            count = len(importer.problems)
            raise CommandError(
                f"Import of {path} aborted: {count} problem{'s' if count > 1 else ''} listed "
                "above; nothing was written."
            )
        if not dry_run and importer.created + importer.updated:
            analyze_users()
        if dry_run:
            self.stdout.write(
                f"Dry run of {path}: would create {importer.created:,}, update "
                f"{importer.updated:,}, leave {importer.unchanged:,} unchanged; nothing written."
            )
        else:
            self.stdout.write(
                f"Imported {path}: {importer.created:,} created, {importer.updated:,} updated, "
                f"{importer.unchanged:,} unchanged."
            )


def _format_of(path):
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "json"):
        raise CommandError(f"Cannot tell the format of {path} from its name; pass --format.")
    return suffix


# --- Reading: (line, record) pairs, where a record is a dict or a message about that line ------


class _FileProblems(Exception):
    """Problems that stop the reading of the file (its header, its JSON syntax)."""

    def __init__(self, problems):
        super().__init__(problems)
        self.problems = problems


def _column_problems(columns, *, missing_email=True):
    problems = [f"unknown column {name!r}" for name in columns if name not in COLUMNS]
    problems += [
        f"column {n!r} appears twice" for n in sorted({c for c in columns if columns.count(c) > 1})
    ]
    if missing_email and "email" not in columns:
        problems.append("no email column")
    return problems


def _read_csv(handle):
    reader = csv.reader(handle, strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        problems = _column_problems(header)
        if problems:
            raise _FileProblems([(1, problem) for problem in problems])
        line = reader.line_num + 1
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                pass  # a blank line
            elif len(cells) != len(header):
                yield line, f"{len(cells)} values where the header has {len(header)}"
            else:
                record = dict(zip(header, cells, strict=True))
                for field in CSV_TEXT_FIELDS:
                    if field in record:
                        record[field] = csv_text_in(record[field])
                yield line, record
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _FileProblems([(reader.line_num, f"not valid CSV: {exc}")]) from exc


_JSON_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace (RFC 8259), nothing else


def _read_json(handle):
    """A JSON array of objects, each object's line being the line of its opening brace."""
    text, decoder = handle.read(), json.JSONDecoder()
    position, line = 0, 1

    def skip_space(start):
        # A match at `start`, not `text[start:].lstrip()`: that copied the rest of the file on
        # every call, and made reading quadratic in the number of rows.
        nonlocal line
        end = _JSON_SPACE.match(text, start).end()
        line += text.count("\n", start, end)
        return end

    position = skip_space(0)
    if not text.startswith("[", position):
        raise _FileProblems([(line, "not a JSON array of user objects")])
    position = skip_space(position + 1)
    first = True
    while not text.startswith("]", position):
        if not first:
            if not text.startswith(",", position):
                raise _FileProblems([(line, "not valid JSON: ',' or ']' expected")])
            position = skip_space(position + 1)
        first = False
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise _FileProblems([(exc.lineno, f"not valid JSON: {exc.msg}")]) from exc
        except RecursionError as exc:  # arrays or objects nested thousands deep
            raise _FileProblems([(line, "not valid JSON: nested too deeply")]) from exc
        if not isinstance(record, dict):
            yield line, "not a JSON object"
        elif problems := _column_problems(list(record)):
            yield from ((line, problem) for problem in problems)
        else:
            yield line, record
        line += text.count("\n", position, end)
        position = skip_space(end)
    if _JSON_SPACE.match(text, position + 1).end() != len(text):
        raise _FileProblems([(line, "unexpected content after the JSON array")])


# --- Checking one record ----------------------------------------------------------------------


def _parse(record):
    """The record's values, typed, and the list of what is wrong with it."""
    values, problems = {}, []
    for column, raw in record.items():
        try:
            value = _PARSERS[column](raw)
        except ValueError as exc:
            problems.append(f"{column}: {exc}")
        else:
            if value is not _ABSENT:
                values[column] = value
    return values, problems


_ABSENT = object()


def _text(raw, *, max_length):
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not text")
    if len(raw) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    # What the API's and the admin's fields refuse too: a database cannot store them (PostgreSQL
    # raised on a NUL, both on a lone surrogate), nor can a password with one be hashed.
    if "\x00" in raw:
        raise ValueError("contains a NUL character")
    if not hashable(raw):  # a lone surrogate: UTF-8 (the database, the hasher) cannot hold it
        raise ValueError("contains a lone surrogate")
    return raw


def _name(value):
    if why := names.problem(value):
        raise ValueError(why)
    return value


def _email(raw):
    """The mailbox the cell names (accounts.mailboxes): two spellings of one are one user."""
    email = _text(raw, max_length=MAX_INPUT_LENGTH).strip()
    try:
        return normalize_mailbox(email)
    except ValidationError as exc:
        if exc.code == MIXED_SCRIPTS:
            raise ValueError(f"{email!r} is refused: {' '.join(exc.messages)}") from None
        raise ValueError(f"{email!r} is not a valid email address") from None


def _id(raw):
    if raw in (None, ""):
        return _ABSENT
    try:
        return uuid.UUID(_text(raw, max_length=64))
    except ValueError:
        raise ValueError(f"{raw!r} is not a UUID") from None


def _boolean(raw):
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in BOOLEANS:
        return BOOLEANS[raw.strip().lower()]
    raise ValueError(f"{raw!r} is not true or false")


def _moment(raw, *, blank=_ABSENT):
    if raw in (None, ""):
        if blank is _ABSENT:
            raise ValueError("a date and time is required")
        return blank
    try:
        moment = datetime.fromisoformat(_text(raw, max_length=64).strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not an ISO 8601 date and time") from None
    if not moment.tzinfo:
        return moment.replace(tzinfo=UTC)
    try:  # stored in UTC: the offset must keep it within years 1 to 9999
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{raw!r} is out of range (years 1 to 9999 in UTC)") from None


def _password(raw):
    if raw in (None, ""):
        return _ABSENT
    return _text(raw, max_length=MAX_PASSWORD_LENGTH)


_PARSERS = {
    "id": _id,
    "email": _email,
    "first_name": lambda raw: _name(_text(raw, max_length=150)),
    "last_name": lambda raw: _name(_text(raw, max_length=150)),
    "email_verified": _boolean,
    "is_active": _boolean,
    "is_staff": _boolean,
    "date_joined": _moment,
    "last_login": lambda raw: _moment(raw, blank=None),
    "password": _password,
}


# --- Importing --------------------------------------------------------------------------------


class _Importer:
    """Checks every record; writes chunk by chunk while no problem has been found."""

    def __init__(self, *, dry_run, progress):
        self.dry_run, self.progress = dry_run, progress
        self.created = self.updated = self.unchanged = 0
        self.problems = []
        self.email_lines, self.id_lines = {}, {}
        self.pending = []

    def run(self, records):
        try:
            for line, record in records:
                self._check(line, record)
                if len(self.pending) >= CHUNK:
                    self._flush()
        except _FileProblems as exc:
            self.problems.extend(exc.problems)
        self._flush()

    def _check(self, line, record):
        if isinstance(record, str):
            self.problems.append((line, record))
            return
        values, problems = _parse(record)
        email = values.get("email", "").lower()
        if email in self.email_lines:
            problems.append(f"email duplicates line {self.email_lines[email]} (same mailbox)")
        elif email:
            self.email_lines[email] = line
        if values.get("id") in self.id_lines:
            problems.append(f"id duplicates line {self.id_lines[values['id']]}")
        elif "id" in values:
            self.id_lines[values["id"]] = line
        self.problems.extend((line, problem) for problem in problems)
        if not problems:
            self.pending.append((line, values))

    def _flush(self):
        rows, self.pending = self.pending, []
        if not rows:
            return
        existing = users_by_email(values["email"].lower() for _, values in rows)
        new_ids = [v["id"] for _, v in rows if "id" in v and v["email"].lower() not in existing]
        taken_ids = set(User.objects.filter(pk__in=new_ids).values_list("pk", flat=True))
        reserved = services.reserved_addresses(
            v["email"] for _, v in rows if v["email"].lower() not in existing
        )
        to_create, to_update = [], []
        for line, values in rows:
            user = existing.get(values["email"].lower())
            if user is None and values.get("id") in taken_ids:
                self.problems.append((line, f"id {values['id']} belongs to another user"))
                continue
            if user is None and values["email"] in reserved:
                self.problems.append((line, RESERVED))
                continue
            try:
                if user is None:
                    to_create.append(self._new_user(values))
                elif changed := self._changes(user, values):
                    to_update.append((user, set(changed)))
                else:
                    self.unchanged += 1
            except ValidationError as exc:
                self.problems.extend((line, f"password: {message}") for message in exc.messages)
        self.created += len(to_create)
        self.updated += len(to_update)
        self.progress.advance(len(rows))
        if self.problems or self.dry_run:
            return
        # The operator's import goes through the policy like every other change of a user.
        services.users_import(actor=policy.OPERATOR, created=to_create, updated=to_update)

    def _new_user(self, values):
        password = values.pop("password", None)
        user = User(**values)
        if password is None:
            user.set_unusable_password()
        else:
            validate_password(password, user=user)
            if not self.dry_run:
                user.set_password(password)
        return user

    @staticmethod
    def _changes(user, values):
        """Set the values that differ on `user` (not saved); return the names of those fields."""
        changed = []
        for field, value in values.items():
            if field == "id":
                continue  # the email is the key; an existing user keeps its id
            if field == "password":
                if not check_password(value, user.password):
                    validate_password(value, user=user)
                    user.set_password(value)
                    changed.append("password")
            elif getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        return changed
