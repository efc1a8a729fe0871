from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from districts.loaders import DATA_DIR, RowError, load_organizations


class Command(BaseCommand):
    help = "Load outreach organisations and their coverage from the City's outreach tags (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DATA_DIR / "outreach_org_coverage.csv")

    def handle(self, *args, file: Path, **options):
        try:
            result = load_organizations(file)
        except RowError as error:
            raise CommandError(str(error)) from error
        for message in result.messages:
            self.stderr.write(message)
        self.stdout.write(result.summary)
