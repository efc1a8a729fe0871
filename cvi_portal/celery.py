import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvi_portal.settings")

app = Celery("cvi_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_before_fork(**_kwargs) -> None:
    """Build the URL resolver in the worker's main process, before the pool forks: every
    message links back to the portal (`reverse`), and importing every app's URLs costs about
    0.8 s, which each child would otherwise pay on the first notification it sends."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the property imports the URLconf)
