"""The login gate: every presented password (and, later, every second-factor code) passes here.

One function, `attempt`, counts and decides, whatever the entry point: the API's token endpoint,
the browsable API's and the admin's login forms, the admin's password change, `password/change/`,
closing an account. It counts

- every attempt per client IP (the `login` rate), refused past the limit, and
- every failure per account (`login_failures`, 10 per 15 minutes by default), charged BEFORE the
  secret is checked and given back when it turns out right, so a burst of concurrent guesses gets
  no more than the limit between them. Past the limit the account answers "too many attempts",
  right password or not, until the window ends.

A stranger must not be able to lock a user out: a client that logged in to an account before
holds a signed device credential (a cookie, OWASP's "device cookies") naming the accounts it
logged in to (the latest DEVICE_ACCOUNTS), and its failures on those count per device instead of
per account, so it keeps logging in while the account is locked to everyone else. A proof of the
address (its first verification, a reset of a never-verified one: `email_verified_at` moves)
forgets the devices that logged in before it, as it removes the second factors set up before it:
they may be a squatter's who registered the address first.
A signed-in client confirming its own user's secret (password change, closing the account,
reauthentication, email change) is known by its session in the same way, cookie or not: an app
holding tokens keeps working while a stranger locks the account.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.contrib.auth import authenticate as django_authenticate
from django.core import signing

from accounts import ratelimit
from accounts.mailboxes import mailbox_key

DEVICE_COOKIE = "roster_device"
DEVICE_MAX_AGE = timedelta(days=365)
# The accounts one device credential remembers, latest first: a browser shared by a few people, or
# a staff member's own account and their admin one, stays known to each.
DEVICE_ACCOUNTS = 8
_DEVICE_SALT = "accounts.login_gate.device"

T = TypeVar("T")


class TooManyAttempts(Exception):
    """Refused without checking the secret; the client may try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many attempts. Try again in {retry_after} seconds.")
        self.retry_after = retry_after


class WrongCredentials(Exception):
    """The secret was wrong, or the account cannot log in (the same answer for both)."""


@dataclass(frozen=True)
class Client:
    """Who presents the secret: the client's address, its device credential and its User-Agent."""

    ip: str
    device: str | None = None
    user_agent: str = ""
    # The signed-in session the request came with (a token's `sid` or the browser's), and its
    # user's id: it stands for a device only when confirming that same user's secret.
    session: str | None = None
    session_user: str | None = None

    @classmethod
    def of(cls, request):
        """The client of a Django (or DRF) request."""
        session, session_user = _signed_in_session(request)
        return cls(
            ip=ratelimit.client_ip(request.META),
            device=request.COOKIES.get(DEVICE_COOKIE),
            user_agent=ratelimit.client_user_agent(request.META),
            session=session,
            session_user=session_user,
        )


