"""What recording a round of sends writes (delivery.deliveries_sent_record): on PostgreSQL one
statement for the rows, their timeline lines, the clocks they start and their months' stamps;
on SQLite the same through the ORM. Both must come to the same rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.delivery import Outcome, deliveries_sent_record
from notifications.models import Delivery, FiguresStamp, Incident, Notification, TimelineEntry

pytestmark = pytest.mark.sqlite  # also run on the embedded default (make test)


def _incident(district, *, minutes_ago: int = 30) -> Incident:
    return Incident.objects.create(occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
                                   block="6300 S HALSTED ST", district=district, victim_count=1)


def _sending(notification: Notification, target: str) -> Delivery:
    return Delivery.objects.create(notification=notification, kind="sms", target=target,
                                   status=Delivery.Status.SENDING, attempts=1)


def _loaded(delivery: Delivery) -> Delivery:
    """As the worker loads a claimed row: with its notification, organisation and incident."""
    return Delivery.objects.select_related("notification__organization", "notification__incident").get(
        pk=delivery.pk)


def test_a_round_starts_each_clock_once_moves_statuses_forward_and_writes_only_its_own_rows(englewood,
                                                                                           covering_org):
    earlier = timezone.now() - timedelta(minutes=10)
    first = Notification.objects.create(incident=_incident(englewood), organization=covering_org)
    unconfirmed, confirmed = _sending(first, "+13125550101"), _sending(first, "+13125550102")
    already_sent_incident = _incident(englewood, minutes_ago=40)
    Incident.objects.filter(pk=already_sent_incident.pk).update(first_sent_at=earlier)
    already_sent = Notification.objects.create(incident=already_sent_incident, organization=covering_org,
                                               status=Notification.Status.SENT, status_at=earlier,
                                               first_sent_at=earlier)
    confirming = _sending(already_sent, "+13125550103")
    sent_by_another_worker = _sending(already_sent, "+13125550104")
    Delivery.objects.filter(pk=sent_by_another_worker.pk).update(status=Delivery.Status.SENT)
    acknowledged = Notification.objects.create(incident=_incident(englewood, minutes_ago=50),
                                               organization=covering_org, status=Notification.Status.ACKNOWLEDGED,
                                               status_at=earlier, first_sent_at=earlier, acknowledged_at=earlier)
    late_confirmation = _sending(acknowledged, "+13125550105")
    stamps_before = dict(FiguresStamp.objects.values_list("district_id", "token"))

    recorded = deliveries_sent_record([
        Outcome(delivery=_loaded(unconfirmed), provider_id="SM1"),
        Outcome(delivery=_loaded(confirmed), provider_id="SM2", confirmed=True),
        Outcome(delivery=_loaded(confirming), provider_id="SM3", confirmed=True),
        Outcome(delivery=_loaded(sent_by_another_worker), provider_id="SM4"),
        Outcome(delivery=_loaded(late_confirmation), provider_id="SM5", confirmed=True),
    ])

    assert recorded == {unconfirmed.pk, confirmed.pk, confirming.pk, late_confirmation.pk}
    rows = {d.pk: d for d in Delivery.objects.all()}
    assert (rows[unconfirmed.pk].status, rows[unconfirmed.pk].delivered_at) == (Delivery.Status.SENT, None)
    assert rows[confirmed.pk].status == Delivery.Status.DELIVERED and rows[confirmed.pk].delivered_at
    assert rows[confirmed.pk].provider_id == "SM2" and rows[confirmed.pk].sent_at
    assert rows[sent_by_another_worker.pk].provider_id == ""  # not this run's row: untouched

    first.refresh_from_db()
    assert first.status == Notification.Status.DELIVERED  # pending → delivered: one of its sends confirmed
    assert first.first_sent_at == first.first_confirmed_at == first.status_at
    incident = Incident.objects.get(pk=first.incident_id)
    assert incident.first_sent_at == incident.first_confirmed_at == first.first_sent_at

    already_sent.refresh_from_db()
    assert already_sent.first_sent_at == earlier  # a clock starts once
    assert already_sent.status == Notification.Status.DELIVERED and already_sent.first_confirmed_at > earlier
    assert Incident.objects.get(pk=already_sent_incident.pk).first_sent_at == earlier

    acknowledged.refresh_from_db()
    assert acknowledged.status == Notification.Status.ACKNOWLEDGED  # never moved backwards
    assert acknowledged.status_at == earlier and acknowledged.first_confirmed_at > earlier

    lines = TimelineEntry.objects.filter(kind="delivery.sent")
    assert set(lines.values_list("delivery_id", flat=True)) == recorded
    assert all(line.text.startswith("SMS to ") and line.text.endswith(" sent") for line in lines)
    assert FiguresStamp.objects.get(district=englewood).token != stamps_before.get(englewood.pk)


def test_a_later_send_of_a_notification_whose_clocks_started_writes_no_clock_or_stamp(englewood, covering_org):
    earlier = timezone.now() - timedelta(minutes=10)
    incident = _incident(englewood)
    Incident.objects.filter(pk=incident.pk).update(first_sent_at=earlier)
    notification = Notification.objects.create(incident=incident, organization=covering_org,
                                               status=Notification.Status.SENT, status_at=earlier,
                                               first_sent_at=earlier)
    delivery = _sending(notification, "+13125550101")
    FiguresStamp.objects.filter(district=englewood).delete()

    assert deliveries_sent_record([Outcome(delivery=_loaded(delivery), provider_id="SM1")]) == {delivery.pk}

    notification.refresh_from_db()
    assert (notification.status, notification.status_at, notification.first_sent_at) == (
        Notification.Status.SENT, earlier, earlier)
    assert not FiguresStamp.objects.filter(district=englewood).exists()
    assert TimelineEntry.objects.filter(delivery=delivery, kind="delivery.sent").count() == 1


def test_a_send_another_worker_already_recorded_starts_no_clock_line_or_stamp(englewood, covering_org):
    """The row was given back and sent by another worker (this run outlived the sending
    timeout): that worker's record started the clocks; this run writes nothing."""
    notification = Notification.objects.create(incident=_incident(englewood), organization=covering_org)
    delivery = _sending(notification, "+13125550101")
    loaded = _loaded(delivery)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT)
    FiguresStamp.objects.filter(district=englewood).delete()

    assert deliveries_sent_record([Outcome(delivery=loaded, provider_id="SM1", confirmed=True)]) == set()

    notification.refresh_from_db()
    assert (notification.status, notification.first_sent_at, notification.first_confirmed_at) == (
        Notification.Status.PENDING, None, None)
    assert Incident.objects.get(pk=notification.incident_id).first_sent_at is None
    assert not FiguresStamp.objects.filter(district=englewood).exists()
    assert not TimelineEntry.objects.filter(delivery=delivery).exists()
