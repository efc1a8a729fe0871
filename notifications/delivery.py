"""Recording what became of a send: the outcomes the sending engine (sending.py) reports.

Every outcome is recorded only on a row still `sending`: a run that outlived the sending
timeout finds its row given back and perhaps sent by another worker, and must not undo that.
A batch's outcomes are recorded together (`outcomes_record`): on PostgreSQL the sent rows, their
timeline lines, the clocks they start and their months' stamps in one statement, the rows to
retry and their lines in another, whatever the batch's size. Sent (or delivered, when the
transport's answer confirms receipt); failed with a retry time (exponential backoff with
jitter, kept in the row); or dead after the last attempt, which queues the organisation's
fallback channel and raises the ops alert. `deliveries_defer` puts rows back untried (a busy
lane, an open circuit: lanes.py).

A follow-up reminder (no notification) records its outcome on the row only: no clock, no
timeline and no fallback channel.
"""

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from audit.models import Source
from audit.services import audit_log
from core.prepared import prepared_run
from districts.models import Channel

from .exceptions import TransportError
from .models import Delivery, Notification
from .outbox import fallback_delivery_create, outbox_signal
from .stamps import month_start
from .timeline import delivery_label, incident_months, send_clocks_start, send_clocks_start_many, timeline_add

logger = logging.getLogger(__name__)

# Provider error codes that mean the number can never receive (Twilio: unreachable, unknown, landline).
PERMANENT_PROVIDER_CODES = {"30003", "30005", "30006"}


@dataclass
class Outcome:
    """What one send came to: sent (no error) with the provider's id, a TransportError, or put
    back untried (`put_back_at`: its receiver was busy)."""

    delivery: Delivery
    provider_id: str = ""
    confirmed: bool = False
    error: TransportError | None = None
    lane: str = ""
    put_back_at: datetime | None = None


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step = settings.OUTBOX_RETRY_BASE_MS / 1000 * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(step, 3600) * (0.5 + random.random() / 2))  # noqa: S311 (not crypto)


def outcomes_one_statement(outcomes: list[Outcome]) -> bool:
    """True when `outcomes_record` writes these in one statement, atomic on its own (PostgreSQL,
    every outcome a send that went, none a drill's): a caller needs no transaction around it,
    whose BEGIN and COMMIT would be two of a batch's four round trips."""
    return connection.vendor == "postgresql" and all(
        o.error is None and o.delivery.purpose != Delivery.Purpose.DRILL for o in outcomes)


def outcomes_record(outcomes: list[Outcome]) -> dict[int, str]:
    """Record a round of sends. Returns each delivery's result: "sent", "failed", "dead", or
    "skipped" (the row was no longer this run's)."""
    results: dict[int, str] = {}
    sent = [o for o in outcomes if o.error is None]
    if sent:
        recorded = deliveries_sent_record(sent)
        results.update({o.delivery.pk: "sent" if o.delivery.pk in recorded else "skipped" for o in sent})
    retry, dead = [], []
    for o in outcomes:
        if o.error is not None:
            (dead if o.error.permanent or o.delivery.attempts >= o.delivery.max_attempts else retry).append(o)
    if retry:
        recorded = _retries_record(retry)
        results.update({o.delivery.pk: "failed" if o.delivery.pk in recorded else "skipped" for o in retry})
    for o in dead:
        recorded = delivery_dead_record(delivery=o.delivery, error=o.error.message, attempts=o.delivery.attempts)
        results[o.delivery.pk] = "dead" if recorded else "skipped"
    return results


