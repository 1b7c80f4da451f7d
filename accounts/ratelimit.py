"""Rate counting: fixed-window counters in the default cache, shared by every app process.

On Redis one counter is one key, incremented and given its expiry in a single server-side step
(a Lua script), so concurrent hits on several servers are all counted and no key can be left
without an expiry. A refund (an attempt that turned out not to count) lands in the window that
was charged. When the cache is unreachable, nothing is counted and it is logged: an outage of the
cache must not become an outage of logins.

This module knows no HTTP framework; the API's throttles and the login gate are built on it.
"""

import hashlib
import ipaddress
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_RATE = re.compile(r"(\d+)/(\d*)([smhd])\w*")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS[1] the counter; ARGV[1] its window in seconds. The expiry is set with the first hit, in the
# same atomic step, so a crash between the two cannot leave a counter that never expires.
_INCREMENT = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return hits
"""
# A refund only touches a counter that still exists: an expired window is not resurrected.
_REFUND = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return false
"""


class CacheUnavailable(Exception):
    """The cache could not be reached, so nothing was counted."""


def parse_rate(rate):
    """`10/15m` -> (10, 900); also DRF's `100/hour`. (None, None) means unlimited."""
    if rate is None:
        return None, None
    match = _RATE.fullmatch(rate.strip())
    if not match:
        raise ValueError(f"Throttle rate {rate!r} is not like '10/minute' or '10/15m'.")
    count, multiplier, unit = match.groups()
    seconds = int(multiplier or 1) * _SECONDS[unit]
    if not seconds:
        raise ValueError(f"Throttle rate {rate!r} has a window of no time.")
    return int(count), seconds


def rate_for(scope):
    """The configured `(limit, seconds)` of a scope, read per call so overrides apply at once."""
    return parse_rate(settings.THROTTLE_RATES.get(scope))


def digest(value):
    """A short, stable digest for cache keys: identities (emails, addresses) are personal data."""
    # surrogatepass: any str has a digest, even one holding a lone surrogate
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def client_user_agent(meta) -> str:
    """The User-Agent as stored in sessions and events: at most 512 characters, no control
    characters (PostgreSQL refuses a NUL in text: a login with one answered 500), and only what
    encodes as UTF-8."""
    raw = meta.get("HTTP_USER_AGENT", "")
    if not isinstance(raw, str):
        return ""
    text = _CONTROL.sub("", raw).encode("utf-8", "replace").decode("utf-8")
    return text[:512]


def client_ip(meta, *, num_proxies=None):
    """The client's address: the socket's, or, behind `NUM_PROXIES` declared proxies, the one the
    nearest trusted proxy saw in X-Forwarded-For (the same rule as DRF's throttles)."""
    num_proxies = settings.NUM_PROXIES if num_proxies is None else num_proxies
    remote = meta.get("REMOTE_ADDR")
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if forwarded and num_proxies > 0:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(num_proxies, len(addresses))]
    return remote or ""


# One IPv6 client holds at least a /64 (RFC 6177: the smallest end-site assignment; SLAAC and
# privacy addresses pick any interface id within it), so it is counted as one client.
IPV6_CLIENT_PREFIX = 64


def client_network(ip) -> str:
    """The client a per-IP counter counts for the address `ip`: an IPv4 address itself (also
    written IPv4-mapped, `::ffff:a.b.c.d`, by a dual-stack socket), an IPv6 address its /64, in
    one canonical spelling. Anything that is not an address is counted as written."""
    try:
        address = ipaddress.ip_address(str(ip).split("%", 1)[0])
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def client_ident(meta) -> str:
    """The identity of the request's client for the per-IP counters (`client_network` of
    `client_ip`), as a digest: an address is personal data."""
    return digest(client_network(client_ip(meta)))


@dataclass(frozen=True)
class Window:
    """One fixed window of one counter: its cache key and when it ends."""

    key: str
    limit: int
    ends_at: float

    @property
    def seconds_left(self):
        return max(1, int(self.ends_at - time.time() + 0.999))


def window(scope, ident, *, now=None):
    """The current window of `scope` for `ident`, or None when the scope is unlimited."""
    limit, duration = rate_for(scope)
    if limit is None:
        return None
    now = time.time() if now is None else now
    index = int(now // duration)
    return Window(f"rate:{scope}:{ident}:{index}", limit, (index + 1) * duration)


def _redis_client(backend):
    # Django builds a new redis.Redis object per call; its writes always go to the first server,
    # so one client (and its registered scripts) per backend instance serves every hit.
    found = backend.__dict__.get("_roster_counters")
    if found is None:
        client = backend._cache.get_client(write=True)
        found = backend.__dict__["_roster_counters"] = (
            client.register_script(_INCREMENT),
            client.register_script(_REFUND),
        )
    return found


def hit(counter):
    """Add one hit to `counter` (a Window); return the new count. Raises CacheUnavailable."""
    backend = caches["default"]
    timeout = max(1, int(counter.ends_at - time.time() + 0.999))
    try:
        if isinstance(backend, RedisCache):
            increment, _ = _redis_client(backend)
            return int(increment(keys=[backend.make_and_validate_key(counter.key)], args=[timeout]))
        if backend.add(counter.key, 1, timeout=timeout):
            return 1
        try:
            return backend.incr(counter.key)
        except ValueError:  # expired between the two calls: this hit opens a new window
            backend.add(counter.key, 1, timeout=timeout)
            return 1
    except Exception as exc:
        raise CacheUnavailable from exc


def refund(counter):
    """Take back one hit from the window it was charged to (nothing if that window is gone)."""
    backend = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            _, give_back = _redis_client(backend)
            give_back(keys=[backend.make_and_validate_key(counter.key)])
        else:
            backend.decr(counter.key)
    except ValueError:
        pass  # the window ended meanwhile
    except Exception:  # noqa: BLE001
        logger.warning("Rate counter %s not refunded: the cache is unreachable", counter.key)


def count(counter):
    """The hits so far in `counter`'s window (0 when none or the cache is unreachable)."""
    try:
        return int(caches["default"].get(counter.key) or 0)
    except Exception:  # noqa: BLE001
        return 0


def reset(counter):
    """Forget `counter`'s hits in its window (staff lifting a lockout)."""
    caches["default"].delete(counter.key)
