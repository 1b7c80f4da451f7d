"""The emails Roster sends: plain text and HTML, links absolute from SITE_URL."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.links import email_verification_tokens, encode_uid, password_reset_tokens

logger = logging.getLogger(__name__)


def _send(*, user, template, context):
    # Templates greet by name only a verified address: an unverified one may not be the typist's.
    context = {"user": user, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    try:
        message.send()
    except Exception:
        logger.exception("Could not send the %s email to user %s", template, user.pk)


def verification_link(user):
    uid, token = encode_uid(user), email_verification_tokens.make_token(user)
    return f"{settings.SITE_URL}/accounts/email/verify/{uid}/{token}/"


def password_reset_link(user):
    uid, token = encode_uid(user), password_reset_tokens.make_token(user)
    return f"{settings.SITE_URL}/accounts/password/reset/{uid}/{token}/"


def send_verification_email(user):
    _send(user=user, template="verify_email", context={"link": verification_link(user)})


def send_password_reset_email(user):
    _send(user=user, template="password_reset", context={"link": password_reset_link(user)})
