from pathlib import Path

from django.core.management.base import BaseCommand

from districts.loaders import DATA_DIR, load_geography


class Command(BaseCommand):
    help = "Load police districts, beats, community areas and hospitals (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=DATA_DIR)

    def handle(self, *args, data_dir: Path, **options):
        for result in load_geography(data_dir):
            for message in result.messages:
                self.stderr.write(message)
            self.stdout.write(result.summary)
