"""The operator's console: Django's UserAdmin for an email login, with Roster's rules.

Actions and saves go through `accounts.services`, so deactivating here revokes tokens exactly as
the API does. Hard delete exists only here (Django's delete action and view, with confirmation).
The user list is a fixed handful of queries and never counts a large table in full.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.paginator import Paginator
from django.db import transaction
from django.utils.functional import cached_property

from accounts import services
from accounts.models import RefreshTokenReuse, User

# Fields whose changes follow the rules of `services.user_update` (a new email needs verifying
# again, deactivating revokes tokens).
RULED_FIELDS = ("email", "first_name", "last_name", "is_staff", "is_active", "email_verified")


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except the unfiltered list of a huge PostgreSQL table (an estimate)."""

    @cached_property
    def count(self):
        return self.object_list.count_estimated()


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's UserAdmin, for an email login."""

    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("-date_joined",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "email_verified",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "email_verified", "date_joined")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("date_joined", "last_login")
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = (
        "deactivate_users",
        "reactivate_users",
        "mark_email_verified",
        "send_password_reset_email",
    )
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Status",
            {"fields": ("is_active", "email_verified", "is_staff", "is_superuser")},
        ),
        ("Permissions", {"classes": ("collapse",), "fields": ("groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
        ("Personal info", {"fields": ("first_name", "last_name")}),
    )

    def get_search_results(self, request, queryset, search_term):
        # The API's search: every term in "email first last", on the trigram index in PostgreSQL.
        return queryset.search(search_term.split()), False

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            # As when staff create a user through the API: the address must be confirmed.
            services.verification_email_send(user=obj)
            return
        ruled = {
            field: form.cleaned_data[field] for field in RULED_FIELDS if field in form.changed_data
        }
        columns = {field.name for field in User._meta.concrete_fields}
        others = [f for f in form.changed_data if f in columns and f not in RULED_FIELDS]
        # `user_update` applies the ruled changes itself, comparing with the stored values.
        for field in ruled:
            setattr(obj, field, form.initial[field])
        with transaction.atomic():
            if others:
                obj.save(update_fields=others)
            services.user_update(user=obj, data=ruled)

    @admin.action(
        permissions=["change"], description="Deactivate the selected users (revokes their tokens)"
    )
    def deactivate_users(self, request, queryset):
        users = queryset.filter(is_active=True).exclude(pk=request.user.pk)
        done = _each(users, lambda user: services.user_deactivate(user=user, by=request.user))
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate yourself.", messages.WARNING)
        self.message_user(request, f"Deactivated {_users(done)}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Reactivate the selected users")
    def reactivate_users(self, request, queryset):
        users = queryset.filter(is_active=False)
        done = _each(users, lambda user: services.user_reactivate(user=user, by=request.user))
        self.message_user(request, f"Reactivated {_users(done)}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Mark the selected users' email verified")
    def mark_email_verified(self, request, queryset):
        done = _each(queryset.filter(email_verified=False), services.email_mark_verified)
        self.message_user(
            request, f"Marked the email of {_users(done)} verified.", messages.SUCCESS
        )

    @admin.action(
        permissions=["change"], description="Send the selected users a password reset email"
    )
    def send_password_reset_email(self, request, queryset):
        skipped = queryset.filter(is_active=False).count()
        done = _each(queryset.filter(is_active=True), services.password_reset_email_send)
        note = f" ({_users(skipped)} inactive, skipped)" if skipped else ""
        self.message_user(
            request, f"Sent a password reset email to {_users(done)}{note}.", messages.SUCCESS
        )


def _each(queryset, rule):
    """Apply a service to each user of the queryset, one user at a time; return how many."""
    count = 0
    for user in queryset.iterator(chunk_size=500):
        rule(user=user)
        count += 1
    return count


def _users(count):
    return f"{count} user" if count == 1 else f"{count} users"


@admin.register(RefreshTokenReuse)
class RefreshTokenReuseAdmin(admin.ModelAdmin):
    list_display = ("user", "detected_at", "ip_address")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "jti", "ip_address", "detected_at")

    def has_add_permission(self, request):
        return False
