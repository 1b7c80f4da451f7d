import time

from django.core.management.base import BaseCommand

from accounts.webhooks.services import deliver_due


class Command(BaseCommand):
    help = (
        "The webhook worker: send every due delivery, then poll again every --interval seconds "
        "(--once: a single pass). Several workers may run at once; each delivery goes to one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")

    def handle(self, *args, once, interval, **options):
        while True:
            attempted = deliver_due()
            if attempted:
                self.stdout.write(f"Attempted {attempted} webhook deliveries.")
            if once:
                return
            time.sleep(interval)
