"""`manage.py outbox_relay`: hand due deliveries to Celery and run the escalation sweep.

See notifications/relay.py for the delivery guarantee (at least once; duplicates absorbed by
the task's claim). Run one or two per deployment; both are safe together.
"""

from django.core.management.base import BaseCommand

from notifications.relay import Relay, relay_once


class Command(BaseCommand):
    help = "Hand due notification deliveries to Celery (LISTEN/NOTIFY plus a short poll) and escalate."

    def add_arguments(self, parser):
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between passes without a NOTIFY")
        parser.add_argument("--handover-timeout", type=float, default=None,
                            help="seconds before a handed-over, unclaimed delivery is handed over again")
        parser.add_argument("--sending-timeout", type=float, default=None,
                            help="seconds before a delivery stuck in sending (dead worker) is retried")
        parser.add_argument("--no-escalation", action="store_true", help="do not run the escalation sweep")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args, **options):
        if options["once"]:
            handed = relay_once(handover_timeout=options["handover_timeout"],
                                sending_timeout=options["sending_timeout"])
            self.stdout.write(f"handed over {handed} deliveries")
            return
        Relay(poll=options["poll"], handover_timeout=options["handover_timeout"],
              sending_timeout=options["sending_timeout"], escalate=not options["no_escalation"]).run()
