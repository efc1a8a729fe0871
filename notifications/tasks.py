import time

from celery import shared_task
from django.core.cache import cache

from cvi_portal.health import CANARY_KEY


@shared_task(name="notifications.tasks.worker_canary", ignore_result=True)
def worker_canary() -> None:
    """Beat runs this every minute; /readyz reports how long ago a worker last ran it."""
    cache.set(CANARY_KEY, time.time(), timeout=None)
