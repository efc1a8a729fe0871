from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.dates import day_start
from notifications.models import Incident
from notifications.scenarios import scenarios_rematch


class Command(BaseCommand):
    help = ("Match stored incidents against the active scenario playbooks again (after an edit, or for "
            "imported history) without notifying anyone.")

    def add_arguments(self, parser):
        parser.add_argument("--since", help="only incidents that occurred on or after this day (YYYY-MM-DD)")

    def handle(self, *args, since: str | None, **options):
        incidents = Incident.objects.all()
        if since:
            try:
                incidents = incidents.filter(occurred_at__gte=day_start(date.fromisoformat(since)))
            except ValueError:
                raise CommandError(f"--since {since!r} is not a day: use YYYY-MM-DD.") from None
        with transaction.atomic():
            count = scenarios_rematch(incidents=incidents)
        self.stdout.write(f"scenarios: {count} incidents matched")
