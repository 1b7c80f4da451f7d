"""Roster's business rules, as plain functions.

The API views, the admin and the management commands all call these, so a rule holds however a
change arrives. Every change to a user takes the actor explicitly and asks `accounts.policy`;
every presented password goes through `accounts.login_gate`. Input problems raise Django's
`ValidationError` keyed by field, refusals `PermissionDenied`; the API turns them into 400 and
403 problems, the admin and the commands into messages.
"""

from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import emails, login_gate, names, notices, policy
from accounts.audit.events import record
from accounts.audit.models import EventType
from accounts.links import email_verification_tokens, password_reset_tokens, user_from_uid
from accounts.models import User
from accounts.policy import Entry
from accounts.tokens import revoke_all_refresh_tokens
from accounts.usersessions.models import UserSession

EMAIL_TAKEN = "A user with this email already exists."
INVALID_LINK = "This link is invalid, expired or already used."
WRONG_PASSWORD = "The password is not correct."  # noqa: S105 - a message

# The columns `user_update` writes; `groups` and `user_permissions` are set as relations.
UPDATABLE = ("email", "first_name", "last_name", "is_active", "email_verified", "is_staff")
RELATIONS = ("groups", "user_permissions")


def _check_password(password, *, user, field="password"):
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _refuse_reserved(email, *, user=None):
    """An address an account left by an email change stays that account's while its revert link
    lives (accounts.emailchange): taking it would make the revert fail."""
    from accounts.emailchange.models import EmailChange  # that app builds on this module

    reserving = EmailChange.objects.reserving(email)
    if user is not None:
        reserving = reserving.exclude(user=user)
    if reserving.exists():
        raise ValidationError({"email": [EMAIL_TAKEN]})


def reserved_addresses(emails) -> set[str]:
    """Which of `emails` are kept for accounts that left them by an email change (see
    `_refuse_reserved`), in one query: for bulk writers such as `import_users`."""
    from accounts.emailchange.models import EmailChange  # that app builds on this module

    return EmailChange.objects.reserved(emails)


def _save_new(user):
    _refuse_reserved(user.email)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        # The unique index on lower(email) decides races that a prior lookup could not.
        raise ValidationError({"email": [EMAIL_TAKEN]}) from exc


def user_create(
    *,
    actor,
    email: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_active: bool = True,
    email_verified: bool = False,
    is_superuser: bool = False,
    entry: Entry = Entry.API,
) -> User:
    """Create a user as `actor` (staff, or a superuser for a staff account), asking the policy
    for every field that differs from a new ordinary account. The email must be new ignoring
    case, even under concurrent requests. A `None` password gives an unusable one (the user
    sets it through a reset). An unverified address is sent the verification email."""
    user = User(
        email=User.objects.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        is_active=is_active,
        email_verified=email_verified,
        email_verified_at=timezone.now() if email_verified else None,
        is_superuser=is_superuser,
    )
    fresh = User()
    fields = {"email"} | {
        f for f in (*UPDATABLE, "is_superuser") if getattr(user, f) != getattr(fresh, f)
    }
    policy.check_change(actor=actor, user=fresh, fields=fields, entry=entry)
    names.check(first_name=first_name, last_name=last_name)
    _set_initial_password(user, password)
    with transaction.atomic():
        _save_new(user)
        if not user.email_verified:
            emails.send_verification_email(user)
    return user


def _fields_set(new_user):
    """The fields a new user's creator chose: its email, and whatever differs from the defaults."""
    fresh = User()
    chosen = (field for field in (*UPDATABLE, "is_superuser") if field != "email")
    return {"email"} | {f for f in chosen if getattr(new_user, f) != getattr(fresh, f)}


