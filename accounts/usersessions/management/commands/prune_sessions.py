import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from accounts.usersessions.models import UserSession


class Command(BaseCommand):
    help = (
        "Delete the rows of sessions that ended or expired longer ago than the given age. Open "
        "sessions are never touched; a token naming a deleted session is refused like an ended one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, help="e.g. 90d, 12h (days or hours)")

    def handle(self, *args, older_than, **options):
        match = re.fullmatch(r"(\d{1,5})([dh])", older_than.strip())
        if not match:
            raise CommandError("--older-than takes a number followed by d or h, e.g. 90d.")
        cutoff = timezone.now() - timedelta(
            **{{"d": "days", "h": "hours"}[match[2]]: int(match[1])}
        )
        removed, _ = UserSession.objects.filter(
            Q(ended_at__lt=cutoff) | Q(expires_at__lt=cutoff)
        ).delete()
        self.stdout.write(
            f"Removed {removed} sessions that ended or expired before {cutoff:%Y-%m-%d %H:%M} UTC."
        )
