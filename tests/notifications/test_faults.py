"""Faults on the real delivery path: Redis stopped mid-burst, a worker SIGKILLed mid-send, a
message published twice, a receiver failing then recovering, a receiver gone for good.

Each prints lost / duplicated / dead counts and the recovery time; the assertions are about
correctness (nothing lost, nothing sent twice where the claim can prevent it), never speed.
Every process is this module's own: redis-server on a spare port, worker and relay.
"""

import time
from collections import Counter

import pytest

from audit.models import Event
from districts.models import Channel
from notifications.models import Delivery, Incident
from tests.workers import Stack, WebhookReceiver, all_sent, incident_notify, publish, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.fault, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 30


def report(capsys, name: str, notifications, receiver: WebhookReceiver, recovery: float | None) -> dict:
    deliveries = Delivery.objects.filter(notification__in=notifications)
    accepted = Counter(receiver.accepted_ids())
    figures = {
        "lost": deliveries.exclude(status__in=[Delivery.Status.SENT, Delivery.Status.DELIVERED,
                                               Delivery.Status.DEAD]).count(),
        "duplicated": sum(n - 1 for n in accepted.values()),
        "dead": deliveries.filter(status=Delivery.Status.DEAD).count(),
        "deliveries": deliveries.count(),
    }
    with capsys.disabled():
        took = f"{recovery:.1f}s" if recovery is not None else "n/a"
        print(f"\n[fault] {name}: {figures['deliveries']} deliveries, lost {figures['lost']}, duplicated "
              f"{figures['duplicated']}, dead {figures['dead']}, recovery {took}")
    return figures


