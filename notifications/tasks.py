"""Celery tasks of the notifications app: thin, safe to run twice, all work in the services."""

import time
from collections import Counter

from celery import shared_task
from celery.signals import worker_init
from django.conf import settings
from django.core.cache import cache
from django.urls import get_resolver

from .messages import messages_warm
from .sending import deliveries_send, delivery_attempt

CANARY_KEY = "cvi:worker-canary"  # /readyz reads it (cvi_portal.health)
# Set in a Celery worker's main process before the fork. Its processes hand nothing over at
# commit (relay.outbox_wake): the pool's children end without running exit handlers.
worker_state = {"in_worker": False}


@worker_init.connect
def _load_before_fork(**_kwargs) -> None:
    """Load in the worker's main process, before the pool forks, what every child would
    otherwise load on the first notification it sends: the URL resolver (every message links
    back to the portal; importing every app's URLs costs about 0.8 s), the message templates,
    the translation catalogues and the providers' client libraries. Twilio's messages API is
    imported lazily by `client.messages` (about 0.9 s and 10 MB, under the import lock, so every
    sending thread of a child waited for it on the first shooting after a deploy): with Twilio
    configured it is imported here, once."""
    import pywebpush  # noqa: F401
    import twilio.rest  # noqa: F401

    if settings.SMS_BACKEND == "twilio":
        import twilio.rest.api.v2010.account  # noqa: F401

    get_resolver().url_patterns  # noqa: B018 (the property imports the URLconf)
    messages_warm()
    worker_state["in_worker"] = True


@shared_task(name="notifications.tasks.worker_canary", ignore_result=True)
def worker_canary() -> None:
    """Beat runs this every minute; /readyz reports how long ago a worker last ran it."""
    cache.set(CANARY_KEY, time.time(), timeout=None)


@shared_task(name="notifications.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> str:
    """Send one delivery. Safe to run twice: the claim inside makes a duplicate a no-op, and
    retries live in the row (`next_attempt_at`), not in Celery, so the relay owns the schedule."""
    return delivery_attempt(delivery_id=delivery_id)


@shared_task(name="notifications.tasks.deliver_batch", ignore_result=True)
def deliver_batch(delivery_ids: list[int]) -> str:
    """Send a batch the relay handed over, concurrently (notifications/sending.py). Safe to run
    twice like `deliver`. Returns a count of the outcomes, for the worker's log."""
    outcomes = Counter(deliveries_send(delivery_ids=list(delivery_ids)).values())
    return ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()))
