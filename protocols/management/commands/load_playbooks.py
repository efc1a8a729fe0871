from pathlib import Path

from django.core.management.base import BaseCommand

from protocols.services_playbooks import DATA_DIR, load_playbooks


class Command(BaseCommand):
    help = "Load the seeded scenario playbooks (idempotent; an edited playbook is kept unless --update)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DATA_DIR / "playbooks.json")
        parser.add_argument("--update", action="store_true", help="overwrite stored playbooks with the file's")

    def handle(self, *args, file: Path, update: bool, **options):
        result = load_playbooks(file, update=update)
        for message in result.messages:
            self.stderr.write(message)
        self.stdout.write(result.summary)
