"""Escalation: no acknowledgement within the organisation's window pages the next tier.

Level 0 is the first notification (the on-call primary, shared channels, everyone's feed).
Without an acknowledgement `ack_window_minutes` (default 10) later the sweep pages level 1, the
on-call BACKUP; a window later level 2, the SUPERVISOR; a window later level 3, the CSCC duty
desk, and the timer stops. The timer is `Notification.next_escalation_at` (set when the
notification's deliveries are created); an acknowledgement clears it. Each step is anchored on
the previous due time, not on when the sweep happened to run, so steps keep their schedule.

A step whose tier is empty (no backup on the roster) is still taken on schedule but pages
nobody: `escalation_paged_level` keeps the last step that reached somebody, so pages say
"escalated" only when someone was paged and say plainly when nobody could be.

The sweep runs in the outbox relay's loop (see relay.py for why), which hands the steps'
deliveries over in the same pass; it takes `now` so tests move the clock instead of sleeping.
This module never imports the relay: the relay calls it.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

from audit.models import Source
from audit.services import audit_log

from .messages import ESCALATION_ROLES
from .models import Delivery, Notification
from .outbox import deliveries_create, outbox_signal
from .stamps import incident_figures_changed
from .timeline import timeline_add

LAST_LEVEL = 3
SWEEP_BATCH = 100


def notification_escalate(*, notification: Notification, now: datetime) -> list[Delivery]:
    """Page the next tier for one due, unacknowledged notification (locked by the caller).
    Returns the deliveries written; the timeline says who was paged, or that nobody could be."""
    due_at = notification.next_escalation_at or now
    notification.escalation_level += 1
    level = notification.escalation_level
    window = timedelta(minutes=notification.organization.ack_window_minutes)
    notification.next_escalation_at = due_at + window if level < LAST_LEVEL else None
    deliveries = deliveries_create(notification=notification, purpose=Delivery.Purpose.ESCALATION)
    if deliveries:
        notification.escalation_paged_level = level
    notification.save(update_fields=["escalation_level", "escalation_paged_level", "next_escalation_at"])
    if deliveries:
        incident_figures_changed(notification.incident_id)
    with override("en"):  # the timeline is CPD's record, in English
        role = str(ESCALATION_ROLES[level])
    organization = notification.organization
    text = (f"{organization}: not acknowledged, escalated to {role} ({len(deliveries)} message(s))" if deliveries
            else f"{organization}: not acknowledged, nobody on the roster as {role}; next step on schedule")
    timeline_add(notification=notification, delivery=None, kind="notification.escalated", at=now, text=text)
    audit_log(actor=None, source=Source.SYSTEM, action="notification.escalated", obj=notification,
              data={"level": level, "deliveries": len(deliveries)})
    return deliveries


def escalation_sweep(*, now: datetime | None = None) -> int:
    """Escalate every notification whose timer is due. Returns how many were escalated.

    Each notification is escalated in its own short transaction with its row locked and
    SKIP LOCKED, so two relays never page the same step twice and an acknowledgement arriving
    meanwhile (it locks the same row) either wins or sees the step done.
    """
    now = now or timezone.now()
    escalated = 0
    while True:
        with transaction.atomic():
            due = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("organization", "incident")
                       .filter(next_escalation_at__lte=now, acknowledged_at__isnull=True)
                       .order_by("next_escalation_at")[:SWEEP_BATCH])
            for notification in due:
                notification_escalate(notification=notification, now=now)
            if due:
                outbox_signal()  # a NOTIFY is delivered at commit
        escalated += len(due)
        if len(due) < SWEEP_BATCH:
            return escalated
