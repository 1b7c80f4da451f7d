"""Signing-key lifecycle: create (publish), rotate (a published key starts signing), retire."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.signing import crypto
from accounts.signing.keyring import keyring
from accounts.signing.models import SigningKey


class SigningKeyError(Exception):
    """An operator's request that cannot be done as asked (the message says why, in one line)."""


def publication_delay():
    """How long a key is in the JWKS before it may sign: every cache of the JWKS has it by then."""
    return timedelta(seconds=settings.JWKS_MAX_AGE + settings.SIGNING_KEYS_CACHE_SECONDS)


def token_lifetime():
    """How long a superseded key stays published: its last token (a refresh token) expires by then.

    Includes the keyring cache: a server may sign with the old key that long after the rotation.
    """
    longest = max(jwt_settings.ACCESS_TOKEN_LIFETIME, jwt_settings.REFRESH_TOKEN_LIFETIME)
    return longest + timedelta(seconds=settings.SIGNING_KEYS_CACHE_SECONDS)


def _changed():
    keyring.clear()
    transaction.on_commit(keyring.clear)


def create_key(*, algorithm, activate=False):
    """A new key pair, published at once; it signs after `rotate` (at once with `activate`)."""
    if algorithm not in crypto.ALGORITHMS:
        raise SigningKeyError(
            f"unknown algorithm {algorithm!r}: use one of {', '.join(crypto.ALGORITHMS)}"
        )
    private_key = crypto.generate_private_key(algorithm)
    kid = crypto.new_kid()
    now = timezone.now()
    key = SigningKey.objects.create(
        kid=kid,
        algorithm=algorithm,
        public_jwk=crypto.public_jwk(private_key, kid=kid, algorithm=algorithm),
        private_key_encrypted=crypto.encrypt(crypto.private_pem(private_key)),
        created_at=now,
        activated_at=now if activate else None,
        is_signing=activate,
    )
    _changed()
    return key


@transaction.atomic
def rotate(*, kid=None):
    """The newest published key (or `kid`) starts signing; the current one stops signing and stays
    published until the last token it signed has expired. Returns (new, old)."""
    now = timezone.now()
    pending = SigningKey.objects.select_for_update().filter(
        is_signing=False, activated_at__isnull=True, published_until__isnull=True
    )
    if kid is not None:
        candidate = pending.filter(kid=kid).first()
        if candidate is None:
            raise SigningKeyError(f"no published, never-activated key with kid {kid!r}")
    else:
        candidate = pending.order_by("-created_at", "-id").first()
        if candidate is None:
            raise SigningKeyError("no published key is waiting: run `signing_keys create` first")
    ready_at = candidate.created_at + publication_delay()
    if ready_at > now:
        wait = int((ready_at - now).total_seconds()) + 1
        raise SigningKeyError(
            f"key {candidate.kid} has been published for less than the JWKS max-age plus the "
            f"key cache; it may sign in {wait} s (at {ready_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
    old = SigningKey.objects.select_for_update().filter(is_signing=True).first()
    if old is not None:
        old.is_signing = False
        old.superseded_at = now
        old.published_until = now + token_lifetime()
        old.save(update_fields=["is_signing", "superseded_at", "published_until"])
    candidate.is_signing = True
    candidate.activated_at = now
    candidate.save(update_fields=["is_signing", "activated_at"])
    _changed()
    return candidate, old


@transaction.atomic
def retire(*, kid):
    """Stop publishing `kid` now: every token it signed is refused from the next cache reload on."""
    key = SigningKey.objects.select_for_update().filter(kid=kid).first()
    if key is None:
        raise SigningKeyError(f"no signing key with kid {kid!r}")
    if key.is_signing:
        raise SigningKeyError(f"key {kid} is the signing key: rotate to another key first")
    now = timezone.now()
    if key.published_until is not None and key.published_until <= now:
        raise SigningKeyError(f"key {kid} is already retired")
    key.published_until = now
    key.save(update_fields=["published_until"])
    _changed()
    return key


def reencrypt_all():
    """Re-encrypt every private key under the current encryption key; returns how many."""
    count = 0
    with transaction.atomic():
        for key in SigningKey.objects.select_for_update():
            try:
                key.private_key_encrypted = crypto.reencrypt(key.private_key_encrypted)
            except crypto.KeyDecryptionError as exc:  # nothing re-encrypted: all or none
                raise SigningKeyError(
                    f"key {key.kid}: {exc} (keep the old key in JWT_KEY_ENCRYPTION_KEYS, or in "
                    "SECRET_KEY_FALLBACKS, until reencrypt has run)"
                ) from exc
            key.save(update_fields=["private_key_encrypted"])
            count += 1
    _changed()
    return count
