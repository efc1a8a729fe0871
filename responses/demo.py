"""Demo data for the responses app: the demo organisation's worker has logged a response to
each incident they reached, with a follow-up, so the transparency page, the team page and
"my follow-ups" have something to show.

Idempotent: each response's client_key is derived from its notification, so a second run finds
the first response and adds nothing. Call after `notifications.demo.seed`.
"""

import uuid
from datetime import timedelta

from django.utils import timezone

from districts.demo import DEMO_ORGANIZATION, demo_users
from notifications.models import Notification

from .services import response_log

_KEYS = uuid.UUID("6f1d1c2e-0b7a-4c55-9a43-3c1b2d9e0a11")


def seed(stdout) -> None:
    worker = demo_users().get("outreach.worker")  # the seed's own account, never a namesake
    if worker is None:
        return
    reached = Notification.objects.filter(organization__name=DEMO_ORGANIZATION, arrived_at__isnull=False,
                                          incident__isnull=False).select_related("incident")
    created = 0
    for notification in reached:
        _, new = response_log(
            notification=notification, actor=worker, source="system",
            client_key=uuid.uuid5(_KEYS, str(notification.code)), arrived_at=notification.arrived_at,
            response_types=["scene", "family"], retaliation_risk="medium",
            referrals=[{"kind": "trauma", "count": 1}], people_engaged={"family": 3, "peers": 2},
            follow_up_on=timezone.localdate() + timedelta(days=1), follow_up_task="Visit the family",
            notes="Demo: talked with the family at the corner; brother upset, calmed down.",
        )
        created += new
    stdout.write(f"responses: {created} demo responses logged ({reached.count()} incidents reached)")
