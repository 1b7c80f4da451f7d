"""Hardening headers that Django and django-csp do not send on their own."""

from django.http import HttpResponseNotAllowed
from django.utils.cache import add_never_cache_headers

from config.exceptions import problem_response
from config.views import wants_json

# Public and the same for everyone: the OpenAPI schema and ReDoc. Swagger UI is not among them:
# its init script (`/api/v1/docs/?script`) carries the caller's CSRF token.
CACHEABLE_API_PREFIXES = ("/api/v1/schema/", "/api/v1/redoc/")


class NoStoreAPIMiddleware:
    """`Cache-Control: no-store` (and `private`, `no-cache`, an expired `Expires`) on every API
    response: they carry tokens or personal data, which no shared or browser cache may keep.
    Errors too: a 401 or a 404 tells who exists."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path_info
        if path.startswith("/api/") and not path.startswith(CACHEABLE_API_PREFIXES):
            add_never_cache_headers(response)
        return response


class NotAllowedProblemMiddleware:
    """Django's own 405 (`require_GET`, a class-based view's methods) is an empty text/html
    body; a client that asks for JSON gets a 405 problem (with the same `Allow`), as at any
    other error. DRF's 405s are problems already."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and wants_json(request):
            return problem_response(
                405,
                f'Method "{request.method}" not allowed.',
                code="method_not_allowed",
                headers={"Allow": response["Allow"]},
            )
        return response
