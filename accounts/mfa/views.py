"""The browser side of second factors: the login's second step (admin, browsable API) and the
`/accounts/security/` page. The page's script talks to the API with the session (and CSRF)."""

import json
import time

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import login_gate
from accounts.mfa import services as mfa
from accounts.mfa.forms import SecondFactorForm

PENDING = "roster_mfa_pending"


class SecondStepLoginView(LoginView):
    """Django's LoginView whose correct password, for a user with a second factor, does not log
    in yet: it leads to the second step (`login_verify`) with the pending login in the session."""

    def form_valid(self, form):
        user = form.get_user()
        if not mfa.has_second_factor(user):
            auth_login(self.request, user)  # marks the session's auth time (accounts.reauth)
            return redirect(self.get_success_url())
        self.request.session[PENDING] = {
            "user": str(user.pk),
            # A pending login like the API's `mfa_token`: whatever ends every session (a new
            # password, a deactivation) ends it too, and it is spent once.
            "mfa_token": mfa.pending_login_start(user=user),
            # The password it was started with: a change or reset meanwhile voids it.
            "hash": user.get_session_auth_hash(),
            "until": time.time() + mfa.PENDING_LOGIN_LIFETIME.total_seconds(),
            "next": self.get_success_url(),
        }
        return redirect("accounts:login-verify")


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None, None
    user = mfa.pending_login_user(pending.get("mfa_token"))
    if (
        user is None
        or str(user.pk) != pending.get("user")
        or not constant_time_compare(str(pending.get("hash", "")), user.get_session_auth_hash())
    ):
        return None, None
    return user, pending.get("next")


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_verify(request):
    """The login's second step: a TOTP code, a recovery code, or a passkey (script)."""
    user, next_url = _pending_user(request)
    if user is None:
        request.session.pop(PENDING, None)
        return render(request, "accounts/login_verify_expired.html", status=400)
    form = SecondFactorForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        client = login_gate.Client.of(request)
        try:
            mfa.second_factor_login(
                mfa_token=request.session[PENDING]["mfa_token"], client=client, **form.proof()
            )
        except mfa.InvalidPendingLogin:  # spent or ended since the page was shown
            request.session.pop(PENDING, None)
            return render(request, "accounts/login_verify_expired.html", status=400)
        except login_gate.TooManyAttempts as exc:
            form.add_error(None, f"Too many attempts. Try again in {exc.retry_after} seconds.")
            response = _render_verify(request, form, user, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except login_gate.WrongCredentials:
            form.add_error(None, "That did not work. Check the code and try again.")
        else:
            request.session.pop(PENDING, None)
            auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            safe = url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            response = redirect(next_url if safe else settings.LOGIN_REDIRECT_URL)
            login_gate.remember_device(response, client=client, user=user)
            return response
    if form.errors:
        status = 400
    return _render_verify(request, form, user, status=status)


def _render_verify(request, form, user, *, status):
    context = {"form": form, "methods": mfa.methods(user)}
    return render(request, "accounts/login_verify.html", context, status=status)


@never_cache
@login_required(login_url="/api-auth/login/")
def security(request):
    """Manage TOTP and passkeys (the page's script calls the API with this session)."""
    context = {
        "overview": mfa.overview(request.user),
        "api": json.dumps(
            {"base": reverse("api:mfa").removesuffix("mfa/"), "login": settings.LOGIN_URL}
        ),
    }
    return render(request, "accounts/security.html", context)
