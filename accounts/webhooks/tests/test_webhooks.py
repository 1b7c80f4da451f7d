"""Webhooks end to end: security events reach a real receiver on loopback, signed per Standard
Webhooks (verified by the receiver with the `standardwebhooks` library), through a receiver that
is down for a while and then returns: every event arrives, duplicates only with the same id.
And the address rules: private, loopback and link-local URLs are refused at registration and
again at delivery (DNS rebinding)."""

import contextlib
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts import login_gate, services
from accounts.audit.models import SecurityEvent
from accounts.webhooks import services as webhooks
from accounts.webhooks.models import WebhookDelivery
from config.tests.servers import free_port
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
CLIENT = login_gate.Client(ip="203.0.113.8", user_agent="Firefox/140")
START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class Receiver:
    """A webhook receiver on 127.0.0.1 that can be stopped and started on the same port; it
    verifies every signature and can answer 500 to the first `fail_first` valid messages."""

    def __init__(self):
        self.port = free_port()
        self.secret = None
        self.received = []  # (webhook-id, payload) of every verified request
        self.rejected = 0
        self.fail_first = 0
        self.server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError:
                    receiver.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.received.append((self.headers["webhook-id"], payload))
                failing = receiver.fail_first > 0
                receiver.fail_first -= 1
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/roster"


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


def register(staff_client, url, types=("login_succeeded", "login_failed")):
    response = staff_client.post("/api/v1/webhooks/", {"url": url, "event_types": list(types)})
    assert response.status_code == 201, response.content
    return response.json()


def test_events_reach_a_receiver_that_is_down_for_a_while(staff_client, user, receiver):
    endpoint = register(staff_client, receiver.url)
    receiver.secret = endpoint["secret"]
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in staff_client.get(f"/api/v1/webhooks/{endpoint['id']}/").json()

    with time_machine.travel(START, tick=False) as clock:
        for password in (PASSWORD, "wrong-password", PASSWORD):
            with contextlib.suppress(login_gate.WrongCredentials):
                services.login(email=user.email, password=password, client=CLIENT)
        services.password_change(
            user=user, current_password=PASSWORD, new_password="Another-passw0rd!", client=CLIENT
        )  # password_changed: not subscribed
        events = set(
            SecurityEvent.objects.filter(type__in=["login_succeeded", "login_failed"]).values_list(
                "id", flat=True
            )
        )
        assert len(events) == 3
        # The receiver is down: three attempts over a few minutes all fail, nothing is lost.
        for _ in range(3):
            assert webhooks.deliver_due() == 3
            clock.shift(dt.timedelta(minutes=6))
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}
        assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {3}
        # It comes back, but loses its answer to the first message: that one comes again.
        receiver.start()
        receiver.fail_first = 1
        clock.shift(dt.timedelta(hours=1))
        call_command("deliver_webhooks", "--once")
        clock.shift(dt.timedelta(hours=3))
        call_command("deliver_webhooks", "--once")

    assert receiver.rejected == 0
    assert {payload["data"]["id"] for _, payload in receiver.received} == events
    by_id = {}
    for message_id, payload in receiver.received:
        by_id.setdefault(message_id, []).append(payload["data"]["id"])
    assert len(by_id) == 3  # one webhook-id per event
    assert all(len(set(ids)) == 1 for ids in by_id.values())  # a duplicate has the same id
    assert len(receiver.received) == 4  # exactly one duplicate
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    payload = receiver.received[-1][1]
    assert set(payload) == {"type", "timestamp", "data"}
    assert payload["data"]["user"] == str(user.pk)
    deliveries = staff_client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()
    assert len(deliveries["results"]) == 3
    assert {d["status"] for d in deliveries["results"]} == {"delivered"}


