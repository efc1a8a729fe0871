from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from protocols.services_playbooks import DATA_DIR, places_import


class Command(BaseCommand):
    help = "Load a places CSV (kind, name, latitude, longitude, address); one bad row refuses the file."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, nargs="?", default=DATA_DIR / "places.csv")

    def handle(self, *args, file: Path, **options):
        try:
            result = places_import(actor=None, source="system", text=file.read_text(encoding="utf-8"))
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from error
        self.stdout.write(result.summary)
