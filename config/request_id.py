"""`X-Request-ID`: one id per request, on the response, in every log line and in the events.

A client's own id is kept when it is 1 to 200 characters of letters, digits, `.`, `_` and `-`
(anything else could forge log lines or smuggle markup into them); otherwise a new uuid4.
The id, the client's address and its User-Agent live in a context variable for the request's
duration, so log records and `accounts.audit.record` find them without being handed them.
"""

import contextvars
import logging
import re
import uuid
from dataclasses import dataclass

from django.core.signals import request_finished
from django.dispatch import receiver

from accounts import ratelimit

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,200}")


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "roster_request", default=None
)


def current() -> RequestContext | None:
    """The context of the request being served, None outside one (commands, workers)."""
    return _current.get()


def request_id_of(raw) -> str:
    """The client's id when it is a valid one, else a new one."""
    if isinstance(raw, str) and _VALID.fullmatch(raw):
        return raw
    return str(uuid.uuid4())


class RequestIdMiddleware:
    """First in MIDDLEWARE: every response, errors included, carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        context = RequestContext(
            request_id=request_id_of(request.META.get("HTTP_X_REQUEST_ID")),
            ip=ratelimit.client_ip(request.META),
            user_agent=ratelimit.client_user_agent(request.META),
        )
        request.request_id = context.request_id
        # Kept until the response is finished: Django logs a 4xx/5xx after the middleware returns.
        _current.set(context)
        response = self.get_response(request)
        response[HEADER] = context.request_id
        return response


@receiver(request_finished)
def _forget_request(**kwargs):
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record ("-" outside a request)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            context = _current.get()
            record.request_id = context.request_id if context else "-"
        return True
