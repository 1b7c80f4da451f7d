"""A requested change of a user's email: pending until the new address confirms it, revertible
from the old address."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class EmailChangeQuerySet(models.QuerySet):
    def keeping_their_old_address(self):
        """The changes that keep their old address for the account that left it: confirmed, not
        reverted, within the revert window. Until that closes, the old address may come back by
        its revert link, so no other account may take it (a thief would register it to block the
        revert)."""
        return self.filter(
            confirmed_at__isnull=False, reverted_at__isnull=True, revert_by__gt=timezone.now()
        )

    def reserving(self, email):
        """The changes that keep `email` (any case) for the account that left it."""
        return self.keeping_their_old_address().filter(old_email__iexact=email)

    def reserved(self, emails):
        """Which of `emails` (mailbox forms, as stored) are kept so: one query."""
        return set(
            self.keeping_their_old_address()
            .filter(old_email__in=list(emails))
            .values_list("old_email", flat=True)
        )


class EmailChange(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes"
    )
    old_email = models.EmailField(max_length=254)
    new_email = models.EmailField(max_length=254)
    requested_at = models.DateTimeField(auto_now_add=True)
    confirm_by = models.DateTimeField()
    revert_by = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = EmailChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.old_email} -> {self.new_email}"
