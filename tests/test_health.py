"""Liveness and readiness, as a load balancer and an on-call engineer read them."""

import socket
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from cvi_portal.health import CANARY_KEY
from notifications.models import Delivery
from notifications.tasks import worker_canary

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def no_canary():
    cache.delete(CANARY_KEY)
    yield
    cache.delete(CANARY_KEY)


def test_healthz_answers_without_login_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_with_the_database_redis_and_an_empty_outbox(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis", "worker", "outbox"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_is_503_naming_redis_when_redis_does_not_answer(client):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["detail"].startswith("ConnectionError")
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["redis"]


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_readyz_is_503_until_a_worker_has_run_the_canary(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "detail": "no worker has run the canary"}

    worker_canary.apply()  # what beat asks a worker to do every minute
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["ok"] is True


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_readyz_is_503_when_the_last_canary_is_stale(client):
    cache.set(CANARY_KEY, time.time() - 600, timeout=None)
    response = client.get("/readyz")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker["ok"] is False and worker["age_seconds"] >= 600


def test_readyz_is_503_naming_the_outbox_when_a_due_delivery_is_stuck(client):
    Delivery.objects.create(kind="email", target="dispatch@example.org",
                            next_attempt_at=timezone.now() - timedelta(minutes=10))
    response = client.get("/readyz")
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["oldest_due_seconds"] >= 600


def test_a_delivery_due_a_moment_ago_does_not_make_the_portal_unready(client):
    Delivery.objects.create(kind="email", target="dispatch@example.org",
                            next_attempt_at=timezone.now() - timedelta(seconds=5))
    assert client.get("/readyz").status_code == 200


@override_settings(REDIS_URL="")
def test_readyz_in_embedded_mode_reports_redis_as_not_configured(client):
    body = client.get("/readyz").json()
    assert body["checks"]["redis"] == {"ok": True, "detail": "not configured (embedded mode)"}
