"""Bounds on one outbound HTTP call: a total deadline, a cap on the body read, bounded pools.

requests' `timeout=(connect, read)` bounds each socket operation, not the call: a receiver
that trickles a byte every few seconds (in its headers or its body) never trips it and would
hold a sending thread for ever. `send_deadline(seconds)` is the total bound: every socket the
call opens or reuses inside the block is registered with one watchdog thread, which shuts the
sockets down when the deadline passes, so the blocked read returns at once with an error and
`deadline_expired()` tells the caller why.

`DeadlineAdapter` is the HTTPAdapter whose connections register themselves (core.outbound's
pinned adapter builds on it; the Twilio client mounts it). `read_capped` reads a streamed
body up to a small cap and drops the connection rather than read a huge body.
"""

import contextlib
import heapq
import itertools
import socket
import threading
import time

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_local = threading.local()


class BodyTooLarge(Exception):
    """The answer's body is larger than the cap; the connection was dropped unread."""


class _Watch:
    """The sockets of one call and whether its deadline has passed."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.sockets: list[socket.socket] = []
        self.expired = self.done = False
        self.lock = threading.Lock()

    def attach(self, sock) -> None:
        with self.lock:
            if sock is None or self.done:
                return
            if self.expired:
                _shutdown(sock)
            else:
                self.sockets.append(sock)

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            for sock in self.sockets:
                _shutdown(sock)


def _shutdown(sock) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread for every deadline of the process (a Timer thread per send would cost a
    thread start per delivery)."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, _Watch]] = []
        self.order = itertools.count()
        self.wake = threading.Condition()
        self.thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self.wake:
            heapq.heappush(self.heap, (watch.at, next(self.order), watch))
            if self.thread is None or not self.thread.is_alive():  # first use, or after a fork
                self.thread = threading.Thread(target=self._run, name="http-deadline", daemon=True)
                self.thread.start()
            self.wake.notify()

    def _run(self) -> None:
        while True:
            with self.wake:
                while self.heap and self.heap[0][2].done:
                    heapq.heappop(self.heap)
                if not self.heap:
                    self.wake.wait()
                    continue
                delay = self.heap[0][0] - time.monotonic()
                if delay > 0:
                    self.wake.wait(delay)
                    continue
                watch = heapq.heappop(self.heap)[2]
            watch.fire()


_watchdog = _Watchdog()


@contextlib.contextmanager
def send_deadline(seconds: float):
    """Every HTTP call through a DeadlineAdapter inside the block ends by `seconds` from now."""
    watch, previous = _Watch(seconds), getattr(_local, "watch", None)
    _local.watch = watch
    _watchdog.add(watch)
    try:
        yield watch
    finally:
        with watch.lock:
            watch.done = True
        _local.watch = previous


def deadline_expired() -> bool:
    """True inside `send_deadline` once its deadline has passed."""
    watch = getattr(_local, "watch", None)
    return bool(watch and watch.expired)


def watched_socket(sock):
    """Register `sock` with the current `send_deadline` (if any) and return it: for clients
    other than requests (core.mail's SMTP connections)."""
    watch = getattr(_local, "watch", None)
    if watch is not None:
        watch.attach(sock)
    return sock


class _WatchedMixin:
    # A new connection registers its socket before the TLS handshake (a handshake can trickle
    # too); a kept-alive one registers when it is reused for a request.
    def _new_conn(self):
        return watched_socket(super()._new_conn())

    def request(self, *args, **kwargs):
        watched_socket(self.sock)
        return super().request(*args, **kwargs)


class _HTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections obey `send_deadline`. `pool_maxsize` should be the
    number of threads sending through it, so kept-alive connections are not thrown away."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def read_capped(response, cap: int) -> bytes:
    """The body of a `stream=True` response, at most `cap` bytes. A longer body raises
    BodyTooLarge and its connection is closed, not drained; a body read to its end leaves the
    connection to be kept alive."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        response.raw.close()
        raise BodyTooLarge
    body = bytearray()
    for chunk in response.iter_content(8192):
        body += chunk
        if len(body) > cap:
            response.raw.close()
            raise BodyTooLarge
    return bytes(body)
