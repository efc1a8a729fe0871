"""The portal's settings with the benchmark's bare-POST URL in front (benchmarks/web_floor.py).
Only the benchmark's own gunicorn runs with these."""

from cvi_portal.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.web_floor"
