"""Roster's admin site: Django's, with its login and password change going through the login gate.

Every login attempt counts against the client IP (`login`), failed logins against the account
(`login_failures`), exactly as the API's token login; past either limit the login page answers 429
with `Retry-After` and a clear message, without checking the password. A successful login gives
the browser the device credential that exempts it from a stranger's lockout.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from accounts import login_gate
from accounts.forms import GatedLoginForm, GatedPasswordChangeForm
from accounts.mfa.views import SecondStepLoginView


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


class CheckedChangeList(ChangeList):
    """A changelist whose query-string filters are compiled before the page counts its rows: a
    value only the SQL compiler refuses (`?date_joined__year=99999999999999999999`, an
    OverflowError or ValueError there) is Django's bad-filter answer (`?e=1`), not a 500."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        try:
            queryset.query.get_compiler(queryset.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass  # a filter that matches nothing (or everything) is a fine filter
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset


class CheckedChangeListAdmin:
    """Mixed into every ModelAdmin registered on Roster's site (also SimpleJWT's, Django's)."""

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if changelist is ChangeList:
            return CheckedChangeList
        return changelist


class RosterAdminSite(AdminSite):
    site_header = "Roster administration"
    site_title = "Roster admin"
    index_title = "Users and tokens"
    login_form = AdminLoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every admin's changelist checks its filters (CheckedChangeList), whoever wrote it."""
        from django.contrib.admin import ModelAdmin

        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, CheckedChangeListAdmin):
            admin_class = type(admin_class.__name__, (CheckedChangeListAdmin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    @method_decorator(never_cache)
    @method_decorator(login_not_required)
    def login(self, request, extra_context=None):
        """Django's admin login, through the login gate and the second step (a user with a
        second factor is logged in only after `accounts:login-verify`)."""
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        view = SecondStepLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form,
            template_name=self.login_template or "admin/login.html",
        )
        return gated_login_response(request, view(request))

    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return _GatedPasswordChangeView.as_view(
            success_url=reverse("admin:password_change_done", current_app=self.name),
            template_name=self.password_change_template or "registration/password_change_form.html",
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
