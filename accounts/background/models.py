from django.conf import settings
from django.db import models


class UndeliveredMail(models.Model):
    """An email the worker gave up on: the operator's list of what never left (see the runbook)."""

    kind = models.CharField(max_length=64)
    to = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField()
    error = models.TextField()
    gave_up_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-gave_up_at"]
        verbose_name_plural = "undelivered mail"

    def __str__(self):
        return f"{self.kind} to {self.to}"
