"""`manage.py seed_demo`: the demo data set, app by app, bottom to top.

It lives in `reviews`, the top app, because it calls every app's `demo.seed` and imports only
go down. Every step is idempotent: run it twice, get the same data.

The demo accounts share one published password, so the seed refuses a database that holds
accounts it did not create (real people, an administrator made with `createsuperuser`) unless
told `--allow-existing-users`; even then it never changes an account it did not create.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from districts import demo as districts_demo
from districts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from notifications import demo as notifications_demo
from protocols.demo_playbooks import seed_playbooks
from responses import demo as responses_demo

SHOWN = 5


class Command(BaseCommand):
    help = "Load real Chicago geography and organisations, demo accounts and demo incidents."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-existing-users", action="store_true",
            help="seed even though the database holds accounts the seed did not create (they are left unchanged)",
        )

    def handle(self, *args, **options):
        others = list(districts_demo.accounts_not_seeded().values_list("username", flat=True)[:SHOWN + 1])
        if others and not options["allow_existing_users"]:
            names = ", ".join(others[:SHOWN]) + (", …" if len(others) > SHOWN else "")
            raise CommandError(
                f"This database holds user accounts the demo seed did not create ({names}). The seed adds "
                f"demo accounts that share one published password: run it on a demo database only, or pass "
                f"--allow-existing-users to add them anyway (existing accounts are left unchanged)."
            )
        districts_demo.seed(self.stdout)
        seed_playbooks(self.stdout)  # before the incidents, so they match their playbooks
        notifications_demo.seed(self.stdout)
        responses_demo.seed(self.stdout)
        # CPD's own record of the same shootings, for reconciliation: the command a user runs.
        call_command("import_cpd_victims", str(notifications_demo.HISTORY_CSV), "--no-progress", stdout=self.stdout)
        ours = districts_demo.demo_users()
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}; demo only):")
        for username, role, *_ in DEMO_ACCOUNTS:
            if username in ours:
                self.stdout.write(f"  {username:<22} {role.label}")
