"""The API's request throttles: DRF throttle classes over `accounts.ratelimit`'s atomic counters.

DRF's SimpleRateThrottle keeps a list of every request's time in the window and rewrites it on
each request (read, modify, write): O(rate) bytes per request, and concurrent requests on several
servers overwrite each other's hits. An atomic counter per window costs one cache round trip and
counts every hit; the price is that a burst straddling a window boundary may get up to twice the
rate. Rates are read per request (so THROTTLE_RATES and tests can change them) and accept `N/15m`.
If the cache is unreachable, requests go through and it is logged.

Passwords are not throttled here: the login gate (`accounts.login_gate`) counts those.
"""

import logging

from rest_framework.exceptions import APIException
from rest_framework.throttling import BaseThrottle

from accounts import ratelimit
from accounts.mailboxes import mailbox_key

logger = logging.getLogger(__name__)


class RosterRateThrottle(BaseThrottle):
    """A fixed-window counter per scope and identity (`ident_for`); None means not counted."""

    scope = None

    def ident_for(self, request):
        raise NotImplementedError

    def get_ident(self, request):
        # The client's address, an IPv6 client's /64 (it may use any address in it), digested.
        return ratelimit.client_ident(request.META)

    def allow_request(self, request, view):
        self.counter = None
        try:
            ident = self.ident_for(request)
            if ident is None:
                return True
            self.counter = ratelimit.window(self.scope, ident)
            if self.counter is None:
                return True
            return ratelimit.hit(self.counter) <= self.counter.limit
        except APIException:
            raise  # e.g. a body that cannot be parsed: the client's error, answered as such
        except ratelimit.CacheUnavailable:
            logger.warning("Throttle %s skipped: the cache is unreachable", self.scope)
            return True

    def wait(self):
        return self.counter.seconds_left if self.counter else None


class AnonThrottle(RosterRateThrottle):
    scope = "anon"

    def ident_for(self, request):
        if request.user and request.user.is_authenticated:
            return None
        return self.get_ident(request)


class UserThrottle(RosterRateThrottle):
    scope = "user"

    def ident_for(self, request):
        if request.user and request.user.is_authenticated:
            return request.user.pk
        return self.get_ident(request)


class PerIPThrottle(RosterRateThrottle):
    """Counts every request of a view per client IP (the socket's, unless NUM_PROXIES says)."""

    def ident_for(self, request):
        return self.get_ident(request)


class PerEmailThrottle(RosterRateThrottle):
    """Counts requests per target mailbox, so one mailbox cannot be bombed under many spellings."""

    def ident_for(self, request):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        key = mailbox_key(email) if isinstance(email, str) else None
        return ratelimit.digest(key) if key else None


class RefreshThrottle(PerIPThrottle):
    """Refresh requests at the `login` rate per client IP, in a window of their own: a stranger
    sending passwords from the same address (a shared NAT) must not also stop the refreshes of
    every app signed in behind it."""

    scope = "login"

    def ident_for(self, request):
        return f"refresh:{self.get_ident(request)}"


class RegisterThrottle(PerIPThrottle):
    scope = "register"


class RegisterEmailThrottle(PerEmailThrottle):
    scope = "register_email"


class PasswordResetThrottle(PerIPThrottle):
    scope = "password_reset"


class PasswordResetEmailThrottle(PerEmailThrottle):
    scope = "password_reset_email"


class EmailResendThrottle(UserThrottle):
    scope = "email_resend"
