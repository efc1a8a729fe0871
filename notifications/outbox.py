"""The outbox: Delivery rows written in the incident's transaction, sent after commit.

CONTRACT (used by incident intake, escalation, drills and reminders):
- `deliveries_create(notification=..., purpose=...)` writes one queued Delivery per recipient
  and channel and returns them. Call it inside the transaction that wrote the notification.
  For a new incident (purpose notify) it also starts the escalation timer.
- `outbox_wake()` is registered with `transaction.on_commit` by the caller; it tells the relay
  (PostgreSQL NOTIFY) that due rows exist, or with eager Celery (the embedded default) sends
  them in-process.

Recipients (purpose notify/update): the organisation's active shared channels (email list,
phone tree, webhook), the personal channels of whoever is on call now (tier primary; if nobody's
window covers this moment, every primary row), and one in-app delivery per member. Escalation
pages tier by tier (escalation.py), a drill goes to every channel, a fallback to the
organisation's fallback channel when another delivery died.

`delivery_attempt` is what the Celery task runs: claim, send, record. The relay (relay.py)
decides when a row is handed over; this module decides what a send means for the row, the
notification, the incident's clocks and its timeline.

A follow-up reminder (purpose reminder) is a delivery with no notification, on one worker's own
channels: its send, failure or death is recorded on the row (and a death in the audit log and
the ops alert) and touches no notification, no clock, no timeline and no fallback channel.
"""

import logging
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Source
from audit.services import audit_log
from districts.models import Channel, OnCall, Organization, Role

from .exceptions import TransportError
from .models import Delivery, Incident, Notification, TimelineEntry

logger = logging.getLogger(__name__)

CHICAGO = ZoneInfo("America/Chicago")
NOTIFY_CHANNEL = "cvi_outbox"  # PostgreSQL LISTEN/NOTIFY channel the relay listens on
DUE_STATUSES = (Delivery.Status.QUEUED, Delivery.Status.FAILED)
DRILL_MAX_ATTEMPTS = 3

MESSAGE_BY_PURPOSE = {
    Delivery.Purpose.NOTIFY: "incident.notified",
    Delivery.Purpose.UPDATE: "incident.updated",
    Delivery.Purpose.ESCALATION: "notification.escalated",
    Delivery.Purpose.DRILL: "notification.drill",
    Delivery.Purpose.REMINDER: "followup.reminder",
}


# --- who gets it ----------------------------------------------------------------------------

def _on_call_now(entry: OnCall, local: datetime) -> bool:
    """Whether a roster row covers a Chicago-local moment. An overnight window (starts > ends)
    belongs to the weekday it starts on, so Friday 22:00–06:00 covers Saturday 02:00."""
    today, yesterday, t = local.weekday(), (local.weekday() - 1) % 7, local.time()
    if entry.starts is None and entry.ends is None:
        return entry.weekday in (None, today)
    starts, ends = entry.starts or datetime.min.time(), entry.ends
    if ends is None or starts < ends:
        return entry.weekday in (None, today) and starts <= t and (ends is None or t < ends)
    return (entry.weekday in (None, today) and t >= starts) or (entry.weekday in (None, yesterday) and t < ends)


def on_call_users(*, organization: Organization, tier: int, at: datetime | None = None) -> list:
    """Active users on the roster at `tier` at this moment; if no window covers it, every row of
    that tier (an incomplete roster must not silence the organisation)."""
    local = (at or timezone.now()).astimezone(CHICAGO)
    entries = list(OnCall.objects.filter(organization=organization, tier=tier, user__is_active=True)
                   .select_related("user"))
    chosen = [e for e in entries if _on_call_now(e, local)] or entries
    return list({e.user_id: e.user for e in chosen}.values())


def _tier_users(organization: Organization, level: int, at: datetime) -> list:
    if level == 1:
        return on_call_users(organization=organization, tier=OnCall.Tier.BACKUP, at=at)
    users = on_call_users(organization=organization, tier=OnCall.Tier.SUPERVISOR, at=at)
    if not users:
        users = list(get_user_model().objects.filter(
            membership__organization=organization, membership__role=Role.OUTREACH_SUPERVISOR, is_active=True))
    return users


