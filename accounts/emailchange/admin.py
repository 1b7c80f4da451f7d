from django.contrib import admin

from accounts.emailchange.models import EmailChange
from accounts.records_admin import StaffRecordAdmin


@admin.register(EmailChange)
class EmailChangeAdmin(StaffRecordAdmin):
    """Read-only: changes happen through the links, never by editing a row."""

    list_display = ("user", "old_email", "new_email", "requested_at", "confirmed_at", "reverted_at")
    search_fields = ("=old_email", "=new_email")
