"""The operator's console: Django's UserAdmin for an email login, with Roster's rules.

Every write (the add form, the change form, the password form, every action, hard delete) goes
through `accounts.services` with the signed-in operator as the actor, so `accounts.policy` decides
here exactly as it does for the API; the form shows read-only what the policy would refuse anyway.
Hard delete exists only here (Django's delete action and view, with confirmation). The user list
is a fixed handful of queries and never counts a large table in full.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from rest_framework_simplejwt.token_blacklist import admin as token_blacklist_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import policy, reauth, services
from accounts.forms import MailboxFormField
from accounts.mfa.admin import SecondFactorsAdminMixin
from accounts.models import RefreshTokenReuse, User
from accounts.policy import Entry
from accounts.records_admin import HidesSecretsAdmin
from accounts.usersessions import services as session_services
from accounts.usersessions.admin import UserSessionInline

PRIVILEGES_NEED_RECENT_LOGIN = (
    "Changing privileges needs a recent login: log out and in again, then retry."
)
# The change form's fields that are changes of the user, each decided by the policy.
RULED_FIELDS = (*services.UPDATABLE, "is_superuser", *services.RELATIONS)


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except the unfiltered list of a huge PostgreSQL table (an estimate)."""

    @cached_property
    def count(self):
        return self.object_list.count_estimated()


class UserCreationForm(AdminUserCreationForm):
    email = MailboxFormField()

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")


