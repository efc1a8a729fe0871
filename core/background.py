"""A process's own background thread that runs one function after each wake.

`Coalescing(fn, name=...)` starts a daemon thread that runs `fn()` whenever `wake()` was called
since its last run. Wakes that arrive while `fn` runs coalesce into one more run, so a burst of
wakes never builds a backlog, and the caller of `wake()` never waits for `fn` (a request thread
can hand slow work to it). `fn` runs on the thread's own database connection, which the thread
checks before each run (CONN_MAX_AGE, health checks) and closes when a run fails or the thread
stops. `flush(timeout)` waits until every wake made before it has been served; `stop()` ends
the thread after its current run.

`PerProcess(factory)` keeps one instance a process, made again if its thread has ended: a
child forked after the parent made one (gunicorn's workers, Celery's pool) makes its own on
first use, since threads do not survive a fork. Its `flush(timeout)` and `stop()` touch only
the instance this process made, so a flush registered with `atexit` (inherited by a forked
child) never waits on a parent's thread.
"""

import logging
import os
import threading
from collections.abc import Callable

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 30  # an idle thread looks at its connection's age this often


class Coalescing:
    def __init__(self, fn: Callable[[], None], *, name: str) -> None:
        self.fn, self.name = fn, name
        self.requested = self.served = 0
        self.stopping = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def wake(self) -> None:
        with self.changed:
            self.requested += 1
            self.changed.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until the wakes made so far are served or the thread has ended; False if
        `timeout` seconds passed first."""
        with self.changed:
            wanted = self.requested
            return self.changed.wait_for(lambda: self.served >= wanted or not self.thread.is_alive(), timeout)

    def stop(self, timeout: float = 5.0) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        self.thread.join(timeout)

    def _loop(self) -> None:
        try:
            while True:
                with self.changed:
                    due = self.changed.wait_for(lambda: self.requested > self.served or self.stopping,
                                                timeout=IDLE_CHECK_SECONDS)
                    if self.stopping:
                        return
                    serving = self.requested
                if not due:
                    close_old_connections()  # idle: let CONN_MAX_AGE end the connection
                    continue
                try:
                    close_old_connections()
                    self.fn()
                except Exception:
                    logger.exception("%s: a run failed", self.name)
                    connection.close()
                with self.changed:
                    self.served = serving
                    self.changed.notify_all()
        finally:
            connection.close()
            with self.changed:
                self.changed.notify_all()


class PerProcess:
    def __init__(self, factory: Callable[[], Coalescing]) -> None:
        self.factory = factory
        self.made: tuple[int, Coalescing] | None = None
        self.lock = threading.Lock()
        # A fork copies the lock as it is: held, if another thread was in get() at that moment.
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        self.lock = threading.Lock()
        self.made = None

    def get(self) -> Coalescing:
        with self.lock:
            if self.made is None or self.made[0] != os.getpid() or not self.made[1].thread.is_alive():
                self.made = (os.getpid(), self.factory())
            return self.made[1]

    def _mine(self) -> Coalescing | None:
        with self.lock:
            made = self.made
        return made[1] if made is not None and made[0] == os.getpid() else None

    def flush(self, timeout: float) -> bool:
        """Wait for this process's instance to serve its wakes (True when it has none)."""
        mine = self._mine()
        return mine.flush(timeout) if mine is not None else True

    def stop(self) -> None:
        """Stop this process's instance, if it made one (tests; a process shutting down)."""
        mine = self._mine()
        with self.lock:
            self.made = None
        if mine is not None:
            mine.stop()
