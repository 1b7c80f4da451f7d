"""Where a webhook may go: public addresses only, checked at registration and again at every
delivery (a name can resolve elsewhere later: DNS rebinding), and the connection goes to exactly
the address that was checked. `WEBHOOK_ALLOW_PRIVATE_NETWORKS` lifts the rule (tests, or a
deployment whose receivers live on its own network)."""

import contextlib
import http.client
import ipaddress
import socket
import threading
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(Exception):
    """The URL is malformed, does not resolve, or names a private, loopback or link-local
    address."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip):
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo): a
    route to any of them can reach the IPv4 address inside, so each must be public too."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    embedded = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in embedded if address is not None]


def _is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return all(
        candidate.is_global and not candidate.is_multicast
        for candidate in (ip, *_embedded_ipv4(ip))
    )


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, the address to connect to) for a URL Roster may call; else UnsafeURL."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeURL("The URL is not valid.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Only http and https URLs with a host name.")
    if parts.username or parts.password:
        raise UnsafeURL("A webhook URL cannot carry credentials.")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeURL("The host name does not resolve.") from exc
    addresses = [info[4][0] for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS and not all(map(_is_public, addresses)):
        raise UnsafeURL("The URL resolves to a private, loopback or link-local address.")
    return parts.scheme, parts.hostname, port, addresses[0]


class BadAnswer(OSError):
    """The receiver's answer is not HTTP that http.client can read (a status that is no number,
    a header line too long, too many headers, a broken chunked body...)."""


class _Pinned:
    """A connection to exactly the checked address, which `abort()` (from another thread) cuts
    off: its blocked read or write ends at once."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self.aborted = False

    def _open(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        if self.aborted:
            raise TimeoutError("Aborted while connecting.")
        return self.sock

    def abort(self):
        self.aborted = True
        sock = self.sock  # once: close() may clear it meanwhile
        if sock is not None:
            # The socket's own shutdown (not SSLSocket's, which would clear its state under
            # the reading thread): the blocked recv returns end-of-file.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def connect(self):
        self._open()


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    def connect(self):
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


def post(url: str, body: bytes, headers: dict, *, timeout: float) -> int:
    """POST `body` to `url` at the address just checked; the status code. Redirects are not
    followed (a 3xx is a failure). The whole exchange (connect, TLS, request, answer) ends
    within `timeout` seconds: a receiver that answers a byte at a time cannot hold the worker.
    Raises UnsafeURL or OSError (TimeoutError past the deadline; BadAnswer for an answer that is
    not HTTP: whatever a receiver sends back is a failed attempt, never a crashed worker)."""
    scheme, host, port, address = check_url(url)
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=timeout)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = threading.Timer(timeout, connection.abort)
    deadline.daemon = True
    deadline.start()
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        if connection.aborted:  # what was read before the cut may look like a whole answer
            raise TimeoutError(f"No complete answer within {timeout:g} s.")
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        if connection.aborted:
            raise TimeoutError(f"No complete answer within {timeout:g} s.") from exc
        if isinstance(exc, OSError):
            raise
        raise BadAnswer(f"{type(exc).__name__}: {exc}"[:200]) from exc
    finally:
        deadline.cancel()
        connection.close()
