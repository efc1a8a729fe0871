"""The outbox: Delivery rows written in the incident's transaction, handed on after commit.

CONTRACT (used by incident intake, escalation, drills and reminders):
- `deliveries_create(notification=..., purpose=...)` writes one queued Delivery per recipient
  and channel of the notification's organisation and returns them. Call it inside the
  transaction that wrote the notification.
- `outbox_wake()` is registered with `transaction.on_commit` by the caller; it tells the relay
  (PostgreSQL NOTIFY) that due rows exist, or in the embedded default sends them in-process.

This first version is the minimal shape; the delivery work fills it in.
"""

from django.utils import timezone

from districts.models import Channel

from .models import Delivery, Notification


def deliveries_create(*, notification: Notification, purpose: str) -> list[Delivery]:
    now = timezone.now()
    channels = Channel.objects.filter(organization_id=notification.organization_id, active=True, user__isnull=True)
    deliveries = [
        Delivery(notification=notification, channel=channel, kind=channel.kind, target=channel.target,
                 purpose=purpose, next_attempt_at=now)
        for channel in channels
    ]
    deliveries.append(Delivery(notification=notification, kind=Channel.Kind.IN_APP, purpose=purpose,
                               next_attempt_at=now))
    return Delivery.objects.bulk_create(deliveries)


def outbox_wake() -> None:
    """Placeholder until the relay exists: nothing to wake."""
