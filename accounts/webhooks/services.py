"""Webhooks: staff register endpoints; every security event they subscribe to is written to an
outbox in the event's own transaction and delivered by the background queue's worker (a
`deliver_webhooks` task queued in that same transaction; `manage.py deliver_webhooks` is a
standalone worker and sweeper),
signed per Standard Webhooks, retried with backoff for more than a day, at least once, each
message with a stable `webhook-id` so receivers can drop duplicates.
"""

import base64
import json
import logging
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.audit.models import EventType
from accounts.webhooks import crypto, network
from accounts.webhooks.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# Seconds to wait before each retry: about 27.6 hours from the first attempt to the last.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
TIMEOUT_SECONDS = 10
# A worker's claim on a delivery: if it dies mid-send, another worker retries after this.
CLAIM_SECONDS = 60
BATCH = 20


def _require_staff(actor):
    if not (actor and actor.is_authenticated and actor.is_active and actor.is_staff):
        raise PermissionDenied("Only staff manage webhooks.")


def _clean(url, event_types):
    errors = {}
    if url is not None:
        try:
            network.check_url(url)
        except network.UnsafeURL as exc:
            errors["url"] = [str(exc)]
    if event_types is not None:
        unknown = sorted(set(event_types) - set(EventType.values))
        if not event_types or unknown:
            errors["event_types"] = [f"Unknown or no event types: {', '.join(unknown) or '[]'}"]
    if errors:
        raise ValidationError(errors)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_create(
    *, actor, url: str, event_types: list[str], description: str = "", is_active: bool = True
):
    """Register an endpoint; the returned one carries its `secret`, shown this once."""
    _require_staff(actor)
    _clean(url, event_types)
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            event_types=sorted(set(event_types)),
            description=description,
            is_active=is_active,
            encrypted_secret=crypto.encrypt(secret),
            created_by=actor,
        )
        _record(EventType.WEBHOOK_ENDPOINT_CREATED, endpoint, actor=actor)
    endpoint.plain_secret = secret  # for the one answer that shows it
    return endpoint