def _signed_in_session(request):
    """`(session id, user id)` of the request's authenticated session, else `(None, None)`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.pk is None:
        return None, None
    payload = getattr(getattr(request, "auth", None), "payload", None)
    if isinstance(payload, dict):
        sid = payload.get("sid")  # accounts.tokens.SID_CLAIM
    else:
        browser = getattr(request, "session", None)
        sid = browser.get("roster_sid") if browser is not None else None  # usersessions.browser
    return (sid, str(user.pk)) if isinstance(sid, str) and sid else (None, None)


def account_key(email):
    """The account an email names, as the counters know it (its mailbox, any spelling)."""
    return mailbox_key(email) or str(email).strip().lower()


def attempt(
    *,
    client: Client,
    account: str,
    check: Callable[[], T],
    user=None,
    purpose: str = "confirm",
    method: str = "password",
    failure_event: str = "login_failed",
) -> T:
    """Count one attempt of `client` on `account`, then run `check`.

    Returns what `check` returned; a falsy result is a failure (WrongCredentials). Raises
    TooManyAttempts, without calling `check`, past either limit. An exception from `check` (bad
    input, an outage) is not a failure: its charge is given back.

    The gate records the failures of every entry point: `failure_event` for a wrong secret
    (`data` names the `method` and the `purpose`), and `login_locked_out` when the account's
    failures first pass the limit. A success is recorded by whoever knows the login is complete
    (`services.login`, the second factor's step). `user` is the account's user when the caller
    knows it (else it is looked up, on failure only). Call it outside any
    transaction that a failure would roll back, or the failure's event is lost with it.
    """
    _charge(ratelimit.window("login", ratelimit.digest(ratelimit.client_network(client.ip))))
    failures = ratelimit.window("login_failures", _failure_ident(client, account, user))
    data = {"method": method, "purpose": purpose}
    try:
        charged = _charge(failures)
    except TooManyAttempts:
        if _just_locked(failures):
            _record("login_locked_out", client, account, user, data)
        raise
    try:
        result = check()
    except BaseException:
        if charged:
            ratelimit.refund(failures)
        raise
    if not result:
        _record(failure_event, client, account, user, data)
        raise WrongCredentials
    if charged:
        ratelimit.refund(failures)
    return result


def _just_locked(failures):
    """True for the first refused attempt of a window: the moment the lockout begins."""
    try:
        return ratelimit.count(failures) == failures.limit + 1
    except ratelimit.CacheUnavailable:
        return False


def _record(event, client, account, user, data):
    from accounts.audit.events import record  # the audit app's models load after this module

    if user is None:
        from accounts.models import User

        user = User.objects.with_email(account).first()
    record(event, user=user if getattr(user, "pk", None) else None, client=client, data=data)


def authenticate(*, client: Client, email: str, password: str):
    """The active user with this email and password, through the gate (else WrongCredentials).

    Unknown emails still run the password hasher once (Django's ModelBackend does), and inactive
    accounts are refused after the hash check, so all three failures take about the same time.
    """
    return attempt(
        client=client,
        account=account_key(email),
        check=lambda: (
            _hashable(password) and django_authenticate(None, email=email, password=password)
        ),
        purpose="login",
    )


def verify_password(*, client: Client, user, password: str) -> None:
    """Confirm `user`'s own password (password change, closing the account, reauthentication)."""
    attempt(
        client=client,
        account=account_key(user.email),
        check=lambda: _check(user, password),
        user=user,
    )


def _check(user, password):
    return _hashable(password) and user.is_active and user.check_password(password)


def _hashable(password) -> bool:
    """Whether `password` could be one Roster set: a longer one is wrong without being hashed, on
    every form that takes it (the API's serializers refuse it earlier)."""
    from accounts.models import MAX_PASSWORD_LENGTH  # the models load after this module
    from accounts.passwords import hashable

    return len(password) <= MAX_PASSWORD_LENGTH and hashable(password)


def lockout_seconds_left(email) -> int | None:
    """Seconds until strangers may try this account's password again; None when not locked."""
    failures = ratelimit.window("login_failures", _account_ident(account_key(email)))
    if failures is None or ratelimit.count(failures) < failures.limit:
        return None
    return failures.seconds_left


def lift_lockout(email) -> None:
    """Forget the account's failures in the current window (staff, through the policy)."""
    failures = ratelimit.window("login_failures", _account_ident(account_key(email)))
    if failures is not None:
        ratelimit.reset(failures)


def remember_device(response, *, client: Client, user) -> None:
    """After a successful login: add this account to the client's device credential (a new one
    when it holds none), unless it is there already. The credential says nothing but the device's
    random id and which accounts (as digests) it logged in to, and when."""
    account = ratelimit.digest(account_key(user.email))
    device, entries = _device(client)
    if _known(entries, account, user):
        return
    entries = [[account, int(time.time() * 1000)], *(e for e in entries if e[0] != account)]
    value = signing.dumps(
        {"n": device or secrets.token_urlsafe(12), "a": entries[:DEVICE_ACCOUNTS]},
        salt=_DEVICE_SALT,
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def knows_device(client: Client, user) -> bool:
    """True when the client holds a device credential for this account (it logged in before)."""
    return _device_id(client, account_key(user.email), user) is not None


def _charge(counter):
    """Add one hit to `counter`; True when it was counted. Raises TooManyAttempts past its limit."""
    if counter is None:
        return False
    try:
        hits = ratelimit.hit(counter)
    except ratelimit.CacheUnavailable:
        ratelimit.logger.warning("Login attempt not counted: the cache is unreachable")
        return False
    if hits > counter.limit:
        raise TooManyAttempts(counter.seconds_left)
    return True


def _account_ident(account):
    return f"account:{ratelimit.digest(account)}"


def _failure_ident(client, account, user=None):
    device = _device_id(client, account, user or _user_of(client, account))
    if device:
        return f"device:{device}"
    if client.session and user is not None and client.session_user == str(user.pk):
        return f"session:{ratelimit.digest(client.session)}"
    return _account_ident(account)


def _user_of(client, account):
    """The user `account` names, looked up only for a client holding a device credential."""
    if not client.device:
        return None
    from accounts.models import User  # the models load after this module

    return User.objects.with_email(account).first()


def _device_id(client, account, user):
    """The id the client's device credential has for `account` when it logged in to it (since
    the address was last proven), else None. One device's failures count per account."""
    if user is None:
        return None
    device, entries = _device(client)
    digest = ratelimit.digest(account)
    return f"{device}:{digest}" if device and _known(entries, digest, user) else None


def _known(entries, digest, user):
    """True when `entries` hold the account `digest` added since `user`'s address was last
    proven (a login before the proof may have been a squatter's)."""
    proven = getattr(user, "email_verified_at", None)
    since = proven.timestamp() * 1000 if proven is not None else 0
    return any(account == digest and added >= since for account, added in entries)


def _device(client):
    """`(device id, [[account digest, added at (ms)], ...])` of the client's device credential;
    `(None, [])` when it holds none, or one that is forged, expired or malformed."""
    if not client.device:
        return None, []
    try:
        data = signing.loads(
            client.device, salt=_DEVICE_SALT, max_age=DEVICE_MAX_AGE.total_seconds()
        )
        signed_at = signing.b62_decode(client.device.rsplit(":", 2)[-2]) * 1000
    except (signing.BadSignature, ValueError, IndexError):
        return None, []
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not data["n"]:
        return None, []
    found = data.get("a")
    if isinstance(found, str):  # a credential of one account, issued before there were several
        found = [found]
    if not isinstance(found, list):
        return None, []
    entries = []
    for entry in found[:DEVICE_ACCOUNTS]:
        if isinstance(entry, str):  # added when the credential was signed
            entries.append([entry, signed_at])
        elif (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], int)
        ):
            entries.append(entry)
    return data["n"], entries
