"""Attacks on webhook delivery by a receiver that answers badly: whatever it sends back (or how
slowly), the attempt is recorded as a failure with its retry, and the deliveries queued behind it
in the same pass still go out."""

import socket
import threading
import time

import pytest

from accounts import services
from accounts.webhooks import services as webhooks
from accounts.webhooks.models import WebhookDelivery
from accounts.webhooks.tests.test_webhooks import CLIENT, Receiver, register
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


class RawReceiver:
    """A TCP server on loopback that reads a request and answers with `answer(connection)`."""

    def __init__(self, answer):
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                try:
                    connection.recv(65536)
                    self.answer(connection)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def _drip(connection):
    """A status line, then one header byte at a time, each just inside a read timeout."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(40):
        time.sleep(0.1)
        connection.sendall(b"a")


BAD_ANSWERS = {
    "not HTTP": lambda c: c.sendall(b"hello\r\n\r\n"),
    "a status that is no number": lambda c: c.sendall(b"HTTP/1.1 abc\r\n\r\n"),
    "a header line of 70 kB": lambda c: c.sendall(
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n"
    ),
    "150 headers": lambda c: c.sendall(b"HTTP/1.1 200 OK\r\n" + b"X: a\r\n" * 150 + b"\r\n"),
    "a broken chunked body": lambda c: c.sendall(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    ),
}


@pytest.fixture
def good_receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("answer", BAD_ANSWERS)
def test_a_malformed_answer_is_a_failed_attempt_and_the_others_still_go(
    staff_client, user, good_receiver, answer
):
    bad = RawReceiver(BAD_ANSWERS[answer])
    try:
        register(staff_client, bad.url)
        good_receiver.secret = register(staff_client, good_receiver.url)["secret"]
        services.login(email=user.email, password=PASSWORD, client=CLIENT)

        assert webhooks.deliver_due() == 2
    finally:
        bad.close()

    failed = WebhookDelivery.objects.get(endpoint__url=bad.url)
    assert failed.attempts == 1 and failed.status == "pending"
    assert failed.last_error and failed.last_status_code is None
    assert failed.next_attempt_at > failed.last_attempt_at  # its retry, after the first delay
    delivered = WebhookDelivery.objects.get(endpoint__url=good_receiver.url)
    assert delivered.status == "delivered" and len(good_receiver.received) == 1


def test_a_receiver_that_answers_a_byte_at_a_time_is_cut_off(staff_client, user, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 1)
    slow = RawReceiver(_drip)
    try:
        register(staff_client, slow.url)
        services.login(email=user.email, password=PASSWORD, client=CLIENT)
        started = time.monotonic()
        webhooks.deliver_due()
        took = time.monotonic() - started
    finally:
        slow.close()

    assert took < 2.5  # the whole answer within TIMEOUT_SECONDS, not each read
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.status == "pending"
    assert "Timeout" in delivery.last_error


def test_an_endpoint_whose_secret_is_unreadable_fails_alone(
    staff_client, user, good_receiver, settings
):
    # SECRET_KEY rotated without keeping the old one in SECRET_KEY_FALLBACKS: this endpoint's
    # secret can no longer be decrypted (the other one is registered after the rotation).
    lost = register(staff_client, "http://127.0.0.1:9/hook")
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    good_receiver.secret = register(staff_client, good_receiver.url)["secret"]
    services.login(email=user.email, password=PASSWORD, client=CLIENT)

    assert webhooks.deliver_due() == 2

    failed = WebhookDelivery.objects.get(endpoint_id=lost["id"])
    assert failed.attempts == 1 and failed.status == "pending"
    assert "secret" in failed.last_error and failed.next_attempt_at > failed.last_attempt_at
    assert WebhookDelivery.objects.get(endpoint__url=good_receiver.url).status == "delivered"


def _tls_drip(connection):
    """The start of a TLS record announcing 16 kB, then one byte at a time: the handshake."""
    connection.sendall(b"\x16\x03\x03\x40\x00")
    for _ in range(40):
        time.sleep(0.1)
        connection.sendall(b"\x00")


def test_a_receiver_that_drips_its_tls_handshake_is_cut_off(staff_client, user, monkeypatch):
    # Held before the deadline too: CPython bounds a whole TLS handshake by the socket timeout.
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 1)
    slow = RawReceiver(_tls_drip)
    try:
        register(staff_client, slow.url.replace("http://", "https://"))
        services.login(email=user.email, password=PASSWORD, client=CLIENT)
        started = time.monotonic()
        webhooks.deliver_due()
        took = time.monotonic() - started
    finally:
        slow.close()

    assert took < 2.5
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and "Timeout" in delivery.last_error
