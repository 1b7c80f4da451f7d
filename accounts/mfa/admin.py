"""The operator's view of second factors: shown on each user's page, reset by an action (through
the policy's `mfa` field: staff for ordinary users, superusers for staff and superusers)."""

from django.contrib import admin
from django.db.models import Count, Q

from accounts.mfa import services as mfa


class SecondFactorsAdminMixin:
    """Mixed into accounts.admin.UserAdmin."""

    @admin.display(description="Second factors")
    def second_factors(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        state = mfa.overview(obj)
        parts = ["TOTP" if state["totp"] else None]
        parts += [f"passkey “{passkey.name}”" for passkey in state["passkeys"]]
        found = [part for part in parts if part]
        if not found:
            return "None (password only)"
        return f"{', '.join(found)}; {state['recovery_codes_left']} recovery codes left"

    @admin.action(
        permissions=["change"],
        description="Reset the selected users' second factors (TOTP, passkeys, recovery codes)",
    )
    def reset_second_factors(self, request, queryset):
        with_factors = queryset.annotate(
            factors=Count("totp_device", filter=Q(totp_device__confirmed=True))
            + Count("passkeys", distinct=True)
        ).filter(factors__gt=0)
        self._run(
            request,
            with_factors,
            mfa.second_factors_reset,
            "Reset the second factors of {}.",
        )
