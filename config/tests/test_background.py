"""Background work against real processes: gunicorn and `manage.py db_worker` on a private
PostgreSQL, mail into aiosmtpd (or a server that never answers) on loopback."""

import subprocess
import sys
import time

import pytest

from accounts.background.tests.smtp import MailServer, StallingServer, free_port
from accounts.background.tests.stats import auc, overlap
from config.tests.servers import PASSWORD, REPO, _stop_process, call, live, wait_until

pytestmark = live

RATES = (
    "register=100000/hour,register_email=100000/hour,"
    "password_reset=100000/hour,password_reset_email=100000/hour"
)
SMTP_PORT = free_port()


@pytest.fixture(scope="module")
def deployment(live_servers):
    mail_url = f"smtp://127.0.0.1:{SMTP_PORT}"
    with live_servers.deployment(
        "background", app_servers=1, THROTTLE_RATES=RATES, EMAIL_URL=mail_url, EMAIL_TIMEOUT="2"
    ) as deployment:
        yield deployment


@pytest.fixture
def port(deployment):
    deployment.query("DELETE FROM django_tasks_database_dbtaskresult")
    return deployment.app_servers[0].port


def start_worker(deployment, name):
    server = deployment.app_servers[0]
    log = (server.log.parent / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", "0.1", "--no-reload"],
        cwd=REPO,
        env={**server.environment},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def register(port, email):
    return call(port, "POST", "/api/v1/auth/register/", {"email": email, "password": PASSWORD})


def test_two_workers_on_one_queue_send_each_mail_once(deployment, port):
    emails = [f"pair-{n}@example.com" for n in range(30)]
    assert {register(port, email).status for email in emails} == {201}
    smtp = MailServer(SMTP_PORT, delay=0.05).start()  # each send takes a while: both workers busy
    workers = [start_worker(deployment, f"worker-{n}") for n in (1, 2)]
    try:
        wait_until(lambda: len(smtp.messages) >= len(emails), timeout=60, what="30 mails")
        time.sleep(1)  # a duplicate would arrive now
    finally:
        for worker in workers:
            _stop_process(worker)
        smtp.stop()

    assert sorted(smtp.recipients()) == sorted(emails)
    rows = deployment.query("SELECT status, worker_ids FROM django_tasks_database_dbtaskresult")
    assert {status for status, _ in rows} == {"SUCCESSFUL"} and len(rows) == len(emails)
    assert all(len(ids) == 1 for _, ids in rows)  # each task claimed once
    assert len({ids[0] for _, ids in rows}) == 2  # and both workers took a share


def test_smtp_down_or_stalling_never_reaches_a_request(deployment, port):
    # Nothing listens on SMTP_PORT: requests still answer, the tasks wait in the queue.
    replies = [register(port, f"down-{n}@example.com") for n in range(3)]
    replies.append(call(port, "POST", "/api/v1/auth/password/reset/", {"email": "down-0@x.org"}))
    assert [reply.status for reply in replies] == [201, 201, 201, 202]
    assert deployment.query(
        "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'READY'"
    ) == [(4,)]

    # A server that accepts and never answers: the worker times out (EMAIL_TIMEOUT=2) and retries.
    stalling = StallingServer()
    server = deployment.app_servers[0]
    environment = {**server.environment, "EMAIL_URL": f"smtp://127.0.0.1:{stalling.port}"}
    stalling.start()
    try:
        assert register(port, "stalled@example.com").status == 201
        assert stalling.connections == 0  # the request never touched the mail server
        done = subprocess.run(
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
            cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        stalling.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert stalling.connections == 4  # four mails tried (the reset's address has no account)
    failed = deployment.query(
        "SELECT traceback FROM django_tasks_database_dbtaskresult WHERE status = 'FAILED'"
    )
    assert len(failed) == 4 and all("timed out" in traceback for (traceback,) in failed)
    retries = deployment.query(
        "SELECT args_kwargs FROM django_tasks_database_dbtaskresult WHERE status = 'READY'"
    )
    assert sorted(args["kwargs"]["attempt"] for (args,) in retries) == [2, 2, 2, 2]


def test_reset_request_takes_the_same_time_whether_or_not_the_account_exists(deployment, port):
    assert register(port, "timing@example.com").status == 201
    path = "/api/v1/auth/password/reset/"
    known, unknown = [], []
    for _ in range(5):  # warm up connections and caches
        call(port, "POST", path, {"email": "timing@example.com"})
    for _ in range(80):  # interleaved, so drift hits both alike
        known.append(call(port, "POST", path, {"email": "timing@example.com"}).seconds)
        unknown.append(call(port, "POST", path, {"email": "nobody-here@example.com"}).seconds)

    # An oracle separated them with an AUC of 0.84-1.00 on 20 samples; equal work gives ~0.5
    # (standard error ~0.05 here), so the margin is several standard errors wide.
    assert 0.25 < auc(known, unknown) < 0.75
    assert overlap(known, unknown)
