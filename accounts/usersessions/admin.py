"""A user's open sessions in the admin, read-only, on the user's page (ending them is the user
admin's action "End the selected users' sessions", through the policy)."""

from django.contrib import admin

from accounts.usersessions.models import UserSession


class UserSessionInline(admin.TabularInline):
    model = UserSession
    fk_name = "user"
    verbose_name = "open session"
    verbose_name_plural = "open sessions (end them with the action on the user list)"
    fields = ("kind", "device", "ip_address", "created_at", "last_used_at", "expires_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).live()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
