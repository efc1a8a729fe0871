"""Lanes and circuits: one slow receiver occupies only its own share of the sending pool.

A delivery's lane is the thing that can be slow: an organisation's webhook receiver (by
channel), a push service (by host), the SMS provider, the mail server. Each worker process lets
at most `DELIVERY_LANE_LIMIT` sends of one webhook lane (`DELIVERY_PROVIDER_LANE_LIMIT` for the
shared providers) run at once; the lane's other sends wait in the process for a slot of their
own lane (a short queue; a send that waited too long, or found the queue full, is put back
untried, due a moment later), so a hanging receiver holds a few threads until its deadline and
the rest of the pool keeps sending everyone else's. The limit is per process on purpose: the
pool it protects is the process's own, it needs no network round trip, and a process that dies
takes its counts with it (nothing to expire).

The circuit is shared by every worker (the cache: Redis in production): after
`DELIVERY_CIRCUIT_AFTER` consecutive timeouts of one lane, its deliveries are put back for a
pause (doubling with each further timeout, up to an hour) without being attempted, with a
clear `last_error`; the first send after the pause tries again. A success closes it. Other
lanes' deliveries and retries are never held up by it. Only receivers of one organisation
(webhooks) have a circuit: a shared provider timing out is everybody's outage, and its
retries follow each delivery's own backoff.

The cache failing (Redis down) never stops a send: the circuit then counts as closed.
"""

import logging
import threading
import time
from collections import Counter, deque
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from districts.models import Channel

from .models import Delivery

logger = logging.getLogger(__name__)

_TIMEOUTS_KEY = "cvi:circuit:{lane}:timeouts"
_OPEN_KEY = "cvi:circuit:{lane}:open"


def lane_of(delivery: Delivery) -> str:
    """The receiver a delivery waits on, as a short key."""
    if delivery.kind == Channel.Kind.WEBHOOK:
        return f"webhook:{delivery.channel_id or delivery.target}"
    if delivery.kind == Channel.Kind.PUSH:
        return f"push:{urlsplit(delivery.target).hostname or ''}"
    return str(delivery.kind)


def _has_circuit(lane: str) -> bool:
    return lane.startswith("webhook:")


def _limit(lane: str) -> int:
    return settings.DELIVERY_LANE_LIMIT if _has_circuit(lane) else settings.DELIVERY_PROVIDER_LANE_LIMIT


class Lanes:
    """Per-process sends in flight by lane, and the sends waiting for a slot of their lane.

    `submit(lane, run, busy)` runs `run()` on `start` (the sending threads) at once when the
    lane has a free slot; else parks it, up to `DELIVERY_LANE_QUEUE` per lane, to start when a
    send of that lane ends; beyond that calls `busy()` (the delivery is put back untried). A
    fast receiver's sends wait microseconds for a slot; a hanging one's wait their turn and
    never take the slots of another lane.
    """

    def __init__(self) -> None:
        self.busy: Counter[str] = Counter()
        self.parked: dict[str, deque] = {}
        self.lock = threading.Lock()

    def submit(self, lane: str, run, busy, *, start) -> None:
        with self.lock:
            if self.busy[lane] < _limit(lane):
                self.busy[lane] += 1
            elif len(self.parked.setdefault(lane, deque())) < settings.DELIVERY_LANE_QUEUE:
                self.parked[lane].append((run, start))
                return
            else:
                run = None
        if run is None:
            busy()
        else:
            start(lambda: self._run(lane, run))

    def _run(self, lane: str, run) -> None:
        try:
            run()
        finally:
            with self.lock:
                waiting = self.parked.get(lane)
                following = waiting.popleft() if waiting else None
                if following is None:
                    self.busy[lane] -= 1
                    if self.busy[lane] <= 0:
                        del self.busy[lane]
                    self.parked.pop(lane, None)
            if following is not None:  # its slot passes straight on
                run_next, start = following
                start(lambda: self._run(lane, run_next))


lanes = Lanes()


# Each lane's circuit as this process last read it: (when, on the monotonic clock; open until, a
# Unix time, or None). A busy worker sends to the same receivers batch after batch; reading
# the cache once per lane every DELIVERY_CIRCUIT_MEMO_MS instead of once per batch spares each
# batch a Redis round trip. A circuit another worker opens is seen here that much later (its
# receiver has already kept three sends waiting for their whole deadline); one this process
# opens, at once.
_seen: dict[str, tuple[float, float | None]] = {}


def circuits_open(lane_keys: set[str]) -> dict[str, float]:
    """The lanes among these whose circuit is open, with when it closes (a Unix time; at most
    one cache read)."""
    lanes_with = [lane for lane in lane_keys if _has_circuit(lane)]
    now = time.monotonic()
    fresh_for = settings.DELIVERY_CIRCUIT_MEMO_MS / 1000
    keys = {_OPEN_KEY.format(lane=lane): lane for lane in lanes_with
            if now - _seen.get(lane, (-fresh_for, None))[0] >= fresh_for}
    if keys:
        try:
            found = cache.get_many(list(keys))
        except Exception:  # the cache is down: send as if closed
            logger.warning("circuit state unavailable; sending without it")
        else:
            for key, lane in keys.items():
                _seen[lane] = (now, float(found[key]) if key in found else None)
    wall = time.time()
    return {lane: until for lane in lanes_with
            if lane in _seen and (until := _seen[lane][1]) is not None and until > wall}


def circuits_record(*, timed_out: set[str], answered: set[str]) -> None:
    """After a round of sends: count consecutive timeouts per lane, opening a circuit at the
    threshold; a lane that answered (whatever it answered) starts counting again."""
    try:
        answered = {lane for lane in answered - timed_out if _has_circuit(lane)}
        if answered:
            cache.delete_many([_TIMEOUTS_KEY.format(lane=lane) for lane in answered])
        for lane in timed_out:
            if _has_circuit(lane):
                _timeout_count(lane)
    except Exception:
        logger.warning("circuit state unavailable; not recorded")


def _timeout_count(lane: str) -> None:
    key = _TIMEOUTS_KEY.format(lane=lane)
    cache.add(key, 0, timeout=24 * 3600)
    count = cache.incr(key)
    if count >= settings.DELIVERY_CIRCUIT_AFTER:
        pause = min(3600, settings.DELIVERY_CIRCUIT_PAUSE * 2 ** min(count - settings.DELIVERY_CIRCUIT_AFTER, 12))
        until = time.time() + pause
        cache.set(_OPEN_KEY.format(lane=lane), until, timeout=pause)
        _seen[lane] = (time.monotonic(), until)
        logger.warning("circuit open for %s after %d timeouts in a row: paused %ds", lane, count, pause)


def circuit_reason(until: float) -> str:
    """The `last_error` of a delivery held back by an open circuit."""
    pause = max(1, round(until - time.time()))
    return (f"not tried: the receiver did not answer in time {settings.DELIVERY_CIRCUIT_AFTER} or more times "
            f"in a row; paused for {pause} s more")
