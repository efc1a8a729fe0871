"""The sending engine with real processes: sends overlap, a hanging organisation's receiver
holds only its own share of the pool, and a receiver that keeps timing out is paused.

The worker runs the production pool (tests/workers.py) with a short send deadline so a hang
ends within the test. Overlap and ordering are read from the times the receivers recorded
and the rows' states, never from a wall-clock threshold.
"""

import pytest

from districts.models import Channel, Coverage
from notifications.models import Delivery
from tests.workers import Stack, WebhookReceiver, all_sent, incident_notify, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"DELIVERY_SEND_DEADLINE": "3", "DELIVERY_LANE_LIMIT": "2", "DELIVERY_CIRCUIT_AFTER": "3",
              "DELIVERY_CIRCUIT_PAUSE": "600", "DELIVERY_BUSY_RETRY_MS": "200"}


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    stack = Stack(worker_env=WORKER_ENV, handover_timeout=3, sending_timeout=30).start()
    yield stack
    stack.stop()


@pytest.fixture
def receivers(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # this process only NOTIFYs; the relay hands over
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver() as slow, WebhookReceiver() as other:
        yield slow, other


def _webhook(organization, url: str) -> Channel:
    hook = Channel(organization=organization, kind=Channel.Kind.WEBHOOK, target=url)
    hook.full_clean()
    hook.save()
    return hook


@pytest.fixture
def two_organizations(englewood, covering_org, other_org):
    """Public Equity and ALSO both cover Englewood; each has only its webhook."""
    Coverage.objects.create(organization=other_org, kind=Coverage.Kind.DISTRICT, district=englewood)
    return covering_org, other_org


def test_five_slow_receivers_are_called_at_the_same_time_not_one_after_another(
        stack, englewood, covering_org, receivers):
    slow, _other = receivers
    slow.delay = 1.0
    for n in range(5):  # five receivers of one organisation: five lanes
        _webhook(covering_org, f"{slow.url}/{n}")
    notification = incident_notify(district=englewood, organization=covering_org)
    wait_until(lambda: all_sent([notification]), timeout=30, what="all five sent\n" + stack.logs())

    assert notification.deliveries.filter(kind="webhook", status=Delivery.Status.DELIVERED).count() == 5
    # Every call began before the first one was answered: they overlapped.
    assert len(slow.received) == 5
    assert max(r["began"] for r in slow.received) < min(r["answered"] for r in slow.received)


def test_a_hanging_organisation_does_not_delay_another_organisations_deliveries(
        stack, englewood, two_organizations, receivers):
    hanging_org, other_org = two_organizations
    slow, other = receivers
    slow.hang()
    _webhook(hanging_org, slow.url)
    _webhook(other_org, other.url)
    incidents = [incident_notify(district=englewood, organization=other_org, block=f"{6300 + n} S HALSTED ST")
                 for n in range(6)]
    wait_until(lambda: all_sent(incidents), timeout=30, what="the other organisation's deliveries\n" + stack.logs())

    hanging = Delivery.objects.filter(kind="webhook", notification__organization=hanging_org)
    # Sent while the hanging receiver still held its calls: none of them has ended yet...
    assert not hanging.filter(status__in=[Delivery.Status.FAILED, Delivery.Status.DELIVERED]).exists()
    # ...and it held no more than its share: two calls at once in each of the worker's two
    # prefork children (lanes are per process), the rest put back untried.
    assert slow.started <= 2 * 2
    slow.release()


def test_a_receiver_timing_out_again_and_again_is_paused_without_being_called(
        stack, englewood, two_organizations, receivers):
    hanging_org, other_org = two_organizations
    slow, other = receivers
    slow.hang()
    hook = _webhook(hanging_org, slow.url)
    _webhook(other_org, other.url)
    first = [incident_notify(district=englewood, organization=other_org) for _ in range(3)]
    circuit = Delivery.objects.filter(channel=hook, last_error__startswith="not tried")
    wait_until(circuit.exists, timeout=60, what="the circuit to open\n" + stack.logs())
    assert Delivery.objects.filter(channel=hook, last_error__contains="did not answer in time").exists()

    later = incident_notify(district=englewood, organization=other_org)
    paused = Delivery.objects.filter(channel=hook, notification__incident=later.incident)
    wait_until(lambda: paused.filter(last_error__startswith="not tried").exists(), timeout=30,
               what="the paused delivery\n" + stack.logs())
    wait_until(lambda: all_sent(first + [later]), timeout=30, what="the other organisation's\n" + stack.logs())

    delivery = paused.get()
    # Put back for the pause, never attempted, and the receiver never saw it.
    assert delivery.attempts == 0 and delivery.status == Delivery.Status.QUEUED
    assert "paused" in delivery.last_error and delivery.next_attempt_at > later.created_at
    assert str(delivery.code) not in slow.begun
    slow.release()
