from django.contrib import admin

from accounts.audit.models import SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: events are append-only; only `manage.py prune_events` removes old ones."""

    list_display = ("id", "at", "type", "user", "actor", "ip_address", "request_id")
    list_filter = ("type",)
    search_fields = ("=request_id", "=user__email")
    show_full_result_count = False
    list_select_related = ("user", "actor")
    raw_id_fields = ("user", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
