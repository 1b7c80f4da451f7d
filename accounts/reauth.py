"""Recent authentication: sensitive changes want a proof of identity from the last few minutes.

A JWT carries `auth_time` (when its user last proved who they are: a login, a second factor, a
reauthentication); a browser session keeps it under SESSION_AUTH_TIME, set at login. "Recent"
means within `settings.REAUTH_WINDOW` (10 minutes by default). Callers pass that time to
`require_recent` (the API's `users_api.permissions.RecentAuthentication` does it for views);
nothing here knows HTTP.
"""

import time

from django.conf import settings

SESSION_AUTH_TIME = "roster_auth_time"


class ReauthenticationRequired(Exception):
    """The caller's last proof of identity is too old (or unknown) for this change."""

    def __init__(self):
        window = int(settings.REAUTH_WINDOW.total_seconds() // 60)
        super().__init__(
            f"Confirm it is you: this needs a login or a reauthentication within {window} minutes."
        )


def is_recent(auth_time) -> bool:
    """True when `auth_time` (epoch seconds) lies within the reauthentication window."""
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
        return False
    age = time.time() - auth_time
    return -60 <= age <= settings.REAUTH_WINDOW.total_seconds()


def require_recent(auth_time) -> None:
    """Raise ReauthenticationRequired unless `auth_time` is recent."""
    if not is_recent(auth_time):
        raise ReauthenticationRequired


def mark_session(session) -> None:
    """Record in a browser session that its user has just proved who they are."""
    session[SESSION_AUTH_TIME] = int(time.time())
