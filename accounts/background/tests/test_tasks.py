"""Every email through the database queue and the library's worker, into a real SMTP server."""

import json
import logging
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import login_gate, notices, services
from accounts.background import tasks
from accounts.background.models import UndeliveredMail
from accounts.background.tests.conftest import run_worker
from accounts.background.tests.smtp import MailServer, body
from accounts.background.tests.stats import auc, overlap
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_queue")]

PASSWORD = "a-Long-enough-passw0rd"
SITE = "https://roster.example.org"


def register(api_client, email, **extra):
    payload = {"email": email, "password": PASSWORD, **extra}
    return api_client.post("/api/v1/auth/register/", payload)


def later(hours=1):
    """Run the worker as if `hours` had passed (retries wait their turn)."""
    with time_machine.travel(timezone.now() + timedelta(hours=hours), tick=False):
        run_worker()


def client_of():
    return login_gate.Client(ip="127.0.0.1", device=None, user_agent="pytest")


def test_registration_mail_is_queued_then_sent_with_a_working_link(api_client, smtp, settings):
    settings.SITE_URL = SITE

    assert register(api_client, "new@example.com").status_code == 201
    assert smtp.messages == []  # the request only wrote a task row
    assert DBTaskResult.objects.ready().count() == 1

    run_worker()

    [message] = smtp.to("new@example.com")
    link = re.search(rf"{SITE}/accounts/email/verify/([^/\s]+)/([^/\s]+)/", body(message))
    assert link and link.group(0) in body(message, "html")
    uid, token = link.groups()
    verify = api_client.post("/api/v1/auth/email/verify/", {"uid": uid, "token": token})
    assert verify.status_code == 204
    assert User.objects.get(email="new@example.com").email_verified
    assert DBTaskResult.objects.successful().count() == 1


def test_a_rolled_back_transaction_sends_nothing(smtp):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.user_register(email="gone@example.com", password=PASSWORD)
        raise RuntimeError("the change fails after the task was queued")

    run_worker()

    assert not User.objects.filter(email="gone@example.com").exists()
    assert DBTaskResult.objects.count() == 0 and smtp.messages == []


def test_smtp_down_requests_still_answer_and_every_mail_arrives_once_when_it_returns(
    api_client, smtp_down
):
    UserFactory(email="known@example.com")
    codes = [register(api_client, f"r{n}@example.com").status_code for n in range(3)]
    reset = "/api/v1/auth/password/reset/"
    codes.append(api_client.post(reset, {"email": "known@example.com"}).status_code)
    codes.append(api_client.post(reset, {"email": "nobody@example.com"}).status_code)
    assert codes == [201, 201, 201, 202, 202]

    run_worker()  # every send fails: connection refused
    assert DBTaskResult.objects.failed().count() == 4  # four mails; the unknown address sends none
    assert DBTaskResult.objects.filter(status="READY").count() == 4  # their retries wait

    run_worker()  # not due yet: nothing happens
    assert DBTaskResult.objects.filter(status="READY").count() == 4

    smtp_down.start()
    later(hours=1)
    later(hours=2)  # nothing left to send twice

    expected = ["known@example.com", "r0@example.com", "r1@example.com", "r2@example.com"]
    assert sorted(smtp_down.recipients()) == expected
    assert "/accounts/password/reset/" in body(smtp_down.to("known@example.com")[0])
    assert UndeliveredMail.objects.count() == 0


