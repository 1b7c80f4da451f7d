"""`manage.py seed_users --count N`: realistic fake users, fast enough for a million."""

import random
import re
import time
import unicodedata
import uuid
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from faker import Faker

from accounts.management.commands._operator import (
    Progress,
    analyze_users,
    batch_size,
    positive_int,
    users_by_email,
)
from accounts.models import User

TLDS = ("com", "org", "net")  # example.<tld> is reserved for documentation: no mail goes out
NAME_POOL = 1000  # names drawn once from Faker, then combined: fast, and a million combinations


class Command(BaseCommand):
    help = (
        "Create N realistic fake users (Faker names, unique example.* emails) with bulk inserts. "
        "All share one password, hashed once; without --password they cannot log in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=positive_int, required=True, help="users to create")
        parser.add_argument("--password", help="password for every seeded user")
        parser.add_argument(
            "--batch-size",
            type=batch_size,
            default=5000,
            help="rows per INSERT (5000, at most 100000)",
        )

    def handle(self, *, count, password, batch_size, **options):
        started = time.monotonic()
        # One hash for all: hashing a million times with Argon2 would take most of a day.
        password_hash = make_password(password)
        people = _People(start=User.objects.count() + 1)
        progress = Progress(self.stderr, "seed_users", total=count)
        created = 0
        while created < count:
            batch = [people.make(password_hash) for _ in range(min(batch_size, count - created))]
            people.renumber_taken(batch)
            with transaction.atomic():
                User.objects.bulk_create(batch, batch_size=batch_size)
            created += len(batch)
            progress.advance(len(batch))
        progress.close()
        analyze_users()
        seconds = time.monotonic() - started
        self.stdout.write(f"Created {created:,} users in {seconds:.1f}s.")


class _People:
    """Makes users named from Faker with emails `first.last.<n>@example.<tld>`, n counting up."""

    def __init__(self, *, start):
        faker = Faker()
        self.first_names = [faker.first_name() for _ in range(NAME_POOL)]
        self.last_names = [faker.last_name() for _ in range(NAME_POOL)]
        self.number = start
        self.now = timezone.now()
        self.random = random.Random()  # noqa: S311 - fake data, not security

    def make(self, password_hash):
        pick = self.random
        first, last = pick.choice(self.first_names), pick.choice(self.last_names)
        joined = self.now - timedelta(seconds=pick.randrange(3 * 365 * 86400))
        seen = pick.random() < 0.7
        verified = pick.random() < 0.8
        last_login = joined + (self.now - joined) * pick.random() if seen else None
        return User(
            id=uuid.uuid4(),
            email=self._email(first, last),
            first_name=first,
            last_name=last,
            password=password_hash,
            email_verified=verified,
            email_verified_at=joined if verified else None,
            is_active=pick.random() < 0.95,
            date_joined=joined,
            last_login=last_login,
        )

    def renumber_taken(self, batch):
        """Give a new number to any email already in the table (earlier runs, real users)."""
        while True:
            emails = {user.email.lower(): user for user in batch}
            clashes = [emails[email] for email in users_by_email(emails, only=["email"])]
            if not clashes:
                return
            for user in clashes:
                user.email = self._email(user.first_name, user.last_name)

    def _email(self, first, last):
        self.number += 1
        return f"{_slug(first)}.{_slug(last)}.{self.number}@example.{self.random.choice(TLDS)}"


def _slug(name):
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_name.lower()) or "user"
