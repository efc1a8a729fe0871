from pathlib import Path

from django.core.management.base import BaseCommand

from districts.loaders import DATA_DIR, load_partners


class Command(BaseCommand):
    help = "Load partner organisations (hospital programmes, victim services, City staff) (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DATA_DIR / "partner_organizations.csv")

    def handle(self, *args, file: Path, **options):
        result = load_partners(file)
        for message in result.messages:
            self.stderr.write(message)
        self.stdout.write(result.summary)
