"""The password rules Django's validators lack: a bound on the length, and text a hasher can take.

Listed first in AUTH_PASSWORD_VALIDATORS, so every entry point that sets a password (the API, the
pages, the admin, `import_users`, `changepassword`, `createsuperuser`) refuses one longer than
MAX_PASSWORD_LENGTH before the other validators or the hasher see it; the login gate treats such a
password as wrong without hashing it (accounts.login_gate).
"""

from django.core.exceptions import ValidationError

from accounts.models import MAX_PASSWORD_LENGTH


class MaximumLengthValidator:
    def validate(self, password, user=None):
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                "This password is too long. It must contain at most %(max)d characters.",
                code="password_too_long",
                params={"max": MAX_PASSWORD_LENGTH},
            )
        if not hashable(password):
            # A lone surrogate (say, from a terminal's undecodable bytes): UTF-8 cannot hold it.
            raise ValidationError(
                "This password contains a character that is not valid text.",
                code="password_not_text",
            )

    def get_help_text(self):
        return f"Your password must contain at most {MAX_PASSWORD_LENGTH} characters."


def hashable(password) -> bool:
    """Whether the hashers can take `password`: it encodes to UTF-8 (no lone surrogate)."""
    return not any("\ud800" <= char <= "\udfff" for char in password)
