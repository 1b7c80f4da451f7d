"""The real database queue and a real mail server, for the background-work tests."""

import pytest
from django_tasks_db.management.commands.db_worker import Worker

from accounts.background.tests.smtp import MailServer, StallingServer


@pytest.fixture
def database_queue(settings):
    """Tasks go to the database queue (the production setting) instead of running at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _use_smtp(settings, port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1


@pytest.fixture
def smtp(settings):
    """aiosmtpd on loopback, and Django's SMTP backend pointed at it."""
    server = MailServer().start()
    _use_smtp(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def smtp_down(settings):
    """Django's SMTP backend pointed at a loopback port where nothing listens yet; `.start()`
    brings the mail server up on it."""
    server = MailServer()
    _use_smtp(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def stalling_smtp(settings):
    server = StallingServer().start()
    _use_smtp(settings, server.port)
    yield server
    server.stop()


def run_worker():
    """The library's worker (what `manage.py db_worker --batch` runs): every due task, then stop."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()