def user_register(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Self-registration: an ordinary, unverified user, sent a verification email."""
    names.check(first_name=first_name, last_name=last_name)
    user = User(
        email=User.objects.normalize_email(email), first_name=first_name, last_name=last_name
    )
    _set_initial_password(user, password)
    with transaction.atomic():
        _save_new(user)
        emails.send_verification_email(user)
    return user


def _set_initial_password(user, password):
    if password is None:
        user.set_unusable_password()
    else:
        _check_password(password, user=user)
        user.set_password(password)


@transaction.atomic
def user_update(*, actor, user: User, data: dict, entry: Entry = Entry.API) -> User:
    """Change a user as `actor`: only the fields whose values differ from the stored row are
    changes, and the policy must allow every one of them, or nothing is written.

    A new email needs verifying again (unless `data` sets `email_verified` too); deactivating
    revokes every token. Only the changed columns are written, so a concurrent password change
    is never undone; `user` gets the changed values.
    """
    stored = User.objects.select_for_update().get(pk=user.pk)
    old_email = stored.email
    changes = {}
    for field in UPDATABLE:
        if field in data:
            value = data[field]
            if field == "email":
                value = User.objects.normalize_email(value)
            if value != getattr(stored, field):
                changes[field] = value
    relations = {
        name: set(data[name])
        for name in RELATIONS
        if name in data and set(data[name]) != set(getattr(stored, name).all())
    }
    if "is_superuser" in data and bool(data["is_superuser"]) != stored.is_superuser:
        changes["is_superuser"] = bool(data["is_superuser"])
    policy.check_change(actor=actor, user=stored, fields={*changes, *relations}, entry=entry)
    names.check(**{field: changes[field] for field in policy.NAMES if field in changes})
    if "email" in changes:
        _refuse_reserved(changes["email"], user=stored)
    if "email" in changes and "email_verified" not in changes and stored.email_verified:
        changes["email_verified"] = False
    if changes.get("email_verified") is True:
        # Un-verifying keeps the moment: the links made before it stay dead (accounts.links).
        changes["email_verified_at"] = timezone.now()
    if "email" in changes:
        # Sent while `stored` still has the old address, so that is where the notice goes: it may
        # be the owner's only way to notice a takeover.
        notices.send(stored, "email_change_requested", new_email=changes["email"])
    for field, value in changes.items():
        setattr(stored, field, value)
        setattr(user, field, value)
    if "email" in changes:
        try:
            with transaction.atomic():
                stored.save(update_fields=sorted(changes))
        except IntegrityError as exc:
            raise ValidationError({"email": [EMAIL_TAKEN]}) from exc
    elif changes:
        stored.save(update_fields=sorted(changes))
    for name, values in relations.items():
        getattr(stored, name).set(values)
    if changes.get("is_active") is False:
        revoke_all_refresh_tokens(stored, reason=UserSession.EndedReason.DEACTIVATED)
    _record_update(
        actor=actor, user=stored, changes=changes, relations=relations, old_email=old_email
    )
    if changes.get("email") and not stored.email_verified:
        emails.send_verification_email(stored)
    return user


def changes_privileges(user: User, data: dict) -> bool:
    """True when `data` would change `user`'s privileges (`is_staff`, `is_superuser`, groups,
    permissions): a sensitive change that needs recent authentication."""
    return any(
        field in data and bool(data[field]) != getattr(user, field)
        for field in ("is_staff", policy.SUPERUSER)
    ) or any(
        name in data and set(data[name]) != set(getattr(user, name).all())
        for name in policy.PRIVILEGES - {"is_staff"}
    )


PRIVILEGES = ("is_staff", "is_superuser")


def _record_update(*, actor, user, changes, relations, old_email):
    """The security events of one `user_update`, with the actor who made it."""
    privileges = {f: changes[f] for f in PRIVILEGES if f in changes}
    if privileges or relations:
        data = {**privileges, "fields": sorted({*privileges, *relations})}
        record(EventType.PRIVILEGES_CHANGED, user=user, actor=actor, data=data)
    if "is_active" in changes:
        kind = (
            EventType.ACCOUNT_REACTIVATED if changes["is_active"] else EventType.ACCOUNT_DEACTIVATED
        )
        record(kind, user=user, actor=actor)
    if "email" in changes:
        data = {"by": "staff", "old_email": old_email, "new_email": user.email}
        record(EventType.EMAIL_CHANGED, user=user, actor=actor, data=data)


def user_deactivate(*, actor, user: User, entry: Entry = Entry.API) -> User:
    """Deactivate instead of deleting: the row stays, every token stops working at once.

    Nobody deactivates their own account this way: that is `user_close_own_account`, which asks
    for the password.
    """
    return user_update(actor=actor, user=user, data={"is_active": False}, entry=entry)


def user_reactivate(*, actor, user: User, entry: Entry = Entry.API) -> User:
    return user_update(actor=actor, user=user, data={"is_active": True}, entry=entry)


def email_mark_verified(*, actor, user: User, entry: Entry = Entry.ADMIN) -> User:
    """Operator's shortcut (admin action): mark an address verified without the link. Like
    the link, it moves `email_verified_at`, so every earlier verification link dies."""
    return user_update(actor=actor, user=user, data={"email_verified": True}, entry=entry)


@transaction.atomic
def user_delete(*, actor, user: User) -> None:
    """Remove the row for good (admin only; the API deactivates instead)."""
    stored = User.objects.select_for_update().get(pk=user.pk)
    policy.check_change(actor=actor, user=stored, fields={"delete"}, entry=Entry.ADMIN)
    record(EventType.ACCOUNT_DELETED, user=stored, actor=actor, data={"email": stored.email})
    stored.delete()


def user_close_own_account(*, user: User, password: str, client: login_gate.Client) -> User:
    """A user closing their own account confirms it with the password (through the login gate)."""
    _confirm_password(user=user, password=password, client=client, field="password")
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        revoke_all_refresh_tokens(user, reason=UserSession.EndedReason.DEACTIVATED)
        notices.send(user, "account_closed")
        record(EventType.ACCOUNT_CLOSED, user=user, client=client)
    return user


def login(*, email: str, password: str, client: login_gate.Client) -> User:
    """A password login (API token, browsable API, admin): through the gate, then last_login.

    Raises login_gate.WrongCredentials (wrong password, unknown email and inactive account are
    one answer) or login_gate.TooManyAttempts.
    """
    user = login_gate.authenticate(client=client, email=email, password=password)
    login_complete(user=user, client=client)
    return user


def login_complete(*, user: User, client: login_gate.Client) -> None:
    """A correct password that the entry point accepts (the admin takes staff only): last_login,
    and the `login_succeeded` event unless a second factor must still complete the login."""
    from accounts.mfa.services import has_second_factor  # the mfa app builds on this module

    update_last_login(None, user)
    if not has_second_factor(user):  # else the login completes with the second factor
        record(EventType.LOGIN_SUCCEEDED, user=user, client=client, data={"method": "password"})


def _confirm_password(*, user, password, client, field):
    try:
        login_gate.verify_password(client=client, user=user, password=password)
    except login_gate.WrongCredentials:
        raise ValidationError({field: [WRONG_PASSWORD]}) from None


def password_change(
    *, user: User, current_password: str, new_password: str, client: login_gate.Client
) -> None:
    """Change one's own password, the current one confirmed through the login gate; every
    earlier access and refresh token of the user stops working."""
    _confirm_password(user=user, password=current_password, client=client, field="current_password")
    _check_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        _set_password(user, new_password)
        record(EventType.PASSWORD_CHANGED, user=user, client=client)


@transaction.atomic
def password_set(*, actor, user: User, password: str | None, entry: Entry = Entry.ADMIN) -> User:
    """Set another user's password as `actor` (admin); None makes it unusable. Their tokens die."""
    stored = User.objects.select_for_update().get(pk=user.pk)
    policy.check_change(actor=actor, user=stored, fields={"password"}, entry=entry)
    if password is None:
        stored.set_unusable_password()
        stored.save(update_fields=["password"])
        revoke_all_refresh_tokens(stored, reason=UserSession.EndedReason.PASSWORD_CHANGED)
        notices.send(stored, "password_changed")
    else:
        _check_password(password, user=stored)
        _set_password(stored, password)
    record(EventType.PASSWORD_SET, user=stored, actor=actor, data={"usable": password is not None})
    user.refresh_from_db()
    return user


