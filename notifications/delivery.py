"""Sending one delivery and recording its outcome: what the Celery task runs.

`delivery_attempt` claims a due row (queued/failed → sending, a conditional update that must
change exactly one row, so a duplicate message does nothing), calls its transport and records
the outcome: sent (or delivered, when the transport's answer confirms receipt), failed with a
retry time (exponential backoff with jitter, kept in the row), or dead after the last attempt,
which queues the organisation's fallback channel and raises the ops alert. Every outcome is
recorded only on a row still `sending`: a run that outlived the sending timeout finds its row
given back and perhaps sent by another worker, and must not undo that.

A follow-up reminder (no notification) records its outcome on the row only: no clock, no
timeline and no fallback channel.
"""

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import Source
from audit.services import audit_log
from districts.models import Channel

from .exceptions import TransportError
from .models import Delivery
from .outbox import DUE_STATUSES, fallback_delivery_create, outbox_signal
from .timeline import delivery_label, send_clocks_start, timeline_add
from .transports import TRANSPORTS

logger = logging.getLogger(__name__)

# Provider error codes that mean the number can never receive (Twilio: unreachable, unknown, landline).
PERMANENT_PROVIDER_CODES = {"30003", "30005", "30006"}


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step = settings.OUTBOX_RETRY_BASE_MS / 1000 * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(step, 3600) * (0.5 + random.random() / 2))  # noqa: S311 (not crypto)


def delivery_attempt(*, delivery_id: int) -> str:
    """Claim one due delivery, send it, record the outcome. Returns "sent", "failed", "dead" or
    "skipped" (not due, or another run claimed it: a duplicate message does nothing)."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status__in=DUE_STATUSES, next_attempt_at__lte=now).update(
        status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    delivery = Delivery.objects.select_related(
        "notification__organization", "notification__incident__district", "channel", "recipient__membership",
    ).get(pk=delivery_id)
    transport = TRANSPORTS[delivery.kind]()
    try:
        provider_id = transport.notify(delivery)
    except TransportError as exc:
        return delivery_failure_record(delivery=delivery, error=exc)
    except Exception as exc:  # a bug or an unexpected library error: retried like a temporary failure
        logger.exception("delivery %s: unexpected error in the %s transport", delivery.code, delivery.kind)
        return delivery_failure_record(delivery=delivery, error=TransportError(f"unexpected {type(exc).__name__}"))
    delivery_sent_record(delivery=delivery, provider_id=provider_id, confirmed=transport.confirms)
    return "sent"


# PostgreSQL: the delivery's outcome and its timeline line in one statement, so one round trip
# and atomic on its own; the line is written only if this run moved the row out of `sending`.
_SENT_SQL = """
WITH sent AS (
    UPDATE notifications_delivery
    SET status = %(status)s, sent_at = %(at)s, delivered_at = %(delivered_at)s, provider_id = %(provider_id)s,
        last_error = ''
    WHERE id = %(id)s AND status = 'sending'
    RETURNING id
)
INSERT INTO notifications_timelineentry (incident_id, notification_id, delivery_id, at, kind, text)
SELECT %(incident)s, %(notification)s, sent.id, %(at)s, 'delivery.sent', %(text)s FROM sent
WHERE %(has_incident)s
"""


def delivery_sent_record(*, delivery: Delivery, provider_id: str, confirmed: bool) -> None:
    """Mark a delivery sent (and delivered when the transport's answer confirms receipt), after
    starting the notification's and the incident's clocks if this is their first send (idempotent,
    so a crash in between leaves the clocks no later than the send). claimed_at stays: when the
    successful attempt started."""
    now = timezone.now()
    notification = delivery.notification
    # Skipped when the notification (as loaded) already has these clocks: later sends write nothing.
    if notification and (notification.first_sent_at is None or (confirmed and notification.first_confirmed_at is None)):
        send_clocks_start(notification, now, confirmed=confirmed)
    if delivery.purpose == Delivery.Purpose.DRILL and delivery.channel_id:
        Channel.objects.filter(pk=delivery.channel_id).update(last_drill_at=now, last_drill_ok=True)
    status = Delivery.Status.DELIVERED if confirmed else Delivery.Status.SENT
    text = f"{delivery_label(delivery)} sent"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_SENT_SQL, {
                "status": str(status), "at": now, "delivered_at": now if confirmed else None,
                "provider_id": provider_id[:128], "id": delivery.pk,
                "incident": notification.incident_id if notification else None,
                "notification": notification.pk if notification else None, "text": text[:300],
                "has_incident": bool(notification and notification.incident_id),
            })
        return
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
            status=status, sent_at=now, delivered_at=now if confirmed else None, provider_id=provider_id[:128],
            last_error="")
        if updated:
            timeline_add(notification=notification, delivery=delivery, kind="delivery.sent", at=now, text=text)


@transaction.atomic
def delivery_confirm(*, delivery: Delivery, at: datetime | None = None) -> None:
    """The provider reports the message reached the phone (an SMS status callback)."""
    at = at or timezone.now()
    updated = Delivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(
        status=Delivery.Status.DELIVERED, delivered_at=at)
    if updated and delivery.notification_id:
        send_clocks_start(delivery.notification, at, confirmed=True)
        timeline_add(notification=delivery.notification, delivery=delivery, kind="delivery.delivered", at=at,
                     text=f"{delivery_label(delivery)} delivered")


def delivery_undelivered_record(*, delivery: Delivery, status: str, error_code: str = "") -> str:
    """The provider reports a message it had accepted never reached the phone: the delivery goes
    back into the retry schedule (or dies, for a number that can never receive). Only a row that
    was sent or delivered changes; returns what `delivery_failure_record` returns, or "skipped"."""
    error = TransportError(f"provider reported {status} {error_code}".strip(),
                           permanent=error_code in PERMANENT_PROVIDER_CODES)
    attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    return _failure_apply(delivery=delivery, error=error, attempts=attempts,
                          from_statuses=(Delivery.Status.SENT, Delivery.Status.DELIVERED))


def delivery_failure_record(*, delivery: Delivery, error: TransportError) -> str:
    """Schedule a retry with backoff, or, after the last attempt or a permanent error, mark the
    delivery dead, queue the fallback channel and raise the ops alert. Returns "failed", "dead", or
    "skipped" when the row is no longer this run's (no longer `sending`)."""
    attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    return _failure_apply(delivery=delivery, error=error, attempts=attempts, from_statuses=(Delivery.Status.SENDING,))


def _failure_apply(*, delivery: Delivery, error: TransportError, attempts: int, from_statuses: tuple) -> str:
    if error.permanent or attempts >= delivery.max_attempts:
        dead = delivery_dead_record(delivery=delivery, error=error.message, attempts=attempts,
                                    from_statuses=from_statuses)
        return "dead" if dead else "skipped"
    now = timezone.now()
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery.pk, status__in=from_statuses).update(
                status=Delivery.Status.FAILED, next_attempt_at=now + retry_delay(attempts),
                last_error=error.message[:500], claimed_at=None):
            return "skipped"
        timeline_add(notification=delivery.notification, delivery=delivery, kind="delivery.failed", at=now,
                     text=f"{delivery_label(delivery)} failed (attempt {attempts}), will retry")
    return "failed"


