"""The policy, tried the way an attacker would: every actor on every target, every field, every
spelling of the id, through every entry point (API PATCH/PUT/DELETE, the admin's change form and
actions, the import). The stored row must change exactly as DESIGN.md's table says, and nothing
else may change.

`expected` below is written from DESIGN.md, independently of `accounts.policy`.
"""

import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import policy, services
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import bearer_client

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "user", "other user", "staff", "other staff", "superuser")
TARGETS = ("self", "ordinary", "staff", "superuser")
FIELDS = ("email", "first_name", "last_name", "is_active", "email_verified", "is_staff")
ADMIN_FIELDS = (*FIELDS, "is_superuser")
ACTIONS = {  # admin action -> the field it changes
    "deactivate_users": "is_active",
    "reactivate_users": "is_active",
    "mark_email_verified": "email_verified",
}
SPELLINGS = {
    "canonical": str,
    "upper": lambda pk: str(pk).upper(),
    "braces": lambda pk: "{" + str(pk) + "}",
    "hex": lambda pk: pk.hex,
    "urn": lambda pk: pk.urn,
}
SNAPSHOT = (
    "email",
    "first_name",
    "last_name",
    "is_active",
    "email_verified",
    "is_staff",
    "is_superuser",
    "password",
)


def expected(actor, target, field, entry):
    """DESIGN.md's "Who may do what", read directly."""
    if actor == "anonymous":
        return False
    if entry == "admin" and actor not in ("staff", "other staff", "superuser"):
        return False  # only staff reach the admin at all
    if target == "self":
        return field in ("first_name", "last_name")
    if field == "is_superuser":
        return actor == "superuser" and entry == "admin"
    if actor == "superuser":
        return True
    if field == "is_staff" or target in ("staff", "superuser"):
        return False
    return actor in ("staff", "other staff")


def make(kind, **extra):
    flags = {
        "user": {},
        "other user": {},
        "ordinary": {},
        "staff": {"is_staff": True},
        "other staff": {"is_staff": True},
        "superuser": {"is_staff": True, "is_superuser": True},
    }[kind]
    account = UserFactory(**flags, **extra)
    if flags.get("is_staff") and not flags.get("is_superuser"):
        # An operator who can use the admin's user pages at all.
        account.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_user", "change_user", "delete_user"])
        )
    return account


def snapshot(user):
    row = User.objects.get(pk=user.pk)
    return {field: getattr(row, field) for field in SNAPSHOT}


def new_value(target, field):
    current = getattr(target, field)
    if field == "email":
        return f"moved-{uuid.uuid4().hex[:8]}@example.com"
    if isinstance(current, bool):
        return not current
    return current + "-changed"


def expected_row(before, field, value, allowed):
    after = dict(before)
    if allowed:
        after[field] = value
        if field == "email" and before["email_verified"]:
            after["email_verified"] = False
    return after


def setup(actor_kind, target_kind, target_flags):
    actor = None if actor_kind == "anonymous" else make(actor_kind)
    if target_kind == "self":
        target = actor or make("ordinary")
    else:
        target = make(target_kind, **target_flags)
    return actor, target


def api_client_for(actor):
    return bearer_client(actor) if actor is not None else Client()


def admin_client_for(actor):
    client = Client()
    if actor is not None:
        client.force_login(actor)
    return client


def admin_form(target):
    data = {
        "email": target.email,
        "first_name": target.first_name,
        "last_name": target.last_name,
    }
    for flag in ("is_active", "email_verified", "is_staff", "is_superuser"):
        if getattr(target, flag):
            data[flag] = "on"
    perms = target.user_permissions.values_list("pk", flat=True)
    data["user_permissions"] = [str(pk) for pk in perms]
    return data


