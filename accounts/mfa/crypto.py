"""Encryption at rest of TOTP secrets: a database dump alone does not give anyone's codes away.

Keys come from `MFA_ENCRYPTION_KEY` (a comma list: the first encrypts, every one decrypts, so a key
can be rotated by putting the new one first). Unset, they are derived from `SECRET_KEY` and then
`SECRET_KEY_FALLBACKS`, as the signing keys' are: rotating SECRET_KEY the Django way (the old one
kept in SECRET_KEY_FALLBACKS for a while) keeps every TOTP secret readable. Each key is stretched
to a Fernet key with HKDF-SHA256, so any long random string works.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"roster.mfa.totp-secret"


class UndecryptableSecret(Exception):
    """Stored under a key Roster no longer has."""


def _fernet_key(material: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )
    return base64.urlsafe_b64encode(key)


@cache
def _cipher(materials: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(material)) for material in materials])


def _current_cipher():
    materials = tuple(settings.MFA_ENCRYPTION_KEY) or (
        settings.SECRET_KEY,
        *settings.SECRET_KEY_FALLBACKS,
    )
    return _cipher(materials)


def encrypt(secret: str) -> str:
    return _current_cipher().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current_cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret from exc
