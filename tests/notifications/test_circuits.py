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


@override_settings(DELIVERY_CIRCUIT_MEMO_MS=1000)
def test_a_circuit_another_worker_opens_is_seen_here_once_the_memo_is_stale():
    lane = a_lane()
    cache.get("warm")  # the process's first cache call connects: not part of the memo's second
    assert lanes.circuits_open({lane}) == {}
    read_at = time.monotonic()

    until = another_worker_opens(lane)
    seen_at_once = lanes.circuits_open({lane})
    soon = time.monotonic() - read_at < 1
    time.sleep(1.05)

    assert not soon or seen_at_once == {}  # read under a second ago: this batch goes out as before
    assert lanes.circuits_open({lane}) == {lane: until}


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
    lane = a_lane()
    until = another_worker_opens(lane, seconds=1)

    assert lanes.circuits_open({lane}) == {lane: until}
    time.sleep(1.1)
    assert lanes.circuits_open({lane}) == {}
    # Lanes of shared providers have no circuit and cost no read.
    assert lanes.circuits_open({"sms", "email"}) == {}
