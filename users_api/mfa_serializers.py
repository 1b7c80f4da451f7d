"""Bodies of the second-factor, passkey and reauthentication endpoints."""

import json

from rest_framework import serializers

from accounts.mfa.models import Passkey
from users_api.serializers import PasswordInput

ONE_PROOF = "Send exactly one of: {}."


class PasskeySerializer(serializers.ModelSerializer):
    class Meta:
        model = Passkey
        fields = ("id", "name", "created_at", "last_used_at")
        read_only_fields = fields


class MfaOverviewSerializer(serializers.Serializer):
    totp = serializers.BooleanField(help_text="TOTP is on.")
    passkeys = PasskeySerializer(many=True)
    recovery_codes_left = serializers.IntegerField()


class TOTPEnrolmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32, for typing into an authenticator app.")
    otpauth_uri = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The otpauth URI as a QR code (an SVG document).")


class TOTPCodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="The 6 digits the app shows.")


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(), help_text="Shown once; each works once."
    )


class WebAuthnCredentialField(serializers.DictField):
    """The browser's PublicKeyCredential as JSON (`credential.toJSON()`), at most 64 KB of it."""

    default_error_messages = {"invalid_credential": "Not a WebAuthn credential."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            size = len(json.dumps(value, ensure_ascii=False).encode())
        except (UnicodeEncodeError, ValueError, RecursionError):
            self.fail("invalid_credential")  # lone surrogates, too deep
        if size > 65_536:
            self.fail("invalid_credential")
        return value


class PasskeyRegistrationSerializer(serializers.Serializer):
    credential = WebAuthnCredentialField()
    name = serializers.CharField(max_length=100)


class PasskeyCreatedSerializer(PasskeySerializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="New recovery codes when this passkey is the first second factor; else empty.",
    )

    class Meta(PasskeySerializer.Meta):
        fields = (*PasskeySerializer.Meta.fields, "recovery_codes")
        read_only_fields = fields


class PasskeyLoginSerializer(serializers.Serializer):
    credential = WebAuthnCredentialField()
    refresh_in_cookie = serializers.BooleanField(
        default=False, help_text="Put the refresh token in its HttpOnly cookie, not the body."
    )


class _OneProofSerializer(serializers.Serializer):
    proofs = ()

    def validate(self, attrs):
        given = [name for name in self.proofs if attrs.get(name) not in (None, "")]
        if len(given) != 1:
            raise serializers.ValidationError(ONE_PROOF.format(", ".join(self.proofs)))
        return attrs


class MfaVerifySerializer(_OneProofSerializer):
    proofs = ("code", "credential")

    mfa_token = serializers.CharField(max_length=128)
    code = serializers.CharField(
        max_length=64, required=False, help_text="A TOTP code or a recovery code."
    )
    credential = WebAuthnCredentialField(required=False, help_text="A passkey assertion.")
    refresh_in_cookie = serializers.BooleanField(
        default=False, help_text="Put the refresh token in its HttpOnly cookie, not the body."
    )


class ReauthenticateSerializer(_OneProofSerializer):
    proofs = ("password", "code", "credential")

    password = PasswordInput(required=False)
    code = serializers.CharField(
        max_length=64, required=False, help_text="A TOTP code or a recovery code."
    )
    credential = WebAuthnCredentialField(required=False, help_text="A passkey assertion.")


class WebAuthnCreationOptionsSerializer(serializers.Serializer):
    """WebAuthn's `PublicKeyCredentialCreationOptionsJSON`, as the browser's
    `PublicKeyCredential.parseCreationOptionsFromJSON` takes it (documented in users_api.schema)."""


class WebAuthnRequestOptionsSerializer(serializers.Serializer):
    """WebAuthn's `PublicKeyCredentialRequestOptionsJSON`, as the browser's
    `PublicKeyCredential.parseRequestOptionsFromJSON` takes it (documented in users_api.schema)."""
