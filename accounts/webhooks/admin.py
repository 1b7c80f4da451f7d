from django.contrib import admin

from accounts.records_admin import StaffRecordAdmin
from accounts.webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(StaffRecordAdmin):
    """Endpoints are registered through the API (its answer shows the secret once); the admin
    shows them and the delivery log, never the secret."""

    list_display = ("url", "description", "is_active", "created_at")
    exclude = secret_fields = ("encrypted_secret",)
    readonly_fields = ("url", "event_types", "description", "is_active", "created_by")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(StaffRecordAdmin):
    list_display = (
        "message_id", "endpoint", "event_type", "status", "attempts", "last_status_code",
        "last_attempt_at", "next_attempt_at",
    )  # fmt: skip
    list_filter = ("status", "event_type")
    search_fields = ("=message_id",)
    list_select_related = ("endpoint",)
    show_full_result_count = False
