"""Attacks on the admin by staff: what a changelist's query string can read.

Django's admin lets any query-string lookup on a model's own fields through (only lookups across
relations must be list filters), so `?encrypted_secret__startswith=gAAAAB` answered "1 result" or
"0 results": a staff member read a stored secret's ciphertext one character at a time, for every
endpoint, from a page that never shows it."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

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


def test_staff_cannot_end_a_superusers_session_with_the_token_the_admin_stored(api_client):
    """SimpleJWT stores each refresh token as first minted (before Roster adds the session id).
    A staff member allowed to view outstanding tokens copied a superuser's from the admin and
    logged it out: its jti blacklisted, the superuser's next refresh counted as theft and their
    session ended, although the policy lets only a superuser end a superuser's sessions."""
    from django.contrib.auth.models import Permission
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    root = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    root_client = bearer_client(root)
    staff = UserFactory(password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename="view_outstandingtoken"))
    browser = Client()
    browser.force_login(staff)
    stored = OutstandingToken.objects.get(user=root).token

    page = browser.get(
        f"/admin/token_blacklist/outstandingtoken/{OutstandingToken.objects.get(user=root).pk}/change/"
    )
    assert page.status_code == 200 and stored not in page.content.decode()
    listing = browser.get(
        "/admin/token_blacklist/outstandingtoken/", {"token__startswith": stored[:20]}
    )
    assert listing.status_code == 400
    assert api_client.post("/api/v1/auth/logout/", {"refresh": stored}).status_code == 401

    refreshed = APIClient().post(
        "/api/v1/auth/token/refresh/", {"refresh": root_client.refresh_token}
    )
    assert refreshed.status_code == 200


def test_every_registered_admin_refuses_lookups_on_its_secret_looking_fields(rf):
    """The family: any admin of any model, present or future, with a field that holds a secret."""
    import re

    from django.contrib import admin

    secret = re.compile(r"secret|encrypted|password|private|^token$")
    request = rf.get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    checked = set()
    for model, model_admin in admin.site._registry.items():
        for field in model._meta.concrete_fields:
            if field.is_relation or not secret.search(field.name):
                continue
            checked.add(f"{model._meta.label}.{field.name}")
            for lookup in ("", "__startswith", "__regex", "__gte"):
                assert not model_admin.lookup_allowed(f"{field.name}{lookup}", "x", request), (
                    model._meta.label,
                    field.name,
                    lookup,
                )
    assert checked >= {
        "accounts.User.password",
        "webhooks.WebhookEndpoint.encrypted_secret",
        "signing.SigningKey.private_key_encrypted",
        "token_blacklist.OutstandingToken.token",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"date_joined__year": "99999999999999999999"},
        {"date_joined__year": "99999"},
        {"date_joined__iso_year": "0"},
        {"date_joined__year__gt": "-99999999999999999999"},
        {"last_login__date": "99999-01-01"},
    ],
)
def test_a_date_lookup_beyond_the_calendar_is_the_admins_bad_filter_page_not_a_500(params):
    root = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(root)

    response = browser.get("/admin/accounts/user/", params)

    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert browser.get("/admin/accounts/user/?e=1").status_code == 200


def test_every_changelist_survives_a_year_beyond_the_calendar():
    from django.contrib import admin
    from django.db import models

    root = UserFactory(is_staff=True, is_superuser=True)
    bearer_client(root)
    browser = Client()
    browser.force_login(root)
    for model in admin.site._registry:
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField):
                url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
                response = browser.get(url, {f"{field.name}__year": "99999999999999999999"})
                assert response.status_code in (302, 400), (url, field.name)
