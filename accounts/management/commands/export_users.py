"""`manage.py export_users --format csv|json [--output FILE]`: every user, streamed."""

import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._operator import (
    CSV_TEXT_FIELDS,
    USER_FIELDS,
    Progress,
    csv_text_out,
)
from accounts.models import User

CHUNK = 2000  # rows fetched per round trip (a server-side cursor on PostgreSQL)


class Command(BaseCommand):
    help = (
        "Write every user, with the fields of the API's user shape (never a password hash), as "
        "CSV or JSON, to stdout or --output (created readable by its owner only: it holds "
        "personal data). Rows are streamed: memory stays flat at any size."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format", choices=("csv", "json"), default="csv", help="csv (default)"
        )
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, *, format, output, **options):
        users = User.objects.order_by("date_joined", "id").values_list(*USER_FIELDS)
        progress = Progress(self.stderr, "export_users")
        if progress.enabled:
            progress.total = User.objects.count()
        write = {"csv": _write_csv, "json": _write_json}[format]
        if output is None:
            rows = users.iterator(chunk_size=CHUNK)
            try:
                count = write(_Text(self.stdout), rows, progress)
            except BrokenPipeError:
                rows.close()
                # The reader left (`export_users | head`): stop quietly, as Unix tools do.
                # Point stdout at /dev/null so the final flush at exit cannot fail again.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise SystemExit(1) from None
        else:
            count = _write_file(Path(output), write, users.iterator(chunk_size=CHUNK), progress)
        progress.close()
        # The data may be on stdout: the summary goes where it cannot corrupt it.
        summary = self.stdout if output else self.stderr
        summary.write(f"Exported {count:,} users as {format} to {output or 'stdout'}.")


class _Text:
    """Django's stdout wrapper as a plain text stream (no line ending added to each write)."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text):
        self.wrapper.write(text, ending="")


def _write_file(path, write, rows, progress):
    """Write next to the target, then rename: a failed export never leaves half a file."""
    path = path.resolve()  # through a symlink: its target is replaced, not the link
    if path.exists() and not path.is_file():
        # Renaming over a device, a FIFO or a directory would replace it (as root, /dev/full).
        raise CommandError(f"Cannot write {path}: not a regular file (stdout is the default).")
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed or removed below
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent,
            prefix=f".{path.name}.",
            delete=False,
        )
    except OSError as exc:
        raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
    try:
        with handle:
            count = write(handle, rows, progress)
        os.replace(handle.name, path)
    except BaseException as exc:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # the target is a directory, the disk is full...
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
        raise
    return count


def _values(row):
    """One user as JSON-ready values, formatted as the API formats them."""
    user = dict(zip(USER_FIELDS, row, strict=True))
    user["id"] = str(user["id"])
    for field in ("date_joined", "last_login"):
        if user[field] is not None:
            user[field] = user[field].isoformat().replace("+00:00", "Z")
    return user


class _Rows:
    """CSV rows ending in "\n" whose cells are quoted for "\r" too.

    Python's writer (before 3.13) quotes a cell only for the characters of its line terminator:
    with "\n" a bare "\r" in a name went out unquoted and ended the row for every reader (the
    import, a spreadsheet). A writer ending rows in "\r\n" quotes for both; each row's ending
    is then written as "\n", so every other row is byte-for-byte what it was."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def writerow(self, cells):
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(cells)
        self.stream.write(self.buffer.getvalue()[:-2] + "\n")


def _write_csv(stream, rows, progress):
    writer = _Rows(stream)
    writer.writerow(USER_FIELDS)
    count = 0
    for row in rows:
        user = _values(row)
        for field in CSV_TEXT_FIELDS:
            user[field] = csv_text_out(user[field])
        writer.writerow(_csv_cell(user[field]) for field in USER_FIELDS)
        count += 1
        if count % CHUNK == 0:
            progress.advance(CHUNK)
    return count


def _csv_cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _write_json(stream, rows, progress):
    """A JSON array with one user per line, written as the rows arrive."""
    count = 0
    stream.write("[")
    for row in rows:
        stream.write(",\n" if count else "\n")
        stream.write(json.dumps(_values(row), ensure_ascii=False))
        count += 1
        if count % CHUNK == 0:
            progress.advance(CHUNK)
    stream.write("\n]\n" if count else "]\n")
    return count
