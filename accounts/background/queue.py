"""What an operator (and /readyz) asks of the task queue."""

from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from accounts.background.models import UndeliveredMail

STATUSES = ("READY", "RUNNING", "SUCCESSFUL", "FAILED")
# A RUNNING row older than this belongs to a worker that died mid-task (a send lasts seconds).
STALE_RUNNING = timedelta(minutes=15)


def uses_database_queue() -> bool:
    return isinstance(task_backends["default"], DatabaseBackend)


def check_reachable() -> None:
    """Raise if the queue's store does not answer (a no-op when tasks run in-process)."""
    if uses_database_queue():
        DBTaskResult.objects.filter(pk__isnull=True).exists()


def status() -> dict:
    """Counts by status, how late the oldest due task is, stale runs, and mail given up on."""
    now = timezone.now()
    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("pk")))
    oldest_due = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    return {
        "counts": {
            name: counts.get(name, 0) for name in ("READY", "RUNNING", "SUCCESSFUL", "FAILED")
        },
        "due": DBTaskResult.objects.ready().count(),
        "oldest_due_seconds": round((now - oldest_due).total_seconds()) if oldest_due else 0,
        "stale_running": DBTaskResult.objects.running()
        .filter(started_at__lt=now - STALE_RUNNING)
        .count(),
        "undelivered_mail": UndeliveredMail.objects.count(),
    }


def requeue_stale() -> int:
    """Put RUNNING tasks older than STALE_RUNNING (their worker died mid-task) back in the queue.
    Such a mail may have left just before the worker died: it can arrive twice, never zero times."""
    stale = DBTaskResult.objects.running().filter(started_at__lt=timezone.now() - STALE_RUNNING)
    return stale.update(status="READY", started_at=None)
