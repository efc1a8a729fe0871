"""The outbox relay: hands due deliveries to Celery, and re-hands the ones whose message got lost.

Delivery guarantee: AT LEAST ONCE. A delivery row is written in the incident's transaction, so
it exists if and only if the incident does. The relay claims due rows with
`SELECT … FOR UPDATE SKIP LOCKED`, stamps `claimed_at` and, after that commit, publishes one
Celery message per chunk of rows (`OUTBOX_HANDOVER_CHUNK` ids, or a small batch spread evenly over
`OUTBOX_HANDOVER_SPREAD` messages; each sent concurrently by one worker: notifications/sending.py).
Every way a message can vanish (the broker is down at publish time, Redis restarts empty, a
worker is killed before or while sending) leaves the row due or
`sending` in the database, and the relay hands it over again: at once when publishing failed,
after `handover_timeout` for a handed-over row nobody claimed, after `sending_timeout` for a
row whose worker died mid-send. So a message can be published twice; the task's conditional
claim (queued/failed → sending, which must update exactly one row) makes the second one a
no-op. The remaining window for a true duplicate send is a worker that sends and dies before
recording it, or a send slower than `sending_timeout`; transports' timeouts (10 s) stay well
below it, and webhook receivers drop duplicates by the `webhook-id`.

Two relays may run at once: SKIP LOCKED gives them disjoint batches and the claim stamp keeps
a row one relay handed over away from the other until it is stale.

The process that commits deliveries hands them over first (`OUTBOX_HANDOVER_AT_COMMIT`): after
the commit, `outbox_wake` wakes the process's hand-over thread, which runs the relay's own
round (`deliveries_hand_over`, the same claim) on its own database connection, so the first
send does not wait for the relay to be told and to wake. The request never waits for it: a
publish to a broker that refuses connections takes seconds (kombu's retries), and incident
entry must not wait for Redis (the house rule "nothing is enqueued from a web request" holds
for the request itself, which never touches the broker). The relay stays the guarantee: rows
the thread could not publish are released and the relay is told (NOTIFY), and a round that
fails (the database) tells it too; a process that exits before its thread ran leaves its rows
unclaimed for the relay's next poll; a row claimed and then lost with its process (killed, or
still publishing when the exit's wait ends) is handed over again after the hand-over timeout,
as a message lost in Redis is. Celery workers (follow-up reminders) only signal the relay:
their pool's children end without running exit handlers.
"""

import atexit
import contextlib
import logging
import select
import signal
import threading
import time
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from core.background import Coalescing, PerProcess

from . import tasks
from .delivery import delivery_dead_record
from .escalation import escalation_sweep
from .models import Delivery
from .outbox import DUE_STATUSES, NOTIFY_CHANNEL, due_deliveries, outbox_signal
from .tasks import deliver_batch

logger = logging.getLogger(__name__)

BATCH = 200
_in_process = threading.local()  # the embedded default: is this thread already relaying?


def _timeouts(handover: float | None, sending: float | None) -> tuple[timedelta, timedelta]:
    return (timedelta(seconds=settings.OUTBOX_HANDOVER_TIMEOUT if handover is None else handover),
            timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT if sending is None else sending))


def deliveries_hand_over(*, now: datetime | None = None, batch: int = BATCH,
                         handover_timeout: timedelta | None = None) -> tuple[int, bool]:
    """Claim up to `batch` due rows and publish them. Returns (handed over, broker ok).

    When publishing fails (the broker is down) the rows not yet published are released so
    the next loop retries them at once; nothing is lost and nothing waits for a timeout.
    """
    now = now or timezone.now()
    handover_timeout = handover_timeout or _timeouts(None, None)[0]
    ids = _claim(now=now, batch=batch, handover_timeout=handover_timeout)
    position = 0
    for chunk in handover_chunks(ids):
        try:
            # retry=False: fail fast; the database row is the retry.
            deliver_batch.apply_async(args=(chunk,), retry=False)
        except Exception as exc:  # kombu/redis raise several types for "broker unreachable"
            if settings.CELERY_TASK_ALWAYS_EAGER:
                raise
            logger.warning("broker unavailable (%s): %d deliveries stay due", type(exc).__name__,
                           len(ids) - position)
            Delivery.objects.filter(id__in=ids[position:], claimed_at=now).update(claimed_at=None)
            return position, False
        position += len(chunk)
    return len(ids), True


