# ruff: noqa: S603  (the commands are this script's own, with arguments it builds)
"""Start and stop the attacked stack: a fresh database, its own Redis, gunicorn, relay and worker.

Production settings (DEBUG off, a secret generated for this run, ALLOWED_HOSTS 127.0.0.1, HSTS and
secure cookies on); the client speaks plain HTTP on loopback and sends `X-Forwarded-Proto: https`
as the TLS proxy in front of a real deployment does. Only the per-user API rates are raised (the
attacker in most classes is a signed-in user and the limit is not what those classes test); the
anonymous and login rates stay as shipped, since brute force tests exactly those.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cvi_attack"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str) -> None:
    """Drop and create the database the URL names (the role needs CREATEDB)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                            password=parts.password, dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.close()


class Canary:
    """A loopback listener that counts every connection: a portal that calls an internal
    address the attacker planted connects here (TLS or not, the connection is the proof)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()

    def close(self):
        self.sock.close()


class Stack:
    def __init__(self, database_url: str, *, log_dir: Path | None = None):
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(18)
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="cvi-attack-"))
        self.procs: list[subprocess.Popen] = []
        self.canary = Canary()
        redis_port = free_port()
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", "DATABASE_URL": database_url,
                    "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                    "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0", "DEBUG": "false",
                    "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "127.0.0.1",
                    "PORTAL_PORT": str(self.port), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
                    "API_RATE_USER": "100000/min", "API_RATE_INTEGRATION": "100000/min",
                    "CVI_VAR_DIR": str(self.log_dir / "var")}
        self.redis_port = redis_port

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def start(self) -> dict:
        """Everything up and the world seeded; returns the seed's JSON (users, object codes)."""
        fresh_database(self.database_url)
        self._spawn("redis", [shutil.which("redis-server") or "redis-server", "--port", str(self.redis_port),
                              "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        manage = [sys.executable, "manage.py"]
        for step in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
            subprocess.run([*manage, *step], cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)
        seeded = subprocess.run([sys.executable, "-m", "security.attack.seed", self.password], cwd=ROOT, env=self.env,
                                check=True, capture_output=True, text=True)
        world = json.loads(seeded.stdout.strip().splitlines()[-1])
        # Web push configured as in production, so a drill really calls the subscribed endpoints.
        keys = subprocess.run([*manage, "vapid_keys"], cwd=ROOT, env=self.env, check=True, capture_output=True,
                              text=True).stdout
        self.env |= dict(line.split("=", 1) for line in keys.split() if "=" in line)
        bin_dir = Path(sys.executable).parent
        self._spawn("web", [str(bin_dir / "gunicorn"), "cvi_portal.wsgi", "--bind", f"127.0.0.1:{self.port}",
                            "--workers", "2", "--threads", "4", "--timeout", "60"])
        self._spawn("relay", [*manage, "outbox_relay"])
        self._spawn("worker", [str(bin_dir / "celery"), "-A", "cvi_portal", "worker", "-Q", "notify,default",
                               "-P", "prefork", "--concurrency", "2", "--without-gossip", "--without-mingle",
                               "-l", "warning"])
        self._wait_for_web()
        return world

    def _wait_for_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=2).read()  # noqa: S310  (loopback)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f}s; see {self.log_dir}/web.log")

    def stop(self) -> None:
        """Stop what this run started, by process id, newest first."""
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.canary.close()
