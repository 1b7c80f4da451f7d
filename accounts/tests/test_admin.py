"""The admin as operators use it: pages, actions, forms, hard delete, and the throttled login."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

CHANGELIST = "/admin/accounts/user/"
LOGIN = "/admin/login/"


@pytest.fixture
def superuser(db):
    return UserFactory(password=PASSWORD, is_staff=True, is_superuser=True, email_verified=True)


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
    mail.outbox.clear()  # the login's new-sign-in notice to the operator
    return client


def change_url(user):
    return f"{CHANGELIST}{user.pk}/change/"


def run_action(client, action, *users):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(u.pk) for u in users]},
        follow=True,
    )


def refresh_works(account_refresh, api_client):
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": str(account_refresh)})
    return response.status_code == 200


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- Pages and who may see them ---------------------------------------------------------------


def test_changelist_shows_the_columns_of_each_user(admin_client, user):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert user.email in page and user.first_name in page and user.last_name in page
    for column in ("Email verified", "Active", "Staff status", "Date joined", "Last login"):
        assert column in page


def test_changelist_searches_email_and_names(admin_client):
    ada = UserFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    alan = UserFactory(email="alan@example.org", first_name="Alan", last_name="Turing")

    def found(query):
        # Among these two: the signed-in operator has a random factory name ("Alana" finds "ala").
        listed = admin_client.get(CHANGELIST, {"q": query}).context["cl"].result_list
        return set(listed) & {ada, alan}

    assert found("ADA@EXAMPLE") == {ada}
    assert found("turing") == {alan}
    assert found("ala") == {alan}
    assert found("example") == {ada, alan}


def test_changelist_filters_on_active_staff_and_verified(admin_client, superuser, user):
    inactive = UserFactory(is_active=False)

    active_only = admin_client.get(CHANGELIST, {"is_active__exact": "0"}).context["cl"]
    staff_only = admin_client.get(CHANGELIST, {"is_staff__exact": "1"}).context["cl"]
    verified = admin_client.get(CHANGELIST, {"email_verified__exact": "1"}).context["cl"]

    assert list(active_only.result_list) == [inactive]
    assert list(staff_only.result_list) == [superuser]
    assert list(verified.result_list) == [superuser]


def test_changelist_orders_newest_first_and_by_a_chosen_column(admin_client, superuser):
    first = UserFactory(email="aaa@example.com")
    last = UserFactory(email="zzz@example.com")

    newest_first = list(admin_client.get(CHANGELIST).context["cl"].result_list)
    by_email = list(admin_client.get(CHANGELIST, {"o": "1"}).context["cl"].result_list)

    assert newest_first[0] == last
    assert by_email[0] == first and by_email[-1] == last


def test_non_staff_user_is_sent_to_the_admin_login(client, user):
    client.force_login(user)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_non_staff_user_cannot_run_an_action(client, user, other_user):
    client.force_login(user)

    response = client.post(
        CHANGELIST, {"action": "deactivate_users", "_selected_action": [str(other_user.pk)]}
    )

    assert response.status_code == 302
    other_user.refresh_from_db()
    assert other_user.is_active


def test_staff_without_the_user_permissions_is_refused(client, staff):
    client.force_login(staff)

    assert client.get(CHANGELIST).status_code == 403


def test_staff_with_view_permission_sees_the_list_but_no_actions_run(client, staff, user):
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(staff)

    assert client.get(CHANGELIST).status_code == 200
    run_action(client, "deactivate_users", user)
    user.refresh_from_db()
    assert user.is_active


# --- Query count ------------------------------------------------------------------------------


def changelist_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("params", [{}, {"q": "example"}, {"is_active__exact": "1", "p": "2"}])
def test_changelist_query_count_does_not_grow_with_the_table(admin_client, params):
    UserFactory.create_batch(4)
    small = changelist_queries(admin_client, **{**params, "p": "1"})
    UserFactory.create_batch(120)
    large = changelist_queries(admin_client, **params)

    assert large == small
    assert large <= 6


# --- Actions ----------------------------------------------------------------------------------


def test_deactivate_action_deactivates_and_revokes_tokens(admin_client, user, api_client):
    refresh = RefreshToken.for_user(user)

    response = run_action(admin_client, "deactivate_users", user)

    assert "Deactivated 1 user." in messages_of(response)
    user.refresh_from_db()
    assert not user.is_active
    assert not refresh_works(refresh, api_client)


def test_deactivate_action_never_deactivates_the_operator(admin_client, superuser, user):
    response = run_action(admin_client, "deactivate_users", superuser, user)

    assert f"Not allowed for 1 user: {superuser.email}" in messages_of(response)
    superuser.refresh_from_db()
    user.refresh_from_db()
    assert superuser.is_active and not user.is_active


def test_reactivate_action(admin_client, user):
    user.is_active = False
    user.save()

    response = run_action(admin_client, "reactivate_users", user)

    assert "Reactivated 1 user." in messages_of(response)
    user.refresh_from_db()
    assert user.is_active


def test_mark_email_verified_action(admin_client, user, other_user):
    response = run_action(admin_client, "mark_email_verified", user, other_user)

    assert "Marked the email of 2 users verified." in messages_of(response)
    assert User.objects.filter(pk__in=[user.pk, other_user.pk], email_verified=True).count() == 2


def test_password_reset_action_emails_active_users_only(admin_client, superuser, user, other_user):
    other_user.is_active = False
    other_user.save()

    response = run_action(admin_client, "send_password_reset_email", user, other_user)

    assert "Sent a password reset email to 1 user (1 user inactive, skipped)." in messages_of(
        response
    )
    (reset,) = [m for m in mail.outbox if m.to != [superuser.email]]  # not its sign-in notice
    assert reset.to == [user.email]
    assert "/accounts/password/reset/" in reset.body


# --- Add and change forms ---------------------------------------------------------------------


def add_user(client, **fields):
    data = {"email": "new@example.com", "usable_password": "true"}
    data.update(password1=PASSWORD, password2=PASSWORD, first_name="Ada", last_name="Lovelace")
    data.update(fields)
    return client.post(f"{CHANGELIST}add/", data)


def test_add_form_creates_a_user_with_the_password_and_sends_verification(admin_client, superuser):
    response = add_user(admin_client, email="New@Example.COM")

    assert response.status_code == 302
    created = User.objects.with_email("new@example.com").get()
    assert created.email == "new@example.com"
    assert created.check_password(PASSWORD)
    assert (created.first_name, created.is_active, created.email_verified) == ("Ada", True, False)
    assert [m.to for m in mail.outbox if m.to != [superuser.email]] == [["new@example.com"]]


def test_add_form_refuses_a_mismatched_confirmation(admin_client):
    response = add_user(admin_client, password2=PASSWORD + "x")

    assert response.status_code == 200
    assert "password2" in response.context["adminform"].form.errors
    assert not User.objects.with_email("new@example.com").exists()


def test_add_form_refuses_an_email_taken_ignoring_case(admin_client, user):
    response = add_user(admin_client, email=user.email.upper())

    assert response.status_code == 200
    assert "A user with this email already exists." in response.content.decode()
    assert User.objects.with_email(user.email).count() == 1


def test_add_form_can_leave_the_password_unusable(admin_client):
    add_user(admin_client, usable_password="false", password1="", password2="")

    assert not User.objects.with_email("new@example.com").get().has_usable_password()


def test_change_form_links_to_the_password_change_and_shows_timestamps_read_only(
    admin_client, user
):
    response = admin_client.get(change_url(user))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<a class="button" href="../password/">Reset password</a>' in page
    form = response.context["adminform"].form
    assert "date_joined" not in form.fields and "last_login" not in form.fields
    assert admin_client.get(f"{CHANGELIST}{user.pk}/password/").status_code == 200


def change_data(user, **fields):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "email_verified": "on",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_change_form_saves_names_and_privileges(admin_client, user):
    data = change_data(user, first_name="Grace", is_staff="on", is_superuser="on")

    response = admin_client.post(change_url(user), data)

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.is_staff, user.is_superuser) == ("Grace", True, True)
    assert user.check_password(PASSWORD)


def test_change_form_new_email_needs_verifying_again(admin_client, user):
    user.email_verified = True
    user.save()

    response = admin_client.post(change_url(user), change_data(user, email="moved@example.com"))

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("moved@example.com", False)


def test_change_form_deactivation_revokes_tokens(admin_client, user, api_client):
    refresh = RefreshToken.for_user(user)

    response = admin_client.post(change_url(user), change_data(user, is_active=None))

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert not refresh_works(refresh, api_client)


# --- Hard delete ------------------------------------------------------------------------------


def test_hard_delete_asks_for_confirmation_then_removes_the_row(admin_client, user):
    delete_url = f"{CHANGELIST}{user.pk}/delete/"

    confirmation = admin_client.get(delete_url)
    assert confirmation.status_code == 200
    assert "Are you sure you want to delete the user" in confirmation.content.decode()
    assert User.objects.filter(pk=user.pk).exists()

    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


# --- Login, throttled like the API's ----------------------------------------------------------


def admin_login(client, email, password):
    return client.post(LOGIN, {"username": email, "password": password, "next": "/admin/"})


def test_staff_logs_in_with_email_ignoring_case(client, superuser):
    response = admin_login(client, superuser.email.upper(), PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_non_staff_cannot_log_into_the_admin(client, user):
    response = admin_login(client, user.email, PASSWORD)

    assert response.status_code == 200
    assert "staff account" in response.content.decode()


def test_admin_login_is_locked_per_account_after_ten_failures(client, superuser):
    for _ in range(10):
        assert admin_login(client, superuser.email, "wrong password").status_code == 200

    response = admin_login(client, superuser.email.upper(), PASSWORD)

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "Too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_is_limited_per_client_ip(client, settings, superuser, user, fresh_windows):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "3/minute"}
    for account in (user, user, superuser):
        assert admin_login(client, account.email, "wrong password").status_code == 200

    response = admin_login(client, superuser.email, PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("usable", [True, False])
def test_password_form_sets_through_the_service_and_kills_the_users_tokens(
    admin_client, user, api_client, usable
):
    refresh = RefreshToken.for_user(user)
    new = "another-Long-enough-passw0rd"
    data = {"password1": new, "password2": new, "usable_password": "true", "set-password": ""}
    if not usable:
        data = {"usable_password": "false", "unset-password": ""}

    response = admin_client.post(f"{CHANGELIST}{user.pk}/password/", data)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new) if usable else not user.has_usable_password()
    assert not refresh_works(refresh, api_client)


def test_password_form_refuses_a_weak_password_and_changes_nothing(admin_client, user):
    data = {"password1": "short", "password2": "short", "usable_password": "true"}

    response = admin_client.post(f"{CHANGELIST}{user.pk}/password/", data)

    assert response.status_code == 200
    assert response.context["adminForm"].form.errors
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
