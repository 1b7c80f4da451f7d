"""The two links of an email change, derived from the change's id and the secret key.

Nothing secret is stored: not in the change's row, not in the mail queue. The worker that renders
a mail derives its link again from the change id. A token is the id signed for one purpose
(`confirm` or `revert`); whether it may still be used (single use, expiry) is the row's state.
"""

from django.conf import settings
from django.core import signing

_SALT = "accounts.emailchange.{}"


def token_for(change_id: int, purpose: str) -> str:
    return signing.Signer(salt=_SALT.format(purpose)).sign(str(change_id))


def change_id_from(token, purpose: str) -> int | None:
    """The change id a token names for `purpose`, or None for anything forged or malformed."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    try:
        value = signing.Signer(salt=_SALT.format(purpose)).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() and len(value) <= 18 else None


def link(change_id: int, purpose: str) -> str:
    return f"{settings.SITE_URL}/accounts/email/change/{purpose}/{token_for(change_id, purpose)}/"


def mail_values(kind: str, context: dict) -> dict:
    """What the `email_change_confirm` and `email_change_notice` templates show."""
    from accounts.emailchange.models import EmailChange

    change = EmailChange.objects.filter(pk=context.get("change_id")).first()
    if change is None:
        return {}
    purpose = "confirm" if kind == "email_change_confirm" else "revert"
    return {
        "link": link(change.pk, purpose),
        "old_email": change.old_email,
        "new_email": change.new_email,
        "revert_days": settings.EMAIL_CHANGE_REVERT_DAYS,
    }