def verification_email_send(*, user: User) -> None:
    """(Re)send the verification link; a no-op for an already verified address."""
    if not user.email_verified:
        emails.send_verification_email(user)


@transaction.atomic
def email_verify(*, uidb64: str, token: str) -> User:
    """Mark the email verified. The token dies with it, so a second use is refused. A first
    verification removes the second factors and passkeys set up before it (see
    `_unproven_factors_remove`)."""
    user = user_from_uid(uidb64)
    if user is not None:
        user = User.objects.select_for_update().get(pk=user.pk)
    if user is None or not user.is_active or not email_verification_tokens.check_token(user, token):
        raise ValidationError({"token": [INVALID_LINK]})
    never_verified = user.email_verified_at is None
    user.email_verified, user.email_verified_at = True, timezone.now()
    user.save(update_fields=["email_verified", "email_verified_at"])
    if never_verified:
        _unproven_factors_remove(user)
    return user


def _unproven_factors_remove(user):
    """A link just proved a never-verified address: the second factors and passkeys set up
    before were set up by whoever registered it, maybe not its owner (account pre-hijacking)."""
    from accounts.mfa.services import unproven_factors_remove  # mfa builds on this module

    unproven_factors_remove(user=user)


def password_reset_request(*, email: str) -> None:
    """Email a reset link when an active account has this address; silent otherwise. The
    request only queues a task either way, so its time tells nothing about the account."""
    emails.send_password_reset_to_address(email)


