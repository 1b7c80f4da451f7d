"""`record`: write one security event, in the transaction of the change it reports.

Callers run it inside the service's `transaction.atomic`, so the event exists exactly when the
change committed. The client's address, User-Agent and the request id come from the login gate's
Client when given, else from the request being served (`config.request_id`).
"""

import ipaddress

from accounts.audit.models import EventType, SecurityEvent
from accounts.policy import OPERATOR
from accounts.webhooks import services as webhooks
from config import request_id as request_context

# `data` describes what happened; it never carries anything a caller could log in or reset with.
_FORBIDDEN_KEYS = ("password", "token", "secret", "code", "refresh", "access", "otp", "credential")


def record(
    type: str,
    *,
    user,
    actor=None,
    client=None,
    request_id: str | None = None,
    data: dict | None = None,
) -> SecurityEvent:
    """Append one event of `type` about `user` (None when no account matched), done by `actor`
    (None when the user acted themself or nobody did)."""
    type = EventType(type)
    data = dict(data or {})
    if actor is OPERATOR:
        actor, data["actor"] = None, "operator"
    elif actor is not None and getattr(actor, "pk", None) is None:
        actor = None  # an anonymous request
    for key in data:
        if any(word in key.lower() for word in _FORBIDDEN_KEYS):
            raise ValueError(f"Security events never hold secrets: {key!r}")
    context = request_context.current()
    ip = client.ip if client is not None else (context.ip if context else None)
    user_agent = (
        client.user_agent if client is not None else (context.user_agent if context else "")
    )
    if request_id is None:
        request_id = context.request_id if context else ""
    event = SecurityEvent(
        type=type,
        user=user,
        actor=actor,
        ip_address=_address(ip),
        user_agent=(user_agent or "")[:512],
        request_id=request_id,
        data=data,
    )
    event.save()
    webhooks.enqueue(event)  # the outbox rows commit (or roll back) with the event
    return event


def _address(raw):
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None
