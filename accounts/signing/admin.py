"""The signing keys in the admin: read-only, public parts only. They change with `manage.py
signing_keys` (rotation has timing rules a form would not keep)."""

from django.contrib import admin

from accounts.records_admin import NoEditsAdmin
from accounts.signing.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(NoEditsAdmin):
    list_display = ["kid", "algorithm", "state", "created_at", "activated_at", "published_until"]
    fields = [*list_display, "superseded_at", "public_jwk"]
    readonly_fields = fields
    secret_fields = ("private_key_encrypted",)

    @admin.display(description="state")
    def state(self, key):
        return key.state()