# PostgreSQL: a round of sends recorded in one prepared statement (one round trip, atomic on its
# own, planned once a connection; each column of the round is one array parameter):
# the rows this run moves out of `sending`, their timeline lines, the clocks of their
# notifications and incidents that start with this send (each only once; a status only moves
# forward: pending → sent → delivered), and the stamps of the incidents' months. A clock, a line
# or a stamp is written only for a row this run recorded. `(d.status || '')` keeps the due index
# out of the plan: through it the generic plan read every row in flight (400 in flight: 1.8 ms
# against 0.9 ms), where the round's own rows are found by primary key (claim.py's reason too).
_SENT_SQL = """
WITH k(now, token) AS (VALUES ($1::timestamptz, $2::varchar)),
v AS (
    SELECT * FROM unnest($3::bigint[], $4::varchar[], $5::timestamptz[], $6::varchar[], $7::bigint[],
                         $8::bigint[], $9::varchar[], $10::boolean[])
        AS v(id, status, delivered_at, provider_id, incident, notification, text, confirmed)
),
sent AS (
    UPDATE notifications_delivery d
    SET status = v.status, sent_at = k.now, delivered_at = v.delivered_at, provider_id = v.provider_id,
        last_error = ''
    FROM v, k WHERE d.id = v.id AND (d.status || '') = 'sending'
    RETURNING d.id
),
line AS (
    INSERT INTO notifications_timelineentry (incident_id, notification_id, delivery_id, at, kind, text)
    SELECT v.incident, v.notification, v.id, k.now, 'delivery.sent', v.text FROM v JOIN sent ON sent.id = v.id, k
    WHERE v.incident IS NOT NULL
),
started AS (
    SELECT v.notification, v.incident, bool_or(v.confirmed) AS confirmed FROM v JOIN sent ON sent.id = v.id
    WHERE v.notification IS NOT NULL GROUP BY v.notification, v.incident
),
notification_clocks AS (
    UPDATE notifications_notification n
    SET first_sent_at = COALESCE(n.first_sent_at, k.now),
        first_confirmed_at = CASE WHEN s.confirmed THEN COALESCE(n.first_confirmed_at, k.now)
                                  ELSE n.first_confirmed_at END,
        status = CASE WHEN n.status = 'pending' AND s.confirmed THEN 'delivered'
                      WHEN n.status = 'pending' THEN 'sent'
                      WHEN n.status = 'sent' AND s.confirmed THEN 'delivered'
                      ELSE n.status END,
        status_at = CASE WHEN n.status = 'pending' OR (n.status = 'sent' AND s.confirmed) THEN k.now
                         ELSE n.status_at END
    FROM started s, k
    WHERE n.id = s.notification AND (n.first_sent_at IS NULL OR n.status = 'pending'
                                     OR (s.confirmed AND (n.first_confirmed_at IS NULL OR n.status = 'sent')))
),
incident_clocks AS (
    UPDATE notifications_incident i
    SET first_sent_at = COALESCE(i.first_sent_at, k.now),
        first_confirmed_at = CASE WHEN s.confirmed THEN COALESCE(i.first_confirmed_at, k.now)
                                  ELSE i.first_confirmed_at END
    FROM (SELECT incident, bool_or(confirmed) AS confirmed FROM started WHERE incident IS NOT NULL
          GROUP BY incident) s, k
    WHERE i.id = s.incident AND (i.first_sent_at IS NULL OR (s.confirmed AND i.first_confirmed_at IS NULL))
),
-- The months (Chicago time, computed in Python: stamps.month_start) of the incidents whose
-- clocks may start, stamped for those this run recorded a send of, in one order (no deadlock
-- between two workers stamping the same months).
stamp AS (
    INSERT INTO notifications_figuresstamp (month, district_id, token, changed_at)
    SELECT DISTINCT m.month, m.district, k.token, k.now
    FROM unnest($11::date[], $12::bigint[], $13::bigint[]) m(month, district, incident)
    JOIN started s ON s.incident = m.incident, k
    ORDER BY m.month, m.district
    ON CONFLICT (month, district_id) DO UPDATE SET token = EXCLUDED.token, changed_at = EXCLUDED.changed_at
)
SELECT id FROM sent
"""

_RETRY_SQL = """
WITH v(id, next_at, error, incident, notification, text) AS (VALUES {rows}),
failed AS (
    UPDATE notifications_delivery d
    SET status = 'failed', next_attempt_at = v.next_at, last_error = v.error, claimed_at = NULL
    FROM v WHERE d.id = v.id AND d.status = 'sending'
    RETURNING d.id
),
line AS (
    INSERT INTO notifications_timelineentry (incident_id, notification_id, delivery_id, at, kind, text)
    SELECT v.incident, v.notification, v.id, %s, 'delivery.failed', v.text FROM v JOIN failed ON failed.id = v.id
    WHERE v.incident IS NOT NULL
)
SELECT id FROM failed
"""
_RETRY_ROW = "(%s::bigint, %s::timestamptz, %s::varchar, %s::bigint, %s::bigint, %s::varchar)"


def _values_run(sql: str, row: str, rows: list[tuple], tail: list) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(rows=", ".join([row] * len(rows))), [v for r in rows for v in r] + tail)
        return {found[0] for found in cursor.fetchall()}


def _incident_of(delivery: Delivery) -> tuple[int | None, int | None]:
    notification = delivery.notification
    return (notification.incident_id if notification else None), (notification.pk if notification else None)


def _clocks_starting(outcomes: list[Outcome]) -> dict[bool, list[Notification]]:
    """The notifications (as loaded) whose clocks these sends may start, unconfirmed and
    confirmed: later sends of a notification write no clock."""
    starting: dict[bool, dict[int, Notification]] = {False: {}, True: {}}
    for o in outcomes:
        notification = o.delivery.notification
        if notification and (notification.first_sent_at is None
                             or (o.confirmed and notification.first_confirmed_at is None)):
            starting[o.confirmed][notification.pk] = notification
    return {confirmed: list(notifications.values()) for confirmed, notifications in starting.items()}