def endpoint_update(*, actor, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    _require_staff(actor)
    _clean(data.get("url"), data.get("event_types"))
    changed = []
    for field in ("url", "event_types", "description", "is_active"):
        if field in data:
            value = sorted(set(data[field])) if field == "event_types" else data[field]
            if getattr(endpoint, field) != value:
                changed.append(field)
            setattr(endpoint, field, value)
    with transaction.atomic():
        endpoint.save()
        if changed:
            _record(EventType.WEBHOOK_ENDPOINT_CHANGED, endpoint, actor=actor, changed=changed)
    return endpoint


def endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    _require_staff(actor)
    with transaction.atomic():
        _record(EventType.WEBHOOK_ENDPOINT_DELETED, endpoint, actor=actor)
        endpoint.delete()


def _record(type, endpoint, *, actor, changed=()):
    """The event of a change to an endpoint, by `actor`: where events go (the URL's host only: a
    path or query may hold a receiver's credential), which and whether; never the secret."""
    from accounts.audit.events import record  # it delivers through this module

    data = {
        "endpoint": str(endpoint.pk),
        "host": urlsplit(endpoint.url).hostname or "",
        "event_types": list(endpoint.event_types),
        "is_active": endpoint.is_active,
    }
    if changed:
        data["changed"] = sorted(changed)
    record(type, user=None, actor=actor, data=data)


def payload_of(event) -> dict:
    """The message body: Standard Webhooks' {type, timestamp, data} with the event's fields."""
    return {
        "type": event.type,
        "timestamp": event.at.isoformat(),
        "data": {
            "id": event.id,
            "type": event.type,
            "at": event.at.isoformat(),
            "user": str(event.user_id) if event.user_id else None,
            "actor": str(event.actor_id) if event.actor_id else None,
            "ip_address": event.ip_address,
            "user_agent": event.user_agent,
            "request_id": event.request_id,
            "data": event.data,
        },
    }


def prune_deliveries(*, before) -> int:
    """Remove the finished deliveries queued before `before` (with the events, `prune_events`):
    each holds a copy of its event, address and User-Agent included, which must not outlive the
    event's retention. One still pending stays until it is delivered or fails."""
    old = WebhookDelivery.objects.filter(created_at__lt=before).exclude(
        status=WebhookDelivery.Status.PENDING
    )
    return old._raw_delete(old.db)  # one DELETE: nothing points at deliveries


def enqueue(event) -> None:
    """Outbox rows for every active endpoint subscribed to `event`, in the caller's transaction."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).only("id", "event_types")
        if event.type in endpoint.event_types
    ]
    if not endpoints:
        return
    payload = json.loads(json.dumps(payload_of(event), cls=DjangoJSONEncoder))
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type=event.type,
            payload=payload,
            next_attempt_at=event.at,
        )
        for endpoint in endpoints
    )
    wake_worker()


def wake_worker(at=None):
    """Queue the delivery task (now, or `at` for a retry). On the database queue the task row is
    written in the caller's transaction, so a committed event never lacks its wake-up. A queue
    that runs tasks at once (tests, `make run`) runs it after the commit instead, never inside
    the request's transaction; it cannot defer, so retries there wait for `deliver_webhooks`."""
    from accounts.webhooks.tasks import deliver_webhooks

    if deliver_webhooks.get_backend().supports_defer:
        (deliver_webhooks.using(run_after=at) if at else deliver_webhooks).enqueue()
    elif at is None:
        transaction.on_commit(deliver_webhooks.enqueue)


def _claim(now):
    """Due deliveries, claimed for CLAIM_SECONDS so concurrent workers never share one."""
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:BATCH]
        )
        WebhookDelivery.objects.filter(id__in=due).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)
        )
        if due:  # should this worker die mid-send, the claimed rows are tried again after it
            wake_worker(at=now + timedelta(seconds=CLAIM_SECONDS + 1))
    return WebhookDelivery.objects.filter(id__in=due).select_related("endpoint").order_by("id")


def deliver_due() -> int:
    """Send every due delivery once; how many were attempted."""
    attempted = 0
    while True:
        batch = list(_claim(timezone.now()))
        if not batch:
            return attempted
        for delivery in batch:
            attempt(delivery)
        attempted += len(batch)


def attempt(delivery: WebhookDelivery) -> None:
    """One signed POST of `delivery`; its row records the outcome and the next try."""
    body = json.dumps(delivery.payload, separators=(",", ":"))
    now = timezone.now()
    status, error = None, ""
    try:
        # Inside the try: an endpoint whose secret is unreadable fails alone, like a bad URL.
        headers = {
            "content-type": "application/json",
            "user-agent": "Roster-Webhooks/1",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(delivery.endpoint.secret).sign(
                msg_id=delivery.message_id, timestamp=now, data=body
            ),
        }
        status = network.post(
            delivery.endpoint.url, body.encode(), headers, timeout=TIMEOUT_SECONDS
        )
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except network.UnsafeURL as exc:
        error = str(exc)
    except crypto.UnreadableSecret as exc:
        error = str(exc)[:300]
        logger.error("Webhook endpoint %s: %s", delivery.endpoint_id, exc)
    except (OSError, ValueError) as exc:  # refused, reset, timed out, TLS, bad response
        error = f"{type(exc).__name__}: {exc}"[:300]
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status
    delivery.last_error = error
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts > len(RETRY_DELAYS):
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_attempt_at = None
        logger.warning(
            "Webhook %s given up after %s attempts", delivery.message_id, delivery.attempts
        )
    else:
        delay = RETRY_DELAYS[delivery.attempts - 1]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    with transaction.atomic():
        delivery.save()
        if delivery.next_attempt_at:
            wake_worker(at=delivery.next_attempt_at)
