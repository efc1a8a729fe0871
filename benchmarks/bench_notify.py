"""make bench-notify: incident commit → deliveries sent, through the real relay and Celery worker.

Starts its own redis-server (spare port), one outbox relay and one Celery worker (prefork,
concurrency 2, as in the Procfile) against DATABASE_URL (a benchmark database, created and
migrated if missing), and a local webhook receiver. One organisation with three members and a
webhook: every incident makes four deliveries (three in-app feed rows, one signed webhook).

1. Floor: a bare Celery round trip (publish → task runs → answer seen) and a bare INSERT.
2. Paced: --incidents incidents at --rate per second, each its own transaction as intake
   writes it; per incident, commit → first delivery sent and commit → all deliveries sent.
3. Burst: the same number committed in one transaction; from that commit to the last send,
   outbound deliveries (and incidents) per second: the relay's and worker's pace alone.
Peak RSS of relay, worker (all its processes) and this process. The last line is one JSON object.
"""

import argparse
import contextlib
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import ensure_database  # benchmarks/support.py (scripts run from benchmarks/)

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "bench_notify"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def peak_rss_kb(pid: int) -> int:
    """VmHWM of a process and its children (a prefork worker's pool)."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="paced incidents per second")
    parser.add_argument("--floor-samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (the Procfile runs 2)")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cvi_bench"
    ensure_database(database_url)
    redis_port = free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", "DATABASE_URL": database_url,
           "REDIS_URL": broker, "CELERY_BROKER_URL": broker, "CELERY_NOTIFY_QUEUE": QUEUE,
           "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    world = make_world(f"http://127.0.0.1:{receiver.server_address[1]}/hook")

    redis_server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
                                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                    stdout=subprocess.DEVNULL)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cvi_portal", "worker", "-P", "prefork", "-c", str(args.concurrency),
         "-Q", QUEUE, "--include", "benchmarks.floor", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "warning"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    relay = subprocess.Popen([sys.executable, "manage.py", "outbox_relay", "--no-escalation"], cwd=ROOT,
                             env={**env, "LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL)
    try:
        from benchmarks.floor import celery_round_trip, insert_round_trip

        celery_round_trip(broker_url=broker, queue=QUEUE, samples=5, wait=60)  # waits for the worker; warms it
        time.sleep(1)
        floor_celery = celery_round_trip(broker_url=broker, queue=QUEUE, samples=args.floor_samples)
        floor_insert = insert_round_trip(samples=args.floor_samples)
        paced = run(world, count=args.incidents, rate=args.rate)
        burst = run(world, count=args.incidents, rate=None)
        rss = {"relay_kb": peak_rss_kb(relay.pid), "worker_kb": peak_rss_kb(worker.pid),
               "bench_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    finally:
        # One at a time, in this order: a worker shutting down still acks its messages on Redis.
        for proc in (relay, worker, redis_server):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        receiver.shutdown()

    floor = statistics.median(floor_celery) + statistics.median(floor_insert)
    figures = {
        "benchmark": "notify",
        "incidents": args.incidents,
        "deliveries_per_incident": world["per_incident"],
        "paced_rate_per_s": args.rate,
        "worker_concurrency": args.concurrency,
        "commit_to_first_outbound_sent_ms": {"p50": ms(percentile(paced["first"], 50)),
                                    "p99": ms(percentile(paced["first"], 99))},
        "commit_to_all_sent_ms": {"p50": ms(percentile(paced["all"], 50)), "p99": ms(percentile(paced["all"], 99))},
        "burst_commit_to_all_sent_ms": {"p50": ms(percentile(burst["all"], 50)),
                                        "p99": ms(percentile(burst["all"], 99))},
        "burst_outbound_deliveries_per_s": round(burst["deliveries"] / burst["elapsed"], 1),
        "burst_incidents_per_s": round(args.incidents / burst["elapsed"], 1),
        "floor_ms": {"celery_round_trip_p50": ms(statistics.median(floor_celery)),
                     "celery_round_trip_p99": ms(percentile(floor_celery, 99)),
                     "insert_p50": ms(statistics.median(floor_insert)), "total_p50": ms(floor)},
        "breakdown_p50_ms": {"commit_to_task_start": ms(percentile(paced["commit_to_task_start"], 50)),
                             "task": ms(percentile(paced["task"], 50))},
        "ratio_all_sent_p50_to_floor": round(percentile(paced["all"], 50) / floor, 2),
        "peak_rss_mb": {k.removesuffix("_kb"): round(v / 1024, 1) for k, v in rss.items()},
        "cpus": os.cpu_count(),
    }
    figures["target_met"] = (figures["ratio_all_sent_p50_to_floor"] <= 3
                             and figures["commit_to_all_sent_ms"]["p99"] < 250)
    print(f"floor: Celery round trip p50 {figures['floor_ms']['celery_round_trip_p50']} ms, "
          f"INSERT p50 {figures['floor_ms']['insert_p50']} ms")
    first = figures["commit_to_first_outbound_sent_ms"]
    print(f"paced ({args.rate}/s): commit → first outbound sent p50 {first['p50']} ms, p99 {first['p99']} ms; "
          f"→ all sent p50 "
          f"{figures['commit_to_all_sent_ms']['p50']} ms, p99 {figures['commit_to_all_sent_ms']['p99']} ms "
          f"({figures['ratio_all_sent_p50_to_floor']}× the floor)")
    print(f"where (p50): commit → task start {figures['breakdown_p50_ms']['commit_to_task_start']} ms, "
          f"task {figures['breakdown_p50_ms']['task']} ms")
    print(f"burst ({args.incidents} incidents in one commit): {figures['burst_outbound_deliveries_per_s']} "
          f"webhook deliveries/s ({figures['burst_incidents_per_s']} incidents/s)")
    print(f"peak RSS MB: {figures['peak_rss_mb']}")
    print(json.dumps(figures))


def make_world(webhook_url: str) -> dict:
    from django.contrib.auth import get_user_model

    from districts.models import Channel, District, Membership, Organization, Role, webhook_secret_new
    from notifications.models import Incident, Notification

    district, _ = District.objects.get_or_create(number="007", defaults={"name": "Englewood"})
    organization, _ = Organization.objects.get_or_create(name="Benchmark Outreach", defaults={"short_name": "Bench"})
    Notification.objects.filter(organization=organization).delete()
    Incident.objects.filter(notifications__isnull=True, block__startswith="BENCH").delete()
    Channel.objects.filter(organization=organization).delete()
    Channel.objects.create(organization=organization, kind=Channel.Kind.WEBHOOK, target=webhook_url,
                           secret=webhook_secret_new())
    User = get_user_model()
    for n in range(3):
        user, _ = User.objects.get_or_create(username=f"bench.member{n}")
        Membership.objects.update_or_create(user=user, defaults={"role": Role.OUTREACH_WORKER,
                                                                 "organization": organization, "district": None})
    return {"district": district, "organization": organization, "per_incident": 4}


def run(world: dict, *, count: int, rate: float | None) -> dict:
    """Write `count` incidents (paced at `rate`/s, or back to back) and wait for every delivery."""
    from django.db import transaction
    from django.utils import timezone

    from notifications.models import Delivery, Incident, Notification
    from notifications.outbox import deliveries_create
    from notifications.relay import outbox_wake

    committed: dict[int, float] = {}
    started = time.time()

    def write(n: int) -> None:
        incident = Incident.objects.create(occurred_at=timezone.now(), block=f"BENCH {n} S HALSTED ST",
                                           district=world["district"], victim_count=1)
        notification = Notification.objects.create(incident=incident, organization=world["organization"])
        deliveries_create(notification=notification, purpose=Delivery.Purpose.NOTIFY)
        transaction.on_commit(lambda pk=incident.pk: committed.__setitem__(pk, time.time()))

    if rate is None:
        # The burst: every incident in one transaction, so the relay and worker (not this one
        # process writing incidents) set the pace from the commit on.
        with transaction.atomic():
            for n in range(count):
                write(n)
            transaction.on_commit(outbox_wake)
    for n in range(count if rate else 0):
        time.sleep(max(0.0, started + n / rate - time.time()))
        with transaction.atomic():
            write(n)
            transaction.on_commit(outbox_wake)
    rows = Delivery.objects.filter(notification__incident_id__in=committed)
    deadline = time.time() + 600
    while rows.exclude(status__in=[Delivery.Status.SENT, Delivery.Status.DELIVERED]).exists():
        if time.time() > deadline:
            raise SystemExit("deliveries still unsent after 10 minutes")
        time.sleep(0.1)
    # Feed rows are stamped sent inside the incident's transaction and become visible at its
    # commit, so they count as sent at the commit; "first" is the first message that left.
    sent: dict[int, list[float]] = {}
    outbound: dict[int, list[float]] = {}
    for incident_id, kind, sent_at in rows.values_list("notification__incident_id", "kind", "sent_at"):
        at = max(sent_at.timestamp(), committed[incident_id])
        sent.setdefault(incident_id, []).append(at)
        if kind != "in_app":
            outbound.setdefault(incident_id, []).append(at)
    last = max(max(v) for v in outbound.values())
    # Where the time goes, for outbound rows: commit → the task's claim (relay + broker + worker
    # pickup), and claim → sent (the task itself, transport included).
    to_claim, in_task = [], []
    for incident_id, claimed_at, sent_at in rows.exclude(kind="in_app").values_list(
            "notification__incident_id", "claimed_at", "sent_at"):
        to_claim.append(claimed_at.timestamp() - committed[incident_id])
        in_task.append((sent_at - claimed_at).total_seconds())
    return {
        "commit_to_task_start": to_claim,
        "task": in_task,
        "first": [min(outbound[pk]) - at for pk, at in committed.items()],
        "all": [max(sent[pk]) - at for pk, at in committed.items()],
        "deliveries": rows.exclude(kind="in_app").count(),
        "elapsed": last - min(committed.values()),
    }


if __name__ == "__main__":
    main()
