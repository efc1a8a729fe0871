"""Real processes for delivery tests: an own redis-server, a Celery worker and the outbox relay,
each a subprocess pointed at pytest-django's test database, plus a local webhook receiver.

Every process is started here and ended by its own process id. Tests using them need
`@pytest.mark.django_db(transaction=True)`: the subprocesses only see committed rows.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone

from notifications.models import Delivery, Incident, Notification
from notifications.services import incident_create
from tests.conftest import ENGLEWOOD_POINT

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "b_notify"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str | Callable[[], str] = "condition"):
    """`what` names the awaited condition in the failure; a callable is asked only then (for
    logs as they stand when the wait gave up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")


class RedisServer:
    """A throwaway redis-server on a spare loopback port (never the shared one)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/sbin/redis-server"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, timeout=10, what="redis-server")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>)."""
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(*, redis_url: str, **extra: str) -> dict:
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "cvi_portal.settings",
           "DATABASE_URL": database_url(),
           "REDIS_URL": redis_url,
           "CELERY_BROKER_URL": redis_url,
           "CELERY_NOTIFY_QUEUE": QUEUE,
           "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
           "OUTBOX_RETRY_BASE_MS": "200",
           "SMS_BACKEND": "console",
           "CONN_MAX_AGE": "60",  # persistent, as in production; stopped before the test database is dropped
           "LOG_LEVEL": "INFO",
           "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


class Service:
    """A subprocess whose output goes to a temporary log file, ended by its pid."""

    def __init__(self, name: str, argv: list[str], env: dict, ready: str | None = None) -> None:
        self.name, self.argv, self.env, self.ready = name, argv, env, ready
        self.log = Path(tempfile.mkstemp(prefix=f"cvi-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "Service":
        self.log.write_text("")
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        if self.ready:
            wait_until(lambda: self.ready in self.output() or self.proc.poll() is not None, timeout=timeout,
                       what=f"{self.name} to start")
            assert self.proc.poll() is None, f"{self.name} exited:\n{self.output()[-3000:]}"
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def celery_worker(env: dict, name: str = "b_worker") -> Service:
    """A worker with the production pool (the Procfile's): prefork children, each sending its
    batches on its own sending threads."""
    argv = [sys.executable, "-m", "celery", "-A", "cvi_portal", "worker", "-P", "prefork", "-c", "2", "-Q", QUEUE,
            "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]
    return Service(name, argv, env, ready="ready.")


def outbox_relay(env: dict, *, handover_timeout: float = 3, sending_timeout: float = 4, name: str = "relay",
                 escalate: bool = False) -> Service:
    argv = [sys.executable, "manage.py", "outbox_relay", "--poll", "0.5", "--handover-timeout", str(handover_timeout),
            "--sending-timeout", str(sending_timeout)] + ([] if escalate else ["--no-escalation"])
    return Service(name, argv, env, ready="outbox relay started")


class WebhookReceiver:
    """A local HTTP server standing in for an organisation's webhook endpoint. `plan` holds the
    status codes to answer with, in order (then 200 forever); `delay` holds a request that long;
    `hang()` holds every request until `release()` (or 30 s). Each received request records
    when it began and when it was answered (this process's monotonic clock)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.started = 0  # requests begun, answered or not
        self.begun: list[str] = []  # their webhook ids, in order
        self.plan: list[int] = []
        self.delay = 0.0
        self.held: threading.Event | None = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.started += 1
                receiver.begun.append(json.loads(body)["id"])
                began = time.monotonic()
                if receiver.held is not None:
                    receiver.held.wait(30)
                time.sleep(receiver.delay)
                status = receiver.plan.pop(0) if receiver.plan else 200
                receiver.received.append({"status": status, "headers": dict(self.headers), "body": body,
                                          "json": json.loads(body), "began": began, "answered": time.monotonic()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cvi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def hang(self) -> None:
        self.held = threading.Event()

    def release(self) -> None:
        if self.held is not None:
            self.held.set()

    def accepted_ids(self) -> list[str]:
        return [r["json"]["id"] for r in self.received if 200 <= r["status"] < 300]


def incident_notify(*, district, organization, block: str = "6300 S HALSTED ST", victims: int = 1,
                    note: str = "", point: tuple[float, float] = ENGLEWOOD_POINT) -> Notification:
    """A shooting entered as CPD enters one, through `incident_create` (geography from the
    point, routing, notifications, outbox rows, the wake after commit); returns the
    notification of `organization`, which must cover the place."""
    incident, _ = incident_create(
        actor=None, source=Incident.Source.API, occurred_at=timezone.now() - timedelta(minutes=2), block=block,
        latitude=point[0], longitude=point[1], note=note,
        victims=[{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}] * victims)
    assert incident.district_id == district.pk, f"the point is in district {incident.district.number}"
    return incident.notifications.select_related("organization", "incident").get(organization=organization)


class Stack:
    """An own redis-server, one Celery worker on queue b_notify and one outbox relay (none with
    `relay=False`: the committing process must hand its rows over itself)."""

    def __init__(self, worker_env: dict | None = None, *, relay: bool = True, **relay_options) -> None:
        self.with_relay = relay
        self.redis = RedisServer()
        self.worker_env = worker_env or {}
        self.relay_options = relay_options
        self.worker: Service | None = None
        self.relay: Service | None = None

    @property
    def env(self) -> dict:
        return process_env(redis_url=self.redis.url, **self.worker_env)

    def start(self) -> "Stack":
        self.redis.start()
        self.worker = celery_worker(self.env).start()
        if self.with_relay:
            self.relay_start()
        return self

    def relay_start(self) -> None:
        self.relay = outbox_relay(self.env, **self.relay_options).start()

    def restart_worker(self) -> None:
        self.worker = celery_worker(self.env).start()

    def stop(self) -> None:
        for service in (self.relay, self.worker):
            if service:
                service.stop()
        self.redis.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.output()[-4000:]}" for s in (self.relay, self.worker) if s)


def publish(redis_url: str, delivery_id: int, countdown: float | None = None) -> None:
    """Publish a deliver message straight to the broker, as the relay would (with `countdown`,
    one the worker takes at once and holds, unacknowledged, until it is due)."""
    from celery import Celery

    # set_as_current=False: a new app would otherwise become current_app, and every shared_task
    # in this process (the relay in later tests) would publish to this short-lived broker.
    app = Celery("tests", broker=redis_url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    app.send_task("notifications.tasks.deliver", args=(delivery_id,), queue=QUEUE, countdown=countdown)
    app.close()


def all_sent(notifications) -> bool:
    return not Delivery.objects.filter(notification__in=notifications).exclude(
        status__in=[Delivery.Status.SENT, Delivery.Status.DELIVERED]).exists()
