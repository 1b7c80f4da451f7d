"""The security event log: append-only rows, one per security-relevant change."""

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED_OUT = "login_locked_out"
    LOGIN_LOCKOUT_LIFTED = "login_lockout_lifted"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105
    SESSION_ENDED = "session_ended"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    PASSWORD_SET = "password_set"  # noqa: S105
    EMAIL_CHANGE_REQUESTED = "email_change_requested"
    EMAIL_CHANGED = "email_changed"
    EMAIL_CHANGE_REVERTED = "email_change_reverted"
    SECOND_FACTOR_ADDED = "second_factor_added"
    SECOND_FACTOR_REMOVED = "second_factor_removed"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    MFA_FAILED = "mfa_failed"
    PRIVILEGES_CHANGED = "privileges_changed"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    ACCOUNT_CLOSED = "account_closed"
    ACCOUNT_DELETED = "account_deleted"
    # Staff redirecting or silencing the event feed is itself security-relevant.
    WEBHOOK_ENDPOINT_CREATED = "webhook_endpoint_created"
    WEBHOOK_ENDPOINT_CHANGED = "webhook_endpoint_changed"
    WEBHOOK_ENDPOINT_DELETED = "webhook_endpoint_deleted"


class AppendOnly(Exception):
    """Security events are never changed or deleted (only `prune_events` removes old ones)."""


class SecurityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Security events are append-only.")

    def delete(self):
        raise AppendOnly("Security events are append-only; use manage.py prune_events.")

    def seen_by_their_user(self, user):
        """`user`'s own events as they may read them: where someone else acted on them (staff),
        that person's address and User-Agent are blanked; they are that person's data, not
        `user`'s (staff read them whole in `audit/events/`)."""
        by_someone_else = models.Q(actor_id__isnull=False) & ~models.Q(actor_id=user.pk)
        return self.filter(user_id=user.pk).annotate(
            seen_ip_address=models.Case(
                models.When(by_someone_else, then=models.Value(None)),
                default=models.F("ip_address"),
                output_field=models.GenericIPAddressField(null=True),
            ),
            seen_user_agent=models.Case(
                models.When(by_someone_else, then=models.Value("")),
                default=models.F("user_agent"),
                output_field=models.CharField(),
            ),
        )

    def prune(self, *, before) -> int:
        """Remove the events older than `before` (the retention command); the count removed."""
        # _raw_delete: one DELETE statement, no cascade to collect (nothing points at events).
        return self.filter(at__lt=before)._raw_delete(self.db)


class SecurityEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=40, choices=EventType.choices)
    at = models.DateTimeField(auto_now_add=True)
    # No database constraint and no cascade: an event outlives the user it names, unchanged.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Keyset pages of one user's or one type's events: an index range scan, however many.
            models.Index(fields=["user", "id"], name="audit_event_user_id"),
            models.Index(fields=["type", "id"], name="audit_event_type_id"),
            models.Index(fields=["at"], name="audit_event_at"),
        ]

    def __str__(self):
        return f"{self.type} #{self.id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Security events are append-only.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Security events are append-only; use manage.py prune_events.")
