"""Opening and ending sessions. Ending someone else's sessions asks `accounts.policy` (the
`sessions` pseudo-field: staff for ordinary users, superusers for staff); ending one's own needs
nothing but being its owner."""

import ipaddress
from datetime import datetime
from functools import lru_cache

import ua_parser
from django.db import transaction

from accounts import login_gate, notices, policy
from accounts.audit.events import record
from accounts.policy import Entry
from accounts.usersessions.models import UserSession

Reason = UserSession.EndedReason


@lru_cache(maxsize=1024)
def device_name(user_agent: str) -> str:
    """ "Firefox on Ubuntu", "curl", "Mobile Safari on iOS"; "" when nothing is recognised."""
    if not user_agent:
        return ""
    parsed = ua_parser.parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    browser = "" if browser == "Other" else browser
    system = "" if system == "Other" else system
    if browser and system:
        return f"{browser} on {system}"[:200]
    return (browser or system)[:200]


def open_session(
    *,
    user,
    kind: str,
    expires_at: datetime,
    client: login_gate.Client | None = None,
    session_key: str = "",
    refresh_jti: str = "",
    notify: bool = True,
) -> UserSession:
    """Record a new login of `user`. With `notify`, a login from a client that never logged in
    to this account before (no device credential for it) sends the `new_sign_in` notice."""
    user_agent = client.user_agent if client else ""
    session = UserSession.objects.create(
        user=user,
        kind=kind,
        device=device_name(user_agent),
        user_agent=user_agent[:512],
        ip_address=_address(client.ip) if client else None,
        expires_at=expires_at,
        session_key=session_key,
        refresh_jti=refresh_jti,
    )
    if notify and client is not None and not login_gate.knows_device(client, user):
        device = session.device or session.user_agent[:200]
        notices.send(user, "new_sign_in", device=device, ip_address=session.ip_address or "")
    return session


def _address(ip):
    """The client's IP as stored, or None when it is not one (a unix socket, a bad proxy header)."""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def _is_owner(actor, user):
    return actor is not None and getattr(actor, "pk", None) == user.pk


def _check_may_end(actor, user, entry):
    if not _is_owner(actor, user):
        policy.check_change(actor=actor, user=user, fields={"sessions"}, entry=entry)


@transaction.atomic
def end_session(*, actor, session: UserSession, entry: Entry = Entry.API) -> bool:
    """End one session: its tokens or browser session are refused from the next request on.
    Its owner may; anyone else only as the policy allows. False when it had ended already."""
    _check_may_end(actor, session.user, entry)
    reason = Reason.REVOKED if _is_owner(actor, session.user) else Reason.REVOKED_BY_STAFF
    ended = UserSession.objects.filter(pk=session.pk).end(reason) > 0
    if ended:
        _record_ended(actor, session.user, reason, sessions=[str(session.pk)])
    return ended


@transaction.atomic
def end_all(*, actor, user, except_: UserSession | None = None, entry: Entry = Entry.API) -> int:
    """End every open session of `user` (but `except_`, the caller's own). Returns how many."""
    _check_may_end(actor, user, entry)
    reason = Reason.REVOKED if _is_owner(actor, user) else Reason.REVOKED_BY_STAFF
    sessions = UserSession.objects.filter(user=user)
    if except_ is not None:
        sessions = sessions.exclude(pk=except_.pk)
    ended = sessions.end(reason)
    if ended:
        _record_ended(actor, user, reason, count=ended)
    return ended


def _record_ended(actor, user, reason, **data):
    """issue 15: a session ended by its owner or by staff is a security event."""
    actor = None if getattr(actor, "pk", None) == user.pk else actor
    record("session_ended", user=user, actor=actor, data={"reason": str(reason), **data})


def end_every_session(user, *, reason: str) -> int:
    """End all of `user`'s sessions because of a change a service already authorised
    (password change or reset, deactivation, closing the account, token theft)."""
    return UserSession.objects.filter(user=user).end(reason)


def live_sessions(user):
    """The sessions `user` can see and end, most recently used first."""
    return UserSession.objects.filter(user=user).live().order_by("-last_used_at")
