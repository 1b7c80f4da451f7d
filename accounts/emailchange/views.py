"""The pages the two email-change mails link to; the token in their URL is exactly what the
API's `auth/email/change/confirm/` and `revert/` take. GET only shows a button, so a mail
scanner that prefetches links changes nothing."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.emailchange import services

PAGES = {
    "confirm": {
        "service": services.email_change_confirm,
        "heading": "Confirm your new email address",
        "explanation": "Press the button to make this address your account's email.",
        "button": "Confirm the new address",
        "done": "Your account now uses this address.",
    },
    "revert": {
        "service": services.email_change_revert,
        "heading": "Undo the email change",
        "explanation": "Press the button to keep your old address, sign out every session, "
        "remove every passkey and get a link to choose a new password.",
        "button": "This was not me",
        "done": "Your old address is back and every session has ended. Check that mailbox for "
        "a link to choose a new password.",
    },
}


@never_cache
@require_http_methods(["GET", "POST"])
def email_change(request, action, token):
    page = PAGES[action]
    if request.method == "POST":
        try:
            page["service"](token=token)
        except ValidationError:
            return render(request, "accounts/link_invalid.html", status=400)
        context = {"heading": "Done", "explanation": page["done"]}
        return render(request, "accounts/email_change_done.html", context)
    return render(request, "accounts/email_change.html", page)