target_flags = st.fixed_dictionaries({"is_active": st.booleans(), "email_verified": st.booleans()})
matrix = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@matrix
@given(
    actor_kind=st.sampled_from(ACTORS),
    target_kind=st.sampled_from(TARGETS),
    flags=target_flags,
    field=st.sampled_from(FIELDS),
    method=st.sampled_from(["patch", "put"]),
    spelling=st.sampled_from(sorted(SPELLINGS)),
)
def test_api_updates_change_exactly_what_the_policy_allows(
    actor_kind, target_kind, flags, field, method, spelling
):
    actor, target = setup(actor_kind, target_kind, flags)
    before = snapshot(target)
    value = new_value(target, field)
    body = {field: value}
    if method == "put":
        body = {**{f: before[f] for f in FIELDS}, field: value}

    response = getattr(api_client_for(actor), method)(
        f"/api/v1/users/{SPELLINGS[spelling](target.pk)}/",
        json.dumps(body),
        content_type="application/json",
    )

    allowed = spelling == "canonical" and expected(actor_kind, target_kind, field, "api")
    assert response.status_code < 500
    assert (response.status_code == 200) == allowed, response.content
    assert snapshot(target) == expected_row(before, field, value, allowed)


@matrix
@given(
    actor_kind=st.sampled_from(ACTORS),
    target_kind=st.sampled_from(TARGETS),
    flags=target_flags,
    spelling=st.sampled_from(sorted(SPELLINGS)),
)
def test_api_delete_deactivates_exactly_when_the_policy_allows(
    actor_kind, target_kind, flags, spelling
):
    actor, target = setup(actor_kind, target_kind, {**flags, "is_active": True})
    before = snapshot(target)

    response = api_client_for(actor).delete(f"/api/v1/users/{SPELLINGS[spelling](target.pk)}/")

    allowed = spelling == "canonical" and expected(actor_kind, target_kind, "is_active", "api")
    assert (response.status_code == 204) == allowed, response.content
    assert snapshot(target) == expected_row(before, "is_active", False, allowed)


@matrix
@given(
    actor_kind=st.sampled_from(ACTORS),
    target_kind=st.sampled_from(TARGETS),
    flags=target_flags,
    field=st.sampled_from(ADMIN_FIELDS),
)
def test_admin_change_form_changes_exactly_what_the_policy_allows(
    actor_kind, target_kind, flags, field
):
    actor, target = setup(actor_kind, target_kind, flags)
    before = snapshot(target)
    value = new_value(target, field)
    data = admin_form(target)
    if isinstance(value, bool):
        data.pop(field, None)
        if value:
            data[field] = "on"
    else:
        data[field] = value

    response = admin_client_for(actor).post(f"/admin/accounts/user/{target.pk}/change/", data)

    allowed = expected(actor_kind, target_kind, field, "admin")
    assert response.status_code < 500
    assert snapshot(target) == expected_row(before, field, value, allowed)


@matrix
@given(
    actor_kind=st.sampled_from(ACTORS),
    target_kind=st.sampled_from(TARGETS),
    flags=target_flags,
    action=st.sampled_from(sorted(ACTIONS)),
)
def test_admin_actions_change_exactly_what_the_policy_allows(
    actor_kind, target_kind, flags, action
):
    field = ACTIONS[action]
    value = {"deactivate_users": False, "reactivate_users": True, "mark_email_verified": True}
    actor, target = setup(actor_kind, target_kind, {**flags, field: not value[action]})
    before = snapshot(target)

    response = admin_client_for(actor).post(
        "/admin/accounts/user/", {"action": action, "_selected_action": [str(target.pk)]}
    )

    allowed = expected(actor_kind, target_kind, field, "admin")
    assert response.status_code < 500
    assert snapshot(target) == expected_row(before, field, value[action], allowed)


def test_staff_cannot_set_a_superusers_password_in_the_admin():
    staff, boss = make("staff"), make("superuser")
    client = admin_client_for(staff)
    url = f"/admin/accounts/user/{boss.pk}/password/"
    before = snapshot(boss)

    page = client.get(url)
    new = "An0ther-long-passw0rd"
    posted = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})

    assert page.status_code == 403 and posted.status_code == 403
    assert snapshot(boss) == before


def test_staff_cannot_hard_delete_another_staff_account_in_the_admin():
    staff, other = make("staff"), make("other staff")
    client = admin_client_for(staff)

    page = client.post(f"/admin/accounts/user/{other.pk}/delete/", {"post": "yes"})
    action = client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [str(other.pk)], "post": "yes"},
    )

    assert page.status_code == 403 and action.status_code < 500
    assert User.objects.filter(pk=other.pk).exists()


