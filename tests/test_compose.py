"""docker-compose.yml, the Dockerfile and the container healthchecks.

No Docker engine runs here: Debian's docker-compose validates the file without one, and the
healthcheck script is run against a live server and the real Redis.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache

from cvi_portal.health import CANARY_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
PORTAL_SERVICES = {"web", "relay", "worker", "beat"}


def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail("docker-compose is not installed: run scripts/compose (or apt-get install docker-compose)")
    return path


@pytest.fixture(scope="module")
def compose(tmp_path_factory) -> dict:
    """The file as docker-compose resolves it, with .env.example standing in for .env."""
    workdir = tmp_path_factory.mktemp("compose")
    shutil.copy(BASE_DIR / "docker-compose.yml", workdir / "docker-compose.yml")
    shutil.copy(BASE_DIR / ".env.example", workdir / ".env")
    result = subprocess.run([docker_compose(), "-f", "docker-compose.yml", "config"], cwd=workdir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    quiet = subprocess.run([docker_compose(), "-f", "docker-compose.yml", "config", "-q"], cwd=workdir,
                           capture_output=True, text=True, timeout=60)
    assert (quiet.returncode, quiet.stdout) == (0, ""), quiet.stderr
    return yaml.safe_load(result.stdout)


def test_docker_compose_validates_the_file_and_it_has_the_whole_set(compose):
    assert set(compose["services"]) == {"db", "redis", "mailcatcher", "migrate", *PORTAL_SERVICES}


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if name != "migrate":
            assert service.get("healthcheck", {}).get("test"), name


def test_the_portal_processes_read_one_env_file_and_wait_for_migrations_and_services(compose):
    for name in PORTAL_SERVICES | {"migrate"}:
        service = compose["services"][name]
        # docker-compose resolved env_file into the environment: the .env values are there.
        assert service["environment"]["DATABASE_URL"] == "postgres://cvi:cvi@db:5432/cvi", name
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0", name
        assert service["environment"]["EMAIL_HOST"] == "mailcatcher", name
    for name in PORTAL_SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == depends["redis"]["condition"] == "service_healthy"


def test_the_services_run_the_same_processes_as_the_procfile(compose):
    commands = {name: " ".join(compose["services"][name]["command"]) for name in PORTAL_SERVICES}
    assert commands["web"].startswith("gunicorn cvi_portal.wsgi")
    assert commands["relay"] == "python manage.py outbox_relay"
    assert re.search(r"celery -A cvi_portal worker -Q notify,default\b", commands["worker"])
    assert commands["beat"].startswith("celery -A cvi_portal beat")
    procfile = dict(line.split(": ", 1) for line in (BASE_DIR / "Procfile").read_text().splitlines() if line)
    assert set(procfile) == {"web", "relay", "worker", "beat"}
    assert "manage.py outbox_relay" in procfile["relay"]
    assert "-Q notify,default" in procfile["worker"]


def test_the_image_is_built_from_the_lock_file_with_the_pinned_uv_and_collects_static_files():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "\nFROM python:3.12-slim\n" in dockerfile
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (BASE_DIR / "Makefile").read_text(), re.M)[1]
    assert f'"uv=={uv_version}"' in dockerfile
    assert dockerfile.count("uv sync --locked --no-dev") == 2
    assert "manage.py collectstatic --no-input" in dockerfile
    assert "\nUSER portal\n" in dockerfile
    ignored = (BASE_DIR / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", ".git", "db.sqlite3*"} <= set(ignored)


def healthcheck(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "cvi_portal.settings",
                   "DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"], **env}
    return subprocess.run([sys.executable, str(BASE_DIR / "scripts" / "healthcheck"), *args], env=environment,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.django_db
def test_the_web_healthcheck_passes_against_a_serving_portal_and_fails_when_nothing_listens(live_server):
    port = live_server.url.rsplit(":", 1)[1]
    assert healthcheck("http", "/healthz", PORT=port).returncode == 0
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = str(sock.getsockname()[1])
    result = healthcheck("http", "/healthz", PORT=closed)
    assert result.returncode == 1 and result.stderr.startswith("/healthz did not answer")


@pytest.mark.django_db
def test_the_beat_healthcheck_follows_the_worker_canary():
    cache.delete(CANARY_KEY)
    try:
        result = healthcheck("canary")
        assert result.returncode == 1 and "no worker has run the canary" in result.stderr
        cache.set(CANARY_KEY, time.time(), timeout=None)
        assert healthcheck("canary").returncode == 0
    finally:
        cache.delete(CANARY_KEY)


def test_the_worker_healthcheck_fails_when_no_worker_answers():
    result = healthcheck("worker")
    assert result.returncode == 1 and "did not answer a ping" in result.stderr


def test_an_unknown_healthcheck_prints_the_usage():
    result = healthcheck("nonsense")
    assert result.returncode == 2 and "healthcheck http [PATH]" in result.stderr


def test_the_portal_runs_with_debug_off_and_one_generated_secret_in_the_var_volume(compose):
    for name in PORTAL_SERVICES | {"migrate"}:
        environment = compose["services"][name]["environment"]
        assert environment["DEBUG"] == "false", name
        assert environment["SECRET_KEY_FILE"] == "/app/var/secret-key", name
        volumes = [v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}"
                   for v in compose["services"][name]["volumes"]]
        assert any(v.startswith("portal-var:/app/var") for v in volumes), (name, volumes)
    # The one-shot migrate writes the key before any long-running process starts.
    migrate = compose["services"]["migrate"]["command"]
    migrate = " ".join(migrate) if isinstance(migrate, list) else migrate
    assert "python scripts/secret-key /app/var/secret-key &&" in migrate
