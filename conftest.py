"""Fixtures shared by every test: users, API clients, and the few settings tests override."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

PASSWORD = "a-Long-enough-passw0rd"

# DESIGN.md's user, as a client sees it: these keys and no others (never a password or a hash).
USER_SHAPE = {
    "id",
    "email",
    "first_name",
    "last_name",
    "email_verified",
    "is_active",
    "is_staff",
    "date_joined",
    "last_login",
}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """A fast hasher, in-memory email, static files without collectstatic, fresh throttles."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # receivers in tests listen on loopback
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Tasks (every email) run in-process at once, so a test reads mail.outbox right after the
    # request; accounts/background/tests run the real database queue and its worker instead.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_signing_keyring():
    """Each test reads the signing keys of its own database (a rolled-back key must not linger)."""
    from accounts.signing.keyring import keyring

    keyring.clear()
    yield
    keyring.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(password=PASSWORD)


@pytest.fixture
def other_user(db):
    return UserFactory(password=PASSWORD)


@pytest.fixture
def staff(db):
    return UserFactory(password=PASSWORD, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


def bearer_client(account):
    """An API client holding the tokens of a new session of `account` (like a login)."""
    from accounts.tokens import issue_token_pair

    client = APIClient()
    pair = issue_token_pair(account)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    client.refresh_token = pair["refresh"]
    client.access_token = pair["access"]
    return client


@pytest.fixture
def auth_client(user):
    """An API client carrying a real access token of `user` (and `.refresh_token`)."""
    return bearer_client(user)


@pytest.fixture
def staff_client(staff):
    return bearer_client(staff)


@pytest.fixture
def redis_cache(settings):
    """The real Redis of this machine (CI starts it), under a key prefix of this test alone."""
    import uuid

    from django.core.cache import cache

    prefix = f"roster-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield cache
    # Only this prefix's keys: `cache.clear()` would flush the whole database, other runs' too.
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def fresh_windows():
    """Start the test just after midnight UTC, clock running: no fixed counting window (a minute,
    15 minutes, an hour, a day) can roll over in the middle of it and reset a count."""
    import datetime as dt

    import time_machine

    now = dt.datetime.now(tz=dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with time_machine.travel(midnight + dt.timedelta(seconds=1), tick=True):
        yield
