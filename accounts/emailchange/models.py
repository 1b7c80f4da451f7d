"""A requested change of a user's email: pending until the new address confirms it, revertible
from the old address."""

from django.conf import settings
from django.db import models


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

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.old_email} -> {self.new_email}"
