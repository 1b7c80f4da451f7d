from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.signing.crypto import ALGORITHMS


class SigningKey(models.Model):
    """One asymmetric key pair that signs (or signed) Roster's JWTs, named by `kid`.

    Life: published (in the JWKS, not yet signing) -> signing (exactly one key at a time) ->
    superseded (still published, so its tokens verify, until `published_until`) -> retired.
    The private half is stored encrypted (accounts.signing.crypto); it never leaves the process.
    """

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=8, choices=[(name, name) for name in ALGORITHMS])
    public_jwk = models.JSONField()
    private_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    is_signing = models.BooleanField(default=False)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Null: published for as long as it is pending or signing. Past: retired.
    published_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_signing"],
                condition=Q(is_signing=True),
                name="signing_one_signing_key",
            )
        ]

    def __str__(self):
        return f"{self.algorithm} key {self.kid}"

    def state(self, now=None):
        now = now or timezone.now()
        if self.published_until is not None and self.published_until <= now:
            return "retired"
        if self.is_signing:
            return "signing"
        if self.superseded_at is not None:
            return "superseded"
        return "published"
