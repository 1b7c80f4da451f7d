"""Site-wide views: home, health probes, and the error views (templates for browsers, problem JSON
for JSON clients and the API)."""

import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.background import queue as background_queue
from config.exceptions import DATABASE_RETRY_AFTER, is_database_outage, problem_response

_NEGOTIATED = ["application/json", "application/problem+json", "text/html"]


def _format_parameter(request):
    """`?format=`, or None where the query string is one Django refuses to read (more than
    DATA_UPLOAD_MAX_NUMBER_FIELDS parameters): the error views answer exactly that error, so
    reading it again must not raise a second time."""
    try:
        return request.GET.get("format")
    except TooManyFieldsSent:
        return None


def wants_json(request):
    """JSON for `?format=json` or an Accept that prefers JSON; under /api/ JSON unless HTML is
    asked for by name (a browser); elsewhere HTML unless JSON is asked for by name."""
    if _format_parameter(request) == "json":
        return True
    accept = request.headers.get("Accept", "")
    if not any(media_type in accept for media_type in _NEGOTIATED):
        return request.path.startswith("/api/")
    return request.get_preferred_type(_NEGOTIATED) != "text/html"


def _error(request, status, template, detail=None, *, headers=None):
    if wants_json(request):
        return problem_response(status, detail, headers=headers)
    response = render(request, template, {"status": status, "detail": detail}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return _error(request, 413, "400.html", "The request body is too large.")
    return _error(request, 400, "400.html", "The request could not be understood.")


def permission_denied(request, exception=None):
    return _error(request, 403, "403.html", "You do not have permission to do this.")


def page_not_found(request, exception=None):
    return _error(request, 404, "404.html", "Nothing was found at this address.")


def server_error(request):
    # Django calls this inside its `except` block, so the exception is still at hand.
    if is_database_outage(sys.exc_info()[1]):
        return _error(
            request,
            503,
            "503.html",
            "The service cannot reach its database right now. Try again shortly.",
            headers={"Retry-After": DATABASE_RETRY_AFTER},
        )
    return _error(request, 500, "500.html")


def csrf_failure(request, reason=""):
    return _error(
        request, 403, "403.html", "The form had expired or came from elsewhere. Reload it."
    )


@require_GET
def home(request):
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """200 while the process serves; touches nothing else (no database, no cache)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """200 when the database and the task queue's store (a table in it) answer a query, else 503
    within the connect timeout."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        background_queue.check_reachable()
    except Exception:  # noqa: BLE001 - any failure here means "not ready"
        return problem_response(
            503,
            "The database is not answering.",
            headers={"Retry-After": DATABASE_RETRY_AFTER},
            code="database_unavailable",
        )
    queue = "ok" if background_queue.uses_database_queue() else "in-process"
    return JsonResponse({"status": "ready", "database": "ok", "queue": queue})