def handover_chunks(ids: list[int]) -> list[list[int]]:
    """The claimed ids as the messages that carry them. A batch that `OUTBOX_HANDOVER_SPREAD`
    worker processes can start at once (each its `DELIVERY_SEND_THREADS`) is split evenly into
    that many messages: one incident's fan-out is sent by them all together, not by one while
    the others wait for it to let go. A larger batch (a burst) goes in messages of
    `OUTBOX_HANDOVER_CHUNK`."""
    spread = -(-len(ids) // settings.OUTBOX_HANDOVER_SPREAD)  # ceiling division
    size = max(1, spread if spread <= settings.DELIVERY_SEND_THREADS else settings.OUTBOX_HANDOVER_CHUNK)
    return [ids[start:start + size] for start in range(0, len(ids), size)]


# PostgreSQL: claim and stamp in one statement (one round trip, its own transaction).
_CLAIM_SQL = """
UPDATE notifications_delivery SET claimed_at = %(now)s
WHERE id IN (
    SELECT id FROM notifications_delivery
    WHERE status = ANY(%(due)s) AND next_attempt_at <= %(now)s AND (claimed_at IS NULL OR claimed_at < %(stale)s)
    ORDER BY next_attempt_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def _claim(*, now: datetime, batch: int, handover_timeout: timedelta) -> list[int]:
    """Stamp up to `batch` due rows as handed over and return their ids, oldest due first.
    SKIP LOCKED: rows another relay is claiming right now are left to it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, {"now": now, "stale": now - handover_timeout, "batch": batch,
                                        "due": [str(s) for s in DUE_STATUSES]})
            return sorted(row[0] for row in cursor.fetchall())
    with transaction.atomic():  # SQLite (the embedded default): one writer at a time anyway
        ids = list(due_deliveries(now=now, handover_timeout=handover_timeout)
                   .order_by("next_attempt_at", "id").values_list("id", flat=True)[:batch])
        Delivery.objects.filter(id__in=ids).update(claimed_at=now)
    return ids


def deliveries_recover(*, now: datetime | None = None, sending_timeout: timedelta | None = None) -> int:
    """Give back rows stuck in `sending` because their worker died mid-send: due again, or dead
    if that was their last attempt. Returns how many were recovered."""
    now = now or timezone.now()
    sending_timeout = sending_timeout or _timeouts(None, None)[1]
    with transaction.atomic():
        stuck = list(Delivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("notification")
                     .filter(status=Delivery.Status.SENDING, claimed_at__lt=now - sending_timeout)[:BATCH])
        for delivery in stuck:
            if delivery.attempts >= delivery.max_attempts:
                delivery_dead_record(delivery=delivery, error="worker lost during the last attempt",
                                     attempts=delivery.attempts)
            else:
                Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(
                    status=Delivery.Status.QUEUED, claimed_at=None, next_attempt_at=now,
                    last_error="worker lost during the attempt")
    if stuck:
        logger.warning("recovered %d deliveries whose worker died mid-send", len(stuck))
    return len(stuck)


def relay_once(*, handover_timeout: float | None = None, sending_timeout: float | None = None,
               recover: bool = True) -> int:
    """One pass: recover stuck rows, then hand over due rows until a round finds none (so a
    fallback written while a round was being sent goes out in the same pass). Returns how many
    were handed over."""
    handover, sending = _timeouts(handover_timeout, sending_timeout)
    if recover:
        deliveries_recover(sending_timeout=sending)
    total = 0
    while True:
        handed, broker_ok = deliveries_hand_over(batch=BATCH, handover_timeout=handover)
        total += handed
        if not handed or not broker_ok:
            return total


