"""Who may do what to a user: the one policy every entry point asks (DESIGN.md, "Who may do what").

Every service that changes a user takes the actor explicitly and asks `check_change` with the
fields whose stored values would change; the API, the admin (forms and actions) and the commands
only call those services. Nothing here looks at URLs, serializers or forms.

| change                                              | who may                                    |
|-----------------------------------------------------|--------------------------------------------|
| own names                                           | everyone                                   |
| own email, status, privileges, password (by update) | nobody (their own flows ask for proof)     |
| an ordinary user's email, names, status, password   | staff                                      |
| anything of a staff or superuser account (but self) | superusers                                 |
| `is_staff`, groups, permissions                     | superusers                                 |
| `is_superuser`                                      | a superuser, in the admin only             |
| import                                              | the operator: anything but `is_superuser`  |
| `manage.py changepassword`                          | the operator: the password                 |
"""

import enum

from django.core.exceptions import PermissionDenied

NAMES = frozenset({"first_name", "last_name"})
# What staff may change on an ordinary user besides the names. `password` is setting it for them
# (admin), `login_lockout` lifting their lockout, `delete` removing the row (admin only),
# `sessions` ending their sessions.
STATUS = frozenset(
    {"email", "is_active", "email_verified", "password", "login_lockout", "delete", "mfa"}
    | {"sessions"}
)
PRIVILEGES = frozenset({"is_staff", "groups", "user_permissions"})
SUPERUSER = "is_superuser"
FIELDS = NAMES | STATUS | PRIVILEGES | {SUPERUSER}

CLOSE_OWN_ACCOUNT = "Close your own account at users/me/; it asks for your password."


class Entry(enum.StrEnum):
    """The way a change comes in: some changes are only made through one of them."""

    API = "api"
    ADMIN = "admin"
    IMPORT = "import"
    COMMAND = "command"  # the operator's other commands (`changepassword`)


class _Operator:
    """Whoever runs `manage.py` on the server: the actor of the import and `changepassword`."""

    pk = None
    is_authenticated = is_active = True
    is_staff = is_superuser = False

    def __repr__(self):
        return "OPERATOR"


OPERATOR = _Operator()


def can_view(actor, user) -> bool:
    """The user themself and staff read a user; anyone else is told it does not exist."""
    if not _is_person(actor):
        return False
    return actor.pk == user.pk or actor.is_staff


def visible_users(actor, queryset):
    """`queryset` narrowed to the users `actor` may read."""
    if not _is_person(actor):
        return queryset.none()
    return queryset if actor.is_staff else queryset.filter(pk=actor.pk)


def refused_fields(*, actor, user, fields, entry: Entry) -> set[str]:
    """Those of `fields` that `actor` may not change on `user` through `entry`."""
    return {field for field in fields if not _may_change(actor, user, field, entry)}


def check_change(*, actor, user, fields, entry: Entry) -> None:
    """Raise PermissionDenied unless `actor` may change every one of `fields` on `user`."""
    refused = refused_fields(actor=actor, user=user, fields=fields, entry=entry)
    if not refused:
        return
    if _is_self(actor, user) and refused & {"is_active", "delete"}:
        raise PermissionDenied(CLOSE_OWN_ACCOUNT)
    names = ", ".join(sorted(refused))
    raise PermissionDenied(f"You may not change {names} of this account.")


def _may_change(actor, user, field, entry):
    if field not in FIELDS:
        return False  # fail closed: a field nobody thought about is nobody's to change
    if actor is OPERATOR:
        if entry is Entry.COMMAND:
            return field == "password"
        return entry is Entry.IMPORT and field != SUPERUSER
    if not _is_person(actor):
        return False
    if _is_self(actor, user):
        return field in NAMES
    if field == SUPERUSER:
        return actor.is_superuser and entry is Entry.ADMIN
    if actor.is_superuser:
        return True
    if field in PRIVILEGES or user.is_staff or user.is_superuser:
        return False
    return actor.is_staff


def _is_person(actor):
    return (
        actor is not None
        and actor is not OPERATOR
        and actor.is_authenticated
        and actor.is_active
        and actor.pk is not None
    )


def _is_self(actor, user):
    return _is_person(actor) and actor.pk == user.pk
