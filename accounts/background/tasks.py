"""Roster's background tasks: every email leaves through `send_email`.

A task is a row of the database queue written in the transaction of the change that causes it, so
a rollback sends nothing and a commit always sends. A send that fails for a reason that may pass
(the mail server is down, slow beyond EMAIL_TIMEOUT, or answers 4xx) is tried again later, the
delay doubling from 30 s up to 2 h; after MAX_ATTEMPTS (about 10 hours) or a permanent refusal
(5xx) the worker gives up: one error log line and an `UndeliveredMail` row in the admin.
"""

import logging
import re
import smtplib
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from accounts import emails
from accounts.background.models import UndeliveredMail
from accounts.models import User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 2 * 60 * 60


class GaveUp(Exception):
    """The last attempt of a task failed; it is listed as undelivered mail."""


class SendFailed(Exception):
    """An attempt failed and another is queued; its message is `describe(exc)`."""


# smtplib's errors carry the addresses (SMTPRecipientsRefused is {address: (code, reply)}); the
# logs, and the task results the worker writes and logs, name the user and never the address.
_ADDRESS = re.compile(r"[^\s'\"<>(),:]+@[^\s'\"<>(),:]+")


def describe(exc: Exception) -> str:
    """`exc` as a log line may hold it: its type and text, any address replaced."""
    return _ADDRESS.sub("<address>", f"{type(exc).__name__}: {exc}")[:300]


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based)."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempt - 1), LONGEST_RETRY_SECONDS))


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


@task()
def send_email(*, kind: str, user_id: str, to: str, context: dict, attempt: int = 1) -> str:
    """Render and send the `kind` email to `to` (the address the user had when it was queued)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return "skipped: the user no longer exists"
    if not emails.still_wanted(kind, user=user, to=to):
        return "skipped: no longer wanted"
    message = emails.render(kind, user=user, to=to, context=context)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        job = {"kind": kind, "user_id": user_id, "to": to, "context": context}
        _retry_or_give_up(job, attempt=attempt, exc=exc)
        # Not `raise`: the worker logs the failure with its traceback, address included.
        raise SendFailed(describe(exc)) from None
    return "sent"


@task()
def send_password_reset(*, email: str) -> str:
    """The reset request's task, queued whether or not an account has `email`, so the request
    does the same work either way; here the lookup decides whether a link is mailed."""
    user = User.objects.with_email(email).filter(is_active=True).first()
    if user is None:
        return "skipped: no active account has this address"
    return send_email.call(kind="password_reset", user_id=str(user.pk), to=user.email, context={})


def _retry_or_give_up(job, *, attempt, exc):
    deferrable = send_email.get_backend().supports_defer
    if attempt < MAX_ATTEMPTS and deferrable and not _is_permanent(exc):
        delay = retry_delay(attempt)
        send_email.using(run_after=timezone.now() + delay).enqueue(**job, attempt=attempt + 1)
        logger.warning(
            "Could not send the %s email to user %s (attempt %d, %s); retrying in %d s",
            job["kind"], job["user_id"], attempt, describe(exc), delay.total_seconds(),
        )  # fmt: skip
        return
    UndeliveredMail.objects.create(
        kind=job["kind"],
        to=job["to"],
        user_id=job["user_id"],
        context=job["context"],
        attempts=attempt,
        error=f"{type(exc).__name__}: {exc}",
    )
    logger.error(
        "Gave up on the %s email to user %s after %d attempt(s): %s",
        job["kind"], job["user_id"], attempt, describe(exc),
    )  # fmt: skip
    raise GaveUp(f"{job['kind']} to user {job['user_id']}: {describe(exc)}") from None
