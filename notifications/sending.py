"""Sending deliveries: what the Celery task runs for a batch of ids the relay handed over.

`deliveries_send(delivery_ids=...)`:

1. claims the due rows among the ids (queued/failed → sending, a conditional UPDATE, so a
   duplicate message or a second worker finds nothing to claim) and loads them with what
   their messages need (claim.py: one prepared statement on PostgreSQL);
2. puts back untried the deliveries whose receiver's circuit is open (lanes.py) and prepares
   the others here (templates, secrets: every database read happens in this thread);
3. runs the sends concurrently on the process's sending threads (each starts as soon as its
   message is rendered, while the next ones are), which only talk to the network, each
   within its total deadline (core.http_limits) and within its lane's share of the threads
   (lanes.py: a send waits a moment for a slot of its own lane, or is put back);
4. records outcomes as the sends finish, all that finished within DELIVERY_RECORD_GATHER_MS
   of each other in one round and one transaction (delivery.outcomes_record), so a slow
   receiver delays only its own row's record;
5. once every send is on the wire and the latest started `DELIVERY_DETACH_MS` ago (or at the
   latest `DELIVERY_DETACH_MAX_MS` after the batch started), hands the sends still running to
   the process's late recorder (one thread, one database connection) and returns, so a slow
   or hanging receiver never keeps a Celery slot from taking the next batch.

With eager tasks (the embedded default, unit tests) the sends run one by one in the calling
thread. At least once: a worker killed mid-send leaves its rows `sending`, and the relay gives
them back after `OUTBOX_SENDING_TIMEOUT`; this is why the deadline and the batch's size keep
every send far below it.
"""

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, transaction
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from core.http_limits import send_deadline

from .claim import deliveries_claim
from .delivery import Outcome, deliveries_defer, outcomes_one_statement, outcomes_record
from .exceptions import TransportError
from .lanes import circuit_reason, circuits_open, circuits_record, lane_of, lanes
from .models import Delivery
from .transports import TRANSPORTS, Send

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    delivery: Delivery
    lane: str
    send: Send
    confirms: bool


def delivery_attempt(*, delivery_id: int) -> str:
    """Claim one due delivery, send it, record the outcome. Returns "sent", "failed", "dead",
    "deferred" (its lane was busy or its circuit open) or "skipped" (not due, or another run
    claimed it: a duplicate message does nothing)."""
    return deliveries_send(delivery_ids=[delivery_id]).get(delivery_id, "skipped")


def deliveries_send(*, delivery_ids: list[int]) -> dict[int, str]:
    """Send a batch; returns each id's result (as `delivery_attempt`)."""
    results = dict.fromkeys(delivery_ids, "skipped")
    deliveries = deliveries_claim(delivery_ids=delivery_ids)
    if not deliveries:
        return results
    deferred, refused = [], []
    # Each send starts the moment its message is ready, while the next ones are rendered.
    started = _start(_admit(deliveries, deferred, refused))
    if deferred:
        deliveries_defer(deferred)
        results.update({delivery.pk: "deferred" for delivery, _at, _reason in deferred})
    if refused:
        results.update(outcomes_record(refused))
    for finished in _finished(started):
        results.update(_record(finished))
    return results


# Two worker processes recording rounds of the same incident's fan-out write the same
# notification, incident and stamp rows; PostgreSQL may pick one of them as a deadlock's victim.
RECORD_TRIES = 3


