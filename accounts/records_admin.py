"""Admin bases for rows that only Roster's services write (events, deliveries, keys, changes)."""

from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP


class HidesSecretsAdmin(admin.ModelAdmin):
    """Never a lookup on `secret_fields` in a changelist's query string.

    Django's admin lets any lookup on a model's own fields through (`?encrypted_secret__startswith=
    gAAAAB`): the result count would read a stored secret one character at a time from a page
    that never shows it. Django's UserAdmin does the same for `password`."""

    secret_fields = ()

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(LOOKUP_SEP, 1)[0] in self.secret_fields:
            return False
        return super().lookup_allowed(lookup, value, request)


class NoEditsAdmin(HidesSecretsAdmin):
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
