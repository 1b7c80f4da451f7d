"""SimpleJWT's token backend, signing with the current signing key and verifying by `kid`."""

import jwt
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.signing.keyring import keyring


class SigningKeyTokenBackend(TokenBackend):
    """Tokens carry `kid`, `iss` and `aud`; only a published key's own algorithm verifies them.

    `alg: none`, HS256 (even keyed with a public key) and unknown or retired kids are refused,
    because the algorithm comes from the stored key, never from the token's header.
    """

    def __init__(self):
        super().__init__(
            "ES256",
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            leeway=jwt_settings.LEEWAY,
            json_encoder=jwt_settings.JSON_ENCODER,
        )

    def encode(self, payload):
        key = keyring.signing_key()
        claims = {**payload, "aud": self.audience, "iss": self.issuer}
        return jwt.encode(
            claims,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
            json_encoder=self.json_encoder,
        )

    def decode(self, token, verify=True):
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError(_("Token is invalid")) from exc
        key = keyring.verifying_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError(_("Token is invalid"))
        try:
            return jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.get_leeway(),
                options={
                    "verify_signature": verify,
                    "require": ["exp", "iat", "iss", "aud"] if verify else [],
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken(_("Token is expired")) from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError(_("Token is invalid")) from exc
