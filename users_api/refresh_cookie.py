"""The refresh token in a cookie, for browser apps (`"refresh_in_cookie": true` at login).

The cookie is HttpOnly (no script reads it), Secure, SameSite=Strict (no other site's page sends
it) and scoped to `/api/v1/auth/` (only the auth endpoints ever see it). A request that uses it
must also pass Django's CSRF check (double submit: the `csrftoken` cookie's value in the
`X-CSRFToken` header, plus the Origin/Referer checks on HTTPS), so a cross-site form cannot spend
or end the session even where SameSite is not enforced.
"""

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware, get_token
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied

REFRESH_COOKIE = "roster_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth/"
NO_REFRESH = "No refresh token in the body or the cookie."


def set_refresh_cookie(response, request, refresh: str) -> None:
    """Move the pair's refresh token from the body into the cookie."""
    response.set_cookie(
        REFRESH_COOKIE,
        refresh,
        max_age=settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        path=REFRESH_COOKIE_PATH,
        secure=settings.REFRESH_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    get_token(request)  # makes sure the client holds the csrftoken it must send back


def delete_refresh_cookie(response) -> None:
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, samesite="Strict")


def refresh_from(request, body_refresh: str | None) -> tuple[str, bool]:
    """The refresh token of the request and whether it came from the cookie. The cookie is
    used only when the body has none, and only by a request that passes the CSRF check."""
    if body_refresh:
        return body_refresh, False
    cookie = request.COOKIES.get(REFRESH_COOKIE)
    if not cookie:
        raise AuthenticationFailed(NO_REFRESH, code="token_not_valid")
    _check_csrf(request)
    return cookie, True


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _check_csrf(request):
    django_request = getattr(request, "_request", request)
    check = _CSRFCheck(lambda req: None)
    check.process_request(django_request)
    reason = check.process_view(django_request, None, (), {})
    if reason:
        raise PermissionDenied(f"CSRF failed: {reason}")
