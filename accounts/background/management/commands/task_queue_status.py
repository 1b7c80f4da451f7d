import json

from django.core.management.base import BaseCommand

from accounts.background import queue


class Command(BaseCommand):
    help = (
        "Print the task queue's state as JSON: tasks by status, how many are due and how late the "
        "oldest due one is, RUNNING tasks older than 15 minutes (a worker died), mail given up on."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--requeue-stale",
            action="store_true",
            help="First requeue the tasks of dead workers (RUNNING for over 15 minutes).",
        )

    def handle(self, *args, requeue_stale=False, **options):
        if requeue_stale:
            count = queue.requeue_stale()
            self.stderr.write(f"Requeued {count} stale task(s).")
        self.stdout.write(json.dumps(queue.status(), indent=2))
