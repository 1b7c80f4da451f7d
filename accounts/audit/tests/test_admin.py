"""The admin shows events, email changes and webhook deliveries, and changes none of them."""

import pytest
from django.test import Client

from accounts.audit.events import record
from accounts.audit.models import EventType, SecurityEvent
from accounts.tests.factories import UserFactory
from accounts.webhooks import services as webhooks

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_events_are_read_only_even_for_a_superuser(admin_client, user):
    event = record(EventType.LOGIN_FAILED, user=user, data={"purpose": "login"})
    url = f"/admin/audit/securityevent/{event.pk}/change/"
    assert admin_client.get("/admin/audit/securityevent/").status_code == 200
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(url, {"type": "login_succeeded"}).status_code == 403
    delete = f"/admin/audit/securityevent/{event.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/audit/securityevent/add/").status_code == 403
    event.refresh_from_db()
    assert event.type == "login_failed" and SecurityEvent.objects.count() == 1


def test_the_webhook_secret_is_not_in_the_admin(admin_client, settings):
    staff = UserFactory(is_staff=True)
    endpoint = webhooks.endpoint_create(
        actor=staff, url="http://127.0.0.1:9/hook", event_types=["login_failed"]
    )
    page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200
    assert endpoint.secret.encode() not in page.content
    assert admin_client.get("/admin/webhooks/webhookdelivery/").status_code == 200
