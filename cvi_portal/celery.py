import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvi_portal.settings")

app = Celery("cvi_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _load_before_fork(**_kwargs) -> None:
    """Load in the worker's main process, before the pool forks, what every child would
    otherwise load on the first notification it sends: the URL resolver (every message links
    back to the portal; importing every app's URLs costs about 0.8 s), the message templates,
    the translation catalogues and the providers' client libraries."""
    import pywebpush  # noqa: F401
    import twilio.rest  # noqa: F401
    from django.urls import get_resolver

    from notifications.messages import messages_warm

    get_resolver().url_patterns  # noqa: B018 (the property imports the URLconf)
    messages_warm()
