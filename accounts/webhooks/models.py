"""Webhook endpoints and their delivery outbox."""

import uuid

from django.conf import settings
from django.db import models


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # The signing secret (Standard Webhooks' "whsec_..."), encrypted (accounts.webhooks.crypto):
    # shown once when the endpoint is created; never in a later response, a log or the admin.
    encrypted_secret = models.TextField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url

    @property
    def secret(self) -> str:
        from accounts.webhooks import crypto

        return crypto.decrypt(self.encrypted_secret)


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the event's transaction, sent by the worker until
    the receiver answers 2xx or the retries run out. `message_id` is the stable `webhook-id`
    every attempt carries, so receivers can drop duplicates."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The worker's question: which pending deliveries are due?
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "id"], name="webhooks_delivery_endpoint"),
        ]

    def __str__(self):
        return f"{self.message_id} -> {self.endpoint_id}"
