"""The email change: nothing changes until the new address confirms, and the old address can
undo it.

1. `email_change_request` (the user, with their password through the login gate): a single-use
   link to the new address, a notice with a revert link to the old one. The account is untouched.
2. `email_change_confirm` (the new address's token): the email becomes the new, verified address.
3. `email_change_revert` (the old address's token, before or after the confirmation): the old
   address comes back (even after later changes: the earliest address wins, and the revert
   links of the changes after it die), every session, token and passkey ends, and the password
   becomes unusable: the owner sets a new one through the reset link mailed to the restored
   address.

The links' tokens are the change id signed with the secret key (accounts.emailchange.links), so
neither the row nor the mail queue holds anything that confirms or reverts; a token is single use
and expires by the row's state (confirm: `PASSWORD_RESET_TIMEOUT`; revert:
`EMAIL_CHANGE_REVERT_DAYS`). Both mails are background tasks queued in the request's transaction.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import emails as account_emails
from accounts import login_gate, ratelimit
from accounts.audit.events import record
from accounts.audit.models import EventType
from accounts.emailchange import links
from accounts.emailchange.models import EmailChange
from accounts.mailboxes import mailbox_key
from accounts.mfa import services as mfa
from accounts.models import User
from accounts.services import EMAIL_TAKEN, INVALID_LINK, WRONG_PASSWORD
from accounts.tokens import revoke_all_refresh_tokens

SAME_EMAIL = "This is already your email address."


def email_change_request(
    *, user: User, new_email: str, password: str, client: login_gate.Client
) -> EmailChange:
    """Ask to move `user` to `new_email`: checks the password through the login gate, then
    mails the links. Raises ValidationError (wrong password, same or taken address)."""
    try:
        login_gate.verify_password(client=client, user=user, password=password)
    except login_gate.WrongCredentials:
        raise ValidationError({"password": [WRONG_PASSWORD]}) from None
    # Each request mails the new address and says whether it has an account (400 when taken):
    # counted per account and per target mailbox, like registration and reset requests.
    _count("email_change", f"user:{user.pk}")
    if target := mailbox_key(new_email):
        _count("email_change_email", ratelimit.digest(target))
    try:
        new_email = User.objects.normalize_email(new_email)
    except ValidationError as exc:
        raise ValidationError({"new_email": exc.messages}) from None
    if new_email == User.objects.normalize_email(user.email):
        raise ValidationError({"new_email": [SAME_EMAIL]})
    if User.objects.with_email(new_email).exists():
        raise ValidationError({"new_email": [EMAIL_TAKEN]})
    now = timezone.now()
    with transaction.atomic():
        stored = User.objects.select_for_update().get(pk=user.pk)
        if not stored.is_active:  # deactivated since the password was checked: as the gate says
            raise ValidationError({"password": [WRONG_PASSWORD]})
        # One pending change at a time: a newer request voids the older links.
        _pending(stored).update(cancelled_at=now)
        change = EmailChange.objects.create(
            user=stored,
            old_email=stored.email,
            new_email=new_email,
            confirm_by=now + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
            revert_by=now + timedelta(days=settings.EMAIL_CHANGE_REVERT_DAYS),
        )
        record(
            EventType.EMAIL_CHANGE_REQUESTED,
            user=stored,
            client=client,
            data={"old_email": stored.email, "new_email": new_email},
        )
        # To the new address: only its link. To the old one (still the user's email): the notice
        # with the revert link.
        account_emails.send_email_change_mail(
            "email_change_confirm", stored, to=new_email, change_id=change.pk
        )
        account_emails.send_email_change_mail(
            "email_change_notice", stored, to=stored.email, change_id=change.pk
        )
    return change


def _count(scope, ident):
    """One hit of `ident` in `scope`; TooManyAttempts past its limit (not counted without a
    cache: an outage of the cache must not stop the change)."""
    counter = ratelimit.window(scope, ident)
    if counter is None:
        return
    try:
        hits = ratelimit.hit(counter)
    except ratelimit.CacheUnavailable:
        ratelimit.logger.warning("Email change not counted: the cache is unreachable")
        return
    if hits > counter.limit:
        raise login_gate.TooManyAttempts(counter.seconds_left)


def cancel_pending(user) -> None:
    """Void `user`'s pending change (its confirm link; the revert link keeps working): every
    session ended, and whoever asked for it may not have been the owner."""
    _pending(user).update(cancelled_at=timezone.now())


def _pending(user):
    return EmailChange.objects.filter(
        user=user, confirmed_at=None, reverted_at=None, cancelled_at=None
    )


def _change_for(purpose, token):
    """`(change, user)` that a token names, both locked, else `(None, None)`.

    The user's row is locked before the change's, the order of every writer of both (a new
    request, a deactivation, a new password), so concurrent ones wait instead of deadlocking.
    """
    change_id = links.change_id_from(token, purpose)
    if change_id is None:
        return None, None
    owner = EmailChange.objects.filter(pk=change_id).values_list("user_id", flat=True).first()
    if owner is None:
        return None, None
    user = User.objects.select_for_update().filter(pk=owner).first()
    change = EmailChange.objects.select_for_update().filter(pk=change_id, user_id=owner).first()
    if user is None or change is None:
        return None, None
    return change, user


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    """The new address confirms: it becomes the user's verified email. Single use."""
    change, user = _change_for("confirm", token)
    now = timezone.now()
    if (
        change is None
        or change.confirmed_at
        or change.reverted_at
        or change.cancelled_at
        or change.confirm_by < now
    ):
        raise ValidationError({"token": [INVALID_LINK]})
    if not user.is_active or user.email != change.old_email:
        # The account moved on since the request (closed, or staff changed its address).
        raise ValidationError({"token": [INVALID_LINK]})
    user.email, user.email_verified, user.email_verified_at = change.new_email, True, now
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified", "email_verified_at"])
    except IntegrityError as exc:
        raise ValidationError({"token": [EMAIL_TAKEN]}) from exc
    change.confirmed_at = now
    change.save(update_fields=["confirmed_at"])
    record(
        EventType.EMAIL_CHANGED,
        user=user,
        data={"by": "user", "old_email": change.old_email, "new_email": change.new_email},
    )
    return user


