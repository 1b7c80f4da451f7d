import uuid

from django.conf import settings
from django.db import models


class TOTPDevice(models.Model):
    """A user's authenticator app: its secret (encrypted, see `accounts.mfa.crypto`) and the last
    time step a code was accepted for, so no code is ever accepted twice."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    encrypted_secret = models.TextField()
    confirmed = models.BooleanField(default=False)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "TOTP authenticator"

    def __str__(self):
        return f"TOTP ({'on' if self.confirmed else 'not confirmed'})"


class RecoveryCode(models.Model):
    """One single-use recovery code, stored as a salted SHA-256 digest (the codes are random)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return "used" if self.used_at else "unused"


class Passkey(models.Model):
    """A WebAuthn credential: its id, public key (COSE) and the authenticator's signature count."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(max_length=100)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name


class WebAuthnChallenge(models.Model):
    """A challenge handed out with WebAuthn options: single use (deleted when spent), short-lived.
    `user` is set for registration (the credential is bound to that account)."""

    class Purpose(models.TextChoices):
        REGISTER = "register"
        AUTHENTICATE = "authenticate"

    challenge = models.CharField(max_length=128, unique=True)  # base64url
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.purpose} challenge"


class PendingLogin(models.Model):
    """A correct password waiting for its second factor: the `mfa_token` (stored as a SHA-256
    digest), single use, expiring after a few minutes."""

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"pending login of {self.user_id}"