def delivery_dead_record(*, delivery: Delivery, error: str, attempts: int,
                         from_statuses: tuple = (Delivery.Status.SENDING,)) -> bool:
    """Mark a delivery that is still `sending` dead, queue its fallback and raise the ops alert.
    Returns False when nothing changed (the row was no longer this run's)."""
    now = timezone.now()
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery.pk, status__in=from_statuses).update(
                status=Delivery.Status.DEAD, last_error=error[:500], claimed_at=None):
            return False
        if delivery.purpose == Delivery.Purpose.DRILL and delivery.channel_id:
            Channel.objects.filter(pk=delivery.channel_id).update(last_drill_at=now, last_drill_ok=False)
        fallback = fallback_delivery_create(delivery=delivery)
        timeline_add(notification=delivery.notification, delivery=delivery, kind="delivery.dead", at=now,
                     text=f"{delivery_label(delivery)} gave up after {attempts} attempt(s)"
                          + (f"; trying {fallback.get_kind_display()} fallback" if fallback else ""))
        audit_log(actor=None, source=Source.SYSTEM, action="delivery.dead", obj=delivery, data={
            "kind": delivery.kind, "purpose": delivery.purpose, "attempts": attempts, "error": error[:200],
            "notification": str(delivery.notification.code) if delivery.notification_id else None,
            "fallback": str(fallback.code) if fallback else None})
        if fallback:
            outbox_signal()
    _ops_alert(delivery, error, attempts, fallback)
    return True


def _ops_alert(delivery: Delivery, error: str, attempts: int, fallback: Delivery | None) -> None:
    """Tell the people running the portal. Codes and the error only: no message body."""
    summary = (f"Delivery {delivery.code} ({delivery.kind}, {delivery.purpose}) is dead after {attempts} "
               f"attempt(s): {error}. Fallback: {fallback.kind if fallback else 'none available'}.")
    logger.error("ops alert: %s", summary)
    try:
        mail_admins("Notification delivery failed", summary)
    except Exception:  # the alert must not break the delivery path; the log line above still stands
        logger.exception("could not mail the ops alert")
