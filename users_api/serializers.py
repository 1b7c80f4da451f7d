"""Serializers: the user shape of DESIGN.md (never a password or a hash) and the auth bodies."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.mailboxes import MAX_INPUT_LENGTH, normalize_mailbox
from accounts.models import MAX_PASSWORD_LENGTH, USER_FIELDS, User


def _timestamp(value, zone):
    # DRF's DateTimeField output: ISO 8601 in the current (UTC) time zone, "Z" for +00:00.
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def user_rows(rows):
    """The user shape from `.values(*USER_FIELDS)` rows, without ModelSerializer's per-field
    machinery (and the time zone looked up once, not per value): the list serializes 100 rows in
    a fraction of the time. Equal to `UserSerializer(user).data` (a test holds them together)."""
    zone = timezone.get_current_timezone()
    return [
        {
            "id": str(row["id"]),
            "email": row["email"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "email_verified": row["email_verified"],
            "is_active": row["is_active"],
            "is_staff": row["is_staff"],
            "date_joined": _timestamp(row["date_joined"], zone),
            "last_login": _timestamp(row["last_login"], zone),
        }
        for row in rows
    ]


def user_data(user):
    """The user shape of one model instance (fast path of `UserSerializer(user).data`)."""
    return user_rows([{field: getattr(user, field) for field in USER_FIELDS}])[0]


class TextInput(serializers.CharField):
    """A string and only a string: DRF's CharField would take `123` or `1.5` as text, so a login
    with `{"email": 123}` would reach the gate (and answer 401) instead of a 400."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PasswordInput(TextInput):
    """A password as typed: not trimmed, bounded so a 1 MB body is refused before any hashing."""

    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", MAX_PASSWORD_LENGTH)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.EMAIL)
class MailboxField(TextInput):
    """An email address, taken as the mailbox it names (accounts.mailboxes): the validated value
    is its stored form; an address Roster refuses (look-alike scripts included) is a 400 that
    says why."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_INPUT_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return normalize_mailbox(super().to_internal_value(data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code=exc.code) from None


class UserSerializer(serializers.ModelSerializer):
    """A user as staff see and edit it."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextInput,
    }
    email = MailboxField()

    class Meta:
        model = User
        fields = USER_FIELDS
        read_only_fields = ("id", "date_joined", "last_login")


class UserCreateSerializer(UserSerializer):
    """Staff creating a user; without a password the user sets one through a reset."""

    password = PasswordInput(required=False)

    class Meta(UserSerializer.Meta):
        fields = (*USER_FIELDS, "password")


class ProfileSerializer(UserSerializer):
    """A user editing their own record: only the names are writable."""

    email = serializers.EmailField(read_only=True)

    class Meta(UserSerializer.Meta):
        read_only_fields = tuple(f for f in USER_FIELDS if f not in ("first_name", "last_name"))


class RegistrationSerializer(serializers.Serializer):
    email = MailboxField()
    password = PasswordInput()
    first_name = TextInput(max_length=150, required=False, allow_blank=True)
    last_name = TextInput(max_length=150, required=False, allow_blank=True)


class LoginSerializer(serializers.Serializer):
    email = TextInput(max_length=254)
    password = PasswordInput()
    refresh_in_cookie = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Keep the refresh token in an HttpOnly, Secure, SameSite=Strict cookie "
        "`roster_refresh` scoped to `/api/v1/auth/` instead of the body (browser apps); the "
        "response also sets Django's `csrftoken` cookie, whose value refresh and logout then "
        "need in the `X-CSRFToken` header.",
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(
        read_only=True, required=False, help_text="Absent when it is kept in the cookie."
    )


class RefreshTokenSerializer(serializers.Serializer):
    refresh = TextInput(
        max_length=4096,
        required=False,
        help_text="Omit it to use the `roster_refresh` cookie; the request must then carry "
        "the `X-CSRFToken` header (the `csrftoken` cookie's value).",
    )


class TokenVerifySerializer(serializers.Serializer):
    token = TextInput(max_length=4096)


class TokenVerifiedSerializer(serializers.Serializer):
    """`{}`: Roster would accept the token now (a named component for generated clients)."""


class EmailVerificationSerializer(serializers.Serializer):
    uid = TextInput(max_length=64)
    token = TextInput(max_length=128)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = PasswordInput()
    new_password = PasswordInput()


class PasswordResetRequestSerializer(serializers.Serializer):
    email = MailboxField()


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = TextInput(max_length=64)
    token = TextInput(max_length=128)
    new_password = PasswordInput()


class AccountCloseSerializer(serializers.Serializer):
    password = PasswordInput()
