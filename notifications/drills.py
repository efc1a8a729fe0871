"""Drills: a supervisor checks that every contact of the organisation still receives.

A drill is a Notification of kind drill with no incident, sent to every active channel of the
organisation. Each delivery's outcome is written on its channel (`last_drill_at`,
`last_drill_ok`, in delivery.py); a channel whose last drill died is stale (`Channel.is_stale`),
and the board lists it.
"""

from django.db import transaction

from audit.models import Source
from audit.services import audit_log
from districts.models import Organization

from .models import Delivery, Notification
from .outbox import deliveries_create
from .relay import outbox_wake


def notification_drill_send(*, organization: Organization, actor) -> Notification:
    """Write a drill notification and its deliveries; they are sent after commit. No escalation:
    a drill nobody acknowledges pages nobody."""
    with transaction.atomic():
        notification = Notification.objects.create(
            kind=Notification.Kind.DRILL, incident=None, organization=organization, reason="drill",
            assigned_to=actor if getattr(actor, "is_authenticated", False) else None,
        )
        deliveries = deliveries_create(notification=notification, purpose=Delivery.Purpose.DRILL)
        audit_log(actor=actor, source=Source.WEB, action="notification.drill_sent", obj=notification,
                  data={"organization": str(organization.code), "deliveries": len(deliveries)})
        transaction.on_commit(outbox_wake, robust=True)
    return notification