def test_a_receiver_down_for_more_than_a_day_is_given_up_on_after_the_last_retry(
    staff_client, user, receiver
):
    endpoint = register(staff_client, receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        services.login(email=user.email, password=PASSWORD, client=CLIENT)
        while WebhookDelivery.objects.filter(status="pending").exists():
            webhooks.deliver_due()
            clock.shift(dt.timedelta(minutes=30))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == len(webhooks.RETRY_DELAYS) + 1
    assert delivery.last_attempt_at - delivery.created_at >= dt.timedelta(days=1)
    assert "Connection" in delivery.last_error
    assert endpoint["id"]


def test_a_rolled_back_event_sends_nothing(staff_client, user, receiver):
    from django.db import transaction

    register(staff_client, receiver.url, types=["password_changed"])
    with pytest.raises(RuntimeError), transaction.atomic():
        services.password_change(
            user=user, current_password=PASSWORD, new_password="Another-passw0rd!", client=CLIENT
        )
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
        "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",  # Teredo, client 10.0.0.1
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
        "http://no-such-host.invalid/hook",
    ],
)
def test_private_and_odd_urls_are_refused_at_registration(staff_client, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = staff_client.post("/api/v1/webhooks/", {"url": url, "event_types": ["login_failed"]})
    assert response.status_code == 400
    assert "url" in response.json()["errors"]


def test_an_address_that_turned_private_is_refused_at_delivery(
    staff_client, user, receiver, settings
):
    # Registered while allowed (think: the name resolved to a public address then) ...
    register(staff_client, receiver.url)
    receiver.start()
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False  # ... and now it resolves to loopback.
    services.login(email=user.email, password=PASSWORD, client=CLIENT)
    webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert receiver.received == [] and delivery.status == "pending"
    assert "private" in delivery.last_error


def test_only_staff_manage_webhooks(auth_client, api_client, staff_client, receiver):
    assert auth_client.get("/api/v1/webhooks/").status_code == 403
    assert api_client.post("/api/v1/webhooks/", {}).status_code == 401
    endpoint = register(staff_client, receiver.url)
    url = f"/api/v1/webhooks/{endpoint['id']}/"
    assert auth_client.delete(url).status_code == 403
    assert auth_client.get(f"{url}deliveries/").status_code == 403
    patched = staff_client.patch(url, {"event_types": ["mfa_failed"]}, format="json")
    assert patched.status_code == 200 and patched.json()["event_types"] == ["mfa_failed"]
    assert "secret" not in patched.json()
    assert staff_client.put(url, {}).status_code == 405
    assert staff_client.patch(url, {"event_types": ["nope"]}, format="json").status_code == 400
    assert staff_client.patch(url, {"event_types": []}, format="json").status_code == 400
    assert staff_client.delete(url).status_code == 204
    assert staff_client.get(url).status_code == 404


def test_an_inactive_endpoint_or_an_unsubscribed_type_gets_nothing(staff_client, user, receiver):
    endpoint = register(staff_client, receiver.url, types=["login_failed"])
    services.login(email=user.email, password=PASSWORD, client=CLIENT)  # login_succeeded
    staff_client.patch(f"/api/v1/webhooks/{endpoint['id']}/", {"is_active": False}, format="json")
    with pytest.raises(login_gate.WrongCredentials):
        services.login(email=user.email, password="wrong-password", client=CLIENT)
    assert not WebhookDelivery.objects.exists()


def test_the_payload_is_the_event(staff_client, user, receiver):
    register(staff_client, receiver.url)
    services.login(email=user.email, password=PASSWORD, client=CLIENT)
    event = SecurityEvent.objects.get(type="login_succeeded")
    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "login_succeeded"
    assert payload["data"]["id"] == event.id and payload["data"]["ip_address"] == "203.0.113.8"


@pytest.mark.django_db(transaction=True)  # the library's worker closes its connections
def test_the_background_queue_delivers_and_retries(staff_client, user, receiver, settings):
    from django_tasks_db.models import DBTaskResult

    from accounts.background.tests.conftest import run_worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    endpoint = register(staff_client, receiver.url)
    receiver.secret = endpoint["secret"]
    services.login(email=user.email, password=PASSWORD, client=CLIENT)
    # The wake-up task is queued with the event, in its transaction.
    assert DBTaskResult.objects.filter(task_path__endswith="deliver_webhooks").count() == 1
    run_worker()  # the receiver is down: the attempt fails and a retry task is deferred
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    retry = DBTaskResult.objects.filter(run_after__gte=delivery.next_attempt_at)
    assert retry.exists()
    receiver.start()
    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=90)):
        run_worker()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.received) == 1


