"""Roster's admin site: Django's, with the login throttled exactly like the API's token login.

Every login attempt counts against the client IP (the `login` rate), and failed logins count
against the account (`login_failures`, via `LoginFailureThrottle`); past either limit the login
page answers 429 with `Retry-After` and a clear message, without checking the password.
"""

import math

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from rest_framework.exceptions import Throttled

from accounts.throttles import LoginFailureThrottle, LoginThrottle

THROTTLED = "Too many login attempts. Try again in %(wait)s seconds."


class AdminLoginForm(AdminAuthenticationForm):
    """The admin login form, refusing attempts past the API's login limits.

    `throttle_wait` holds the seconds to wait when the attempt was refused for that reason.
    """

    throttle_wait = None

    def clean(self):
        self.throttle_wait = self._wait_per_ip()
        if self.throttle_wait is None:
            failures = LoginFailureThrottle(self.cleaned_data.get("username"))
            try:
                with failures.attempt(failure=ValidationError):
                    return super().clean()
            except Throttled as exc:
                self.throttle_wait = math.ceil(exc.wait)
        raise ValidationError(THROTTLED, code="throttled", params={"wait": self.throttle_wait})

    def _wait_per_ip(self):
        throttle = LoginThrottle()
        if throttle.allow_request(self.request, None):
            return None
        return max(1, round(throttle.wait() or 1))


class RosterAdminSite(AdminSite):
    site_header = "Roster administration"
    site_title = "Roster admin"
    index_title = "Users and tokens"
    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")
        wait = getattr(form, "throttle_wait", None)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response
