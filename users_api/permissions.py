"""Permissions of the API: who may call a view, and whether their login is recent enough."""

from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import reauth


class IsStaff(BasePermission):
    """Staff only: the user collection and deactivating other users."""

    message = "Only staff can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class ReauthenticationRequired(AuthenticationFailed):
    """401 `reauthentication_required`: log in again or call `auth/reauthenticate/` first."""

    default_code = "reauthentication_required"


def auth_time_of(request):
    """When the caller last proved who they are: the access token's `auth_time`, or the time a
    browser session logged in (or reauthenticated)."""
    if isinstance(request.successful_authenticator, SessionAuthentication):
        return request.session.get(reauth.SESSION_AUTH_TIME)
    token = request.auth
    return token.get("auth_time") if token is not None and hasattr(token, "get") else None


def require_recent_auth(request) -> None:
    """Raise a 401 `reauthentication_required` problem unless the caller's auth is recent."""
    try:
        reauth.require_recent(auth_time_of(request))
    except reauth.ReauthenticationRequired as exc:
        raise ReauthenticationRequired(str(exc)) from None


class RecentAuthentication(BasePermission):
    """A sensitive change: the caller must have logged in or reauthenticated within
    REAUTH_WINDOW (DESIGN.md, "recent auth"). Only unsafe methods are guarded."""

    def has_permission(self, request, view):
        if request.method not in SAFE_METHODS and request.user.is_authenticated:
            require_recent_auth(request)
        return True
