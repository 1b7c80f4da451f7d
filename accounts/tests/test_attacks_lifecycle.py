"""Attacks on the end of an account's life: hard delete in the admin (one user or the bulk
action), what a deleted user's tokens still do, and the trail the deletion leaves."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.audit.models import SecurityEvent
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def admin_browser(account):
    browser = Client()
    browser.force_login(account)
    return browser


def staff_admin(*codenames):
    staff = UserFactory(password=PASSWORD, is_staff=True)
    for codename in codenames:
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    return staff


def bulk_delete(browser, *users):
    return browser.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(u.pk) for u in users],
        },
    )


def test_hard_delete_of_a_user_with_history_keeps_the_trail_and_kills_their_tokens(api_client):
    root = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    victim = UserFactory(password=PASSWORD)
    victims_client = bearer_client(victim)
    assert victims_client.get("/api/v1/users/me/").status_code == 200
    wrong = api_client.post(
        "/api/v1/auth/token/", {"email": victim.email, "password": "nope"}, format="json"
    )
    assert wrong.status_code == 401
    before = SecurityEvent.objects.filter(user_id=victim.pk).count()
    assert before >= 1

    response = admin_browser(root).post(f"{CHANGELIST}{victim.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=victim.pk).exists()
    events = SecurityEvent.objects.filter(user_id=victim.pk)
    assert events.count() == before + 1
    deleted = events.get(type="account_deleted")
    assert deleted.actor_id == root.pk
    # The deleted user's tokens: refused, never a 5xx.
    assert victims_client.get("/api/v1/users/me/").status_code == 401
    refreshed = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": victims_client.refresh_token}, format="json"
    )
    assert refreshed.status_code == 401
    logout = api_client.post(
        "/api/v1/auth/logout/", {"refresh": victims_client.refresh_token}, format="json"
    )
    assert logout.status_code < 500
    verify = api_client.post(
        "/api/v1/auth/token/verify/", {"token": victims_client.access_token}, format="json"
    )
    assert verify.status_code == 401
    # The address is free again.
    again = api_client.post(
        "/api/v1/auth/register/", {"email": victim.email, "password": PASSWORD}, format="json"
    )
    assert again.status_code == 201
    assert User.objects.get(email=victim.email).pk != victim.pk


@pytest.mark.parametrize("target", ["superuser", "staff"])
def test_staff_bulk_delete_cannot_remove_a_privileged_account(target):
    staff = staff_admin("view_user", "change_user", "delete_user")
    ordinary = UserFactory()
    privileged = UserFactory(is_staff=True, is_superuser=target == "superuser")

    response = bulk_delete(admin_browser(staff), ordinary, privileged)

    assert response.status_code in (302, 403, 200)
    assert User.objects.filter(pk=privileged.pk).exists()
    assert not SecurityEvent.objects.filter(user_id=privileged.pk, type="account_deleted")


def test_staff_single_delete_of_a_superuser_is_refused():
    staff = staff_admin("view_user", "change_user", "delete_user")
    root = UserFactory(is_staff=True, is_superuser=True)
    browser = admin_browser(staff)

    assert browser.get(f"{CHANGELIST}{root.pk}/delete/").status_code == 403
    assert browser.post(f"{CHANGELIST}{root.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=root.pk).exists()


def test_bulk_delete_records_each_deletion():
    staff = staff_admin("view_user", "change_user", "delete_user")
    first, second = UserFactory(), UserFactory()

    response = bulk_delete(admin_browser(staff), first, second)

    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[first.pk, second.pk]).exists()
    for gone in (first, second):
        assert SecurityEvent.objects.filter(user_id=gone.pk, type="account_deleted").count() == 1


def test_staff_cannot_delete_themself_in_bulk():
    staff = staff_admin("view_user", "change_user", "delete_user")

    bulk_delete(admin_browser(staff), staff)

    assert User.objects.filter(pk=staff.pk).exists()


def test_the_admin_and_the_api_show_a_deleted_users_events_without_error():
    root = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    victim = UserFactory(password=PASSWORD)
    bearer_client(victim)
    browser = admin_browser(root)
    assert browser.post(f"{CHANGELIST}{victim.pk}/delete/", {"post": "yes"}).status_code == 302
    event = SecurityEvent.objects.get(user_id=victim.pk, type="account_deleted")

    assert browser.get("/admin/audit/securityevent/").status_code == 200
    assert browser.get(f"/admin/audit/securityevent/{event.pk}/change/").status_code == 200
    assert browser.get("/admin/audit/securityevent/", {"q": victim.email}).status_code == 200
    assert browser.get("/admin/token_blacklist/outstandingtoken/").status_code == 200
    staff_api = bearer_client(root)
    listed = staff_api.get("/api/v1/audit/events/", {"user": str(victim.pk)})
    assert listed.status_code == 200
    assert {row["type"] for row in listed.json()["results"]} >= {"account_deleted"}
    assert staff_api.get(f"/api/v1/users/{victim.pk}/").status_code == 404
    assert staff_api.delete(f"/api/v1/users/{victim.pk}/").status_code == 404
    assert staff_api.get(f"/api/v1/users/{victim.pk}/sessions/").status_code == 404


def reused_refresh_token(account, api_client):
    holder = bearer_client(account)
    first = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": holder.refresh_token}, format="json"
    )
    assert first.status_code == 200
    again = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": holder.refresh_token}, format="json"
    )
    assert again.status_code == 401


@pytest.mark.parametrize("history", ["refresh_token_reuse", "email_change"])
def test_a_superuser_can_hard_delete_a_user_whatever_their_history(api_client, history):
    root = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    victim = UserFactory(password=PASSWORD, email_verified=True)
    if history == "refresh_token_reuse":
        reused_refresh_token(victim, api_client)
        assert victim.refresh_token_reuses.exists()
    else:
        from accounts.emailchange.models import EmailChange

        EmailChange.objects.create(
            user=victim,
            old_email=victim.email,
            new_email="new-home@example.com",
            confirm_by="2099-01-01T00:00:00Z",
            revert_by="2099-01-01T00:00:00Z",
        )
    browser = admin_browser(root)
    delete_url = f"{CHANGELIST}{victim.pk}/delete/"

    confirmation = browser.get(delete_url)
    assert confirmation.status_code == 200
    assert "permission to delete" not in confirmation.content.decode()
    assert browser.post(delete_url, {"post": "yes"}).status_code == 302
    assert not User.objects.filter(pk=victim.pk).exists()
    assert bulk_delete(browser, UserFactory()).status_code == 302


def test_prune_events_also_removes_the_old_copies_in_the_webhook_delivery_log(staff_client, user):
    # Each delivery holds the whole event (address, User-Agent, data): pruning the events left
    # those copies in the delivery log for ever.
    from datetime import timedelta

    from django.db.models import QuerySet
    from django.utils import timezone

    from accounts.audit.events import record
    from accounts.tests.test_commands import run
    from accounts.webhooks.models import WebhookDelivery

    created = staff_client.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["login_failed"]},
        format="json",
    )
    assert created.status_code == 201
    for _ in range(3):
        record("login_failed", user=user, data={"method": "password", "purpose": "login"})
    old, old_pending, recent = WebhookDelivery.objects.order_by("id")
    long_ago = timezone.now() - timedelta(days=500)
    WebhookDelivery.objects.filter(pk__in=[old.pk, old_pending.pk]).update(created_at=long_ago)
    WebhookDelivery.objects.filter(pk__in=[old.pk, recent.pk]).update(status="delivered")
    events = SecurityEvent.objects.filter(type="login_failed").order_by("id")
    for event, moment in zip(events, [long_ago, long_ago, timezone.now()], strict=True):
        # Events refuse updates; the base QuerySet's update backdates one for the test.
        QuerySet.update(SecurityEvent.objects.filter(pk=event.pk), at=moment)

    run("prune_events", "--older-than", "400d")

    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    # The old finished one goes; one still waiting to be delivered stays, as does a recent one.
    assert left == {old_pending.pk, recent.pk}


def test_a_deleted_users_signed_in_browser_is_signed_out_not_an_error():
    root = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    victim = UserFactory(password=PASSWORD, is_staff=True)
    victim.user_permissions.add(Permission.objects.get(codename="view_user"))
    victims_browser = Client()
    login = victims_browser.post(
        "/admin/login/", {"username": victim.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert login.status_code == 302
    assert victims_browser.get(CHANGELIST).status_code == 200

    assert (
        admin_browser(root).post(f"{CHANGELIST}{victim.pk}/delete/", {"post": "yes"}).status_code
        == 302
    )

    assert victims_browser.get(CHANGELIST).status_code == 302  # to the login page
    assert victims_browser.get("/api/v1/users/me/", HTTP_ACCEPT="application/json").status_code in (
        401,
        403,
    )