def test_staff_cannot_grant_permissions_to_themselves_in_the_admin():
    staff = make("staff")
    every = Permission.objects.values_list("pk", flat=True)
    data = {**admin_form(staff), "user_permissions": [str(pk) for pk in every]}

    admin_client_for(staff).post(f"/admin/accounts/user/{staff.pk}/change/", data)

    assert staff.user_permissions.count() == 3


def test_the_import_sets_anything_but_is_superuser(tmp_path):
    target = make("staff")
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"email": target.email, "is_staff": False, "last_name": "New"}]))

    call_command("import_users", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115

    row = User.objects.get(pk=target.pk)
    assert not row.is_staff and row.last_name == "New"
    path.write_text(json.dumps([{"email": target.email, "is_superuser": True}]))
    with pytest.raises(CommandError):
        call_command("import_users", str(path))
    assert not User.objects.get(pk=target.pk).is_superuser


@given(field=st.sampled_from(sorted(policy.FIELDS)), entry=st.sampled_from(list(policy.Entry)))
@settings(max_examples=60, deadline=None)
def test_the_operator_may_change_only_through_the_import(field, entry):
    target = User(email="someone@example.com", is_staff=True)

    refused = policy.refused_fields(actor=policy.OPERATOR, user=target, fields={field}, entry=entry)

    may = (entry is policy.Entry.IMPORT and field != "is_superuser") or (
        entry is policy.Entry.COMMAND and field == "password"  # manage.py changepassword
    )
    assert (refused == set()) == may


def test_a_field_nobody_thought_about_is_refused_even_to_a_superuser():
    boss, user = make("superuser"), make("ordinary")

    assert policy.refused_fields(
        actor=boss, user=user, fields={"password_hash", "date_joined"}, entry=policy.Entry.ADMIN
    ) == {"password_hash", "date_joined"}


def test_a_deactivated_staff_member_changes_nothing():
    staff, user = make("staff"), make("ordinary")
    staff.is_active = False

    with pytest.raises(PermissionDenied):
        services.user_update(actor=staff, user=user, data={"first_name": "X"})


def test_staff_cannot_bring_a_revoked_refresh_token_back_in_the_admin():
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
    from rest_framework_simplejwt.tokens import RefreshToken

    staff, user = make("staff"), make("ordinary")
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="blacklistedtoken"))
    refresh = RefreshToken.for_user(user)
    refresh.blacklist()
    row = BlacklistedToken.objects.get()
    client = admin_client_for(staff)

    client.post(f"/admin/token_blacklist/blacklistedtoken/{row.pk}/delete/", {"post": "yes"})
    client.post(
        "/admin/token_blacklist/blacklistedtoken/",
        {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"},
    )

    assert BlacklistedToken.objects.filter(pk=row.pk).exists()


def test_only_superusers_edit_groups_in_the_admin():
    from django.contrib.auth.models import Group

    staff = make("staff")
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_group"))
    group = Group.objects.create(name="operators")
    staff.groups.add(group)

    response = admin_client_for(staff).post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "operators", "permissions": [str(p.pk) for p in Permission.objects.all()]},
    )

    assert response.status_code == 403
    assert group.permissions.count() == 0


@given(
    actor=st.sampled_from([None, "anonymous", "inactive"]),
    field=st.sampled_from(sorted(policy.FIELDS)),
    entry=st.sampled_from(list(policy.Entry)),
)
@settings(max_examples=60, deadline=None)
def test_no_actor_at_all_is_refused_every_change_and_never_crashes(actor, field, entry):
    from django.contrib.auth.models import AnonymousUser

    target = User(email="someone@example.com")
    actor = {
        None: None,
        "anonymous": AnonymousUser(),
        "inactive": User(pk=target.pk, is_active=False, is_superuser=True),
    }[actor]

    with pytest.raises(PermissionDenied):
        policy.check_change(actor=actor, user=target, fields={field}, entry=entry)