class UserEditForm(UserChangeForm):
    email = MailboxFormField()

    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SecondFactorsAdminMixin, DjangoUserAdmin):
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
    readonly_fields = ("date_joined", "last_login", "email_verified_at", "second_factors")
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = (
        "deactivate_users",
        "reactivate_users",
        "mark_email_verified",
        "send_password_reset_email",
        "lift_login_lockout",
        "reset_second_factors",
        "end_sessions",
    )
    inlines = (UserSessionInline,)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "email_verified",
                    "email_verified_at",
                    "is_staff",
                    "is_superuser",
                )
            },
        ),
        ("Permissions", {"classes": ("collapse",), "fields": ("groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
        ("Second factors", {"fields": ("second_factors",)}),
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
        try:
            return queryset.search(search_term.split()), False
        except ValidationError as exc:
            # Its limits (terms, length, NUL) as a message over an empty list, not a 500.
            for message in exc.message_dict["search"]:
                messages.error(request, message)
            return queryset.none(), False

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is None:
            return readonly
        refused = policy.refused_fields(
            actor=request.user, user=obj, fields=RULED_FIELDS, entry=Entry.ADMIN
        )
        return (*readonly, *(field for field in RULED_FIELDS if field in refused))

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            password = (
                data.get("password1") if data.get("usable_password", "true") != "false" else None
            )
            created = services.user_create(
                actor=request.user,
                email=data["email"],
                password=password or None,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                entry=Entry.ADMIN,
            )
            obj.__dict__.update(created.__dict__)
            return
        data = {
            field: form.cleaned_data[field] for field in RULED_FIELDS if field in form.changed_data
        }
        stored = User.objects.get(pk=obj.pk)
        if services.changes_privileges(stored, data) and not reauth.is_recent(
            request.session.get(reauth.SESSION_AUTH_TIME)
        ):
            raise ValidationError(PRIVILEGES_NEED_RECENT_LOGIN)
        services.user_update(actor=request.user, user=obj, data=data, entry=Entry.ADMIN)

    def save_related(self, request, form, formsets, change):
        # Groups and permissions were saved by `save_model` through the policy; only inlines here.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # A race the form could not see (another request took the email meanwhile).
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect(request.path)

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404
        policy.check_change(actor=request.user, user=user, fields={"password"}, entry=Entry.ADMIN)
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        usable = form.is_valid() and form.cleaned_data["set_usable_password"]
        if not form.is_valid() or not (usable or "unset-password" in request.POST):
            return super().user_change_password(request, id, form_url)  # shows the errors
        # Not form.save(): the service sets it, under the policy, and kills the user's tokens.
        user = services.password_set(
            actor=request.user,
            user=user,
            password=form.cleaned_data["password1"] if usable else None,
        )
        self.log_change(request, user, self.construct_change_message(request, form, None))
        self.message_user(
            request,
            "Password changed successfully." if usable else "Password-based login was disabled.",
            messages.SUCCESS,
        )
        update_session_auth_hash(request, user)
        return redirect("admin:accounts_user_change", user.pk)

    def delete_model(self, request, obj):
        services.user_delete(actor=request.user, user=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                services.user_delete(actor=request.user, user=user)

    def get_deleted_objects(self, objs, request):
        """What deleting `objs` removes, and what stops it: the policy, per user.

        The rows that go with a user (their sessions, email changes, refresh token reuses,
        factors) are theirs, written only by the services and read-only here, so Django's check
        of each one's delete permission refused every hard delete of a user who had one: the
        policy's `delete` decides for them, as `services.user_delete` does."""
        to_delete, model_count, _, protected = super().get_deleted_objects(objs, request)
        refused = any(
            policy.refused_fields(
                actor=request.user, user=user, fields={"delete"}, entry=Entry.ADMIN
            )
            for user in objs
        )
        perms_needed = {self.opts.verbose_name} if refused else set()
        return to_delete, model_count, perms_needed, protected

    def has_delete_permission(self, request, obj=None):
        if obj is not None and policy.refused_fields(
            actor=request.user, user=obj, fields={"delete"}, entry=Entry.ADMIN
        ):
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(
        permissions=["change"], description="Deactivate the selected users (revokes their tokens)"
    )
    def deactivate_users(self, request, queryset):
        active = queryset.filter(is_active=True)
        self._run(request, active, services.user_deactivate, "Deactivated {}.")

    @admin.action(permissions=["change"], description="Reactivate the selected users")
    def reactivate_users(self, request, queryset):
        self._run(
            request, queryset.filter(is_active=False), services.user_reactivate, "Reactivated {}."
        )

    @admin.action(permissions=["change"], description="Mark the selected users' email verified")
    def mark_email_verified(self, request, queryset):
        self._run(
            request,
            queryset.filter(email_verified=False),
            services.email_mark_verified,
            "Marked the email of {} verified.",
        )

    @admin.action(
        permissions=["change"], description="Send the selected users a password reset email"
    )
    def send_password_reset_email(self, request, queryset):
        skipped = queryset.filter(is_active=False).count()
        done = self._run(
            request,
            queryset.filter(is_active=True),
            services.password_reset_email_send,
            None,
        )
        note = f" ({_users(skipped)} inactive, skipped)" if skipped else ""
        self.message_user(
            request, f"Sent a password reset email to {_users(done)}{note}.", messages.SUCCESS
        )

    @admin.action(permissions=["change"], description="Lift the selected users' login lockout")
    def lift_login_lockout(self, request, queryset):
        self._run(request, queryset, services.login_lockout_lift, "Lifted the login lockout of {}.")

    @admin.action(
        permissions=["change"],
        description="End the selected users' sessions (their tokens and browser sessions)",
    )
    def end_sessions(self, request, queryset):
        self._run(request, queryset, _end_sessions, "Ended the sessions of {}.")

    def get_inlines(self, request, obj):
        # Read-only display: a POST of the form carries no inline data and needs none.
        shown = obj is not None and request.method in ("GET", "HEAD")
        return self.inlines if shown else ()

    def _run(self, request, queryset, service, done_message):
        """Apply a service to each selected user as the signed-in operator; the policy may refuse
        some (they are counted and named in a warning). Returns how many were done."""
        done, refused = 0, []
        for user in queryset.iterator(chunk_size=500):
            try:
                service(actor=request.user, user=user)
            except PermissionDenied:
                refused.append(user.email)
            else:
                done += 1
        if refused:
            self.message_user(
                request,
                f"Not allowed for {_users(len(refused))}: {', '.join(refused[:10])}"
                + (" ..." if len(refused) > 10 else ""),
                messages.WARNING,
            )
        if done_message:
            self.message_user(request, done_message.format(_users(done)), messages.SUCCESS)
        return done


def _end_sessions(*, actor, user):
    session_services.end_all(actor=actor, user=user, entry=Entry.ADMIN)


def _users(count):
    return f"{count} user" if count == 1 else f"{count} users"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody edits in the admin: it is evidence, or undoing it would undo a revocation."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RefreshTokenReuse)
class RefreshTokenReuseAdmin(ReadOnlyAdmin):
    list_display = ("user", "detected_at", "ip_address")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "jti", "ip_address", "detected_at")


# SimpleJWT's blacklist admin lets staff delete a blacklist row, which would bring a revoked
# refresh token (a logged-out or stolen one) back to life: here it is read-only.
admin.site.unregister(BlacklistedToken)


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(ReadOnlyAdmin, token_blacklist_admin.BlacklistedTokenAdmin):
    pass


# SimpleJWT stores each refresh token as first minted (before Roster adds its session id) and its
# admin shows it: never shown or filtered on here, whoever may view the list.
admin.site.unregister(OutstandingToken)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(HidesSecretsAdmin, token_blacklist_admin.OutstandingTokenAdmin):
    secret_fields = ("token",)

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "token"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)


# A group's permissions are privileges: like `is_staff` and `user_permissions`, superusers only.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
