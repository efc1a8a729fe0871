"""The outbox: Delivery rows written in the transaction that decided to send them.

- `deliveries_create(notification=..., purpose=...)` writes one queued Delivery per recipient
  and channel (recipients.py says who) and returns them. Call it inside the transaction that
  wrote the notification. For a new incident (purpose notify) it also starts the escalation
  timer.
- `deliveries_fan_out(sends=[(notification, purpose), ...])` does the same for every
  notification of an incident being entered or corrected, in a fixed number of statements
  (the recipients of all the organisations in three queries, then one INSERT per table).
- `deliveries_save(rows)` writes rows built elsewhere (a follow-up reminder's), with the same
  rules: one delivery per address, in-app rows written as sent.
- `outbox_signal()` tells a listening relay (PostgreSQL NOTIFY) that due rows exist. Callers
  that want the rows sent at once in the embedded default register `relay.outbox_wake` with
  `transaction.on_commit` instead; this module never sends.

The relay (relay.py) decides when a row is handed over; delivery.py what a send means.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import override

from districts.models import Channel

from .models import Delivery, Notification, TimelineEntry
from .recipients import Audience, recipients
from .timeline import send_clocks_start_many, timeline_entry

NOTIFY_CHANNEL = "cvi_outbox"  # PostgreSQL LISTEN/NOTIFY channel the relay listens on
DUE_STATUSES = (Delivery.Status.QUEUED, Delivery.Status.FAILED)


def deliveries_save(rows: list[Delivery]) -> list[Delivery]:
    """Save unsaved deliveries, due now. The same address reached through two channels (a shared
    list that is also someone's own email) gets one delivery; an in-app row is the feed entry,
    so it is written as sent and visible the moment the transaction commits."""
    return Delivery.objects.bulk_create(_due(rows, timezone.now()))


def _due(rows: list[Delivery], now) -> list[Delivery]:
    """`deliveries_save`'s rules on one notification's rows: one per address, due now, in-app sent."""
    kept, seen = [], set()
    for row in rows:
        key = (row.kind, row.target.strip().lower(), row.recipient_id if row.kind == Channel.Kind.IN_APP else None)
        if key in seen:
            continue
        seen.add(key)
        row.next_attempt_at = now
        if row.kind == Channel.Kind.IN_APP:
            row.status, row.sent_at = Delivery.Status.SENT, now
        kept.append(row)
    return kept


def deliveries_create(*, notification: Notification, purpose: str) -> list[Delivery]:
    """Write the queued deliveries of one notification for one purpose and return them.

    Purpose notify also starts the escalation timer when none runs. When every row is in-app
    (nothing leaves the portal for this organisation) the feed is the first send: the clocks
    start now.
    """
    now = timezone.now()
    return _record([(notification, purpose, _due(recipients(notification, purpose, now), now))], now)


def deliveries_fan_out(*, sends: list[tuple[Notification, str]], timeline: list[TimelineEntry] = ()) -> list[Delivery]:
    """`deliveries_create` for many notifications of an incident at once, each with its purpose
    (notify or update), and the caller's own `timeline` lines written with theirs.

    A fixed number of statements whatever the number of organisations and people: the
    recipients in three queries (`Audience`), then one INSERT each for the deliveries and the
    timeline, and the clocks and escalation timers in an UPDATE or two.
    """
    now = timezone.now()
    audience = Audience({notification.organization_id for notification, _ in sends}, now)
    batch = [(notification, purpose, _due(audience.deliveries(notification, purpose), now))
             for notification, purpose in sends]
    return _record(batch, now, timeline=list(timeline))


def _record(batch: list[tuple[Notification, str, list[Delivery]]], now, *, timeline=None) -> list[Delivery]:
    """Write the batch's deliveries and feed timeline lines; start the clocks of the
    notifications whose every row is in-app and the escalation timer of new notifications."""
    created = Delivery.objects.bulk_create([row for _, _, rows in batch for row in rows])
    timeline, started, timers = timeline or [], [], {}
    for notification, purpose, rows in batch:
        feed = [row for row in rows if row.kind == Channel.Kind.IN_APP]
        if feed:
            with override("en"):  # the timeline is CPD's record, in English
                extra = f" ({Delivery.Purpose(purpose).label.lower()})" if purpose != Delivery.Purpose.NOTIFY else ""
            timeline.append(timeline_entry(notification=notification, kind="delivery.sent", at=now,
                                           text=f"In-app to {len(feed)} member(s) of {notification.organization}"
                                                f"{extra}"))
            if len(feed) == len(rows):
                started.append(notification)
        if (purpose == Delivery.Purpose.NOTIFY and notification.acknowledged_at is None
                and notification.next_escalation_at is None and notification.escalation_level == 0):
            notification.next_escalation_at = now + timedelta(minutes=notification.organization.ack_window_minutes)
            timers.setdefault(notification.next_escalation_at, []).append(notification.pk)
    TimelineEntry.objects.bulk_create([entry for entry in timeline if entry is not None])
    send_clocks_start_many(started, now)
    for due, ids in timers.items():
        Notification.objects.filter(pk__in=ids).update(next_escalation_at=due)
    return created


def fallback_delivery_create(*, delivery: Delivery) -> Delivery | None:
    """Queue the organisation's fallback channel for a delivery that died (not for a fallback,
    a drill, which exists to find dead channels, or a reminder, which is personal and about no
    notification). None when there is no other channel."""
    if delivery.notification_id is None or delivery.purpose in (
            Delivery.Purpose.FALLBACK, Delivery.Purpose.DRILL, Delivery.Purpose.REMINDER):
        return None
    channel = (Channel.objects.filter(organization_id=delivery.notification.organization_id, is_fallback=True,
                                      active=True).exclude(pk=delivery.channel_id).order_by("id").first())
    if channel is None:
        return None
    payload = {**delivery.payload, "fallback_for": str(delivery.code)}
    return Delivery.objects.create(notification_id=delivery.notification_id, channel=channel, recipient=channel.user,
                                   kind=channel.kind, target=channel.target, purpose=Delivery.Purpose.FALLBACK,
                                   payload=payload, next_attempt_at=timezone.now())


def outbox_signal() -> None:
    """Tell a listening relay that due rows exist (PostgreSQL NOTIFY, delivered at commit).
    Elsewhere a no-op: the relay's poll finds the rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


def due_deliveries(*, now, handover_timeout: timedelta):
    """Rows the relay may hand over: due, and never handed over or handed over so long ago that
    the message must be lost (Redis restarted empty, a worker died before claiming)."""
    return Delivery.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - handover_timeout))
