import argparse
import math
import time

from django.core.management.base import BaseCommand

from accounts.webhooks.services import deliver_due


def seconds(text):
    """argparse type: seconds above zero, at most an hour (a bad one is a usage error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and 0 < value <= 3600):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0 and at most 3600")
    return value


class Command(BaseCommand):
    help = (
        "The webhook worker: send every due delivery, then poll again every --interval seconds "
        "(--once: a single pass). Several workers may run at once; each delivery goes to one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval",
            type=seconds,
            default=2.0,
            help="seconds between polls (above 0, at most 3600)",
        )

    def handle(self, *args, once, interval, **options):
        while True:
            attempted = deliver_due()
            if attempted:
                self.stdout.write(f"Attempted {attempted} webhook deliveries.")
            if once:
                return
            time.sleep(interval)
