"""RFC 9457 problem details: the one shape of every API error, from DRF views and Django alike."""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from accounts.login_gate import TooManyAttempts
from config.negotiation import render_as_json

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER = "5"
DATABASE_ERRORS = (OperationalError, InterfaceError)

DETAILS = {
    400: "The request body or parameters are not valid; see `errors`.",
    404: "Nothing was found at this address.",
    500: "The server failed to answer this request. It has been logged.",
    503: "The service cannot reach its database right now. Try again shortly.",
}


def problem(status, detail=None, *, code=None, errors=None):
    """The body of a problem: `type`, `title`, `status`, `detail` (+ `code`, + `errors` for 400)."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": str(detail or DETAILS.get(status) or HTTPStatus(status).description),
    }
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(status, detail=None, *, headers=None, **extra):
    """A problem as a plain Django response, for code outside DRF (error views, middleware)."""
    response = JsonResponse(
        problem(status, detail, **extra), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def is_database_outage(exc):
    return isinstance(exc, DATABASE_ERRORS) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    )


def _field_errors(detail):
    if isinstance(detail, dict):
        return _flat_errors(detail)
    return {"non_field_errors": detail if isinstance(detail, list) else [detail]}


def _flat_errors(detail, prefix=""):
    """`errors` is always {field: [messages]}: the errors of nested fields (a list's items, a
    nested serializer) are named by their path, `event_types.1` or `address.city`."""
    flat = {}
    for name, value in detail.items() if isinstance(detail, dict) else enumerate(detail):
        path = f"{prefix}{name}"
        if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(item, dict | list) for item in value)
        ):
            flat.update(_flat_errors(value, f"{path}."))
        elif value:
            flat[path] = value if isinstance(value, list) else [value]
    return flat


def _detail_and_code(exc):
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:  # SimpleJWT's InvalidToken
        code = detail.get("code")
        return detail["detail"], getattr(code, "code", code) or exc.default_code
    if isinstance(detail, list) and len(detail) == 1:
        detail = detail[0]
    return detail, getattr(detail, "code", None) or exc.default_code


def problem_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every APIException, Django ValidationError and database outage
    becomes a problem; anything else is left to Django's handler500 (a 500 problem, logged)."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args[:1])
    elif isinstance(exc, TooManyAttempts):
        exc = exceptions.Throttled(wait=exc.retry_after)
    if is_database_outage(exc):
        logger.error("Database unavailable: %s", exc.__class__.__name__)
        response = Response(
            problem(503, code="database_unavailable"),
            status=503,
            headers={"Retry-After": DATABASE_RETRY_AFTER},
        )
    else:
        response = exception_handler(exc, context)
        if response is None:
            return None
        if isinstance(exc, exceptions.ValidationError):
            response.data = problem(400, code="invalid", errors=_field_errors(response.data))
        else:
            detail, code = _detail_and_code(exc)
            # Every 400 carries `errors`, also a body that could not be parsed at all.
            errors = _field_errors([detail]) if response.status_code == 400 else None
            response.data = problem(response.status_code, detail, code=code, errors=errors)
    request = context.get("request")
    if not isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
        render_as_json(request)
        response.content_type = PROBLEM_CONTENT_TYPE
    return response
