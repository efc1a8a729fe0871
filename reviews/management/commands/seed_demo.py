"""`manage.py seed_demo`: the demo data set, app by app, bottom to top.

It lives in `reviews`, the top app, because it calls every app's `demo.seed` and imports only
go down. Every step is idempotent: run it twice, get the same data.
"""

from django.core.management.base import BaseCommand

from districts import demo as districts_demo
from districts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from notifications import demo as notifications_demo
from responses import demo as responses_demo


class Command(BaseCommand):
    help = "Load real Chicago geography and organisations, demo accounts and demo incidents."

    def handle(self, *args, **options):
        districts_demo.seed(self.stdout)
        notifications_demo.seed(self.stdout)
        responses_demo.seed(self.stdout)
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}; demo only):")
        for username, role, *_ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<22} {role.label}")
