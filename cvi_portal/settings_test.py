"""Test settings: the real PostgreSQL and Redis, fast hashing, mail kept in memory.

DATABASE_URL and REDIS_URL default to the local services so a bare `pytest` works; the
Makefile sets them explicitly. Celery runs eagerly here; tests of the delivery path start
real workers with their own settings (tests/workers.py).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cvi")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
SMS_BACKEND = "locmem"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
