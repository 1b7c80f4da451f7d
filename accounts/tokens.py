"""JWT: refresh-token rotation with reuse detection, logout, revocation and verification.

Every token pair belongs to a session (`accounts.usersessions`): the refresh token carries its id
as `sid`, copied into each access token and kept through rotation. Ending the session kills both.
"""

import functools
import logging
import time
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.audit.events import record
from accounts.audit.models import EventType
from accounts.models import RefreshTokenReuse, User
from accounts.usersessions import services as sessions
from accounts.usersessions.models import UserSession

SID_CLAIM = "sid"

logger = logging.getLogger(__name__)


class InvalidRefreshToken(Exception):
    """The refresh token is malformed, expired, unknown, or its user can no longer log in."""


class RefreshTokenReused(Exception):
    """An already-rotated refresh token was presented again: every token of the user was revoked."""


class _UncheckedBlacklistRefreshToken(RefreshToken):
    """Verifies signature, type and expiry; the blacklist is checked atomically by the caller."""

    def check_blacklist(self):
        pass


def token_user_is_current(user, payload):
    """True when the token's user can still log in and has not changed password since."""
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        return False
    claim = jwt_settings.REVOKE_TOKEN_CLAIM
    return payload.get(claim) == get_md5_hash_password(user.password)


def issue_token_pair(user, *, client=None, amr=("pwd",), auth_time=None):
    """A new session (a refresh-token family) of `user` and its first pair, as the API answers.

    `amr` names how the user proved who they are (RFC 8176: "pwd", "otp", "hwk", ...) and
    `auth_time` when (epoch seconds, now unless carried over by a refresh); both are copied into
    the access token. `client` is the login gate's Client of the request that logged in: the
    session's device and address come from it.
    """
    refresh = RefreshToken.for_user(user)
    session = sessions.open_session(
        user=user,
        kind=UserSession.Kind.TOKEN,
        client=client,
        expires_at=_expiry(refresh),
        refresh_jti=refresh[jwt_settings.JTI_CLAIM],
    )
    return _pair(refresh, sid=session.pk, amr=amr, auth_time=auth_time)


def reissue_token_pair(user, *, sid, amr, replaces=None):
    """A new pair in the open session `sid` of `user`, with `auth_time` now (a reauthentication:
    the session stays the same one). `replaces` is the session's refresh token the client holds,
    when the request carried it (the refresh cookie): it is spent as by a rotation, so the
    session keeps one line of refresh tokens. Raises InvalidRefreshToken when that session has
    ended."""
    with transaction.atomic():
        if replaces is not None:
            old = OutstandingToken.objects.filter(jti=replaces.payload.get(jwt_settings.JTI_CLAIM))
            BlacklistedToken.objects.bulk_create(
                [BlacklistedToken(token=token) for token in old], ignore_conflicts=True
            )
        refresh = RefreshToken.for_user(user)
        used = UserSession.objects.filter(pk=sid, user=user, ended_at__isnull=True).update(
            last_used_at=timezone.now(),
            expires_at=_expiry(refresh),
            refresh_jti=refresh[jwt_settings.JTI_CLAIM],  # the refresh tokens before it die
        )
        if not used:
            raise InvalidRefreshToken("The session has ended")
    return _pair(refresh, sid=sid, amr=amr, auth_time=None)


def session_refresh_token(raw, *, user, sid):
    """`raw` decoded when it is a refresh token of the session `sid` of `user` (the one a browser
    app keeps in its cookie), else None. Spent or not: a refresh racing the request may just
    have rotated it, and the session still keeps its refresh tokens in the cookie."""
    try:
        token = _decode_refresh(raw)
    except InvalidRefreshToken:
        return None
    if session_id(token.payload) != str(sid) or str(
        token.payload.get(jwt_settings.USER_ID_CLAIM)
    ) != str(user.pk):
        return None
    return token


def _pair(refresh, *, sid, amr, auth_time):
    refresh[SID_CLAIM] = str(sid)
    refresh["amr"] = list(amr)
    refresh["auth_time"] = int(auth_time if auth_time is not None else time.time())
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _expiry(token):
    return datetime.fromtimestamp(token["exp"], tz=UTC)


def session_id(payload):
    """The `sid` of a token's payload, or None."""
    sid = payload.get(SID_CLAIM)
    return sid if isinstance(sid, str) and sid else None


def _decode_refresh(raw):
    try:
        return _UncheckedBlacklistRefreshToken(raw)
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc)) from exc