def password_reset_email_send(*, actor, user: User) -> None:
    """Operator's action: email the user a reset link (to their own address)."""
    policy.check_change(actor=actor, user=user, fields={"password"}, entry=Entry.ADMIN)
    emails.send_password_reset_email(user)


@transaction.atomic
def password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link: single use, even when confirms race. The link
    proves the address: it becomes verified, and an address never verified before loses the
    second factors and passkeys set up by whoever registered it (they may be a squatter's)."""
    user = user_from_uid(uidb64)
    if user is not None:
        # The row lock makes a concurrent confirm wait, then fail the token check below.
        user = User.objects.select_for_update().get(pk=user.pk)
    if user is None or not user.is_active or not password_reset_tokens.check_token(user, token):
        raise ValidationError({"token": [INVALID_LINK]})
    _check_password(new_password, user=user, field="new_password")
    never_verified = not user.email_verified and user.email_verified_at is None
    _set_password(user, new_password)
    if not user.email_verified:
        # The link reached the address: as proven as by the verification link.
        user.email_verified, user.email_verified_at = True, timezone.now()
        user.save(update_fields=["email_verified", "email_verified_at"])
    if never_verified:
        _unproven_factors_remove(user)
    record(EventType.PASSWORD_RESET, user=user)
    return user


def _set_password(user, password):
    user.set_password(password)
    user.save(update_fields=["password"])
    # Access tokens die with the old hash (SimpleJWT's revoke claim) and with their sessions.
    revoke_all_refresh_tokens(user, reason=UserSession.EndedReason.PASSWORD_CHANGED)
    notices.send(user, "password_changed")


def login_lockout_lift(*, actor, user: User) -> None:
    """Staff lifting a user's login lockout (the admin), as the policy allows."""
    policy.check_change(actor=actor, user=user, fields={"login_lockout"}, entry=Entry.ADMIN)
    login_gate.lift_lockout(user.email)
    record(EventType.LOGIN_LOCKOUT_LIFTED, user=user, actor=actor)


def users_import(*, actor, created: list[User], updated: list[tuple[User, set[str]]]) -> None:
    """Write one checked chunk of an import as `actor` (the operator): new users in one insert,
    changed fields of existing ones in one update, every row asked of the policy first.
    Deactivated users, and users given a new password, lose every session (a new password is
    recorded and told to its user as when staff set it)."""
    for user in created:
        policy.check_change(actor=actor, user=User(), fields=_fields_set(user), entry=Entry.IMPORT)
    for user, fields in updated:
        policy.check_change(actor=actor, user=user, fields=fields, entry=Entry.IMPORT)
    if reserved := reserved_addresses(user.email for user in created):
        raise ValidationError({"email": [f"{EMAIL_TAKEN} ({', '.join(sorted(reserved))})"]})
    now = timezone.now()
    for user in created:
        if user.email_verified:
            user.email_verified_at = now
    for user, fields in updated:
        if "email_verified" in fields and user.email_verified:
            user.email_verified_at = now
            fields.add("email_verified_at")
    if created:
        User.objects.bulk_create(created)
    # Each user's changed columns only, one UPDATE per set of columns: a column the file did not
    # change is never written from the row read earlier (that would undo a concurrent password
    # change or deactivation, unrecorded).
    by_columns = {}
    for user, fields in updated:
        by_columns.setdefault(tuple(sorted(fields)), []).append(user)
    for columns, users in by_columns.items():
        User.objects.bulk_update(users, columns)
    for user, fields in updated:
        if "is_active" in fields and not user.is_active:
            revoke_all_refresh_tokens(user, reason=UserSession.EndedReason.DEACTIVATED)
        elif "password" in fields:
            # As when staff set it (`password_set`): every session and pending login ends.
            revoke_all_refresh_tokens(user, reason=UserSession.EndedReason.PASSWORD_CHANGED)
        if "password" in fields:
            notices.send(user, "password_changed")
            record(EventType.PASSWORD_SET, user=user, actor=actor, data={"usable": True})
        changes = {f: getattr(user, f) for f in fields if f in (*PRIVILEGES, "is_active")}
        _record_update(actor=actor, user=user, changes=changes, relations={}, old_email=None)
