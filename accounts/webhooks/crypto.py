"""Webhook signing secrets encrypted at rest: a database dump alone cannot forge deliveries.

The key is derived (HKDF-SHA256) from `SECRET_KEY`, then `SECRET_KEY_FALLBACKS` for decrypting,
so rotating SECRET_KEY the Django way (the old one kept in the fallbacks a while) keeps every
endpoint's secret readable.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"roster.webhooks.signing-secret"


class UnreadableSecret(Exception):
    """No key derived from SECRET_KEY or SECRET_KEY_FALLBACKS decrypts the secret."""


@cache
def _cipher(materials: tuple[str, ...]) -> MultiFernet:
    def fernet(material):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            material.encode()
        )
        return Fernet(base64.urlsafe_b64encode(key))

    return MultiFernet([fernet(material) for material in materials])


def _current():
    return _cipher((settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


def encrypt(secret: str) -> str:
    return _current().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UnreadableSecret(
            "The endpoint's secret cannot be decrypted: SECRET_KEY changed without the old one"
            " in SECRET_KEY_FALLBACKS. Restore it, or delete the endpoint and register it again."
        ) from exc
