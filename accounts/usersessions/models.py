import uuid
from importlib import import_module

from django.conf import settings
from django.db import models
from django.utils import timezone


class SessionQuerySet(models.QuerySet):
    def live(self):
        """Sessions not ended and not expired."""
        return self.filter(ended_at__isnull=True, expires_at__gt=timezone.now())

    def end(self, reason: str) -> int:
        """End every session here that is still open: their tokens (or browser sessions) are
        refused from the next request on. Returns how many ended."""
        open_sessions = self.filter(ended_at__isnull=True)
        keys = list(
            open_sessions.filter(
                kind=UserSession.Kind.BROWSER, session_key__isnull=False
            ).values_list("session_key", flat=True)
        )
        ended = open_sessions.update(ended_at=timezone.now(), ended_reason=reason)
        if keys:
            store = import_module(settings.SESSION_ENGINE).SessionStore
            for key in keys:
                store(session_key=key).delete()
        return ended


class UserSession(models.Model):
    """One login on one device: a refresh-token family (`token`) or a Django session (`browser`).

    Access and refresh tokens carry its id as `sid`; a browser session holds it under
    `SESSION_ID_KEY`. Once `ended_at` is set, both are refused on their next request.
    """

    class Kind(models.TextChoices):
        TOKEN = "token", "token"
        BROWSER = "browser", "browser"

    class EndedReason(models.TextChoices):
        LOGOUT = "logout", "logged out"
        REVOKED = "revoked", "ended by its owner"
        REVOKED_BY_STAFF = "revoked_by_staff", "ended by staff"
        TOKEN_REUSE = "token_reuse", "refresh token reused"
        PASSWORD_CHANGED = "password_changed", "password changed"
        DEACTIVATED = "deactivated", "account deactivated"
        ALL_REVOKED = "all_revoked", "every session of the user ended"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    device = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=20, choices=EndedReason.choices, blank=True)
    # The Django session of a browser session, deleted when it ends.
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    # The `jti` of the one refresh token a token session holds now: a rotation or a
    # reauthentication replaces it, so the session is one line of refresh tokens and a token it
    # no longer holds is a reuse ("" for a browser session, or one opened before this existed).
    refresh_jti = models.CharField(max_length=255, blank=True, default="")

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ("-last_used_at",)
        indexes = [models.Index(fields=["user", "ended_at"], name="usersession_user_open")]

    def __str__(self):
        return f"{self.get_kind_display()} session {self.id} ({self.device or 'unknown device'})"

    @property
    def is_live(self):
        return self.ended_at is None and self.expires_at > timezone.now()
