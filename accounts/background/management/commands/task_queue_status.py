import json

from django.core.management.base import BaseCommand

from accounts.background import queue


class Command(BaseCommand):
    help = (
        "Print the task queue's state as JSON: tasks by status, how many are due and how late the "
        "oldest due one is, RUNNING tasks older than 15 minutes (a worker died), mail given up on."
    )

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(queue.status(), indent=2))
