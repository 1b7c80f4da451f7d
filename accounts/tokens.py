"""Tokens: the single-use links in emails, and the JWT refresh tokens with reuse detection."""

import logging

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import PasswordField, TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import RefreshTokenReuse, User

logger = logging.getLogger(__name__)

MAX_PASSWORD_LENGTH = 4096


# --- Links in emails ---------------------------------------------------------------------------


class PasswordResetTokens(PasswordResetTokenGenerator):
    """Django's reset tokens: they die when the password (or last login) changes, and expire."""

    key_salt = "accounts.tokens.PasswordResetTokens"


class EmailVerificationTokens(PasswordResetTokenGenerator):
    """Verification tokens: they die once the email is verified or changed, and expire."""

    key_salt = "accounts.tokens.EmailVerificationTokens"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{user.email_verified}{user.is_active}{timestamp}"


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


# --- JWT ---------------------------------------------------------------------------------------


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
            refresh = RefreshToken.for_user(outstanding.user)
            return {"access": str(refresh.access_token), "refresh": str(refresh)}
    revoke_all_refresh_tokens(reused_by)
    RefreshTokenReuse.objects.create(user=reused_by, jti=jti, ip_address=ip)
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


class EmailTokenObtainPairSerializer(TokenObtainPairSerializer):
    """SimpleJWT's login serializer with bounded fields, so a 1 MB password is a 400, not a hash."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"] = serializers.CharField(write_only=True, max_length=254)
        self.fields["password"] = PasswordField(max_length=MAX_PASSWORD_LENGTH)
