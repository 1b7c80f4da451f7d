from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import RefreshTokenReuse, User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


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
    )


@admin.register(RefreshTokenReuse)
class RefreshTokenReuseAdmin(admin.ModelAdmin):
    list_display = ("user", "detected_at", "ip_address")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "jti", "ip_address", "detected_at")

    def has_add_permission(self, request):
        return False
