"""Growing by adding processes: two outbox relays and three Celery workers on one database and one
Redis share a burst, and every delivery is sent once. The only copies allowed are of rows a
worker was sending when it was killed (at least once: the receiver drops the copy by its
webhook-id). Every process is this module's own (tests/workers.py)."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from districts.models import Channel, Role
from notifications.models import Delivery, Incident
from notifications.services import incident_create
from tests.conftest import COVERING_ORG, ENGLEWOOD_POINT, make_member
from tests.workers import RedisServer, WebhookReceiver, celery_worker, outbox_relay, process_env, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.fault, pytest.mark.django_db(transaction=True)]

INCIDENTS = 120


@pytest.fixture
def receiver(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # this process only NOTIFYs; the relays hand over
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def processes(django_db_setup, django_db_blocker):
    redis = RedisServer()
    redis.start()
    env = process_env(redis_url=redis.url, LOG_LEVEL="INFO")
    # A sending timeout well above any live send on a loaded machine: a row given back while its
    # worker is alive would be a copy this test cannot blame on the killed worker.
    started = {"workers": [celery_worker(env, name=f"b_worker{n}").start() for n in range(3)],
               "relays": [outbox_relay(env, name=f"relay{n}", sending_timeout=8).start() for n in range(2)]}
    yield started
    for service in started["relays"] + started["workers"]:
        service.stop()
    redis.stop()


def logs(processes) -> str:
    return "\n".join(f"--- {s.name}\n{s.output()[-3000:]}" for s in processes["relays"] + processes["workers"])


def test_two_relays_and_three_workers_send_a_burst_once_even_when_a_worker_dies(
        processes, englewood, covering_org, worker, supervisor, receiver, capsys):
    make_member("ray_backup", Role.OUTREACH_WORKER, organization=COVERING_ORG)
    hook = Channel(organization=covering_org, kind=Channel.Kind.WEBHOOK, target=receiver.url)
    hook.full_clean()
    hook.save()
    receiver.delay = 0.05  # a send takes a moment, so a killed worker is most likely mid-send
    started = time.monotonic()
    with transaction.atomic():  # one commit: the relays and workers set the pace from here
        for n in range(INCIDENTS):
            incident_create(actor=None, source=Incident.Source.API, occurred_at=timezone.now() - timedelta(minutes=2),
                            block=f"{6300 + n} S HALSTED ST", latitude=ENGLEWOOD_POINT[0],
                            longitude=ENGLEWOOD_POINT[1],
                            victims=[{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}])
    deliveries = Delivery.objects.filter(notification__incident__block__endswith="S HALSTED ST")
    webhooks = deliveries.filter(kind=Channel.Kind.WEBHOOK)
    assert webhooks.count() == INCIDENTS and deliveries.filter(kind=Channel.Kind.IN_APP).count() >= 3 * INCIDENTS

    committed = time.monotonic()
    wait_until(lambda: receiver.started >= INCIDENTS // 4, timeout=60, what="the burst to start\n" + logs(processes))
    victim = processes["workers"][0]
    victim.kill()
    # What the killed worker held is still `sending` (the others' sends in flight at this instant
    # too, so this set is a little wider than the killed worker's own).
    in_flight = set(map(str, webhooks.filter(status=Delivery.Status.SENDING).values_list("code", flat=True)))

    def settled() -> bool:
        return not deliveries.exclude(status__in=[Delivery.Status.SENT, Delivery.Status.DELIVERED]).exists()

    wait_until(settled, timeout=120, what="every delivery sent\n" + logs(processes))
    accepted = Counter(receiver.accepted_ids())
    with capsys.disabled():
        print(f"\n[scale-out] {deliveries.count()} deliveries ({INCIDENTS} webhooks) through 2 relays and 3 workers, "
              f"one killed: written in {committed - started:.1f}s, all sent {time.monotonic() - committed:.1f}s "
              f"after the commit; {sum(n - 1 for n in accepted.values())} copies, {len(in_flight)} rows in flight "
              f"at the kill")
    assert set(accepted) == set(map(str, webhooks.values_list("code", flat=True))), "a webhook never arrived"
    copies = {code for code, n in accepted.items() if n > 1}
    assert copies <= in_flight, f"sent twice though no worker died sending them: {copies - in_flight}"
    assert all(n <= 2 for n in accepted.values())
    # Each feed row is one row per person and notification: no copy there at all.
    feed = Counter(deliveries.filter(kind=Channel.Kind.IN_APP).values_list("notification_id", "recipient_id"))
    assert set(feed.values()) == {1}
    # The work was shared: both surviving workers sent some of the burst, both relays ran.
    for survivor in processes["workers"][1:]:
        assert "succeeded" in survivor.output(), f"{survivor.name} sent nothing\n{logs(processes)}"
    assert all(relay.proc.poll() is None for relay in processes["relays"])