def outbox_wake() -> None:
    """After a commit that wrote deliveries: register it with
    `transaction.on_commit(outbox_wake, robust=True)`, so that nothing a send does can turn the
    committed write into an error answer.

    With real workers it wakes this process's hand-over thread (`OUTBOX_HANDOVER_AT_COMMIT`,
    the module's docstring), or else signals the relay. With eager Celery (the embedded
    default, unit tests) it sends the due rows in this process. A wake while this thread is
    already relaying (a fallback queued during a send) returns at once: the running pass picks
    the new rows up, so the send never recurses into itself.
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        if settings.OUTBOX_HANDOVER_AT_COMMIT and not tasks.worker_state["in_worker"]:
            handover_thread.get().wake()
        else:
            outbox_signal()
        return
    if getattr(_in_process, "relaying", False):
        return
    _in_process.relaying = True
    try:
        relay_once()
    finally:
        _in_process.relaying = False


def _hand_over_committed() -> None:
    """The hand-over thread's run: one round, as the relay's. What it leaves due (the broker
    refused, more rows are due than a round takes, or the round failed) it tells the relay about."""
    try:
        handed, broker_ok = deliveries_hand_over()
    except Exception:
        with contextlib.suppress(Exception):  # the database itself may be what failed
            outbox_signal()
        raise
    if not broker_ok or handed >= BATCH:
        outbox_signal()


handover_thread = PerProcess(lambda: Coalescing(_hand_over_committed, name="cvi-hand-over"))
atexit.register(handover_thread.flush, 5.0)  # a process told to stop hands over what it committed


def broker_client_load() -> None:
    """Import the broker's client now, not on the first hand-over: kombu loads its transport
    and the Redis client on the first publish, about 0.3 s that the first shooting after a
    deploy would wait for. Opens no connection (the relay must start while Redis is down)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        deliver_batch.app.connection_for_write().close()


class Relay:
    """The loop behind `manage.py outbox_relay`: a pass, then wait for a NOTIFY or `poll` seconds.

    The escalation sweep runs here, not in Celery beat: it must run while Redis (beat's broker)
    is down, since its output is outbox rows that need no broker; the embedded demo has no beat;
    and this loop already wakes every second. Two relays sweep safely (SKIP LOCKED).
    """

    def __init__(self, *, poll: float = 1.0, handover_timeout: float | None = None,
                 sending_timeout: float | None = None, escalate: bool = True) -> None:
        self.poll, self.escalate = poll, escalate
        self.handover_timeout, self.sending_timeout = handover_timeout, sending_timeout
        self.stopping = False
        self.listener = None
        self.last_sweep = 0.0

    def stop(self, *_args) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("outbox relay started (poll %.1fs, %s)", self.poll,
                    "LISTEN/NOTIFY" if connection.vendor == "postgresql" else "polling only")
        broker_client_load()
        while not self.stopping:
            try:
                close_old_connections()
                self.pass_once()
            except Exception:
                logger.exception("relay pass failed; retrying")
                connection.close()
            self.wait()
        if self.listener is not None:
            self.listener.close()

    def pass_once(self) -> None:
        # A NOTIFY per incident can mean many passes a second; the sweeps for stuck rows and
        # escalations need not run more often than the poll.
        sweep = time.monotonic() - self.last_sweep >= self.poll
        if sweep:
            self.last_sweep = time.monotonic()
            if self.escalate:
                escalation_sweep()  # writes the steps' deliveries; the pass below hands them over
        relay_once(handover_timeout=self.handover_timeout, sending_timeout=self.sending_timeout, recover=sweep)

    def wait(self) -> None:
        """Sleep until a NOTIFY arrives or `poll` seconds pass (PostgreSQL), or just sleep."""
        if connection.vendor != "postgresql":
            time.sleep(self.poll)
            return
        try:
            listener = self._listen()
            for _ in listener.notifies(timeout=self.poll, stop_after=1):
                pass
            # Drain notifications that arrived together: one pass serves them all.
            while select.select([listener.fileno()], [], [], 0)[0]:
                if not list(listener.notifies(timeout=0.001, stop_after=50)):
                    break
        except Exception:
            logger.exception("LISTEN connection lost; polling until it is back")
            if self.listener is not None:
                self.listener.close()
            self.listener = None
            time.sleep(self.poll)

    def _listen(self):
        if self.listener is None or self.listener.closed:
            params = settings.DATABASES["default"]
            # libpq options from DATABASE_URL (sslmode, …); the others are Django's own.
            libpq = {k: v for k, v in params.get("OPTIONS", {}).items()
                     if k not in ("isolation_level", "assume_role", "server_side_binding", "pool")}
            self.listener = psycopg.connect(
                dbname=params["NAME"], user=params.get("USER") or None, password=params.get("PASSWORD") or None,
                host=params.get("HOST") or None, port=params.get("PORT") or None, autocommit=True, **libpq,
            )
            self.listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self.listener