@transaction.atomic
def email_change_revert(*, token: str) -> User:
    """The old address says "not me": its email comes back (if the change went through), every
    session and token ends, and the password is unusable until a reset. Single use."""
    change, user = _change_for("revert", token)
    now = timezone.now()
    if change is None or change.reverted_at or change.revert_by < now:
        raise ValidationError({"token": [INVALID_LINK]})
    changes = EmailChange.objects.filter(user=user)
    if changes.filter(pk__lt=change.pk, reverted_at__gt=change.requested_at).exists():
        # An earlier address already undid this change (and every later one): the holder of an
        # address the account moved through since must not take it back.
        raise ValidationError({"token": [INVALID_LINK]})
    fields = ["password"]
    # The account left the old address through this change or a later one (a thief who moves it
    # on again must not keep it): the old address comes back.
    moved_on = changes.filter(pk__gte=change.pk, confirmed_at__isnull=False).exists()
    if moved_on and user.email != change.old_email:
        user.email, user.email_verified, user.email_verified_at = change.old_email, True, now
        fields += ["email", "email_verified", "email_verified_at"]
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError as exc:  # the old address was taken by another account meanwhile
        raise ValidationError({"token": [EMAIL_TAKEN]}) from exc
    revoke_all_refresh_tokens(user)
    # A passkey logs in without the password: one the intruder registered must go too.
    mfa.passkeys_forget_all(user=user, why="the email change was undone")
    change.reverted_at = now
    change.save(update_fields=["reverted_at"])
    _pending(user).update(cancelled_at=now)
    record(
        EventType.EMAIL_CHANGE_REVERTED,
        user=user,
        data={"restored_email": user.email, "was_confirmed": change.confirmed_at is not None},
    )
    account_emails.send_password_reset_email(user)
    return user
