"""Throttles. Counts live in the default cache (Redis via CACHE_URL), so every app process shares
them. When the cache is unreachable the throttles let requests through and log it: an outage of
the cache must not become an outage of logins."""

import contextlib
import hashlib
import logging
import math
import re
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.exceptions import APIException, AuthenticationFailed, Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)

_RATE = re.compile(r"(\d+)/(\d*)([smhd])\w*")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """`10/15m` -> (10, 900); also DRF's `100/hour`. None means unlimited."""
    if rate is None:
        return None, None
    match = _RATE.fullmatch(rate.strip())
    if not match:
        raise ValueError(f"Throttle rate {rate!r} is not like '10/minute' or '10/15m'.")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _SECONDS[unit]


def rate_for(scope):
    return api_settings.DEFAULT_THROTTLE_RATES.get(scope)


def _digest(value):
    # Emails are personal data: keep only a digest in cache keys.
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _write_client(backend):
    # Django builds a new redis.Redis object per call (copying some 170 response callbacks); its
    # writes always go to the first server's pool, so one client per backend (per thread) does.
    client = backend.__dict__.get("_roster_write_client")
    if client is None:
        client = backend.__dict__["_roster_write_client"] = backend._cache.get_client(write=True)
    return client


def count_hit(key, window):
    """Add one hit to the counter `key` (expiring `window` seconds after its first hit); return
    the new count. Atomic across processes: on Redis one INCR (plus an EXPIRE on the first hit),
    elsewhere `cache.add` and `cache.incr`."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = _write_client(backend)
        hits = client.incr(full_key)
        if hits == 1:
            client.expire(full_key, window)
        return hits
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: this hit opens a new window
        cache.add(key, 1, timeout=window)
        return 1


class RosterRateThrottle(SimpleRateThrottle):
    """A fixed-window counter per scope and client, shared by every app process through the cache.

    DRF's SimpleRateThrottle keeps a list of every request's time in the window and rewrites it
    on each request (read, modify, write): O(rate) bytes per request, and concurrent requests on
    several servers overwrite each other's hits. An atomic counter per window costs one cache round
    trip and counts every hit; the price is that a burst straddling a window boundary may get up
    to twice the rate. Rates are read per request (so THROTTLE_RATES and tests can change them)
    and accept `N/15m`. If the cache is unreachable, requests go through and it is logged.
    """

    def get_rate(self):
        return rate_for(self.scope)

    def parse_rate(self, rate):
        return parse_rate(rate)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        try:
            self.key = self.get_cache_key(request, view)
            if self.key is None:
                return True
            now = self.timer()
            window = int(now // self.duration)
            hits = count_hit(f"{self.key}_{window}", self.duration)
        except APIException:
            raise  # e.g. a body that cannot be parsed: the client's error, answered as such
        except Exception:  # noqa: BLE001 - any cache client error means "cannot count"
            logger.warning("Throttle %s skipped: the cache is unreachable", self.scope)
            return True
        self.seconds_left = (window + 1) * self.duration - now
        return hits <= self.num_requests

    def wait(self):
        return self.seconds_left


class AnonThrottle(RosterRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(RosterRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PerIPThrottle(RosterRateThrottle):
    """Counts every request of a view per client IP (the socket's, unless NUM_PROXIES says)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PerEmailThrottle(RosterRateThrottle):
    """Counts requests per target email, ignoring case, so one mailbox cannot be bombed."""

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": _digest(email)}


class LoginThrottle(PerIPThrottle):
    scope = "login"


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


class LoginFailureThrottle:
    """Failed logins per account (email, ignoring case): a fixed window opened by the first failure.

    Once the limit is reached every login for that account answers 429, right password or not,
    until the window passes. `cache.add` and `cache.incr` are atomic in Redis, so app processes
    sharing one Redis count together.
    """

    scope = "login_failures"

    def __init__(self, email):
        self.limit, self.window = parse_rate(rate_for(self.scope))
        ident = _digest(email) if isinstance(email, str) else "none"
        self.count_key = f"throttle_{self.scope}_{ident}_count"
        self.since_key = f"throttle_{self.scope}_{ident}_since"

    def wait(self):
        """Seconds until this account may try again, or None when it may try now."""
        if self.limit is None:
            return None
        try:
            found = cache.get_many([self.count_key, self.since_key])
        except Exception:  # noqa: BLE001
            logger.warning("Login failure throttle skipped: the cache is unreachable")
            return None
        count, since = found.get(self.count_key, 0), found.get(self.since_key)
        if count < self.limit or since is None:
            return None
        return max(1, math.ceil(since + self.window - time.time()))

    @contextlib.contextmanager
    def attempt(self, failure=AuthenticationFailed):
        """One login attempt, counted as a failure BEFORE the password is checked.

        Checking the count, then counting after the (slow) password check, let a burst of
        concurrent guesses all pass the check: 30 at once were 30 guesses against a limit of 10.
        Counting first with the atomic `incr` lets at most `limit` attempts through; one that did
        not fail on the password (success, bad input, an outage) is given back. Past the limit it
        raises Throttled. `failure` is the exception a wrong password raises in the caller.
        """
        count = self._count(+1)
        if count is not None and count > self.limit:
            raise Throttled(wait=self.wait() or self.window)
        try:
            yield
        except failure:
            raise
        except BaseException:
            self._count(-1)
            raise
        self._count(-1)

    def _count(self, delta):
        """Add `delta` to this window's count and return the new count (None: not counted)."""
        if self.limit is None:
            return None
        try:
            if delta > 0 and cache.add(self.count_key, 0, timeout=self.window):
                cache.set(self.since_key, time.time(), timeout=self.window)
            return cache.incr(self.count_key, delta)
        except ValueError:  # the window ended in between: there is nothing left to count against
            return None
        except Exception:  # noqa: BLE001
            logger.warning("Login failure not counted: the cache is unreachable")
            return None
