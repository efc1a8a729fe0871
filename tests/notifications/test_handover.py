"""The committing process hands its own deliveries over (OUTBOX_HANDOVER_AT_COMMIT, relay.py):
incidents entered in a process of their own, as a web worker enters them, with a real Celery
worker on an own redis-server and, until a test starts one, no relay at all."""

import json
import subprocess
import sys

import pytest

from districts.models import Channel
from notifications.models import Delivery, Notification
from tests.conftest import ENGLEWOOD_POINT
from tests.workers import ROOT, Stack, WebhookReceiver, all_sent, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Entered through incident_create as the API and the form do; the process exits right after
# its last commit, so its hand-over thread runs at the exit at the latest.
ENTER = """
import json
from datetime import timedelta
from django.utils import timezone
from notifications.models import Incident
from notifications.services import incident_create
from notifications.relay import handover_thread
codes, waited = [], []
for n in range({count}):
    incident, _ = incident_create(
        actor=None, source=Incident.Source.API, occurred_at=timezone.now() - timedelta(minutes=2),
        block=f"{{6300 + n}} S HALSTED ST", latitude={point[0]}, longitude={point[1]}, note="",
        victims=[{{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}}])
    codes.append(str(incident.code))
    # Had the entry waited for its hand-over, the thread would have nothing left to do now.
    waited.append(handover_thread.flush(timeout=0))
print(json.dumps({{"codes": codes, "waited": waited}}))
"""


def enter_incidents(stack: Stack, count: int) -> tuple[list[Notification], dict, str]:
    """Enter `count` incidents in a new process (the Procfile's settings: the hand-over at
    commit is on). Returns their notifications once that process has exited, what it printed
    and its log."""
    script = ENTER.format(count=count, point=ENGLEWOOD_POINT)
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    return list(Notification.objects.filter(incident__code__in=printed["codes"])), printed, done.stderr


@pytest.fixture
def receiver(settings, covering_org):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver() as r:
        hook = Channel(organization=covering_org, kind=Channel.Kind.WEBHOOK, target=r.url)
        hook.full_clean()
        hook.save()
        yield r


@pytest.fixture
def stack(django_db_blocker):
    stack = Stack(relay=False, handover_timeout=3, sending_timeout=4).start()
    yield stack
    stack.stop()


def test_the_process_that_commits_hands_its_deliveries_over_with_no_relay_running(englewood, receiver, stack):
    notifications, _, _ = enter_incidents(stack, 3)
    assert len(notifications) >= 3
    wait_until(lambda: all_sent(notifications), timeout=30, what=lambda: "every delivery sent\n" + stack.logs())

    webhooks = Delivery.objects.filter(notification__in=notifications, kind=Channel.Kind.WEBHOOK)
    assert webhooks.count() == 3
    assert sorted(receiver.accepted_ids()) == sorted(str(d.code) for d in webhooks)  # each once
    assert stack.relay is None


def test_with_redis_down_the_entry_commits_and_the_relay_sends_everything_once_redis_is_back(
        englewood, receiver, stack):
    stack.redis.stop()
    notifications, printed, log = enter_incidents(stack, 2)  # commits while the thread cannot publish
    # Each entry came back while its hand-over was still trying the broker.
    assert printed["waited"] == [False, False]
    outbound = Delivery.objects.filter(notification__in=notifications).exclude(kind=Channel.Kind.IN_APP)
    assert outbound.count() >= 2
    # The thread claimed the rows, could not publish them and released them, for the relay: no
    # row waits for the hand-over timeout.
    assert "broker unavailable" in log and "stay due" in log, log[-3000:]
    assert set(outbound.values_list("status", "claimed_at")) == {(Delivery.Status.QUEUED, None)}

    stack.redis.start()
    stack.relay_start()
    wait_until(lambda: all_sent(notifications), timeout=60, interval=0.2,
               what=lambda: "every delivery sent once Redis was back\n" + stack.logs())
    webhooks = outbound.filter(kind=Channel.Kind.WEBHOOK)
    assert sorted(receiver.accepted_ids()) == sorted(str(d.code) for d in webhooks)
