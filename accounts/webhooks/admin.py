from django.contrib import admin

from accounts.webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Endpoints are registered through the API (its answer shows the secret once); the admin
    shows them and the delivery log, never the secret."""

    list_display = ("url", "description", "is_active", "created_at")
    exclude = ("encrypted_secret",)
    readonly_fields = ("url", "event_types", "description", "is_active", "created_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "message_id", "endpoint", "event_type", "status", "attempts", "last_status_code",
        "last_attempt_at", "next_attempt_at",
    )  # fmt: skip
    list_filter = ("status", "event_type")
    search_fields = ("=message_id",)
    list_select_related = ("endpoint",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