def test_the_secret_is_stored_encrypted_and_shown_once(staff_client, receiver):
    from accounts.webhooks.models import WebhookEndpoint

    created = register(staff_client, receiver.url)
    stored = WebhookEndpoint.objects.get(pk=created["id"])
    assert created["secret"] not in stored.encrypted_secret
    assert stored.secret == created["secret"]
    listed = staff_client.get("/api/v1/webhooks/").json()
    assert [endpoint["id"] for endpoint in listed] == [created["id"]]
    assert created["secret"] not in json.dumps(listed)


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://example.com:99999/hook", "event_types": ["login_failed"]},
        {"url": "http://[::1/hook", "event_types": ["login_failed"]},
        {"url": "http://ex\x00ample.com/", "event_types": ["login_failed"]},
        {"url": "http://" + "a" * 70 + ".com/", "event_types": ["login_failed"]},
        {"url": "https://example.com/", "event_types": "login_failed"},
        {"url": "https://example.com/", "event_types": [["login_failed"]]},
        {"url": ["https://example.com/"], "event_types": ["login_failed"]},
        {"url": "https://example.com/", "event_types": ["login_failed"], "is_active": "maybe"},
        {},
    ],
)
def test_bad_registrations_are_400_problems(staff_client, body):
    response = staff_client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_bad_delivery_log_cursors_are_404(staff_client, receiver):
    endpoint = register(staff_client, receiver.url)
    url = f"/api/v1/webhooks/{endpoint['id']}/deliveries/"
    assert staff_client.get(url, {"cursor": "cD1ub3Q="}).status_code == 404
    assert staff_client.get(url.replace(endpoint["id"], endpoint["id"].upper())).status_code == 404


def test_every_change_of_an_endpoint_is_a_security_event_naming_its_host_only(
    staff_client, staff, receiver
):
    """A staff member redirecting or silencing the event feed leaves a trace (with the actor),
    and an endpoint watching for it is told; a URL's path or query (a receiver's credential,
    perhaps) and the secret are never in it."""
    watcher = register(staff_client, receiver.url, types=("webhook_endpoint_changed",))
    receiver.secret = watcher["secret"]
    receiver.start()
    created = register(staff_client, f"{receiver.url}?key=receiver-credential")
    url = f"/api/v1/webhooks/{created['id']}/"
    assert staff_client.patch(url, {"is_active": True}, format="json").status_code == 200
    assert staff_client.patch(url, {"is_active": False}, format="json").status_code == 200
    assert staff_client.delete(url).status_code == 204

    events = list(SecurityEvent.objects.filter(type__startswith="webhook_endpoint_").order_by("id"))
    assert [(e.type, e.data.get("endpoint")) for e in events] == [
        ("webhook_endpoint_created", watcher["id"]),
        ("webhook_endpoint_created", created["id"]),
        # the PATCH that changed nothing recorded nothing
        ("webhook_endpoint_changed", created["id"]),
        ("webhook_endpoint_deleted", created["id"]),
    ]
    assert {e.actor_id for e in events} == {staff.pk} and {e.user_id for e in events} == {None}
    assert events[2].data["changed"] == ["is_active"] and events[2].data["is_active"] is False
    assert events[1].data["host"] == "127.0.0.1"
    stored = json.dumps([e.data for e in events])
    assert "receiver-credential" not in stored and "whsec_" not in stored
    assert created["secret"] not in stored

    webhooks.deliver_due()
    assert [payload["type"] for _, payload in receiver.received] == ["webhook_endpoint_changed"]
    assert receiver.received[0][1]["data"]["data"]["endpoint"] == created["id"]