def _record(finished: list[Outcome]) -> dict[int, str]:
    """One round of outcomes in one transaction: statuses, timeline lines and clocks commit
    together (one commit, not one per statement). A deadlock's victim tries again at once (the
    other writer has gone on): left unrecorded, its rows would be sent a second time after the
    sending timeout. If it still fails nothing is written and the rows stay `sending` until the
    relay gives them back."""
    put_back = [o for o in finished if o.put_back_at is not None]
    tried = [o for o in finished if o.put_back_at is None]
    for attempt in range(1, RECORD_TRIES + 1):
        try:
            one_statement = not put_back and outcomes_one_statement(tried)
            with contextlib.nullcontext() if one_statement else transaction.atomic():
                if put_back:
                    deliveries_defer([(o.delivery, o.put_back_at, None) for o in put_back])
                recorded = outcomes_record(tried) if tried else {}
            break
        except OperationalError as error:
            if not isinstance(error.__cause__, DeadlockDetected) or attempt == RECORD_TRIES:
                raise
            logger.warning("recording %d outcomes was a deadlock's victim; trying again (%d of %d)",
                           len(finished), attempt + 1, RECORD_TRIES)
    circuits_record(timed_out={o.lane for o in tried if o.error and o.error.timed_out},
                    answered={o.lane for o in tried if not (o.error and o.error.timed_out)})
    return {**recorded, **{o.delivery.pk: "deferred" for o in put_back}}


def _admit(deliveries: list[Delivery], deferred: list[tuple], refused: list[Outcome]) -> Iterator[_Job]:
    """Prepare a claimed batch: yields the sends to run, one by one as their messages are
    ready; adds to `deferred` the rows to put back untried (an open circuit) and to `refused`
    the failures found while preparing (no message for this channel, a refused address)."""
    keys = {delivery.pk: lane_of(delivery) for delivery in deliveries}
    open_until = circuits_open(set(keys.values()))
    for delivery in deliveries:
        lane = keys[delivery.pk]
        if lane in open_until:
            until = open_until[lane]
            deferred.append((delivery, datetime.fromtimestamp(until, UTC), circuit_reason(until)))
            continue
        transport = TRANSPORTS[delivery.kind]()
        try:
            job = _Job(delivery, lane, transport.prepare(delivery), transport.confirms)
        except Exception as exc:
            refused.append(Outcome(delivery=delivery, lane=lane, error=_as_transport_error(exc, delivery)))
            continue
        yield job


def _as_transport_error(exc: Exception, delivery: Delivery) -> TransportError:
    if isinstance(exc, TransportError):
        return exc
    # A bug or an unexpected library error: retried like a temporary failure.
    logger.error("delivery %s: unexpected error in the %s transport", delivery.code, delivery.kind, exc_info=exc)
    return TransportError(f"unexpected {type(exc).__name__}")


def _send_one(job: _Job) -> Outcome:
    """Run one send within its deadline; never raises."""
    with send_deadline(settings.DELIVERY_SEND_DEADLINE) as watch:
        try:
            provider_id = job.send()
        except Exception as exc:
            error = _as_transport_error(exc, job.delivery)
        else:
            return Outcome(delivery=job.delivery, provider_id=provider_id, confirmed=job.confirms, lane=job.lane)
    if watch.expired and not error.timed_out:  # the watchdog cut the connection: say so
        error = TransportError("the receiver did not answer in time (the send's deadline passed)", timed_out=True)
    return Outcome(delivery=job.delivery, lane=job.lane, error=error)


def _put_back(job: _Job) -> Outcome:
    later = timezone.now() + timedelta(milliseconds=settings.DELIVERY_BUSY_RETRY_MS)
    return Outcome(delivery=job.delivery, lane=job.lane, put_back_at=later)


def _in_lane(job: _Job) -> Future:
    """Start `job` on the sending threads within its lane's share; the future's result is
    its Outcome. A send that waited for its lane longer than `DELIVERY_LANE_WAIT_MS` is put
    back instead of sent (it must not start so late that the relay has given it away)."""
    future: Future = Future()
    parked = time.monotonic()

    def run() -> None:
        future.on_wire = time.monotonic()  # read by _finished: this send is no longer queued
        waited = future.on_wire - parked > settings.DELIVERY_LANE_WAIT_MS / 1000
        future.set_result(_put_back(job) if waited else _send_one(job))

    lanes.submit(job.lane, run, lambda: future.set_result(_put_back(job)),
                 start=lambda fn: _executor().submit(fn))
    return future


