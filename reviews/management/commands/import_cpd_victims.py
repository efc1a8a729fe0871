"""`manage.py import_cpd_victims FILE`: CPD's victims of homicides and shootings (gumc-mgzr) into reviews.

The work is `reviews.importers.cpd_victims_import`; this only reads the arguments and turns a
file that cannot be read into a command error.
"""

from django.core.management.base import BaseCommand, CommandError

from reviews.importers import BATCH_SIZE, ImportFileError, cpd_victims_import


class Command(BaseCommand):
    help = ("Import the City's 'Violence Reduction - Victims of Homicides and Non-Fatal Shootings' CSV "
            "(portal export or API columns): upsert by unique id, group by RD number, never store names.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"rows per write (default {BATCH_SIZE})")
        parser.add_argument("--no-progress", action="store_true", help="plain progress lines even on a terminal")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        self.stdout.ending = ""  # the importer ends its own lines (the progress bar redraws one)
        try:
            cpd_victims_import(path=options["file"], stdout=self.stdout, batch_size=options["batch_size"],
                               progress=False if options["no_progress"] else None)
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['file']}") from None
        except ImportFileError as error:
            raise CommandError(str(error)) from None
