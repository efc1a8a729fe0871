"""The worker's two prepared statements (claim.py, delivery.py), on the generic plan PostgreSQL
keeps for them, never go through the due index, however many other rows are due or in flight:
in a burst thousands are, and a plan through that index read them all for every batch. (On a
table this small the record's plan may read the table through; on a real one it takes the
primary key, as the claim does here.)"""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.claim import _statement_sql
from notifications.delivery import _SENT_SQL
from notifications.models import Delivery, Incident, Notification


def _generic_plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE plan_probe AS {sql}")
        try:
            cursor.execute(f"EXPLAIN EXECUTE plan_probe ({', '.join(['%s'] * len(params))})", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE plan_probe")


@pytest.fixture
def busy_outbox(englewood, covering_org):
    """An outbox in a burst: thousands of rows sent (or dead, cancelled, waiting for a retry)
    when the statistics were last taken, and since then four hundred rows due and four hundred
    in flight that they do not know of yet."""
    incident = Incident.objects.create(occurred_at=timezone.now() - timedelta(minutes=5), block="6300 S HALSTED ST",
                                       district=englewood, victim_count=1)
    notification = Notification.objects.create(incident=incident, organization=covering_org)
    now = timezone.now()
    done = [Delivery.Status.SENT, Delivery.Status.DELIVERED, Delivery.Status.DEAD, Delivery.Status.CANCELLED]
    Delivery.objects.bulk_create(
        [Delivery(notification=notification, kind="sms", target=f"+1312556{n:04d}", status=done[n % 4],
                  next_attempt_at=now - timedelta(hours=1)) for n in range(6000)]
        + [Delivery(notification=notification, kind="sms", target=f"+1312557{n:04d}", status=Delivery.Status.FAILED,
                    next_attempt_at=now + timedelta(minutes=5)) for n in range(200)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_delivery")
    rows = Delivery.objects.bulk_create(
        [Delivery(notification=notification, kind="sms", target=f"+1312555{n:04d}", next_attempt_at=now,
                  status=Delivery.Status.QUEUED if n % 2 else Delivery.Status.SENDING) for n in range(800)])
    return notification, rows


def test_the_claim_reads_its_batch_by_primary_key(busy_outbox):
    """A guard, not a reproduction: on this data the planner took the primary key for the claim
    before `(status || '')` too (the plan through the due index was seen on a table never
    analysed and full of dead index entries, which this does not rebuild)."""
    _, rows = busy_outbox
    plan = _generic_plan(_statement_sql(), [[rows[1].pk], ["queued", "failed"], timezone.now()])
    assert "notifications_delivery_pkey" in plan, plan
    assert "delivery_due" not in plan, plan


def test_the_record_of_a_round_does_not_read_the_rows_in_flight_through_the_due_index(busy_outbox):
    notification, rows = busy_outbox
    now = timezone.now()
    plan = _generic_plan(_SENT_SQL, [now, uuid.uuid4().hex, [rows[0].pk], ["sent"], [None], [""],
                                     [notification.incident_id], [notification.pk], ["SMS sent"], [False],
                                     [], [], []])
    assert "delivery_due" not in plan, plan
