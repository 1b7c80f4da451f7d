from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Value
from django.db.models.functions import Concat, Lower, Upper
from django.utils import timezone

from accounts.mailboxes import mailbox_key, normalize_mailbox

# From this many rows (by the planner's estimate) an unfiltered count is the estimate itself.
ESTIMATE_COUNT_FROM = 100_000
# A search is at most this many terms of this many characters: each term is one more substring
# scan, so an unbounded search is a cheap way to make the database work.
MAX_SEARCH_TERMS = 10
MAX_SEARCH_TERM_LENGTH = 254


def search_document():
    """What `?search=` looks in: email and names, upper-cased. On PostgreSQL a trigram GIN index
    is built on exactly this expression (migration 0002), so substring search uses the index."""
    return Upper(Concat("email", Value(" "), "first_name", Value(" "), "last_name"))


class UserQuerySet(models.QuerySet):
    def with_email(self, email):
        """The user whose mailbox `email` names, in any spelling (accounts.mailboxes), through the
        unique index on lower(email); none for an address Roster refuses."""
        key = mailbox_key(email)
        if key is None:
            return self.none()
        return self.alias(email_lower=Lower("email")).filter(email_lower=key)

    def count_estimated(self):
        """`count()`, except for the unfiltered table on PostgreSQL once the planner estimates it
        at ESTIMATE_COUNT_FROM rows or more: then that estimate (`pg_class.reltuples`, kept fresh
        by autovacuum), which costs nothing where a COUNT(*) reads every row."""
        connection = connections[self.db]
        if connection.vendor == "postgresql" and not self.query.has_filters():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.model._meta.db_table],
                )
                estimate = cursor.fetchone()[0]
            if estimate >= ESTIMATE_COUNT_FROM:
                return estimate
        return self.count()

    def search(self, terms):
        """Users matching every term somewhere in their email or names, ignoring case. Too many
        terms, too long a term or a NUL character raise ValidationError (on `search`)."""
        check_search_terms(terms)
        queryset = self.alias(search_document=search_document())
        for term in terms:
            queryset = queryset.filter(search_document__contains=term.upper())
        return queryset


def check_search_terms(terms):
    if len(terms) > MAX_SEARCH_TERMS:
        raise ValidationError(
            {"search": [f"Search for at most {MAX_SEARCH_TERMS} words at once."]},
            code="too_many_terms",
        )
    if any(len(term) > MAX_SEARCH_TERM_LENGTH for term in terms):
        raise ValidationError(
            {"search": [f"Each search word is at most {MAX_SEARCH_TERM_LENGTH} characters."]},
            code="term_too_long",
        )
    if any("\x00" in term for term in terms):
        raise ValidationError({"search": ["Null characters are not allowed."]}, code="null")


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    """Email is the login, stored as its mailbox (accounts.mailboxes); unique (a database
    constraint on that form)."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        """The mailbox form of `email`; raises ValidationError for an address Roster refuses."""
        return normalize_mailbox(email or "")

    def get_by_natural_key(self, email):
        return self.with_email(email).get()

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("Users must have an email address.")
        if extra_fields.get("email_verified"):
            extra_fields.setdefault("email_verified_at", timezone.now())
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified", True)
        if extra_fields["is_staff"] is not True or extra_fields["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)
