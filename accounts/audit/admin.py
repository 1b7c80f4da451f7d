from django.contrib import admin

from accounts.audit.models import SecurityEvent
from accounts.records_admin import StaffRecordAdmin


@admin.register(SecurityEvent)
class SecurityEventAdmin(StaffRecordAdmin):
    """Read-only: events are append-only; only `manage.py prune_events` removes old ones."""

    list_display = ("id", "at", "type", "user", "actor", "ip_address", "request_id")
    list_filter = ("type",)
    search_fields = ("=request_id", "=user__email")
    show_full_result_count = False
    list_select_related = ("user", "actor")
    raw_id_fields = ("user", "actor")
