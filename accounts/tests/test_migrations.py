"""The data migration that stores existing addresses as mailboxes (accounts 0005)."""

import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from accounts.models import User

pytestmark = pytest.mark.django_db

renormalise = importlib.import_module("accounts.migrations.0005_renormalise_emails").renormalise


def raw_rows(*emails, **fields):
    """Rows written as an older Roster wrote them: the address as typed, not normalised."""
    return User.objects.bulk_create(User(email=email, **fields) for email in emails)


def run():
    out = io.StringIO()
    renormalise(apps, SimpleNamespace(connection=connection), out=out)
    return out.getvalue()


def test_rows_are_rewritten_to_their_mailbox_and_collisions_are_kept_and_reported():
    moved, already = raw_rows("Ada@\uff45xample.com", "grace@strasse.example")
    clash_a, clash_b = raw_rows("Grace@stra\u00dfe.example", "GRACE@xn--strae-oqa.example")
    pair_a, pair_b = raw_rows("Twin@EXAMPLE.org", "twin@\uff45xample.org")
    refused = raw_rows("victim@p\u0430ypal.com")[0]

    report = run()

    emails = dict(User.objects.values_list("pk", "email"))
    assert emails[moved.pk] == "ada@example.com"
    assert emails[already.pk] == "grace@strasse.example"
    # Two rows (or a row and a stored one) naming one mailbox: none changes, each is reported.
    for row in (clash_a, clash_b, pair_a, pair_b, refused):
        assert emails[row.pk] == row.email
        assert f"user {row.pk} kept its address" in report
    clash_line = next(line for line in report.splitlines() if str(clash_a.pk) + " kept" in line)
    assert "the same mailbox as user" in clash_line and str(already.pk) in clash_line
    assert "Roster now refuses it" in report
    assert str(moved.pk) not in report


def test_verified_rows_get_a_verification_date_and_a_second_run_changes_nothing():
    verified, unverified = raw_rows("v@example.com", "u@example.com")
    User.objects.filter(pk=verified.pk).update(email_verified=True)

    assert run() == ""
    dated = User.objects.get(pk=verified.pk).email_verified_at

    assert dated is not None
    assert User.objects.get(pk=unverified.pk).email_verified_at is None
    assert run() == "" and User.objects.get(pk=verified.pk).email_verified_at == dated
