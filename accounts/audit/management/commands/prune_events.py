import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.audit.models import SecurityEvent
from accounts.webhooks import services as webhooks


class Command(BaseCommand):
    help = "Delete security events older than the retention period (the only way events go)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, help="e.g. 400d, 12h (days or hours)")

    def handle(self, *args, older_than, **options):
        # At most five digits (273 years), as prune_sessions: a longer age overflowed the date.
        match = re.fullmatch(r"(\d{1,5})([dh])", older_than.strip())
        if not match:
            raise CommandError("--older-than takes a number followed by d or h, e.g. 400d.")
        age = timedelta(**{{"d": "days", "h": "hours"}[match[2]]: int(match[1])})
        before = timezone.now() - age
        removed = SecurityEvent.objects.prune(before=before)
        deliveries = webhooks.prune_deliveries(before=before)
        self.stdout.write(
            f"Removed {removed} security events older than {older_than}"
            f" and {deliveries} finished webhook deliveries of that age."
        )