@pytest.fixture
def receiver(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def organization(covering_org, worker, receiver):
    """Public Equity with a webhook and one member: two deliveries per incident."""
    hook = Channel(organization=covering_org, kind=Channel.Kind.WEBHOOK, target=receiver.url)
    hook.full_clean()
    hook.save()
    return covering_org


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    stack = Stack(handover_timeout=3, sending_timeout=4).start()
    yield stack
    stack.stop()


def test_redis_stopped_for_30_seconds_during_a_burst_of_200_incidents_loses_nothing(
        englewood, organization, receiver, capsys, django_db_blocker):
    stack = Stack(handover_timeout=3, sending_timeout=4).start()
    try:
        notifications = [incident_notify(district=englewood, organization=organization) for _ in range(40)]
        stack.redis.stop()
        stopped = time.monotonic()
        # Creating incidents never touches Redis: every one of these commits while it is down.
        notifications += [incident_notify(district=englewood, organization=organization) for _ in range(160)]
        assert Incident.objects.count() == 200
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        stack.redis.start()
        back = time.monotonic()
        wait_until(lambda: all_sent(notifications), timeout=120, interval=0.2,
                   what=lambda: "every delivery sent after Redis came back\n" + stack.logs())
        recovery = time.monotonic() - back
    finally:
        stack.stop()
    figures = report(capsys, f"Redis down {OUTAGE_SECONDS}s during 200 incidents", notifications, receiver, recovery)
    assert figures["lost"] == 0 and figures["dead"] == 0 and figures["deliveries"] == 400
    assert set(receiver.accepted_ids()) == {str(d.code) for d in Delivery.objects.filter(kind="webhook")}


def test_redis_going_while_a_task_runs_does_not_end_the_worker(englewood, organization, receiver, capsys):
    """Redis goes while a task runs (its message not yet acknowledged) and the worker waits on
    Redis for the next. Neither closing the broken connection nor acknowledging the message once
    the task is done may end the worker (with kombu 5.7 both did, see cvi_portal/consumer.py):
    it reconnects when Redis is back and goes on."""
    stack = Stack(handover_timeout=3, sending_timeout=4).start()
    try:
        receiver.delay = 1.0  # the task waits on the webhook, then leaves it to the late recorder
        first = incident_notify(district=englewood, organization=organization)
        wait_until(lambda: receiver.started == 1, timeout=20, interval=0.005,
                   what=lambda: "the webhook request to start\n" + stack.logs())
        stack.redis.stop()
        wait_until(lambda: "Connection to broker lost" in stack.worker.output(), timeout=20,
                   what=lambda: "the worker to notice\n" + stack.logs())
        time.sleep(2)  # the task ends; Celery closes the broken connection and waits to reconnect
        assert stack.worker.proc.poll() is None, f"the worker ended on losing Redis:\n{stack.worker.output()[-3000:]}"
        receiver.delay = 0.0
        stack.redis.start()
        back = time.monotonic()
        later = incident_notify(district=englewood, organization=organization)
        wait_until(lambda: all_sent([first, later]), timeout=60, interval=0.2,
                   what=lambda: "both incidents sent after Redis came back\n" + stack.logs())
        recovery = time.monotonic() - back
        assert stack.worker.proc.poll() is None, f"the worker ended:\n{stack.worker.output()[-3000:]}"
    finally:
        stack.stop()
    figures = report(capsys, "Redis gone while a task ran", [first, later], receiver, recovery)
    assert figures["lost"] == 0 and figures["duplicated"] == 0


def test_a_worker_killed_mid_delivery_loses_nothing(stack, englewood, organization, receiver, capsys):
    receiver.delay = 2.0  # the receiver holds the request: the worker is mid-send when it dies
    notification = incident_notify(district=englewood, organization=organization)
    webhook = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
    wait_until(lambda: receiver.started == 1, timeout=20, what="the webhook request to start\n" + stack.logs())
    stack.worker.kill()
    killed = time.monotonic()
    receiver.delay = 0.0
    stack.restart_worker()
    wait_until(lambda: all_sent([notification]), timeout=30, what="recovery\n" + stack.logs())
    figures = report(capsys, "worker SIGKILLed mid-send", [notification], receiver, time.monotonic() - killed)
    assert figures["lost"] == 0 and figures["dead"] == 0
    webhook.refresh_from_db()
    # At least once: the receiver saw the killed attempt too; the same webhook-id lets it drop the copy.
    assert webhook.attempts == 2 and set(receiver.accepted_ids()) == {str(webhook.code)}


def test_the_same_delivery_published_twice_is_sent_once(stack, englewood, organization, receiver, capsys):
    notification = incident_notify(district=englewood, organization=organization)
    webhook = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
    publish(stack.redis.url, webhook.pk)
    publish(stack.redis.url, webhook.pk)  # plus the relay's own hand-over: three messages, one row
    wait_until(lambda: all_sent([notification]), timeout=20, what="sent\n" + stack.logs())
    wait_until(lambda: stack.worker.output().count("'skipped'") >= 1, timeout=20, what="the duplicate to be skipped")
    figures = report(capsys, "same delivery enqueued twice", [notification], receiver, None)
    webhook.refresh_from_db()
    assert figures["duplicated"] == 0 and receiver.accepted_ids().count(str(webhook.code)) == 1
    assert webhook.attempts == 1


def test_a_transport_failing_three_times_then_succeeding_is_sent_once_with_its_attempts_recorded(
        stack, englewood, organization, receiver, capsys):
    receiver.plan = [500, 503, 500]
    started = time.monotonic()
    notification = incident_notify(district=englewood, organization=organization)
    wait_until(lambda: all_sent([notification]), timeout=30, what="sent after retries\n" + stack.logs())
    figures = report(capsys, "transport fails 3x then succeeds", [notification], receiver, time.monotonic() - started)
    webhook = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
    assert figures["lost"] == 0 and figures["duplicated"] == 0
    assert webhook.attempts == 4 and webhook.status == Delivery.Status.DELIVERED
    assert [r["status"] for r in receiver.received] == [500, 503, 500, 200]
    assert notification.incident.timeline.filter(kind="delivery.failed", delivery=webhook).count() == 3


def test_a_permanent_failure_is_dead_at_once_and_the_fallback_channel_is_tried(
        stack, englewood, organization, receiver, capsys):
    fallback_channel = Channel.objects.create(organization=organization, kind=Channel.Kind.EMAIL,
                                              target="dispatch@pe.example.org", is_fallback=True)
    receiver.plan = [410]
    notification = incident_notify(district=englewood, organization=organization)
    webhook = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)

    def settled():
        return (Delivery.objects.get(pk=webhook.pk).status == Delivery.Status.DEAD
                and notification.deliveries.filter(purpose=Delivery.Purpose.FALLBACK, status="sent").exists())

    wait_until(settled, timeout=30, what="dead and fallback sent\n" + stack.logs())
    figures = report(capsys, "permanent failure", [notification], receiver, None)
    webhook.refresh_from_db()
    assert figures["dead"] == 1 and webhook.attempts == 1 and "(gone)" in webhook.last_error  # the 410, as a reason
    fallback = notification.deliveries.get(purpose=Delivery.Purpose.FALLBACK)
    assert fallback.channel == fallback_channel and fallback.payload["fallback_for"] == str(webhook.code)
    assert Event.objects.filter(action="delivery.dead", object_code=str(webhook.code)).exists()
    assert "ops alert" in stack.worker.output()
