"""The email change: nothing changes until the new address confirms; the old address can undo it
(old address back, every session ended, password reset required). End to end through a real
SMTP server on loopback (aiosmtpd), and each rule on its own."""

import datetime as dt
import email
import email.policy
import re
import threading

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import transaction

from accounts import login_gate
from accounts.audit.models import SecurityEvent
from accounts.background.tests.conftest import run_worker
from accounts.emailchange import services
from accounts.emailchange.models import EmailChange
from accounts.models import User
from accounts.tests.factories import UserFactory
from config.tests.servers import free_port
from conftest import PASSWORD, bearer_client

NEW = "new.home@example.org"
CLIENT = login_gate.Client(ip="203.0.113.5", user_agent="Firefox/140")
CONFIRM = "/api/v1/auth/email/change/confirm/"
REVERT = "/api/v1/auth/email/change/revert/"


class Inbox:
    """aiosmtpd handler: every message received, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def to(self, address):
        with self.lock:
            return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def token_in(message, kind):
    match = re.search(rf"/accounts/email/change/{kind}/([A-Za-z0-9_:-]+)/", text_of(message))
    assert match, text_of(message)
    return match[1]


@pytest.fixture
def database_queue(settings):
    """Tasks go to the database queue (the production setting); `run_worker()` runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)  # the library's worker closes its connections
def test_the_whole_flow_through_a_real_smtp_server(smtp, database_queue):
    user = UserFactory(password=PASSWORD, first_name="Mallory-typed-this", email_verified=True)
    old = user.email
    client = bearer_client(user)
    response = client.post("/api/v1/users/me/email/", {"new_email": NEW, "password": PASSWORD})
    assert response.status_code == 202
    user.refresh_from_db()
    assert user.email == old  # nothing changes until the new address confirms
    assert smtp.messages == []  # the mails are tasks: the request sent nothing itself
    run_worker()

    (confirm_mail,) = smtp.to(NEW)
    (notice,) = smtp.to(old)
    assert "Mallory-typed-this" not in confirm_mail.as_string()  # unverified: nothing typed
    assert NEW in text_of(notice)
    confirm, revert = token_in(confirm_mail, "confirm"), token_in(notice, "revert")

    assert client.post(CONFIRM, {"token": confirm}).status_code == 204
    user.refresh_from_db()
    assert (user.email, user.email_verified) == (NEW, True)
    assert client.post(CONFIRM, {"token": confirm}).status_code == 400  # single use

    # The old address says "not me": it comes back, every session ends, a reset is needed.
    assert client.post(REVERT, {"token": revert}).status_code == 204
    run_worker()
    user.refresh_from_db()
    assert user.email == old and not user.has_usable_password()
    assert client.get("/api/v1/users/me/").status_code == 401
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": client.refresh_token})
    assert refreshed.status_code == 401
    login = client.post("/api/v1/auth/token/", {"email": NEW, "password": PASSWORD})
    assert login.status_code == 401
    (reset_mail,) = [m for m in smtp.to(old) if "/accounts/password/reset/" in text_of(m)]
    assert reset_mail
    assert client.post(REVERT, {"token": revert}).status_code == 400  # single use

    kinds = list(
        SecurityEvent.objects.filter(user=user).order_by("id").values_list("type", flat=True)
    )
    assert kinds == ["email_change_requested", "email_changed", "email_change_reverted"]


@pytest.fixture
def user(db):
    return UserFactory(password=PASSWORD)


def request_change(user, new_email=NEW, password=PASSWORD):
    return services.email_change_request(
        user=user, new_email=new_email, password=password, client=CLIENT
    )


def tokens_from(mailoutbox):
    confirm = revert = None
    for message in mailoutbox:
        found = re.search(
            r"/accounts/email/change/(confirm|revert)/([A-Za-z0-9_:-]+)/", message.body
        )
        if found and found[1] == "confirm":
            confirm = found[2]
        elif found:
            revert = found[2]
    return confirm, revert


def test_a_wrong_password_changes_nothing_and_counts_as_a_failure(user, mailoutbox):
    with pytest.raises(services.ValidationError):
        request_change(user, password="not-the-password")
    assert mailoutbox == [] and not EmailChange.objects.exists()
    assert SecurityEvent.objects.get().type == "login_failed"


@pytest.mark.parametrize("taken", ["OTHER@example.com", "other@EXAMPLE.com"])
def test_a_taken_or_same_address_is_refused(user, taken):
    UserFactory(email="other@example.com")
    with pytest.raises(services.ValidationError) as taken_error:
        request_change(user, new_email=taken)
    with pytest.raises(services.ValidationError) as same_error:
        request_change(user, new_email=user.email.upper())
    assert "new_email" in taken_error.value.message_dict
    assert "new_email" in same_error.value.message_dict


