"""Roster's business rules, as plain functions.

The API views, the admin and the management commands all call these, so a rule holds however a
change arrives. Input problems raise Django's `ValidationError` keyed by field; the API turns it
into a 400 problem, the admin and the commands into a message.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts import emails
from accounts.links import email_verification_tokens, password_reset_tokens, user_from_uid
from accounts.models import User
from accounts.tokens import revoke_all_refresh_tokens

EMAIL_TAKEN = "A user with this email already exists."
INVALID_LINK = "This link is invalid, expired or already used."


def _check_password(password, *, user, field="password"):
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def user_create(
    *,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_active: bool = True,
    email_verified: bool = False,
    send_verification: bool = True,
) -> User:
    """Create a user; the email must be new ignoring case, even under concurrent requests.

    A `None` password gives an unusable one (the user sets it through a reset).
    """
    user = User(
        email=User.objects.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        is_active=is_active,
        email_verified=email_verified,
    )
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user=user)
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        # The unique index on lower(email) decides races that a prior lookup could not.
        raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
    if send_verification and not email_verified:
        emails.send_verification_email(user)
    return user


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Self-registration: an ordinary, unverified user, sent a verification email."""
    return user_create(email=email, password=password, first_name=first_name, last_name=last_name)


def user_update(*, user: User, data: dict) -> User:
    """Change names, or (staff callers) email and status; a new email needs re-verification.

    Only the changed columns are written, so a concurrent password change is never undone.
    """
    changed = set()
    email = data.get("email")
    if email is not None:
        email = User.objects.normalize_email(email)
        if email.lower() != user.email.lower():
            user.email_verified = False
            changed.add("email_verified")
        user.email = email
        changed.add("email")
    for field in ("first_name", "last_name", "is_staff", "is_active", "email_verified"):
        if field in data:
            setattr(user, field, data[field])
            changed.add(field)
    if not changed:
        return user
    try:
        with transaction.atomic():
            user.save(update_fields=sorted(changed))
            if not user.is_active:
                revoke_all_refresh_tokens(user)
    except IntegrityError as exc:
        raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
    return user


def verification_email_send(*, user: User) -> None:
    """(Re)send the verification link; a no-op for an already verified address."""
    if not user.email_verified:
        emails.send_verification_email(user)


@transaction.atomic
def email_verify(*, uidb64: str, token: str) -> User:
    """Mark the email verified. The token dies with it, so a second use is refused."""
    user = user_from_uid(uidb64)
    if user is not None:
        user = User.objects.select_for_update().get(pk=user.pk)
    if user is None or not user.is_active or not email_verification_tokens.check_token(user, token):
        raise ValidationError({"token": [INVALID_LINK]})
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return user


def email_mark_verified(*, user: User) -> User:
    """Operator's shortcut (admin action): mark an address verified without the link."""
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return user


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Change the password; every earlier access and refresh token of the user stops working."""
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    _check_password(new_password, user=user, field="new_password")
    _set_password(user, new_password)


def password_reset_request(*, email: str) -> None:
    """Email a reset link when an active account has this address; silent otherwise."""
    user = User.objects.with_email(email).filter(is_active=True).first()
    if user is not None:
        emails.send_password_reset_email(user)


def password_reset_email_send(*, user: User) -> None:
    """Operator's action: email the user a reset link."""
    emails.send_password_reset_email(user)


@transaction.atomic
def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link: single use, even when confirms race."""
    user = user_from_uid(uidb64)
    if user is not None:
        # The row lock makes a concurrent confirm wait, then fail the token check below.
        user = User.objects.select_for_update().get(pk=user.pk)
    if user is None or not user.is_active or not password_reset_tokens.check_token(user, token):
        raise ValidationError({"token": [INVALID_LINK]})
    _check_password(new_password, user=user, field="new_password")
    _set_password(user, new_password)
    return user


def _set_password(user, password):
    user.set_password(password)
    user.save(update_fields=["password"])
    # Access tokens die with the old hash (SimpleJWT's revoke claim); refresh tokens explicitly.
    revoke_all_refresh_tokens(user)


CLOSE_OWN_ACCOUNT = "Close your own account at users/me/; it asks for your password."


def user_deactivate(*, user: User, by: User | None = None) -> User:
    """Deactivate instead of deleting: the row stays, every token stops working at once.

    Nobody deactivates their own account this way (`by` is the operator): that goes through
    `user_delete_own_account`, which asks for the password.
    """
    if by is not None and by.pk == user.pk:
        raise PermissionDenied(CLOSE_OWN_ACCOUNT)
    return _deactivate(user)


def user_delete_own_account(*, user: User, password: str) -> User:
    """A user closing their own account must confirm with the password."""
    if not user.check_password(password):
        raise ValidationError({"password": ["The password is not correct."]})
    return _deactivate(user)


@transaction.atomic
def _deactivate(user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    revoke_all_refresh_tokens(user)
    return user


def user_reactivate(*, user: User, by: User | None = None) -> User:
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user
