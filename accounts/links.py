"""The single-use links in emails: password reset and email verification.

Their uid and token are exactly what the API's confirm endpoints and the account pages take.
"""

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User


class PasswordResetTokens(PasswordResetTokenGenerator):
    """Django's reset tokens: they die when the password (or last login) changes, and expire.

    They also die with a deactivation, and stay dead once the account is reactivated (the
    `is_active` flag alone would flip back and revive a link mailed before staff locked a
    phished account): the moment of the latest deactivation or closing is hashed in.
    """

    # The salt names the old module so links mailed before the split keep working.
    key_salt = "accounts.tokens.PasswordResetTokens"

    def _make_hash_value(self, user, timestamp):
        from accounts.audit.models import EventType, SecurityEvent  # it builds on this module

        ended_access = (EventType.ACCOUNT_DEACTIVATED, EventType.ACCOUNT_CLOSED)

        deactivated = (
            SecurityEvent.objects.filter(user=user, type__in=ended_access)
            .order_by("-id")  # the (user, id) index, newest first
            .values_list("at", flat=True)
            .first()
        )
        moment = "" if deactivated is None else int(deactivated.timestamp() * 1_000_000)
        return f"{super()._make_hash_value(user, timestamp)}{moment}"


class EmailVerificationTokens(PasswordResetTokenGenerator):
    """Verification tokens: they die once the email is verified or changed, and expire.

    A verification moves `email_verified_at` forward and un-verifying keeps it, so a link made
    before a verification stays dead even after staff un-verify the address (the verified flag
    alone would flip back and revive it). Links of never-verified users hash as before.
    """

    key_salt = "accounts.tokens.EmailVerificationTokens"

    def _make_hash_value(self, user, timestamp):
        verified_at = user.email_verified_at
        moment = "" if verified_at is None else int(verified_at.timestamp() * 1_000_000)
        return f"{user.pk}{user.email}{user.email_verified}{user.is_active}{timestamp}{moment}"


password_reset_tokens = PasswordResetTokens()
email_verification_tokens = EmailVerificationTokens()


def encode_uid(user):
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_from_uid(uidb64):
    """The user a link's uid names, or None for anything malformed or unknown."""
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        return User.objects.get(pk=pk)
    except (TypeError, ValueError, OverflowError, ValidationError, User.DoesNotExist):
        return None