def deliveries_sent_record(outcomes: list[Outcome]) -> set[int]:
    """Mark deliveries sent (delivered when the transport's answer confirms receipt) and start
    the clocks of their notifications and incidents where this is their first send, together
    (on PostgreSQL one statement, on SQLite one transaction), for the rows this run recorded
    only. claimed_at stays: when the successful attempt started. Returns the ids this run
    recorded."""
    now = timezone.now()
    drills = [o.delivery.channel_id for o in outcomes
              if o.delivery.purpose == Delivery.Purpose.DRILL and o.delivery.channel_id]
    if drills:
        Channel.objects.filter(pk__in=drills).update(last_drill_at=now, last_drill_ok=True)
    if connection.vendor == "postgresql":
        return _sent_statement_run(outcomes, now)
    recorded = set()
    with transaction.atomic():
        for o in outcomes:
            if Delivery.objects.filter(pk=o.delivery.pk, status=Delivery.Status.SENDING).update(
                    status=Delivery.Status.DELIVERED if o.confirmed else Delivery.Status.SENT, sent_at=now,
                    delivered_at=now if o.confirmed else None, provider_id=o.provider_id[:128], last_error=""):
                recorded.add(o.delivery.pk)
                timeline_add(notification=o.delivery.notification, delivery=o.delivery, kind="delivery.sent",
                             at=now, text=f"{delivery_label(o.delivery)} sent")
        for confirmed, notifications in _clocks_starting([o for o in outcomes if o.delivery.pk in recorded]).items():
            send_clocks_start_many(notifications, now, confirmed=confirmed)
    return recorded


def _sent_statement_run(outcomes: list[Outcome], now: datetime) -> set[int]:
    rows = [(o.delivery.pk, str(Delivery.Status.DELIVERED if o.confirmed else Delivery.Status.SENT),
             now if o.confirmed else None, o.provider_id[:128], *_incident_of(o.delivery),
             f"{delivery_label(o.delivery)} sent"[:300], o.confirmed) for o in outcomes]
    starting = _clocks_starting(outcomes)
    stamps = [(month_start(at), district, incident)
              for incident, (at, district) in incident_months(starting[False] + starting[True]).items()]
    found = prepared_run("cvi_deliveries_sent", lambda: _SENT_SQL,
                         [now, uuid.uuid4().hex, *_columns(rows, 8), *_columns(stamps, 3)])
    return {row[0] for row in found}


def _columns(rows: list[tuple], width: int) -> list[list]:
    """Rows as one list a column (the prepared statement's array parameters)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def delivery_sent_record(*, delivery: Delivery, provider_id: str, confirmed: bool) -> None:
    """One delivery sent: `deliveries_sent_record` for one."""
    deliveries_sent_record([Outcome(delivery=delivery, provider_id=provider_id, confirmed=confirmed)])


def _retries_record(outcomes: list[Outcome]) -> set[int]:
    """Schedule retries (failed, due again after the backoff) for a round's temporary failures."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        rows = [(o.delivery.pk, now + retry_delay(o.delivery.attempts), o.error.message[:500],
                 *_incident_of(o.delivery),
                 f"{delivery_label(o.delivery)} failed (attempt {o.delivery.attempts}), will retry"[:300])
                for o in outcomes]
        return _values_run(_RETRY_SQL, _RETRY_ROW, rows, [now])
    return {o.delivery.pk for o in outcomes
            if _failure_apply(delivery=o.delivery, error=o.error, attempts=o.delivery.attempts,
                              from_statuses=(Delivery.Status.SENDING,)) == "failed"}


def deliveries_defer(rows: list[tuple[Delivery, datetime, str | None]]) -> None:
    """Put claimed rows back untried, due at the given time: the attempt is given back (the
    receiver was never called) and `last_error` says why when a reason is given (an open
    circuit), else stays. One UPDATE per distinct (time, reason)."""
    groups: dict[tuple[datetime, str | None], list[int]] = {}
    for delivery, at, reason in rows:
        groups.setdefault((at, reason), []).append(delivery.pk)
    untried = Case(When(attempts__lte=1, then=Value(Delivery.Status.QUEUED)), default=Value(Delivery.Status.FAILED))
    for (at, reason), ids in groups.items():
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENDING).update(
            status=untried,
            attempts=F("attempts") - 1, claimed_at=None, next_attempt_at=at,
            last_error=Value(reason[:500]) if reason else F("last_error"))


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
