"""The signing keys in the admin: read-only, public parts only. They change with `manage.py
signing_keys` (rotation has timing rules a form would not keep)."""

from django.contrib import admin

from accounts.signing.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ["kid", "algorithm", "state", "created_at", "activated_at", "published_until"]
    fields = [*list_display, "superseded_at", "public_jwk"]
    readonly_fields = fields

    @admin.display(description="state")
    def state(self, key):
        return key.state()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
