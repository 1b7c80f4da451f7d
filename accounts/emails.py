"""The emails Roster sends: plain text and HTML, links absolute from SITE_URL.

Nothing is sent here during a request: the `send_*` functions queue a task (accounts.background)
in the caller's transaction, and the worker renders the email when it runs it, so the links'
tokens are fresh and never stored in the queue. An address that is not verified yet gets nothing
its registrant typed (no name, no details), only what Roster wrote.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string

from accounts.links import email_verification_tokens, encode_uid, password_reset_tokens
from accounts.notices import NOTICES

# issue 15: the email change's link to the new address and notice (with its revert link) to the old.
EMAIL_CHANGE_KINDS = frozenset({"email_change_confirm", "email_change_notice"})
KINDS = frozenset({"verify_email", "password_reset"}) | NOTICES | EMAIL_CHANGE_KINDS


def verification_link(user):
    uid, token = encode_uid(user), email_verification_tokens.make_token(user)
    return f"{settings.SITE_URL}/accounts/email/verify/{uid}/{token}/"


def password_reset_link(user):
    uid, token = encode_uid(user), password_reset_tokens.make_token(user)
    return f"{settings.SITE_URL}/accounts/password/reset/{uid}/{token}/"


def _enqueue(kind, user, context=None):
    from accounts.background.tasks import send_email

    send_email.enqueue(kind=kind, user_id=str(user.pk), to=user.email, context=context or {})


def send_verification_email(user):
    _enqueue("verify_email", user)


def send_password_reset_email(user):
    _enqueue("password_reset", user)


def send_password_reset_to_address(email):
    """Queue a reset link for whichever active account has `email`, if any: the request does the
    same work whether or not one exists (the worker looks it up)."""
    from accounts.background.tasks import send_password_reset

    if _storable(email) != email:
        return  # no account has an address the database cannot store
    send_password_reset.enqueue(email=email)


def send_email_change_mail(kind, user, *, to, change_id):
    """Queue one mail of an email change to `to` (the new address, or the old one)."""
    from accounts.background.tasks import send_email

    if kind not in EMAIL_CHANGE_KINDS:
        raise ValueError(f"Unknown email {kind!r}")
    send_email.enqueue(kind=kind, user_id=str(user.pk), to=to, context={"change_id": change_id})


def _storable(text):
    """`text` as the queue's JSON column can hold it: no NUL, no lone surrogate."""
    return text.encode("utf-8", "replace").decode().replace("\x00", "")


def send_notice(user, notice, context):
    if notice not in NOTICES:
        raise ValueError(f"Unknown notice {notice!r}")
    # Details may come from a client (a User-Agent); they must never fail the change they report.
    clean = {key: _storable(v) if isinstance(v, str) else v for key, v in context.items()}
    _enqueue(notice, user, clean)


def still_wanted(kind, *, user, to):
    """Whether a queued email still makes sense when the worker gets to it."""
    if kind == "verify_email":
        return not user.email_verified and user.email == to
    if kind == "password_reset":
        return user.is_active and user.email == to
    return True


def render(kind, *, user, to, context):
    """The `kind` email to `to`, from templates/emails/<kind>{_subject.txt,.txt,.html}."""
    if kind not in KINDS:
        raise ValueError(f"Unknown email {kind!r}")
    verified = user.email_verified and user.email == to
    values = {
        "site_url": settings.SITE_URL,
        "email": to,
        # Typed by whoever registered the address: only for an address proven to be the user's.
        "name": user.first_name if verified else "",
        "details": context if verified else {},
    }
    if kind in EMAIL_CHANGE_KINDS:
        from accounts.emailchange.links import mail_values

        values.update(mail_values(kind, context))
    elif user.email != to:
        # The account has moved on from `to` since the mail was queued (staff changed its
        # address, and the notice goes to the old one): a link that acts on the account would
        # hand it to whoever holds the former address.
        pass
    elif kind == "verify_email":
        values["link"] = verification_link(user)
    elif kind == "password_reset" or (kind in NOTICES and user.is_active):
        values["reset_link"] = values["link"] = password_reset_link(user)
    subject = _plain_text(f"emails/{kind}_subject.txt", values).strip()
    message = EmailMultiAlternatives(
        subject=subject, body=_plain_text(f"emails/{kind}.txt", values), to=[to]
    )
    message.attach_alternative(render_to_string(f"emails/{kind}.html", values), "text/html")
    return message


def _plain_text(name, values):
    """A text template rendered without HTML escaping: the plain part and the subject show a name
    or an address as typed (`O'Brien`, not `O&#x27;Brien`); only the HTML part escapes."""
    return get_template(name).template.render(Context(values, autoescape=False))
