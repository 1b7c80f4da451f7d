"""What the user commands share: a terminal-only progress line, argument types, the user shape.

The leading underscore keeps Django from taking this module for a command.
"""

import argparse
import time

from django.db import connections
from django.db.models.functions import Lower

from accounts.models import USER_FIELDS, User

__all__ = [
    "CSV_TEXT_FIELDS",
    "USER_FIELDS",
    "Progress",
    "analyze_users",
    "batch_size",
    "csv_text_in",
    "csv_text_out",
    "positive_int",
    "users_by_email",
]

MAX_BATCH_SIZE = 100_000  # rows a command builds in memory at once
LOOKUP_CHUNK = 2000  # emails per `IN (...)`: under SQLite's limit on query parameters


# The columns a user types (registration, profile): in a CSV cell they must never read as a formula.
CSV_TEXT_FIELDS = ("email", "first_name", "last_name")
# What makes a spreadsheet take a cell for a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text_out(text):
    """`text` as `export_users` writes it in a CSV cell: a value that would start a formula
    (after any leading apostrophes) gets one more apostrophe in front, which a spreadsheet
    shows as text. `csv_text_in` takes exactly that one away again."""
    return "'" + text if text.lstrip("'").startswith(_FORMULA_START) else text


def csv_text_in(text):
    """A CSV cell of `import_users` as the value `csv_text_out` was given."""
    if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_START):
        return text[1:]
    return text


def positive_int(text):
    """argparse type: a whole number of at least 1 (a bad one is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def batch_size(text):
    """argparse type: rows held in memory at once, 1 to MAX_BATCH_SIZE."""
    value = positive_int(text)
    if value > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"{value} is not at most {MAX_BATCH_SIZE}")
    return value


class Progress:
    """A carriage-return progress line on a terminal; nothing at all when the stream is piped."""

    interval = 0.2  # seconds between redraws: a million rows must not mean a million writes

    def __init__(self, stream, label, total=None):
        self.stream, self.label, self.total = stream, label, total
        self.enabled = stream.isatty()
        self.done = 0
        self._drawn_at = 0.0
        self._width = 0

    def advance(self, count):
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self._drawn_at >= self.interval:
            self._drawn_at = now
            self._draw()

    def close(self):
        """Erase the line so the summary that follows starts clean."""
        if self.enabled:
            self.stream.write("\r" + " " * self._width + "\r", ending="")
            self.stream.flush()

    def _draw(self):
        line = f"{self.label}: {self.done:,}"
        if self.total:
            line += f" / {self.total:,} ({100 * self.done // self.total}%)"
        self._width = max(self._width, len(line))
        self.stream.write("\r" + line.ljust(self._width), ending="")
        self.stream.flush()


def users_by_email(emails, *, only=None):
    """The existing users whose email is one of `emails` (lowercase), keyed by lowercase email.

    Looked up through the unique index on lower(email), a chunk of emails per query.
    """
    emails = list(emails)
    found = {}
    for start in range(0, len(emails), LOOKUP_CHUNK):
        users = User.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=emails[start : start + LOOKUP_CHUNK]
        )
        if only:
            users = users.only(*only)
        found.update((user.email_lower, user) for user in users)
    return found


def analyze_users(using="default"):
    """Refresh the query planner's statistics of the user table (ANALYZE, on PostgreSQL and
    SQLite) after a bulk load, so the list and search plans fit the new size at once rather than
    after autovacuum's next round (PostgreSQL) or never (SQLite has no automatic ANALYZE)."""
    connection = connections[using]
    table = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