def _duty_desk(notification: Notification, payload: dict) -> list[Delivery]:
    """The last escalation step: the CSCC duty desk address, or every analyst with an email."""
    if settings.DUTY_DESK_EMAIL:
        return [Delivery(notification=notification, kind=Channel.Kind.EMAIL, target=settings.DUTY_DESK_EMAIL,
                         purpose=Delivery.Purpose.ESCALATION, payload=payload)]
    analysts = get_user_model().objects.filter(membership__role=Role.ANALYST, is_active=True).exclude(email="")
    return [Delivery(notification=notification, kind=Channel.Kind.EMAIL, target=user.email, recipient=user,
                     purpose=Delivery.Purpose.ESCALATION, payload=payload) for user in analysts]


def _personal(notification: Notification, users: list, purpose: str, payload: dict, *, in_app: bool) -> list[Delivery]:
    channels = (Channel.objects.filter(organization_id=notification.organization_id, active=True, user__in=users)
                .exclude(kind=Channel.Kind.IN_APP).select_related("user"))
    rows = [Delivery(notification=notification, channel=c, recipient=c.user, kind=c.kind, target=c.target,
                     purpose=purpose, payload=payload) for c in channels]
    if in_app:
        rows += [Delivery(notification=notification, recipient=user, kind=Channel.Kind.IN_APP, target=user.username,
                          purpose=purpose, payload=payload) for user in users]
    return rows


def _recipients(notification: Notification, purpose: str, now: datetime) -> list[Delivery]:
    organization = notification.organization
    payload = {"message": MESSAGE_BY_PURPOSE.get(purpose, "incident.notified"),
               "notification": str(notification.code),
               "incident": str(notification.incident.code) if notification.incident_id else None}
    if purpose == Delivery.Purpose.ESCALATION:
        level = notification.escalation_level
        payload["level"] = level
        if level >= 3:
            return _duty_desk(notification, payload)
        return _personal(notification, _tier_users(organization, level, now), purpose, payload, in_app=True)
    if purpose == Delivery.Purpose.DRILL:
        channels = Channel.objects.filter(organization=organization, active=True).select_related("user")
        return [Delivery(notification=notification, channel=c, recipient=c.user, kind=c.kind, target=c.target,
                         purpose=purpose, payload=payload, max_attempts=DRILL_MAX_ATTEMPTS) for c in channels]
    shared = Channel.objects.filter(organization=organization, active=True, user__isnull=True).exclude(
        kind=Channel.Kind.IN_APP)
    rows = [Delivery(notification=notification, channel=c, kind=c.kind, target=c.target, purpose=purpose,
                     payload=payload) for c in shared]
    on_call = on_call_users(organization=organization, tier=OnCall.Tier.PRIMARY, at=now)
    rows += _personal(notification, on_call, purpose, payload, in_app=False)
    members = get_user_model().objects.filter(membership__organization=organization, is_active=True)
    rows += [Delivery(notification=notification, recipient=user, kind=Channel.Kind.IN_APP, target=user.username,
                      purpose=purpose, payload=payload) for user in members]
    return rows


