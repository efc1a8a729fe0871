"""The embedded default as a user runs it: SQLite, tasks in-process, a web server and the
outbox relay writing the same file at once.

Nothing here uses the pytest-django test database. A fresh SQLite file is migrated in a
temporary directory; `runserver` and `outbox_relay` run as subprocesses with neither
DATABASE_URL nor REDIS_URL set, exactly as `make demo` starts them; the test talks to them
over HTTP and reads the file with sqlite3.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ENGLEWOOD_POINT

pytestmark = pytest.mark.sqlite

BASE_DIR = Path(__file__).resolve().parent.parent
INCIDENTS = 20
TOKEN = "cvu_" + "e" * 40  # noqa: S105 - a token for this throwaway database only

# The cast the posts need: a CPD desk user with an API token, and an organisation covering
# Englewood whose on-call worker gets the notification in the app and by email, plus the
# organisation's shared email list. Email is the console backend, so every send is real.
SEED = f"""
from django.contrib.auth import get_user_model
from datetime import timedelta
from django.utils import timezone
from districts.models import UserToken
from districts.services import token_digest
from districts.loaders import load_geography, load_organizations
from districts.models import Channel, District, Membership, OnCall, Organization, Role
load_geography(); load_organizations()
User = get_user_model()
desk = User.objects.create_user("desk", email="desk@example.org")
Membership.objects.create(user=desk, role=Role.CPD_STAFF, district=District.objects.get(number="007"))
UserToken.objects.create(user=desk, key_prefix="{TOKEN}"[:10], key_hash=token_digest("{TOKEN}"),
                         password_stamp=desk.get_session_auth_hash(), expires_at=timezone.now() + timedelta(days=1))
org = Organization.objects.get(name="Public Equity")
worker = User.objects.create_user("worker", email="worker@example.org")
Membership.objects.create(user=worker, role=Role.OUTREACH_WORKER, organization=org)
OnCall.objects.create(organization=org, user=worker, tier=OnCall.Tier.PRIMARY)
Channel.objects.create(organization=org, user=worker, kind=Channel.Kind.IN_APP, target="worker")
Channel.objects.create(organization=org, user=worker, kind=Channel.Kind.EMAIL, target="worker@example.org")
Channel.objects.create(organization=org, kind=Channel.Kind.EMAIL, target="dispatch@example.org", is_fallback=True)
"""


def embedded_env(var_dir: Path) -> dict:
    """The environment of `make demo`: no database or Redis URL, the var dir in tmp."""
    env = {key: value for key, value in os.environ.items() if key not in {"SITE_URL", "PORTAL_PORT"}}
    # Empty, not unset, so a .env file next to manage.py cannot fill them in either.
    env.update({"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": "",
                "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", "CVI_VAR_DIR": str(var_dir), "DEBUG": "true",
                "PYTHONUNBUFFERED": "1"})
    return env


def manage(env: dict, *args: str) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(env: dict, log: Path, *args: str) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def wait_for(check, what: str, *, deadline: float = 120.0):
    end = time.monotonic() + deadline
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.3)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return response.status == 200
    except OSError:
        return False


def post_incident(url: str, number: int) -> tuple[int, str]:
    payload = {
        "rd_number": f"JZ7{number:05d}",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=15)).isoformat(),
        "block": "6300 S HALSTED ST", "latitude": ENGLEWOOD_POINT[0], "longitude": ENGLEWOOD_POINT[1],
        "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}],
        "scene_status": "active", "note": "Posted at the same moment as nineteen others.",
    }
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST", headers={  # noqa: S310
        "Content-Type": "application/json", "Authorization": f"Token {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 - our own server
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def embedded(tmp_path):
    """A migrated, seeded SQLite file with runserver and the relay running on it."""
    env = embedded_env(tmp_path / "var")
    manage(env, "migrate", "--no-input")
    manage(env, "shell", "-c", SEED)
    port = free_port()
    processes = [
        start(env, tmp_path / "web.log", "runserver", "--noreload", f"127.0.0.1:{port}"),
        start(env, tmp_path / "relay.log", "outbox_relay", "--poll", "1"),
    ]
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "runserver to answer")
        yield {"url": f"http://127.0.0.1:{port}", "db": tmp_path / "var" / "db.sqlite3", "logs": tmp_path}
    finally:
        for process in processes:
            stop(process)


def test_twenty_incidents_posted_at_once_all_succeed_and_are_all_sent_with_the_relay_running(embedded):
    url, db = embedded["url"] + "/api/v1/incidents/", embedded["db"]
    barrier = threading.Barrier(INCIDENTS)
    results: dict[int, tuple[int, str]] = {}

    def send(number: int) -> None:
        barrier.wait()
        results[number] = post_incident(url, number)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(INCIDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failures = {n: result for n, result in results.items() if result[0] != 201}
    errors = [line for line in (embedded["logs"] / "web.log").read_text().splitlines() if "Error" in line]
    assert not failures, (f"{len(failures)} of {INCIDENTS} failed", sorted(failures), errors[-6:])
    assert len(rows(db, "SELECT id FROM notifications_incident WHERE rd_number LIKE 'JZ7%'")) == INCIDENTS

    def everything_sent():
        per_incident = rows(db, """
            SELECT i.rd_number, COUNT(DISTINCT n.id), COUNT(d.id), SUM(d.status IN ('sent', 'delivered'))
            FROM notifications_incident i
            JOIN notifications_notification n ON n.incident_id = i.id
            JOIN notifications_delivery d ON d.notification_id = n.id
            WHERE i.rd_number LIKE 'JZ7%' GROUP BY i.rd_number""")
        return len(per_incident) == INCIDENTS and all(total == sent for _, _, total, sent in per_incident) \
            and per_incident

    per_incident = wait_for(everything_sent, "every delivery to be sent")
    for rd_number, notifications, deliveries, _ in per_incident:
        # Public Equity at least; its worker in the app and by email, and its shared list.
        assert notifications >= 1 and deliveries >= 3, rd_number
    kinds = {kind for (kind,) in rows(db, "SELECT DISTINCT kind FROM notifications_delivery")}
    assert {"in_app", "email"} <= kinds
