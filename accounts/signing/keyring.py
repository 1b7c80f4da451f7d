"""The process's view of the signing keys: read from the database at most every few seconds.

Every app server reads the same table, so a rotation reaches all of them within
`SIGNING_KEYS_CACHE_SECONDS` without a query per request on the hot path. A key is published that
long plus the JWKS max-age before it signs, so no server and no verifier meets an unknown `kid`.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.signing import crypto
from accounts.signing.models import SigningKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    algorithm: str
    jwk: dict
    public_key: object
    published_until: object  # datetime or None

    def is_published(self, now):
        return self.published_until is None or self.published_until > now


@dataclass(frozen=True)
class SigningKeyPair:
    kid: str
    algorithm: str
    private_key: object


class Keyring:
    def __init__(self):
        self._lock = threading.Lock()
        self._loaded_at = None
        self._published = {}
        self._signing = None
        self._private_keys = {}  # kid -> decrypted key, so a reload does not decrypt again

    def clear(self):
        with self._lock:
            self._loaded_at = None

    def _fresh(self, max_age):
        return self._loaded_at is not None and time.monotonic() - self._loaded_at < max_age

    def _load(self):
        now = timezone.now()
        rows = list(
            SigningKey.objects.filter(Q(published_until__isnull=True) | Q(published_until__gt=now))
        )
        published, signing = {}, None
        for row in rows:
            published[row.kid] = PublishedKey(
                row.kid,
                row.algorithm,
                row.public_jwk,
                crypto.load_public_key(row.public_jwk),
                row.published_until,
            )
            if row.is_signing:
                private_key = self._private_keys.get(row.kid)
                if private_key is None:
                    private_key = crypto.load_private_key(crypto.decrypt(row.private_key_encrypted))
                signing = SigningKeyPair(row.kid, row.algorithm, private_key)
        self._published, self._signing = published, signing
        self._private_keys = {signing.kid: signing.private_key} if signing else {}
        self._loaded_at = time.monotonic()

    def _ensure_loaded(self, max_age=None):
        max_age = settings.SIGNING_KEYS_CACHE_SECONDS if max_age is None else max_age
        if self._fresh(max_age):
            return
        with self._lock:
            if self._fresh(max_age):
                return
            try:
                self._load()
            except DatabaseError:
                if self._loaded_at is None:
                    raise
                # Keep verifying with what we knew; ask the database again after another period,
                # not on every request (each attempt may wait for a connect timeout).
                self._loaded_at = time.monotonic()
                logger.warning("Signing keys could not be reloaded; using the cached ones")

    def published(self):
        """Every key a token may verify with now, in the order they were created."""
        self._ensure_loaded()
        now = timezone.now()
        return [key for key in self._published.values() if key.is_published(now)]

    def verifying_key(self, kid):
        """The published key named `kid`, or None (an unknown kid reloads at most once a second)."""
        self._ensure_loaded()
        key = self._published.get(kid)
        if key is None:
            self._ensure_loaded(max_age=1)
            key = self._published.get(kid)
        if key is None or not key.is_published(timezone.now()):
            return None
        return key

    def signing_key(self):
        """The key that signs now; the very first one is created on first use."""
        self._ensure_loaded()
        if self._signing is None:
            ensure_signing_key()
            self.clear()
            self._ensure_loaded()
        return self._signing


def ensure_signing_key():
    """Create and activate a first key when no key signs (several servers may race: one wins)."""
    if SigningKey.objects.filter(is_signing=True).exists():
        return
    from accounts.signing.services import create_key

    try:
        with transaction.atomic():
            key = create_key(algorithm=settings.JWT_SIGNING_ALGORITHM, activate=True)
    except IntegrityError:
        return  # another process activated one first
    logger.info("Created the first signing key %s (%s)", key.kid, key.algorithm)


keyring = Keyring()