def rotate_refresh_token(raw, *, ip=None):
    """Exchange a refresh token for a new pair of the same session, exactly once.

    The row lock on the outstanding token plus the unique blacklist entry make concurrent
    refreshes of one token serialize: one wins, the others see it blacklisted. Presenting an
    already-blacklisted token is treated as theft: its whole session (the token family, access
    tokens included) ends. A token whose session has ended is refused.
    """
    token = _decode_refresh(raw)
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    sid = session_id(token.payload)
    reused_by = None
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(jti=jti)
            .first()
        )
        if (
            outstanding is None
            or sid is None
            or not token_user_is_current(outstanding.user, token.payload)
        ):
            raise InvalidRefreshToken("Token is invalid or expired")
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            reused_by = outstanding.user
        else:
            refresh = RefreshToken.for_user(outstanding.user)
            session = UserSession.objects.filter(
                pk=sid, user=outstanding.user, ended_at__isnull=True
            )
            # Only the refresh token the session holds now rotates: one it held before a
            # reauthentication replaced it is a reuse, like an already-rotated one.
            used = session.filter(Q(refresh_jti="") | Q(refresh_jti=jti)).update(
                last_used_at=timezone.now(),
                expires_at=_expiry(refresh),
                refresh_jti=refresh[jwt_settings.JTI_CLAIM],
            )
            if used:
                return _pair(
                    refresh,
                    sid=sid,
                    amr=token.payload.get("amr") or ("pwd",),
                    auth_time=token.payload.get("auth_time"),
                )
            if not session.exists():
                raise InvalidRefreshToken("The session has ended")
            reused_by = outstanding.user
    with transaction.atomic():
        UserSession.objects.filter(pk=sid, user=reused_by).end(UserSession.EndedReason.TOKEN_REUSE)
        RefreshTokenReuse.objects.create(user=reused_by, jti=jti, ip_address=ip)
        record(EventType.REFRESH_TOKEN_REUSED, user=reused_by, data={"jti": jti, "session": sid})
    logger.warning("Refresh token reuse for user %s: its session ended", reused_by.pk)
    raise RefreshTokenReused("Token is blacklisted")


def blacklist_refresh_token(raw):
    """Log out: blacklist the refresh token and end its session, access tokens included.
    Idempotent for a token that is already blacklisted."""
    token = _decode_refresh(raw)
    sid = session_id(token.payload)
    outstanding = OutstandingToken.objects.filter(jti=token.payload.get(jwt_settings.JTI_CLAIM))
    outstanding = outstanding.first()
    # Without a sid it is not a token Roster handed out (SimpleJWT's stored first draft shares
    # the jti of the real one): blacklisting it would make the owner's next refresh a "reuse".
    if outstanding is None or sid is None:
        raise InvalidRefreshToken("Token is invalid or expired")
    with transaction.atomic():
        BlacklistedToken.objects.get_or_create(token=outstanding)
        ended = UserSession.objects.filter(pk=sid, user_id=outstanding.user_id).end(
            UserSession.EndedReason.LOGOUT
        )
        if ended:
            data = {"reason": "logout", "sessions": [sid]}
            record(EventType.SESSION_ENDED, user=outstanding.user, data=data)


def revoke_all_refresh_tokens(user, *, reason=UserSession.EndedReason.ALL_REVOKED):
    """End every session of `user`: every refresh token is blacklisted (in one statement) and
    every access token and browser session is refused from the next request on. Logins still
    waiting for their second factor (`mfa_token`s) and pending email changes (their confirm
    links) die too: a new password, a reset or a deactivation must not leave a half-open door."""
    from accounts.emailchange.services import cancel_pending  # both build on this module
    from accounts.mfa.models import PendingLogin

    PendingLogin.objects.filter(user=user).delete()
    cancel_pending(user)
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )
    sessions.end_every_session(user, reason=reason)


def verify_token(raw):
    """True when `raw` is a token Roster would still accept (signature, expiry, blacklist,
    session, user)."""
    try:
        token = UntypedToken(raw)
    except TokenError:
        return False
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    if jti and BlacklistedToken.objects.filter(token__jti=jti).exists():
        return False
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    sid = session_id(token.payload)
    if not user_id or sid is None:
        return False
    user = session_user(user_id, sid)
    if not token_user_is_current(user, token.payload):
        return False
    if token.payload.get(jwt_settings.TOKEN_TYPE_CLAIM) == RefreshToken.token_type:
        # A refresh token its session no longer holds (a reauthentication replaced it) would be
        # a reuse at auth/token/refresh/.
        held = UserSession.objects.filter(pk=sid).values_list("refresh_jti", flat=True).first()
        return held in ("", jti)
    return True


def session_user(user_id, sid):
    """The user `user_id` if `sid` is one of their open sessions, else None: one query.

    This runs on every bearer request, so the query is written once (`_session_user_sql`)
    rather than compiled by the ORM each time: the join's compilation cost about as much as
    running it (bench/run.py, `me` and `detail`)."""
    try:
        params = [pk_param(User, user_id), pk_param(UserSession, sid)]
    except (TypeError, ValueError, ValidationError):
        return None  # not a UUID: no such user or session
    return next(iter(User.objects.raw(_session_user_sql(), params)), None)


def pk_param(model, value):
    """`value` as `model`'s primary key is stored (a dashless hex string on SQLite)."""
    field = model._meta.pk
    return field.get_db_prep_value(field.to_python(value), connections[model.objects.db])


@functools.cache
def _session_user_sql():
    user, session = User._meta, UserSession._meta
    quote = connections[User.objects.db].ops.quote_name
    # Only the models' own table and column names are formatted in; the ids are parameters.
    return (
        f"SELECT u.* FROM {quote(user.db_table)} u"  # noqa: S608
        f" JOIN {quote(session.db_table)} s"
        f" ON s.{quote(session.get_field('user').column)} = u.{quote(user.pk.column)}"
        f" WHERE u.{quote(user.pk.column)} = %s AND s.{quote(session.pk.column)} = %s"
        f" AND s.{quote(session.get_field('ended_at').column)} IS NULL"
    )
