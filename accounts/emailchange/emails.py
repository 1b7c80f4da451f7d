"""The two mails of an email change. They leave only when the request's transaction commits.

The mail to the new address is to an unverified address: it holds nothing the requester typed
(no name), only the link.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def _send(*, to, template, context):
    context = {"site_url": settings.SITE_URL, **context}
    message = EmailMultiAlternatives(
        subject=render_to_string(f"emails/{template}_subject.txt", context).strip(),
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("Could not send the %s email", template)


def confirm_link(token):
    return f"{settings.SITE_URL}/accounts/email/change/confirm/{token}/"


def revert_link(token):
    return f"{settings.SITE_URL}/accounts/email/change/revert/{token}/"


def send_confirmation(change, token):
    context = {"new_email": change.new_email, "link": confirm_link(token)}
    transaction.on_commit(
        lambda: _send(to=change.new_email, template="email_change_confirm", context=context)
    )


def send_notice(change, token):
    """To the old address: who asked, the new address, and the link that undoes it all."""
    context = {
        "user": change.user,
        "old_email": change.old_email,
        "new_email": change.new_email,
        "link": revert_link(token),
        "revert_days": settings.EMAIL_CHANGE_REVERT_DAYS,
    }
    transaction.on_commit(
        lambda: _send(to=change.old_email, template="email_change_notice", context=context)
    )
