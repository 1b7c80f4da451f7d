"""Attacks on the admin by staff: what a changelist's query string can read.

Django's admin lets any query-string lookup on a model's own fields through (only lookups across
relations must be list filters), so `?encrypted_secret__startswith=gAAAAB` answered "1 result" or
"0 results": a staff member read a stored secret's ciphertext one character at a time, for every
endpoint, from a page that never shows it."""

import pytest
from django.test import Client

from accounts.signing.models import SigningKey
from accounts.tests.factories import UserFactory
from accounts.webhooks.models import WebhookEndpoint
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

LOOKUPS = [
    "",
    "__startswith",
    "__istartswith",
    "__regex",
    "__gt",
    "__contains",
    "__lower__startswith",
]


def secret_rows(staff_client):
    staff_client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["login_failed"]},
        format="json",
    )
    return {
        "/admin/webhooks/webhookendpoint/": ("encrypted_secret", WebhookEndpoint.objects.get()),
        "/admin/signing/signingkey/": ("private_key_encrypted", SigningKey.objects.get()),
    }


@pytest.mark.parametrize("lookup", LOOKUPS)
def test_no_changelist_filters_on_a_stored_secret(staff_client, lookup):
    root = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    bearer_client(root)  # the first signing key
    browser = Client()
    browser.force_login(root)

    for url, (field, row) in secret_rows(staff_client).items():
        value = getattr(row, field)
        probe = value[:12] if lookup not in ("", "__regex") else value if lookup == "" else "^gA"
        response = browser.get(url, {f"{field}{lookup}": probe})

        assert response.status_code == 400, (url, lookup)
        assert value[:12].encode() not in response.content
        # The pages themselves still work.
        assert browser.get(url).status_code == 200
