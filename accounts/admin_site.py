"""Roster's admin site: Django's, with its login and password change going through the login gate.

Every login attempt counts against the client IP (`login`), failed logins against the account
(`login_failures`), exactly as the API's token login; past either limit the login page answers 429
with `Retry-After` and a clear message, without checking the password. A successful login gives
the browser the device credential that exempts it from a stranger's lockout.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse

from accounts import login_gate
from accounts.forms import GatedLoginForm, GatedPasswordChangeForm


class AdminLoginForm(GatedLoginForm, AdminAuthenticationForm):
    """The admin login form (staff only), through the login gate."""

    error_messages = {**AdminAuthenticationForm.error_messages, **GatedLoginForm.throttled_message}


class _GatedPasswordChangeView(PasswordChangeView):
    form_class = GatedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        return refused_if_throttled(super().form_invalid(form))


def refused_if_throttled(response):
    """A form page whose form the login gate refused answers 429 with Retry-After."""
    form = getattr(response, "context_data", {}).get("form")
    wait = getattr(form, "retry_after", None)
    if wait is not None:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response


def gated_login_response(request, response):
    """The answer of a login view through the gate: 429 with Retry-After when the gate refused,
    the device credential when it let a user in."""
    refused_if_throttled(response)
    if request.method == "POST" and response.status_code == 302 and request.user.is_authenticated:
        client = login_gate.Client.of(request)
        login_gate.remember_device(response, client=client, user=request.user)
    return response


class RosterAdminSite(AdminSite):
    site_header = "Roster administration"
    site_title = "Roster admin"
    index_title = "Users and tokens"
    login_form = AdminLoginForm

    def login(self, request, extra_context=None):
        return gated_login_response(request, super().login(request, extra_context))

    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return _GatedPasswordChangeView.as_view(
            success_url=reverse("admin:password_change_done", current_app=self.name),
            template_name=self.password_change_template or "registration/password_change_form.html",
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
