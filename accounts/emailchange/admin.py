from django.contrib import admin

from accounts.emailchange.models import EmailChange


@admin.register(EmailChange)
class EmailChangeAdmin(admin.ModelAdmin):
    """Read-only: changes happen through the links, never by editing a row."""

    list_display = ("user", "old_email", "new_email", "requested_at", "confirmed_at", "reverted_at")
    search_fields = ("=old_email", "=new_email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
