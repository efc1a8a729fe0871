"""A round of outcomes chosen as a deadlock's victim is recorded, not left `sending` (which
would send it a second time after the sending timeout).

A real deadlock on PostgreSQL: another transaction holds the incident's row, the round locks its
delivery and waits for the incident, then the other transaction asks for the delivery. The
round's connection checks for the deadlock (once, `deadlock_timeout` after it began to wait)
after the other asked and before the other checks, so it is the victim.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications.delivery import Outcome
from notifications.models import Delivery, Incident, Notification
from notifications.sending import _record


@pytest.mark.django_db(transaction=True)
def test_a_round_picked_as_a_deadlocks_victim_is_recorded_on_its_next_try(englewood, covering_org, caplog):
    incident = Incident.objects.create(occurred_at=timezone.now() - timedelta(minutes=5), block="6300 S HALSTED ST",
                                       district=englewood, victim_count=1)
    notification = Notification.objects.create(incident=incident, organization=covering_org)
    delivery = Delivery.objects.create(notification=notification, kind="sms", target="+13125550101",
                                       status=Delivery.Status.SENDING, attempts=1)
    loaded = Delivery.objects.select_related("notification__organization", "notification__incident").get(
        pk=delivery.pk)
    holding, failures = threading.Event(), []
    with connection.cursor() as cursor:
        cursor.execute("SET deadlock_timeout = '2s'")  # checks once, after the other asks
        cursor.execute("SELECT pg_backend_pid()")
        round_pid = cursor.fetchone()[0]

    def round_waits() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [round_pid])
            return cursor.fetchone()[0] > 0

    def other_writer():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                cursor.execute("SELECT id FROM notifications_incident WHERE id = %s FOR UPDATE", [incident.pk])
                holding.set()
                deadline = time.monotonic() + 10
                while not round_waits() and time.monotonic() < deadline:  # it holds its delivery by then
                    time.sleep(0.01)
                cursor.execute("UPDATE notifications_delivery SET last_error = last_error WHERE id = %s",
                               [delivery.pk])
        except Exception as error:  # reported below: the round must be the victim, not this
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert holding.wait(10)
    try:
        results = _record([Outcome(delivery=loaded, provider_id="SM1")])
    finally:
        thread.join(20)
        with connection.cursor() as cursor:
            cursor.execute("RESET deadlock_timeout")

    assert failures == []
    assert results == {delivery.pk: "sent"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_id) == (Delivery.Status.SENT, "SM1")
    assert Notification.objects.get(pk=notification.pk).first_sent_at is not None
    assert "deadlock's victim" in caplog.text