def deliveries_create(*, notification: Notification, purpose: str) -> list[Delivery]:
    """Write the queued deliveries of one notification for one purpose and return them.

    The same address reached through two channels (a shared list that is also someone's own
    email) gets one delivery. Purpose notify also starts the escalation timer when none runs.
    """
    now = timezone.now()
    rows, seen = [], set()
    for row in _recipients(notification, purpose, now):
        key = (row.kind, row.target.strip().lower(), row.recipient_id if row.kind == Channel.Kind.IN_APP else None)
        if key in seen:
            continue
        seen.add(key)
        row.next_attempt_at = now
        if row.kind == Channel.Kind.IN_APP:
            # The feed row is the message: it is visible the moment this transaction commits.
            row.status, row.sent_at = Delivery.Status.SENT, now
        rows.append(row)
    created = Delivery.objects.bulk_create(rows)
    feed = [row for row in created if row.kind == Channel.Kind.IN_APP]
    if feed:
        timeline_add(notification=notification, delivery=None, kind="delivery.sent", at=now,
                     text=f"In-app to {len(feed)} member(s) of {notification.organization}"
                          + (f" ({Delivery.Purpose(purpose).label.lower()})" if purpose != Delivery.Purpose.NOTIFY
                             else ""))
        if len(feed) == len(created):
            # Nothing leaves the portal for this organisation: the feed is the first (and only) send.
            _clocks(notification, now)
    if (purpose == Delivery.Purpose.NOTIFY and notification.acknowledged_at is None
            and notification.next_escalation_at is None and notification.escalation_level == 0):
        notification.next_escalation_at = now + timedelta(minutes=notification.organization.ack_window_minutes)
        Notification.objects.filter(pk=notification.pk).update(next_escalation_at=notification.next_escalation_at)
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


def outbox_wake() -> None:
    """Tell the relay due rows exist. With eager Celery (the embedded default, unit tests) there
    is no relay to wake: the due rows are handed over, and so sent, in this process."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from .relay import relay_once

        relay_once()
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {NOTIFY_CHANNEL}")


# --- sending one delivery -------------------------------------------------------------------

def timeline_add(*, notification: Notification | None, delivery: Delivery | None, kind: str, text: str,
                 at: datetime) -> None:
    """Append to the incident's timeline; a drill has no incident and no timeline."""
    if notification is not None and notification.incident_id:
        TimelineEntry.objects.create(incident_id=notification.incident_id, notification=notification,
                                     delivery=delivery, at=at, kind=kind, text=text[:300])


def _label(delivery: Delivery) -> str:
    extra = f" ({delivery.get_purpose_display().lower()})" if delivery.purpose != Delivery.Purpose.NOTIFY else ""
    to = delivery.notification.organization if delivery.notification_id else "a member"
    return f"{delivery.get_kind_display()} to {to}{extra}"


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step = settings.OUTBOX_RETRY_BASE_MS / 1000 * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(step, 3600) * (0.5 + random.random() / 2))  # noqa: S311 (not crypto)


def delivery_attempt(*, delivery_id: int) -> str:
    """Claim one due delivery, send it, record the outcome. Returns "sent", "failed", "dead" or
    "skipped" (not due, or another run claimed it: a duplicate message does nothing)."""
    from .transports import TRANSPORTS

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
    successful attempt started. A delivery with no notification (a reminder) updates its row only."""
    now = timezone.now()
    notification = delivery.notification
    # Skipped when the notification (as loaded) already has these clocks: later sends write nothing.
    if notification and (notification.first_sent_at is None or (confirmed and notification.first_confirmed_at is None)):
        _clocks(notification, now, confirmed=confirmed)
    if delivery.purpose == Delivery.Purpose.DRILL and delivery.channel_id:
        Channel.objects.filter(pk=delivery.channel_id).update(last_drill_at=now, last_drill_ok=True)
    status = Delivery.Status.DELIVERED if confirmed else Delivery.Status.SENT
    text = f"{_label(delivery)} sent"
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


def _clocks(notification: Notification, at: datetime, *, confirmed: bool = False) -> None:
    """Start the notification's and the incident's "first sent" (and, when the send was
    confirmed, "first confirmed") clocks unless already started, and move a pending or sent
    notification's status forward. One UPDATE each; never moves a status backwards."""
    moment = Value(at, output_field=DateTimeField())
    forward = {Notification.Status.PENDING: Notification.Status.DELIVERED if confirmed else Notification.Status.SENT}
    if confirmed:
        forward[Notification.Status.SENT] = Notification.Status.DELIVERED
    whens = [When(status=old, then=Value(new)) for old, new in forward.items()]
    changes = {
        "first_sent_at": Coalesce(F("first_sent_at"), moment),
        "status": Case(*whens, default=F("status")),
        "status_at": Case(*[When(status=old, then=moment) for old in forward], default=F("status_at")),
    }
    incident_changes = {"first_sent_at": Coalesce(F("first_sent_at"), moment)}
    if confirmed:
        changes["first_confirmed_at"] = incident_changes["first_confirmed_at"] = Coalesce(F("first_confirmed_at"),
                                                                                          moment)
    Notification.objects.filter(pk=notification.pk).update(**changes)
    if notification.incident_id:
        Incident.objects.filter(pk=notification.incident_id).update(**incident_changes)


