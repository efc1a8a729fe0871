"""The relay's bookkeeping in-process: who is due, what is stale, what comes back. The same
relay as a real process, with a real worker, is in test_relay_worker.py and test_faults.py."""

import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from districts.models import Channel, OnCall
from notifications import sms
from notifications.models import Delivery
from notifications.outbox import due_deliveries
from notifications.relay import deliveries_recover, handover_chunks
from tests.workers import free_port, incident_notify, process_env

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: also on the embedded default


@pytest.fixture
def texted(englewood, covering_org, worker):
    """A notification whose one outbound delivery is the on-call worker's SMS (not yet handed over)."""
    sms.outbox.clear()
    OnCall.objects.create(organization=covering_org, user=worker)
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    notification = incident_notify(district=englewood, organization=covering_org)
    return notification.deliveries.get(kind=Channel.Kind.SMS)


def test_a_handed_over_row_is_not_due_again_until_its_hand_over_is_stale(texted):
    now = timezone.now()
    window = timedelta(seconds=15)
    assert list(due_deliveries(now=now, handover_timeout=window)) == [texted]
    Delivery.objects.filter(pk=texted.pk).update(claimed_at=now)
    assert not due_deliveries(now=now + timedelta(seconds=5), handover_timeout=window).exists()
    # The message never reached a worker (Redis restarted empty): the row is handed over again.
    assert list(due_deliveries(now=now + timedelta(seconds=16), handover_timeout=window)) == [texted]


def test_a_row_whose_worker_died_mid_send_is_due_again_after_the_sending_timeout(texted):
    started = timezone.now() - timedelta(seconds=61)
    Delivery.objects.filter(pk=texted.pk).update(status=Delivery.Status.SENDING, claimed_at=started, attempts=1)
    assert deliveries_recover(sending_timeout=timedelta(seconds=60)) == 1
    texted.refresh_from_db()
    assert (texted.status, texted.claimed_at, texted.attempts) == (Delivery.Status.QUEUED, None, 1)


def test_a_row_whose_worker_died_during_its_last_attempt_is_dead(texted):
    started = timezone.now() - timedelta(seconds=61)
    Delivery.objects.filter(pk=texted.pk).update(status=Delivery.Status.SENDING, claimed_at=started, attempts=5)
    deliveries_recover(sending_timeout=timedelta(seconds=60))
    texted.refresh_from_db()
    assert texted.status == Delivery.Status.DEAD and "worker lost" in texted.last_error


def test_a_send_still_within_its_timeout_is_left_alone(texted):
    Delivery.objects.filter(pk=texted.pk).update(status=Delivery.Status.SENDING, claimed_at=timezone.now())
    assert deliveries_recover(sending_timeout=timedelta(seconds=60)) == 0


def test_outbox_relay_once_hands_over_what_is_due(texted):
    out = StringIO()
    call_command("outbox_relay", "--once", stdout=out)
    assert "handed over 1 deliveries" in out.getvalue()
    texted.refresh_from_db()
    assert texted.status == Delivery.Status.SENT and [t.to for t in sms.outbox] == ["+13125550101"]


def test_a_text_reported_undelivered_goes_back_into_the_retry_schedule(client, texted):
    call_command("outbox_relay", "--once", stdout=StringIO())
    texted.refresh_from_db()
    response = client.post(reverse("notifications:sms_status"),
                           {"MessageSid": texted.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30008"},
                           HTTP_X_CVI_INBOUND_SECRET=sms.inbound_secret())
    assert response.status_code == 204
    texted.refresh_from_db()
    assert texted.status == Delivery.Status.FAILED and texted.next_attempt_at > timezone.now()
    assert "undelivered 30008" in texted.last_error


def test_a_delivery_with_no_message_to_send_dies_instead_of_retrying_forever(worker, covering_org):
    from notifications.sending import delivery_attempt

    orphan = Delivery.objects.create(kind=Channel.Kind.SMS, target="+13125550101", recipient=worker,
                                     purpose=Delivery.Purpose.NOTIFY, payload={"message": "incident.notified"},
                                     next_attempt_at=timezone.now())
    assert delivery_attempt(delivery_id=orphan.pk) == "dead"
    orphan.refresh_from_db()
    assert orphan.attempts == 1 and "no incident.notified message" in orphan.last_error


def _sizes(count: int) -> list[int]:
    return [len(chunk) for chunk in handover_chunks(list(range(count)))]


def test_one_incidents_fan_out_is_split_evenly_over_the_worker_processes(settings):
    settings.OUTBOX_HANDOVER_CHUNK, settings.OUTBOX_HANDOVER_SPREAD, settings.DELIVERY_SEND_THREADS = 25, 2, 40
    assert _sizes(65) == [33, 32]  # five organisations' fan-out: both worker processes send at once
    assert _sizes(1) == [1]
    assert handover_chunks([]) == []
    settings.OUTBOX_HANDOVER_SPREAD = 3
    assert _sizes(65) == [22, 22, 21]
    assert [i for chunk in handover_chunks(list(range(65))) for i in chunk] == list(range(65))  # none lost


def test_a_burst_goes_out_in_chunks_no_larger_than_a_process_can_start(settings):
    settings.OUTBOX_HANDOVER_CHUNK, settings.OUTBOX_HANDOVER_SPREAD, settings.DELIVERY_SEND_THREADS = 25, 2, 40
    assert _sizes(200) == [25] * 8
    assert _sizes(81) == [25, 25, 25, 6]  # 41 each would be more than a process's sending threads
    assert _sizes(80) == [40, 40]


ROOT = Path(__file__).resolve().parents[2]
RELAY_START = """
import sys
import django
django.setup()
from notifications.relay import broker_client_load
broker_client_load()
print("kombu.transport.redis" in sys.modules, "redis" in sys.modules)
"""


def test_the_relay_loads_the_brokers_client_at_start_without_connecting():
    """The first hand-over after a deploy would otherwise wait for kombu's transport and the
    Redis client to import; and the relay must start while Redis is down (nothing listens on
    the port given here)."""
    env = process_env(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    del env["DATABASE_URL"]  # nothing here reads the database (and on the SQLite run there is no server)
    ran = subprocess.run([sys.executable, "-c", RELAY_START], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.split()[-2:] == ["True", "True"], ran.stdout
