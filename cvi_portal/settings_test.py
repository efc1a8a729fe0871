"""Test settings: the real PostgreSQL and Redis, fast hashing, mail kept in memory.

DATABASE_URL and REDIS_URL default to the local services so a bare `pytest` works; the
Makefile sets them explicitly. Celery runs eagerly here; tests of the delivery path start
real workers with their own settings (tests/workers.py).

CVI_TEST_DB=sqlite (make test's second run, `-m sqlite`) sets neither default: the tests then
run on the embedded default, SQLite and no Redis, with the test database in a file of its own
(not in memory, so threads and the WAL behave as they do for a user).
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ON_SQLITE = os.environ.get("CVI_TEST_DB") == "sqlite"
if ON_SQLITE:
    # Empty, not unset: a .env file next to manage.py fills in only what is not set at all.
    os.environ.update({"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""})
else:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cvi")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
    # pytest-xdist (make test runs `-n`): each worker has its own test database (pytest-django
    # names it test_<name>_gw<N>) and here its own Redis database, the given one plus N, so one
    # worker's cache.clear() or throttle counts never reach another's. Subprocesses a test starts
    # read the same variable.
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if _worker.startswith("gw"):
        _url = urlsplit(os.environ["REDIS_URL"])
        _db = (int(_url.path.strip("/") or 0) + int(_worker[2:])) % 16
        os.environ["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))

from .settings import *  # noqa: E402,F403

if ON_SQLITE:
    DATABASES["default"]["TEST"] = {"NAME": Path(tempfile.gettempdir()) / f"cvi-test-{os.getpid()}.sqlite3"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
SMS_BACKEND = "locmem"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Tests that run real workers leave the hand-over to their own relay unless they test the
# committing process's hand-over thread (tests/notifications/test_handover.py).
OUTBOX_HANDOVER_AT_COMMIT = False
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if not ON_SQLITE:
    # A second alias on the same test database, as a replica would be (core/replica.py). Reads
    # use it only where a test sets DATABASE_REPLICA_ALIAS (tests/reviews/test_replica.py).
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests sign in with `client.force_login(user)`, which passes no second factor and records no
# recent password: the tests of two-factor enforcement and of re-authentication before exports
# turn these on (tests/districts/test_login_security.py); every other test runs without them.
MFA_ENFORCED = False
EXPORT_REAUTHENTICATION = False
