import uuid

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.mailboxes import mailbox_key, validate_mailbox
from accounts.managers import UserManager

# Longer passwords are refused before any hashing, so a 1 MB body costs nothing.
MAX_PASSWORD_LENGTH = 4096

# A user as every client sees it (DESIGN.md): the API, the exports and the imports share this list.
USER_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "email_verified",
    "is_active",
    "is_staff",
    "date_joined",
    "last_login",
)


class User(AbstractBaseUser, PermissionsMixin):
    """A Roster user: the email is the login, the id a UUID that is safe to show in URLs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, validators=[validate_mailbox])
    first_name = models.CharField("first name", max_length=150, blank=True)
    last_name = models.CharField("last name", max_length=150, blank=True)
    email_verified = models.BooleanField("email verified", default=False)
    email_verified_at = models.DateTimeField(
        "email last verified",
        null=True,
        blank=True,
        editable=False,
        help_text="Moves forward at each verification and stays when staff un-verify the "
        "address, so a verification link from before can never be used again.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Unticked instead of deleting: the row is kept and every token stops working.",
    )
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="Can log into the admin and manage users."
    )
    date_joined = models.DateTimeField("date joined", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this email already exists.",
            ),
        ]
        # One index per supported ordering, each ending in the id tie-breaker so pages are
        # stable and keyset (cursor) paging is an index range scan in either direction; partial
        # indexes for the rare values of the filters. The trigram search index is in 0002.
        indexes = [
            models.Index(fields=["date_joined", "id"], name="accounts_user_joined_idx"),
            models.Index(fields=["last_login", "id"], name="accounts_user_last_login_idx"),
            models.Index(fields=["email", "id"], name="accounts_user_email_idx"),
            models.Index(fields=["first_name", "id"], name="accounts_user_first_name_idx"),
            models.Index(fields=["last_name", "id"], name="accounts_user_last_name_idx"),
            models.Index(
                fields=["date_joined", "id"],
                condition=models.Q(is_staff=True),
                name="accounts_user_staff_idx",
            ),
            models.Index(
                fields=["date_joined", "id"],
                condition=models.Q(is_active=False),
                name="accounts_user_inactive_idx",
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        # A refused address is reported by the field's validator; a valid one is stored normalised.
        self.email = mailbox_key(self.email) or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name


class RefreshTokenReuse(models.Model):
    """A rotated refresh token presented again: likely stolen, so all its user's tokens died."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_token_reuses")
    jti = models.CharField(max_length=255)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = "refresh token reuse"

    def __str__(self):
        return f"{self.user} at {self.detected_at:%Y-%m-%d %H:%M}"
