"""Real mail servers on loopback for the tests: aiosmtpd that keeps what it receives (or refuses
it), and a server that accepts connections and then never says a word."""

import asyncio
import contextlib
import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class _Keeper:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if self.server.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        await asyncio.sleep(self.server.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.messages.append(message)
        return "250 Message accepted for delivery"


class MailServer:
    """aiosmtpd on 127.0.0.1:`port`; `messages` are the parsed emails it accepted."""

    def __init__(self, port=None, *, refuse=False, delay=0.0):
        self.port = port or free_port()
        self.refuse = refuse
        self.delay = delay
        self.messages = []
        self.lock = threading.Lock()
        self._controller = None

    def start(self):
        self._controller = Controller(_Keeper(self), hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def recipients(self):
        with self.lock:
            return [m["To"] for m in self.messages]


def body(message, subtype="plain"):
    return message.get_body(preferencelist=(subtype,)).get_content()


class StallingServer:
    """Accepts TCP connections on 127.0.0.1:`port` and never answers (a hung mail server)."""

    def __init__(self):
        self.port = free_port()
        self.connections = 0
        self._sock = socket.create_server((HOST, self.port))
        self._open = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _accept(self):
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._sock.accept()
                self.connections += 1
                self._open.append(conn)

    def stop(self):
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._sock.close()
        for conn in self._open:
            conn.close()
