"""Key material: generating key pairs, their public JWKs, and encrypting the private parts at rest.

Private keys are stored as PKCS#8 PEM encrypted with Fernet. The Fernet keys come from
`JWT_KEY_ENCRYPTION_KEYS` (the first encrypts, all decrypt); when it is unset they are derived with
HKDF from `SECRET_KEY` and `SECRET_KEY_FALLBACKS`, so a SECRET_KEY rotated the Django way (old key
kept as a fallback until `signing_keys reencrypt` ran) keeps every signing key readable.
"""

import base64
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

ALGORITHMS = ("ES256", "EdDSA")
_HKDF_INFO = b"roster signing-key encryption v1"


class KeyDecryptionError(Exception):
    """A stored private key could not be decrypted with any configured encryption key."""


def _derived_fernet_key(secret):
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def _fernet():
    explicit = settings.JWT_KEY_ENCRYPTION_KEYS
    if explicit:
        return MultiFernet([Fernet(key) for key in explicit])
    secrets_in_order = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([Fernet(_derived_fernet_key(secret)) for secret in secrets_in_order])


def encrypt(pem):
    return _fernet().encrypt(pem).decode()


def decrypt(ciphertext):
    try:
        return _fernet().decrypt(ciphertext.encode())
    except InvalidToken as exc:
        raise KeyDecryptionError(
            "no configured encryption key decrypts this signing key "
            "(JWT_KEY_ENCRYPTION_KEYS, or SECRET_KEY and SECRET_KEY_FALLBACKS, changed?)"
        ) from exc


def reencrypt(ciphertext):
    """The same private key encrypted under the first (current) encryption key."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError("no configured encryption key decrypts this signing key") from exc


def new_kid():
    return secrets.token_urlsafe(12)


def generate_private_key(algorithm):
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")


def private_pem(private_key):
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem):
    return serialization.load_pem_private_key(pem, password=None)


def public_jwk(private_key, *, kid, algorithm):
    """The public half as a JWK (RFC 7517): never the private members."""
    public_key = private_key.public_key()
    if algorithm == "ES256":
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    jwk = {name: value for name, value in jwk.items() if name != "d"}
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def load_public_key(jwk):
    if jwk["kty"] == "EC":
        return ECAlgorithm.from_jwk(json.dumps(jwk))
    return OKPAlgorithm.from_jwk(json.dumps(jwk))
