"""The delivery path end to end: the real outbox relay and a real Celery worker (subprocesses on
an own redis-server) against the test database."""

from datetime import timedelta

import pytest

from districts.models import Channel, OnCall, Role
from notifications.escalation import escalation_sweep
from notifications.models import Delivery, Notification
from notifications.state import notification_acknowledge
from tests.conftest import COVERING_ORG, make_member
from tests.workers import Stack, WebhookReceiver, all_sent, incident_notify, outbox_relay, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    stack = Stack().start()
    yield stack
    stack.stop()


@pytest.fixture
def receiver(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # this process only NOTIFYs; the relay hands over
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def organization(covering_org, worker, supervisor, receiver):
    backup = make_member("ray_backup", Role.OUTREACH_WORKER, organization=COVERING_ORG)
    hook = Channel(organization=covering_org, kind=Channel.Kind.WEBHOOK, target=receiver.url)
    hook.full_clean()
    hook.save()
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="dispatch@pe.example.org")
    for user, tier, phone in [(worker, OnCall.Tier.PRIMARY, "+13125550101"),
                              (backup, OnCall.Tier.BACKUP, "+13125550102"),
                              (supervisor, OnCall.Tier.SUPERVISOR, "+13125550103")]:
        OnCall.objects.create(organization=covering_org, user=user, tier=tier)
        Channel.objects.create(organization=covering_org, user=user, kind=Channel.Kind.SMS, target=phone)
    return covering_org


def test_every_recipient_gets_each_incident_once_through_the_relay_and_worker(stack, englewood, organization,
                                                                              receiver):
    notifications = [incident_notify(district=englewood, organization=organization) for _ in range(5)]
    wait_until(lambda: all_sent(notifications), timeout=30, what="every delivery sent\n" + stack.logs())

    deliveries = Delivery.objects.filter(notification__in=notifications)
    # webhook, shared email, the on-call worker's SMS, and a feed row for each of the three members
    assert deliveries.count() == 5 * 6
    assert sorted(receiver.accepted_ids()) == sorted(str(d.code) for d in deliveries.filter(kind="webhook"))
    for notification in notifications:
        notification.refresh_from_db()
        assert notification.first_sent_at is not None and notification.first_confirmed_at is not None
    assert "[sms to +13125550101]" in stack.worker.output()


def test_an_acknowledgement_stops_escalation_while_the_unacknowledged_one_escalates(
        stack, englewood, organization, worker, receiver):
    acknowledged = incident_notify(district=englewood, organization=organization)
    ignored = incident_notify(district=englewood, organization=organization, block="5800 S ASHLAND AVE")
    wait_until(lambda: all_sent([acknowledged, ignored]), timeout=30, what="first deliveries\n" + stack.logs())
    notification_acknowledge(notification=acknowledged, actor=worker, via="app")

    clock = ignored.created_at + timedelta(minutes=10, seconds=1)
    escalation_sweep(now=clock)  # the clock is injected; the real relay and worker send the step
    wait_until(lambda: all_sent([acknowledged, ignored]), timeout=30, what="escalation sent\n" + stack.logs())
    escalated = ignored.deliveries.filter(purpose=Delivery.Purpose.ESCALATION)
    assert {(d.kind, d.target) for d in escalated} >= {("sms", "+13125550102")}
    assert {d.status for d in escalated} == {Delivery.Status.SENT}
    assert not acknowledged.deliveries.filter(purpose=Delivery.Purpose.ESCALATION).exists()
    assert Notification.objects.get(pk=ignored.pk).escalation_level == 1
    assert Notification.objects.get(pk=acknowledged.pk).escalation_level == 0


def test_two_relays_at_once_send_each_delivery_once(stack, englewood, organization, receiver):
    second = outbox_relay(stack.env, name="relay2").start()
    try:
        notifications = [incident_notify(district=englewood, organization=organization) for _ in range(20)]
        wait_until(lambda: all_sent(notifications), timeout=60, what="every delivery sent\n" + stack.logs())
    finally:
        second.stop()
    ids = receiver.accepted_ids()
    assert len(ids) == len(set(ids)) == 20
    outbound = Delivery.objects.filter(notification__in=notifications).exclude(kind=Channel.Kind.IN_APP)
    assert set(outbound.values_list("attempts", flat=True)) == {1}
