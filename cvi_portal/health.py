"""Liveness and readiness.

`/healthz` answers as long as the process serves requests. `/readyz` checks what a
notification needs: the database, Redis (when configured), a worker that ran its canary
recently, and an outbox whose oldest due delivery is not stuck. It returns 503 with the
failing checks named, so a load balancer or an on-call engineer sees why.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from notifications.models import Delivery
from notifications.tasks import CANARY_KEY

__all__ = ["CANARY_KEY", "healthz", "readyz"]  # CANARY_KEY: tests set and clear it
CANARY_MAX_AGE = 180  # seconds; beat runs the canary every 60
OUTBOX_MAX_AGE = 120  # seconds a due delivery may wait before the outbox counts as stuck


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _check_redis() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "detail": "not configured (embedded mode)"}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.ping()
    return {"ok": True}


def _check_worker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "detail": "tasks run in-process"}
    last = cache.get(CANARY_KEY)
    if last is None:
        return {"ok": False, "detail": "no worker has run the canary"}
    age = time.time() - float(last)
    return {"ok": age <= CANARY_MAX_AGE, "age_seconds": round(age, 1)}


def _check_outbox() -> dict:
    oldest = (
        Delivery.objects.filter(status=Delivery.Status.QUEUED, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {"ok": age <= OUTBOX_MAX_AGE, "oldest_due_seconds": round(age, 1)}


@never_cache
def readyz(request):
    checks = {}
    for name, check in [("database", _check_database), ("redis", _check_redis),
                        ("worker", _check_worker), ("outbox", _check_outbox)]:
        try:
            checks[name] = check()
        except Exception as error:  # a readiness probe reports every failure, never raises
            checks[name] = {"ok": False, "detail": f"{type(error).__name__}: {error}"[:200]}
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status=200 if ready else 503)
