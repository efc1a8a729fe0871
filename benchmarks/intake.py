"""bench-notify's intake section: `POST /api/v1/incidents/` on the production shape (gunicorn as
the Procfile runs it, DEBUG off, the real geography and organisations loaded, a CPD user's
token) against the same server's bare POST (benchmarks/web_floor.py), alternating one of each
so both see the same machine.
"""

import io
import json
import subprocess
import time
from datetime import timedelta

import requests

from benchmarks import procs

# What `make stack` loads (the Makefile), each idempotent.
STACK_LOADERS = ("load_geography", "load_organizations", "load_partners", "load_playbooks", "load_places")
# The CPD user is 7th District staff: shootings in Englewood (S Halsted St & W 63rd St), where
# the loaded organisations are routed.
DISTRICT = "007"
POINT = (41.7796, -87.6446)


def production_shape() -> str:
    """Load what `make stack` loads and return a CPD staff user's API token."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from districts.models import District, Membership, Role
    from districts.services import user_token_create

    from .web_floor import CREATE_TABLE

    for command in STACK_LOADERS:
        call_command(command, verbosity=0, stdout=io.StringIO())  # each prints its summary
    user, _ = get_user_model().objects.get_or_create(username="bench.cpd")
    Membership.objects.update_or_create(user=user, defaults={
        "role": Role.CPD_STAFF, "organization": None, "district": District.objects.get(number=DISTRICT)})
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    return user_token_create(user=user)[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        try:
            requests.get(url + "/healthz", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within a minute")


def measure(*, env: dict, samples: int) -> dict:
    """p-values of the API POST and the bare POST, plus the web processes' peak RSS."""
    from django.utils import timezone

    token = production_shape()
    port = procs.free_port()
    web = procs.start(procs.web_argv(port=port), {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.web_floor_settings",
                                                   # the benchmark posts faster than a user would
                                                   "API_RATE_USER": "1000000/min"})
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    headers = {"Authorization": f"Token {token}", "content-type": "application/json"}
    api, bare = [], []
    try:
        wait_ready(base, web)
        for n in range(samples + 10):  # the first ten warm both up
            body = json.dumps({
                "occurred_at": (timezone.now() - timedelta(minutes=3)).isoformat(), "block": "6300 S HALSTED ST",
                "latitude": POINT[0], "longitude": POINT[1], "note": "benchmark",
                "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}]})
            started = time.perf_counter()
            answer = session.post(base + "/api/v1/incidents/", data=body, headers=headers, timeout=30)
            took = time.perf_counter() - started
            if answer.status_code != 201:
                raise SystemExit(f"the API answered {answer.status_code}: {answer.text[:300]}")
            started = time.perf_counter()
            floor = session.post(base + "/bench/bare-post/", data=body, headers=headers, timeout=30)
            floor_took = time.perf_counter() - started
            if floor.status_code != 201:
                raise SystemExit(f"the bare POST answered {floor.status_code}")
            if n >= 10:
                api.append(took)
                bare.append(floor_took)
        rss = procs.peak_rss_mb("web", web.pid)
    finally:
        procs.stop(web)
    return {"api": api, "bare": bare, "rss": rss}
