"""A software WebAuthn authenticator for the API tests: it makes real registrations ("none"
attestation, an ES256 key) and real signed assertions, as a browser's authenticator would, so
the server side (py_webauthn's checks, challenges, counters) runs for real without a browser.
The Chromium tests (config/tests/test_passkeys_browser.py) use Chrome's virtual authenticator."""

import hashlib
import json
import secrets

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40
ORIGIN = "http://localhost:8000"
RP_ID = "localhost"


class SoftAuthenticator:
    def __init__(self, *, origin=ORIGIN, rp_id=RP_ID, user_verified=True):
        self.origin, self.rp_id, self.user_verified = origin, rp_id, user_verified
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.sign_count = 0
        self.user_handle = b""

    def clone(self):
        """The same key and credential id, with the counter where it stands now."""
        twin = SoftAuthenticator(origin=self.origin, rp_id=self.rp_id)
        twin.key, twin.credential_id = self.key, self.credential_id
        twin.sign_count, twin.user_handle = self.sign_count, self.user_handle
        return twin

    def _cose_key(self):
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _auth_data(self, flags, attested=b""):
        flags |= UP | (UV if self.user_verified else 0)
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_hash + bytes([flags]) + self.sign_count.to_bytes(4, "big") + attested

    def _client_data(self, kind, options):
        data = {"type": kind, "challenge": options["challenge"], "origin": self.origin}
        return json.dumps(data).encode()

    def create(self, options):
        """The answer of navigator.credentials.create(options), as `toJSON()` gives it."""
        self.user_handle = options["user"]["id"].encode()
        attested = (
            bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id
        ) + self._cose_key()
        attestation = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": self._auth_data(AT, attested)}
        )
        return self._credential(
            clientDataJSON=self._client_data("webauthn.create", options),
            attestationObject=attestation,
            transports=["internal"],
        )

    def get(self, options):
        """The answer of navigator.credentials.get(options): a signed assertion."""
        self.sign_count += 1
        client_data = self._client_data("webauthn.get", options)
        auth_data = self._auth_data(0)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return self._credential(
            clientDataJSON=client_data, authenticatorData=auth_data, signature=signature
        )

    def _credential(self, **response):
        encoded = {
            name: bytes_to_base64url(value) if isinstance(value, bytes) else value
            for name, value in response.items()
        }
        credential_id = bytes_to_base64url(self.credential_id)
        return {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": encoded,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