@pytest.mark.django_db(transaction=True)  # the library's worker closes its connections
def test_no_mail_and_no_event_when_the_request_rolls_back(user, mailoutbox, database_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        request_change(user)
        raise RuntimeError
    run_worker()
    assert mailoutbox == [] and not SecurityEvent.objects.exists()


def test_the_confirm_link_expires(user, mailoutbox):
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False):
        request_change(user)
    confirm, _ = tokens_from(mailoutbox)
    with (
        time_machine.travel(dt.datetime(2026, 1, 2, 0, 1, tzinfo=dt.UTC), tick=False),
        pytest.raises(services.ValidationError),
    ):
        services.email_change_confirm(token=confirm)
    user.refresh_from_db()
    assert user.email != NEW


def test_a_newer_request_voids_the_older_link(user, mailoutbox):
    request_change(user)
    first_confirm, _ = tokens_from(mailoutbox)
    mailoutbox.clear()
    request_change(user, new_email="second@example.org")
    with pytest.raises(services.ValidationError):
        services.email_change_confirm(token=first_confirm)
    second_confirm, _ = tokens_from(mailoutbox)
    assert services.email_change_confirm(token=second_confirm).email == "second@example.org"


def test_reverting_before_the_confirmation_kills_the_confirm_link(user, mailoutbox):
    old = user.email
    request_change(user)
    confirm, revert = tokens_from(mailoutbox)
    services.email_change_revert(token=revert)
    with pytest.raises(services.ValidationError):
        services.email_change_confirm(token=confirm)
    user.refresh_from_db()
    assert user.email == old and not user.has_usable_password()


def test_the_address_taken_meanwhile_is_refused_at_confirmation(user, mailoutbox):
    request_change(user)
    UserFactory(email=NEW.upper())
    confirm, _ = tokens_from(mailoutbox)
    with pytest.raises(services.ValidationError):
        services.email_change_confirm(token=confirm)
    assert User.objects.get(pk=user.pk).email != NEW


@pytest.mark.parametrize("token", ["", "x" * 201, "nope", "\x00", ["list"], {"a": 1}])
def test_bad_tokens_are_400(api_client, db, token):
    for url in (CONFIRM, REVERT):
        response = api_client.post(url, {"token": token}, format="json")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"


def test_the_request_needs_authentication_and_valid_input(api_client, auth_client):
    url = "/api/v1/users/me/email/"
    assert api_client.post(url, {"new_email": NEW, "password": PASSWORD}).status_code == 401
    assert auth_client.post(url, {"new_email": "not-an-email", "password": "x"}).status_code == 400
    assert auth_client.post(url, {"new_email": NEW, "password": "wrong"}).status_code == 400


def test_the_pages_change_nothing_on_get_and_confirm_on_post(user, mailoutbox, client):
    request_change(user)
    confirm, _ = tokens_from(mailoutbox)
    page = f"/accounts/email/change/confirm/{confirm}/"
    assert client.get(page).status_code == 200
    user.refresh_from_db()
    assert user.email != NEW
    assert client.post(page).status_code == 200
    user.refresh_from_db()
    assert user.email == NEW
    assert client.post(page).status_code == 400


def test_a_link_works_only_for_its_own_purpose_and_change(user, mailoutbox):
    request_change(user)
    confirm, revert = tokens_from(mailoutbox)
    change_id = confirm.split(":")[0]
    for forged in (revert, f"{int(change_id) + 1}:{confirm.split(':')[1]}", change_id):
        with pytest.raises(services.ValidationError):
            services.email_change_confirm(token=forged)
    with pytest.raises(services.ValidationError):
        services.email_change_revert(token=confirm)
    assert services.email_change_confirm(token=confirm).email == NEW


def test_a_staff_change_of_the_email_tells_the_old_address(user, staff_client, mailoutbox):
    old = user.email
    response = staff_client.patch(
        f"/api/v1/users/{user.pk}/", {"email": "moved@example.org"}, format="json"
    )
    assert response.status_code == 200
    notices = [m for m in mailoutbox if m.to == [old]]
    assert len(notices) == 1 and "moved@example.org" not in notices[0].to
    event = SecurityEvent.objects.get(type="email_changed")
    assert event.data == {"by": "staff", "old_email": old, "new_email": "moved@example.org"}


def test_the_request_needs_a_recent_login(user, mailoutbox):
    from users_api.tests.test_mfa import stale_client

    response = stale_client(user).post(
        "/api/v1/users/me/email/", {"new_email": NEW, "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "reauthentication_required"
    assert not EmailChange.objects.exists() and mailoutbox == []


@pytest.mark.parametrize(
    "new_email",
    [
        123,
        None,
        ["a@example.org"],
        "no-at-sign",
        "a@exam\x00ple.org",
        "x" * 5000 + "@e.org",
        "paypal@p\u0430ypal.com",  # a Cyrillic letter: a look-alike
    ],
)
def test_bad_new_addresses_are_400_and_change_nothing(auth_client, new_email):
    response = auth_client.post(
        "/api/v1/users/me/email/", {"new_email": new_email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) & {"new_email", "non_field_errors"}  # NUL: the parser
    assert not EmailChange.objects.exists()
