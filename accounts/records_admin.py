"""Admin bases for rows that only Roster's services write (events, deliveries, keys, changes)."""

from django.contrib import admin


class NoEditsAdmin(admin.ModelAdmin):
    """Nobody adds, edits or deletes these rows in the admin: the services own them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffRecordAdmin(NoEditsAdmin):
    """...and every active staff member may read them, as the staff API may."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
