"""The pages the emails link to. Their uid and token are exactly what the API's confirm
endpoints take, so a client may use either."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.admin_site import gated_login_response
from accounts.forms import GatedLoginForm, SetPasswordForm
from accounts.links import email_verification_tokens, password_reset_tokens, user_from_uid
from accounts.mfa.views import SecondStepLoginView


def _link_is_valid(uidb64, token, generator):
    user = user_from_uid(uidb64)
    return user is not None and user.is_active and generator.check_token(user, token)


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, uidb64, token):
    if not _link_is_valid(uidb64, token, password_reset_tokens):
        return render(request, "accounts/link_invalid.html", status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_reset_confirm(
                uidb64=uidb64, token=token, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            messages = exc.message_dict.get("new_password") or exc.messages
            form.add_error("new_password1", messages)
        else:
            return render(request, "accounts/password_reset_done.html", {"account": user})
    status = 400 if form.errors else 200
    return render(request, "accounts/password_reset_confirm.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def email_verify(request, uidb64, token):
    """GET only shows a button: mail scanners that prefetch links must not verify by accident."""
    if not _link_is_valid(uidb64, token, email_verification_tokens):
        return render(request, "accounts/link_invalid.html", status=400)
    if request.method == "POST":
        try:
            user = services.email_verify(uidb64=uidb64, token=token)
        except ValidationError:  # used up by a concurrent request since the check above
            return render(request, "accounts/link_invalid.html", status=400)
        return render(request, "accounts/email_verify_done.html", {"account": user})
    return render(request, "accounts/email_verify.html")


class BrowsableAPILoginView(SecondStepLoginView):
    """`/api-auth/login/`: DRF's login page, with the form going through the login gate."""

    form_class = GatedLoginForm
    template_name = "rest_framework/login.html"

    def post(self, request, *args, **kwargs):
        return gated_login_response(request, super().post(request, *args, **kwargs))
