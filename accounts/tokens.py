"""JWT: refresh-token rotation with reuse detection, logout, revocation and verification."""

import logging
import time

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.audit.events import record
from accounts.audit.models import EventType
from accounts.models import RefreshTokenReuse, User

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
    """A new refresh token (recorded as outstanding) and its access token, as the API answers.

    `amr` names how the user proved who they are (RFC 8176: "pwd", "otp", "hwk", ...) and
    `auth_time` when (epoch seconds, now unless carried over by a refresh); both are copied into
    the access token. `client` is the login gate's Client of the request that logged in.
    """
    refresh = RefreshToken.for_user(user)
    refresh["amr"] = list(amr)
    refresh["auth_time"] = int(auth_time if auth_time is not None else time.time())
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _decode_refresh(raw):
    try:
        return _UncheckedBlacklistRefreshToken(raw)
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc)) from exc


def rotate_refresh_token(raw, *, ip=None):
    """Exchange a refresh token for a new pair, exactly once.

    The row lock on the outstanding token plus the unique blacklist entry make concurrent
    refreshes of one token serialize: one wins, the others see it blacklisted. Presenting an
    already-blacklisted token is treated as theft: every refresh token of the user is revoked.
    """
    token = _decode_refresh(raw)
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    reused_by = None
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(jti=jti)
            .first()
        )
        if outstanding is None or not token_user_is_current(outstanding.user, token.payload):
            raise InvalidRefreshToken("Token is invalid or expired")
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            reused_by = outstanding.user
        else:
            return issue_token_pair(
                outstanding.user,
                amr=token.payload.get("amr") or ("pwd",),
                auth_time=token.payload.get("auth_time"),
            )
    with transaction.atomic():
        revoke_all_refresh_tokens(reused_by)
        RefreshTokenReuse.objects.create(user=reused_by, jti=jti, ip_address=ip)
        record(EventType.REFRESH_TOKEN_REUSED, user=reused_by, data={"jti": jti})
    logger.warning("Refresh token reuse for user %s: all refresh tokens revoked", reused_by.pk)
    raise RefreshTokenReused("Token is blacklisted")


def blacklist_refresh_token(raw):
    """Log out: blacklist one refresh token. Idempotent for a token that is already blacklisted."""
    token = _decode_refresh(raw)
    outstanding = OutstandingToken.objects.filter(jti=token.payload.get(jwt_settings.JTI_CLAIM))
    outstanding = outstanding.first()
    if outstanding is None:
        raise InvalidRefreshToken("Token is invalid or expired")
    BlacklistedToken.objects.get_or_create(token=outstanding)


def revoke_all_refresh_tokens(user):
    """Blacklist every unexpired refresh token of `user` in one statement."""
    live = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in live], ignore_conflicts=True
    )


def verify_token(raw):
    """True when `raw` is a token Roster would still accept (signature, expiry, blacklist, user)."""
    try:
        token = UntypedToken(raw)
    except TokenError:
        return False
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    if jti and BlacklistedToken.objects.filter(token__jti=jti).exists():
        return False
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return token_user_is_current(user, token.payload)
