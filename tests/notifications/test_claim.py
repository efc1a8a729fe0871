"""Claiming a batch for sending (notifications/claim.py): on PostgreSQL one prepared statement
that claims and loads, on SQLite the ORM. Either way the worker must get the rows it may send,
once, with the same related objects the ORM's `select_related` gives, and read nothing more
while it renders their messages."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from districts.models import Channel
from notifications.claim import deliveries_claim
from notifications.models import Delivery, Incident, Notification
from protocols.models import Playbook
from protocols.services_playbooks import load_playbooks

pytestmark = pytest.mark.sqlite  # also run on the embedded default (make test)

ORM_LOAD = ("notification__organization", "notification__incident__district", "channel", "recipient__membership")


def _incident(district) -> Incident:
    return Incident.objects.create(occurred_at=timezone.now() - timedelta(minutes=5), block="6300 S HALSTED ST",
                                   district=district, victim_count=2)


def _due(notification, **fields) -> Delivery:
    return Delivery.objects.create(notification=notification, kind=fields.pop("kind", "sms"),
                                   target=fields.pop("target", "+13125550101"), next_attempt_at=timezone.now(),
                                   payload={"message": "notify", "codes": ["A1"]}, **fields)


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields
            if f.attname not in instance.get_deferred_fields()}


def test_a_claimed_row_comes_with_what_its_message_needs_as_the_orm_loads_it(englewood, covering_org, worker):
    load_playbooks()
    incident = _incident(englewood)
    playbooks = list(Playbook.objects.order_by("pk")[:2])
    incident.scenarios.set(playbooks)
    notification = Notification.objects.create(incident=incident, organization=covering_org)
    channel = Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS,
                                     target="+13125550101")
    delivery = _due(notification, channel=channel, recipient=worker)
    expected = Delivery.objects.select_related(*ORM_LOAD).defer(
        "notification__incident__district__boundary").get(pk=delivery.pk)

    shared = _due(notification, kind="webhook", target="https://hooks.example.org/cvi")

    claimed, also = deliveries_claim(delivery_ids=[delivery.pk, shared.pk])

    with CaptureQueriesContext(connection) as reads:
        loaded = {
            "delivery": _fields(claimed), "notification": _fields(claimed.notification),
            "organization": _fields(claimed.notification.organization),
            "incident": _fields(claimed.notification.incident),
            "district": _fields(claimed.notification.incident.district),
            "channel": _fields(claimed.channel), "recipient": _fields(claimed.recipient),
            "membership": _fields(claimed.recipient.membership),
            "playbooks": [p.code for p in claimed.notification.incident.scenarios.all()],
            "membership's user": claimed.recipient.membership.user is claimed.recipient,
            "the other row's playbooks": [p.code for p in also.notification.incident.scenarios.all()],
        }
    assert len(reads) == 0, [q["sql"] for q in reads]
    expected_delivery = _fields(expected) | {"status": "sending", "attempts": 1,
                                             "claimed_at": loaded["delivery"]["claimed_at"]}
    assert loaded == {
        "delivery": expected_delivery, "notification": _fields(expected.notification),
        "organization": _fields(expected.notification.organization),
        "incident": _fields(expected.notification.incident),
        "district": _fields(expected.notification.incident.district),
        "channel": _fields(expected.channel), "recipient": _fields(expected.recipient),
        "membership": _fields(expected.recipient.membership),
        "playbooks": [p.code for p in playbooks], "membership's user": True,
        "the other row's playbooks": [p.code for p in playbooks],
    }
    assert loaded["delivery"]["payload"] == {"message": "notify", "codes": ["A1"]}  # JSON, not its text
    assert "boundary" in claimed.notification.incident.district.get_deferred_fields()
    assert Delivery.objects.get(pk=delivery.pk).claimed_at == loaded["delivery"]["claimed_at"]


def test_missing_relations_are_known_missing_without_a_query(englewood, covering_org, reference_data):
    from django.contrib.auth import get_user_model

    no_membership = get_user_model().objects.create_user(username="no_membership")
    shared = _due(Notification.objects.create(incident=_incident(englewood), organization=covering_org),
                  kind="webhook", target="https://hooks.example.org/cvi")
    personal = _due(Notification.objects.create(incident=_incident(englewood), organization=covering_org),
                    recipient=no_membership)
    reminder = _due(None, purpose=Delivery.Purpose.REMINDER)

    claimed = {d.pk: d for d in deliveries_claim(delivery_ids=[shared.pk, personal.pk, reminder.pk])}

    with CaptureQueriesContext(connection) as reads:
        assert claimed[shared.pk].channel is None and claimed[shared.pk].recipient is None
        assert list(claimed[shared.pk].notification.incident.scenarios.all()) == []
        assert claimed[reminder.pk].notification is None
        with pytest.raises(get_user_model().membership.RelatedObjectDoesNotExist):
            claimed[personal.pk].recipient.membership  # noqa: B018
    assert len(reads) == 0, [q["sql"] for q in reads]
    assert sorted(claimed) == sorted([shared.pk, personal.pk, reminder.pk])


def test_only_due_rows_are_claimed_and_only_once(englewood, covering_org):
    notification = Notification.objects.create(incident=_incident(englewood), organization=covering_org)
    due = _due(notification)
    later = _due(notification, target="+13125550102")
    Delivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    failed = _due(notification, target="+13125550103", status=Delivery.Status.FAILED, attempts=2)
    sent = _due(notification, target="+13125550104", status=Delivery.Status.SENT, attempts=1)
    ids = [due.pk, later.pk, failed.pk, sent.pk]

    first = deliveries_claim(delivery_ids=ids)
    again = deliveries_claim(delivery_ids=ids)

    assert [d.pk for d in first] == sorted([due.pk, failed.pk])
    assert again == []
    rows = {d.pk: d for d in Delivery.objects.filter(pk__in=ids)}
    assert {pk: (rows[pk].status, rows[pk].attempts) for pk in ids} == {
        due.pk: ("sending", 1), later.pk: ("queued", 0), failed.pk: ("sending", 3), sent.pk: ("sent", 1)}
    assert deliveries_claim(delivery_ids=[]) == []


@pytest.mark.django_db(transaction=True)
def test_the_claim_works_after_a_rollback_and_on_a_new_connection(englewood, covering_org):
    notification = Notification.objects.create(incident=_incident(englewood), organization=covering_org)
    first, second, third = (_due(notification, target=f"+1312555010{n}") for n in range(3))

    with pytest.raises(RuntimeError), transaction.atomic():
        assert [d.pk for d in deliveries_claim(delivery_ids=[first.pk])] == [first.pk]
        raise RuntimeError("rolled back")
    assert Delivery.objects.get(pk=first.pk).status == "queued"  # the claim went with the rollback
    assert [d.pk for d in deliveries_claim(delivery_ids=[first.pk])] == [first.pk]
    connection.close()  # as close_old_connections does between tasks
    assert [d.pk for d in deliveries_claim(delivery_ids=[second.pk, third.pk])] == [second.pk, third.pk]