@transaction.atomic
def delivery_confirm(*, delivery: Delivery, at: datetime | None = None) -> None:
    """The provider reports the message reached the phone (an SMS status callback)."""
    at = at or timezone.now()
    updated = Delivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(
        status=Delivery.Status.DELIVERED, delivered_at=at)
    if updated and delivery.notification_id:
        _clocks(delivery.notification, at, confirmed=True)
        timeline_add(notification=delivery.notification, delivery=delivery, kind="delivery.delivered", at=at,
                     text=f"{_label(delivery)} delivered")


def delivery_failure_record(*, delivery: Delivery, error: TransportError) -> str:
    """Schedule a retry with backoff, or, after the last attempt or a permanent error, mark the
    delivery dead, queue the fallback channel and raise the ops alert. Returns "failed", "dead", or
    "skipped" when the row is no longer this run's (see `delivery_dead_record`)."""
    now = timezone.now()
    attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    if not error.permanent and attempts < delivery.max_attempts:
        with transaction.atomic():
            if not Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
                    status=Delivery.Status.FAILED, next_attempt_at=now + retry_delay(attempts),
                    last_error=error.message[:500], claimed_at=None):
                return "skipped"
            timeline_add(notification=delivery.notification, delivery=delivery, kind="delivery.failed", at=now,
                         text=f"{_label(delivery)} failed (attempt {attempts}), will retry")
        return "failed"
    return "dead" if delivery_dead_record(delivery=delivery, error=error.message, attempts=attempts) else "skipped"


def delivery_dead_record(*, delivery: Delivery, error: str, attempts: int) -> bool:
    """Mark a delivery that is still `sending` dead, queue its fallback and raise the ops alert.

    Conditional, like the sent path: a run that outlived the sending timeout finds its row
    already given back and sent by another worker, and must not turn that success into a
    failure (nor page a fallback for a delivered message). Returns False when nothing changed.
    """
    now = timezone.now()
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.DEAD, last_error=error[:500], claimed_at=None):
            return False
        if delivery.purpose == Delivery.Purpose.DRILL and delivery.channel_id:
            Channel.objects.filter(pk=delivery.channel_id).update(last_drill_at=now, last_drill_ok=False)
        fallback = fallback_delivery_create(delivery=delivery)
        timeline_add(notification=delivery.notification, delivery=delivery, kind="delivery.dead", at=now,
                     text=f"{_label(delivery)} gave up after {attempts} attempt(s)"
                          + (f"; trying {fallback.get_kind_display()} fallback" if fallback else ""))
        audit_log(actor=None, source=Source.SYSTEM, action="delivery.dead", obj=delivery, data={
            "kind": delivery.kind, "purpose": delivery.purpose, "attempts": attempts, "error": error[:200],
            "notification": str(delivery.notification.code) if delivery.notification_id else None,
            "fallback": str(fallback.code) if fallback else None})
        if fallback:
            transaction.on_commit(outbox_wake)
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


# --- the relay's view of the table -------------------------------------------------------------

def due_deliveries(*, now: datetime, handover_timeout: timedelta):
    """Rows the relay may hand over: due, and never handed over or handed over so long ago that
    the message must be lost (Redis restarted empty, a worker died before claiming)."""
    return Delivery.objects.filter(status__in=DUE_STATUSES, next_attempt_at__lte=now).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - handover_timeout))