def test_a_stalling_server_times_out_and_the_send_is_retried(api_client, stalling_smtp, settings):
    assert register(api_client, "slow@example.com").status_code == 201
    assert stalling_smtp.connections == 0  # the request never touched the mail server

    run_worker()

    assert stalling_smtp.connections == 1
    [failed] = DBTaskResult.objects.failed()
    assert "timed out" in failed.traceback
    [retry] = DBTaskResult.objects.filter(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.run_after > failed.finished_at + timedelta(seconds=25)


def test_after_the_last_attempt_the_mail_is_listed_and_logged(smtp_down, caplog):
    user = UserFactory()
    services.password_reset_email_send(actor=UserFactory(is_superuser=True), user=user)

    with (
        caplog.at_level(logging.WARNING, logger="accounts.background.tasks"),
        time_machine.travel(timezone.now(), tick=False) as clock,
    ):
        for _ in range(tasks.MAX_ATTEMPTS + 2):
            clock.shift(timedelta(hours=3))
            run_worker()

    [undelivered] = UndeliveredMail.objects.all()
    assert (undelivered.kind, undelivered.to, undelivered.user) == (
        "password_reset",
        user.email,
        user,
    )
    assert undelivered.attempts == tasks.MAX_ATTEMPTS
    assert DBTaskResult.objects.failed().count() == tasks.MAX_ATTEMPTS
    assert DBTaskResult.objects.ready().count() == 0
    assert f"Gave up on the password_reset email to user {user.pk}" in caplog.text
    assert user.email not in caplog.text  # logs name the user, never the address


def test_retry_delays_double_and_stay_under_twelve_hours_in_all():
    delays = [tasks.retry_delay(n) for n in range(1, tasks.MAX_ATTEMPTS)]

    assert delays[0] == timedelta(seconds=30) and delays[1] == timedelta(seconds=60)
    assert max(delays) == timedelta(hours=2)
    assert timedelta(hours=6) < sum(delays, timedelta()) < timedelta(hours=12)


def test_a_permanent_refusal_gives_up_at_once(settings):
    server = MailServer(refuse=True).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    try:
        services.user_register(email="bounce@example.com", password=PASSWORD)
        run_worker()
    finally:
        server.stop()

    assert UndeliveredMail.objects.get().attempts == 1
    assert DBTaskResult.objects.ready().count() == 0


def test_an_unverified_address_gets_nothing_its_registrant_typed(api_client, smtp):
    register(api_client, "victim@example.com", first_name="Win a prize at https://evil.test")
    run_worker()

    [message] = smtp.to("victim@example.com")
    assert "evil" not in body(message) and "evil" not in body(message, "html")


def test_password_change_sends_a_notice_with_a_reset_link(smtp, settings):
    settings.SITE_URL = SITE
    user = UserFactory(email="ada@example.com", first_name="Ada", email_verified=True)
    services.password_change(
        user=user, current_password=PASSWORD, new_password="an-Other-passw0rd", client=client_of()
    )
    run_worker()

    [message] = smtp.to("ada@example.com")
    assert message["Subject"] == "Your Roster password was changed"
    assert "Hello Ada" in body(message)
    assert f"{SITE}/accounts/password/reset/" in body(message)
    assert f"{SITE}/accounts/password/reset/" in body(message, "html")


@pytest.mark.parametrize(
    "change",
    [
        lambda user, actor: services.password_set(actor=actor, user=user, password="n3w-Passw0rd!"),
        lambda user, actor: services.password_set(actor=actor, user=user, password=None),
    ],
    ids=["set", "unusable"],
)
def test_an_operator_setting_the_password_notifies_the_user(smtp, change):
    user = UserFactory(email="set@example.com")
    change(user, UserFactory(is_superuser=True))
    run_worker()

    assert [m["Subject"] for m in smtp.to("set@example.com")] == [
        "Your Roster password was changed"
    ]


def test_reset_confirm_notifies_and_closing_the_account_notifies_without_a_reset_link(smtp):
    user = UserFactory(email="bye@example.com", email_verified=True)
    services.password_reset_request(email="BYE@example.com")
    run_worker()
    link = re.search(r"/password/reset/([^/\s]+)/([^/\s]+)/", body(smtp.messages[0]))
    services.password_reset_confirm(
        uidb64=link.group(1), token=link.group(2), new_password="n3w-Passw0rd!"
    )
    user.refresh_from_db()
    services.user_close_own_account(user=user, password="n3w-Passw0rd!", client=client_of())
    run_worker()

    subjects = [m["Subject"] for m in smtp.to("bye@example.com")]
    assert subjects == [
        "Reset your Roster password",
        "Your Roster password was changed",
        "Your Roster account was closed",
    ]
    assert "/password/reset/" not in body(smtp.messages[-1])


def test_notice_details_reach_a_verified_address_escaped_in_html(smtp):
    user = UserFactory(email="v@example.com", email_verified=True)
    with transaction.atomic():
        notices.send(user, "new_sign_in", ip_address="203.0.113.9", device="<b>Firefox</b>")
    run_worker()

    [message] = smtp.messages
    assert "203.0.113.9" in body(message) and "<b>Firefox</b>" in body(message)
    assert "&lt;b&gt;Firefox&lt;/b&gt;" in body(message, "html")


@pytest.mark.parametrize("notice", sorted(notices.NOTICES))
def test_every_notice_renders_text_and_html(notice, smtp):
    user = UserFactory(email="n@example.com", email_verified=True)
    notices.send(
        user, notice, new_email="new@example.com", method='passkey "Key"', ip_address="192.0.2.1"
    )
    run_worker()

    [message] = smtp.messages
    assert message["Subject"] and "Roster" in body(message) and "<p>" in body(message, "html")
    if notice.startswith("second_factor"):
        assert '(passkey "Key")' in body(message)


@pytest.mark.parametrize("text", ["\x00", "\ud800"])
def test_details_and_addresses_the_database_cannot_store_never_fail_a_request(user, smtp, text):
    user.email_verified = True
    user.save()
    services.password_reset_request(email=f"a{text}@example.com")
    notices.send(user, "new_sign_in", device=f"Firefox{text}", ip_address="192.0.2.1")
    run_worker()

    [message] = smtp.messages  # the notice; the impossible address queued nothing
    assert "Firefox" in body(message)


def test_an_unknown_notice_is_refused_before_anything_is_queued(user):
    with pytest.raises(ValueError, match="Unknown notice"):
        notices.send(user, "password_stolen")
    assert DBTaskResult.objects.count() == 0


def test_a_verification_mail_for_an_address_changed_meanwhile_is_skipped(smtp):
    user = services.user_register(email="first@example.com", password=PASSWORD)
    User.objects.filter(pk=user.pk).update(email="second@example.com")
    run_worker()

    assert smtp.messages == []
    assert DBTaskResult.objects.get().return_value == "skipped: no longer wanted"


def test_task_queue_status_counts_what_an_operator_watches(smtp_down, capsys):
    services.user_register(email="q@example.com", password=PASSWORD)
    run_worker()
    call_command("task_queue_status")

    status = json.loads(capsys.readouterr().out)
    assert status["counts"] == {"READY": 1, "RUNNING": 0, "SUCCESSFUL": 0, "FAILED": 1}
    assert status["due"] == 0 and status["undelivered_mail"] == 0


def test_a_task_of_a_dead_worker_is_requeued_and_then_sent(smtp, capsys):
    services.user_register(email="orphan@example.com", password=PASSWORD)
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        DBTaskResult.objects.get().claim("a-worker-that-died")
    run_worker()
    assert smtp.messages == []  # claimed: no other worker takes it

    call_command("task_queue_status", "--requeue-stale")
    run_worker()

    assert "Requeued 1 stale task(s)." in capsys.readouterr().err
    assert smtp.recipients() == ["orphan@example.com"]


def test_readyz_reports_the_database_queue(client):
    response = client.get("/readyz")

    assert response.status_code == 200 and response.json()["queue"] == "ok"


def test_reset_request_does_the_same_work_and_takes_the_same_time_for_any_address(
    api_client, settings
):
    settings.THROTTLE_RATES = {
        **settings.THROTTLE_RATES,
        "password_reset": "100000/hour",
        "password_reset_email": "100000/hour",
    }
    UserFactory(email="exists@example.com")
    path = "/api/v1/auth/password/reset/"

    def timed(email):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            assert api_client.post(path, {"email": email}).status_code == 202
            took = time.perf_counter() - started
        return took, [re.sub(r"'[^']*'|\d+", "?", q["sql"]) for q in queries.captured_queries]

    for email in ("exists@example.com", "nobody@example.com") * 3:
        timed(email)  # warm up
    known, unknown = [], []
    for n in range(60):  # interleaved, each going first half the time: drift hits both alike
        for email in ("exists@example.com", "nobody@example.com")[:: 1 if n % 2 else -1]:
            (known if email.startswith("exists") else unknown).append(timed(email))

    # The same statements (only the values differ), so nothing in the database tells them apart
    assert {tuple(q) for _, q in known} == {tuple(q) for _, q in unknown}
    # and their times overlap: an AUC near 0.5 (an oracle measured 0.84-1.00), generous margin.
    known_times, unknown_times = [t for t, _ in known], [t for t, _ in unknown]
    assert 0.25 < auc(known_times, unknown_times) < 0.75
    assert overlap(known_times, unknown_times)


def test_a_refused_recipient_is_logged_by_user_never_by_address(settings, caplog):
    # smtplib's SMTPRecipientsRefused carries {address: (code, reply)}: written as it is, the
    # retry and give-up log lines held the address the logs otherwise never name.
    from accounts.background.tests.conftest import _use_smtp

    server = MailServer(refuse=True).start()
    _use_smtp(settings, server.port)
    user = UserFactory()
    try:
        services.password_reset_email_send(actor=UserFactory(is_superuser=True), user=user)
        with caplog.at_level(logging.DEBUG):
            run_worker()
    finally:
        server.stop()

    [undelivered] = UndeliveredMail.objects.all()
    assert "550" in undelivered.error
    # Roster's and the task library's lines (the test mail server's own "mail.log" aside).
    ours = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith("mail.")
    )
    assert f"Gave up on the password_reset email to user {user.pk}" in ours
    assert "550" in ours
    assert user.email not in ours
