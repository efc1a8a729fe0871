"""notifications.lanes: a receiver's circuit as every worker sees it, read from the cache at
most once per DELIVERY_CIRCUIT_MEMO_MS in each worker process."""

import time
import uuid

from django.core.cache import cache
from django.test import override_settings

from notifications import lanes


def a_lane() -> str:
    return f"webhook:test-{uuid.uuid4().hex}"  # a receiver no other test touches


def another_worker_opens(lane: str, seconds: int = 60) -> float:
    until = time.time() + seconds
    cache.set(lanes._OPEN_KEY.format(lane=lane), until, timeout=seconds)
    return until


def test_a_circuit_another_worker_opens_is_seen_here_once_the_memo_is_stale(settings):
    settings.DELIVERY_CIRCUIT_MEMO_MS = 60_000
    lane = a_lane()
    assert lanes.circuits_open({lane}) == {}

    until = another_worker_opens(lane)
    while_fresh = lanes.circuits_open({lane})
    settings.DELIVERY_CIRCUIT_MEMO_MS = 0  # the memo's time is up: the next batch reads again
    once_stale = lanes.circuits_open({lane})

    assert while_fresh == {}  # read a moment ago: this batch goes out as before
    assert once_stale == {lane: until}


@override_settings(DELIVERY_CIRCUIT_MEMO_MS=60_000, DELIVERY_CIRCUIT_AFTER=3, DELIVERY_CIRCUIT_PAUSE=30)
def test_a_circuit_this_worker_opens_holds_its_next_batch_at_once():
    lane, other = a_lane(), a_lane()
    assert lanes.circuits_open({lane, other}) == {}

    for _ in range(3):
        lanes.circuits_record(timed_out={lane}, answered={other})

    opened = lanes.circuits_open({lane, other})
    assert set(opened) == {lane} and 25 < opened[lane] - time.time() <= 30


@override_settings(DELIVERY_CIRCUIT_MEMO_MS=0)
def test_without_the_memo_every_batch_reads_the_circuit_and_an_expired_one_is_closed():
    lane, expired = a_lane(), a_lane()
    until = another_worker_opens(lane)
    cache.set(lanes._OPEN_KEY.format(lane=expired), time.time() - 1, timeout=60)  # its pause is over

    assert lanes.circuits_open({lane, expired}) == {lane: until}
    cache.delete(lanes._OPEN_KEY.format(lane=lane))  # closed by another worker
    assert lanes.circuits_open({lane, expired}) == {}
    # Lanes of shared providers have no circuit and cost no read.
    assert lanes.circuits_open({"sms", "email"}) == {}