def _start(jobs: Iterator[_Job]) -> list[_Job] | set[Future]:
    """Start every send on the sending threads as it comes (with eager tasks: just collect them)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return list(jobs)
    return {_in_lane(job) for job in jobs}


def _finished(started: list[_Job] | set[Future]) -> Iterator[list[Outcome]]:
    """Yield outcomes as they come: sends that finished together come as one list.

    Sends still running go to the late recorder, and the task returns for the next batch,
    once every one of them is on the wire and the latest started `DELIVERY_DETACH_MS` ago (a
    provider taking a few hundred ms, or a hanging receiver), or in any case
    `DELIVERY_DETACH_MAX_MS` after the batch started. Sends still queued for their lane's
    slot keep the task: taking more batches would only queue more behind the same lane."""
    if settings.CELERY_TASK_ALWAYS_EAGER:  # in-process: this thread, one by one
        for job in started:
            yield [_send_one(job)]
        return
    pending = started
    latest = time.monotonic() + settings.DELIVERY_DETACH_MAX_MS / 1000
    while pending:
        now = time.monotonic()
        on_wire = [getattr(future, "on_wire", None) for future in pending]
        all_on_wire = None not in on_wire
        # All on the wire: wait until the latest has had its time. Some still queued: look
        # again soon, one may start.
        detach_at = min(latest, (max(on_wire) + settings.DELIVERY_DETACH_MS / 1000) if all_on_wire else now + 0.05)
        done, pending = wait(pending, timeout=max(0.0, detach_at - now), return_when=FIRST_COMPLETED)
        if done and pending:
            # Sends to fast receivers end a moment apart: gather a few milliseconds' worth, so
            # one round records many rows, not one.
            more, pending = wait(pending, timeout=settings.DELIVERY_RECORD_GATHER_MS / 1000)
            done |= more
        if done:
            yield [future.result() for future in done]
        elif pending and (all_on_wire or time.monotonic() >= latest):
            _late_recorder().add(pending)
            return


class _LateRecorder:
    """Records the outcomes of sends their task stopped waiting for (a slow receiver), in its
    own thread and database connection. A recording that fails leaves the rows `sending`: the
    relay gives them back after the sending timeout, as for a worker that died."""

    def __init__(self) -> None:
        self.incoming: queue.Queue[set[Future]] = queue.Queue()
        threading.Thread(target=self._loop, name="cvi-late-recorder", daemon=True).start()

    def add(self, futures: set[Future]) -> None:
        self.incoming.put(set(futures))

    def _loop(self) -> None:
        pending: set[Future] = set()
        while True:
            with contextlib.suppress(queue.Empty):
                pending |= self.incoming.get(block=not pending)  # wait for work only when idle
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if done and pending:  # as in the task: a round records what finished together
                more, pending = wait(pending, timeout=settings.DELIVERY_RECORD_GATHER_MS / 1000)
                done |= more
            if done:
                try:
                    close_old_connections()
                    _record([future.result() for future in done])
                except Exception:
                    logger.exception("could not record %d late outcomes; the relay will recover them", len(done))
                    connection.close()


_pool: tuple[int, ThreadPoolExecutor] | None = None
_late: tuple[int, _LateRecorder] | None = None
_pool_lock = threading.Lock()


def _late_recorder() -> _LateRecorder:
    global _late
    with _pool_lock:
        if _late is None or _late[0] != os.getpid():
            _late = (os.getpid(), _LateRecorder())
        return _late[1]


def _executor() -> ThreadPoolExecutor:
    """The process's sending threads (made in the process that uses them: never across a fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(max_workers=settings.DELIVERY_SEND_THREADS,
                                                     thread_name_prefix="cvi-send"))
        return _pool[1]
