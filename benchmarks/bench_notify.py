"""make bench-notify: incident commit → deliveries sent, through the real relay and Celery workers.

Starts its own redis-server (spare port), the outbox relay and the Celery worker with the
Procfile's commands (benchmarks/procs.py: the worker's pool and concurrency are the Procfile's)
against DATABASE_URL (a benchmark database, created and migrated if missing), and local
stand-ins for every provider (benchmarks/standins.py). Sections (--sections picks some):

1. floor: a bare Celery round trip (publish → task runs → answer seen) and a bare INSERT.
2. paced: --incidents incidents at --rate per second to one organisation (three feed rows and a
   webhook that answers at once), each its own transaction as intake writes it; per incident,
   commit → first delivery sent and commit → all deliveries sent.
3. burst: the same number committed in one transaction; outbound deliveries per second from
   that commit to the last send.
4. realistic: incidents routed to five organisations, each with five on-call members on SMS
   (Twilio-shaped API), email (SMTP), web push and its shared webhook, email list and phone
   tree, every stand-in answering after 300 ms; commit → every delivery sent.
5. hanging: the same with the first organisation's webhook never answering (the portal's read
   timeout ends each try); the other organisations' commit → all sent.
6. scaleout: the burst again with two relays and three worker processes.
7. intake: API POST of an incident on gunicorn as the Procfile runs it (real geography and
   organisations, a CPD user's token), against the same server's bare POST writing four rows.
Peak RSS of every process. The last line is one JSON object.
"""

import argparse
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from support import ensure_database  # benchmarks/support.py (scripts run from benchmarks/)

ROOT = Path(__file__).resolve().parent.parent
QUEUE = "bench_notify"
SECTIONS = ("floor", "paced", "burst", "realistic", "hanging", "scaleout", "intake")
STANDIN_DELAY = 0.3


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def p50_p99(values: list[float]) -> dict:
    return {"p50": ms(percentile(values, 50)), "p99": ms(percentile(values, 99))}


class Stack:
    """`relays` outbox relays and `workers` Celery workers, started with the Procfile's commands."""

    def __init__(self, env: dict, *, relays: int = 1, workers: int = 1, label: str = "") -> None:
        from benchmarks import procs

        self.procs, self.label = procs, label
        self.workers = [procs.start(procs.worker_argv(queue=QUEUE, name=f"{label}worker{n}"), env)
                        for n in range(workers)]
        self.relays = [procs.start(procs.relay_argv(), {**env, "LOG_LEVEL": "WARNING"}) for _ in range(relays)]

    def rss(self) -> dict:
        figures = {}
        for kind, group in (("relay", self.relays), ("worker", self.workers)):
            for n, proc in enumerate(group):
                name = f"{self.label}{kind}" + (str(n + 1) if len(group) > 1 else "")
                figures.update(self.procs.peak_rss_mb(name, proc.pid))
        return figures

    def stop(self) -> None:
        self.procs.stop(*self.relays, *self.workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated, from {','.join(SECTIONS)} (the floor always runs)")
    parser.add_argument("--incidents", type=int, default=1000, help="paced and burst incidents")
    parser.add_argument("--rate", type=float, default=10.0, help="paced incidents per second")
    parser.add_argument("--floor-samples", type=int, default=200)
    parser.add_argument("--fanout-incidents", type=int, default=8, help="realistic and hanging incidents")
    parser.add_argument("--fanout-rate", type=float, default=0.5, help="realistic and hanging incidents per second")
    parser.add_argument("--fanout-wait", type=float, default=90,
                        help="seconds after the last commit before a fan-out section stops waiting")
    parser.add_argument("--intake-samples", type=int, default=200)
    args = parser.parse_args()
    sections = {s.strip() for s in args.sections.split(",") if s.strip()} | {"floor"}
    if unknown := sections - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    sys.path.insert(0, str(ROOT))
    from benchmarks.procs import free_port
    from benchmarks.standins import counts_fetch, vapid_private_key

    database_url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cvi_bench"
    ensure_database(database_url)

    redis_port = free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    # The providers' stand-ins run in their own process, as real providers are outside both the
    # portal's processes and this one (which writes the incidents and watches the rows).
    standins = subprocess.Popen([sys.executable, "-m", "benchmarks.standins", "--delay", str(STANDIN_DELAY)],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
    where = json.loads(standins.stdout.readline())
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cvi_portal.settings", "DATABASE_URL": database_url,
           "REDIS_URL": broker, "CELERY_BROKER_URL": broker, "CELERY_NOTIFY_QUEUE": QUEUE,
           "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "CVI_HTTPS": "false",
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT),
           # Every provider is a local stand-in, reached through the settings an operator uses.
           "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "PUSH_ALLOWED_HOSTS": "127.0.0.1",
           "SMS_BACKEND": "twilio", "TWILIO_API_BASE_URL": where["slow"], "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "TWILIO_AUTH_TOKEN": secrets.token_hex(16), "TWILIO_FROM_NUMBER": "+13125550000",
           "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(where["smtp_port"]), "VAPID_PRIVATE_KEY": vapid_private_key()}
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks import intake, worlds
    from benchmarks.floor import celery_round_trip, insert_round_trip

    call_command("migrate", verbosity=0)
    print(f"deleted {worlds.previous_runs_delete()} incidents of earlier runs", flush=True)
    simple = worlds.simple_world(f"{where['fast']}/hook/simple")
    redis_server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
                                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                    stdout=subprocess.DEVNULL)
    results: dict = {}
    rss: dict = {}
    started = time.time()
    stack = Stack(env)
    try:
        celery_round_trip(broker_url=broker, queue=QUEUE, samples=5, wait=60)  # waits for the worker; warms it
        time.sleep(1)
        results["floor_celery"] = celery_round_trip(broker_url=broker, queue=QUEUE, samples=args.floor_samples)
        results["floor_insert"] = insert_round_trip(samples=args.floor_samples)
        if "paced" in sections:
            results["paced"] = worlds.run(simple, count=args.incidents, rate=args.rate)
        if "burst" in sections:
            results["burst"] = worlds.run(simple, count=args.incidents, rate=None)
        if "realistic" in sections:
            world = worlds.fanout_world(where["slow"])
            results["realistic"] = worlds.run(world, count=args.fanout_incidents, rate=args.fanout_rate,
                                              wait=args.fanout_wait)
            results["realistic"]["outbound_per_incident"] = world["outbound_per_incident"]
        if "hanging" in sections:
            world = worlds.fanout_world(where["slow"], hanging=True)
            results["hanging"] = worlds.run(world, count=args.fanout_incidents, rate=args.fanout_rate,
                                            counted=world["organizations"][1:], wait=args.fanout_wait)
        rss.update(stack.rss())
        stack.stop()
        stack = None
        if "scaleout" in sections:
            stack = Stack(env, relays=2, workers=3, label="scaleout.")
            celery_round_trip(broker_url=broker, queue=QUEUE, samples=20, wait=60)  # every worker up and warm
            time.sleep(2)
            results["scaleout"] = worlds.run(simple, count=args.incidents, rate=None)
            rss.update(stack.rss())
            stack.stop()
            stack = None
        if "intake" in sections:
            measured = intake.measure(env=env, samples=args.intake_samples)
            results["intake"] = measured
            rss.update(measured["rss"])
        rss["bench"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        if stack:
            stack.stop()
        from benchmarks import procs

        procs.stop(redis_server)
        try:
            counted = counts_fetch(where["fast"])
        finally:
            procs.stop(standins)
    report(args, results, rss, simple, elapsed=time.time() - started, standins=counted)


def report(args, results: dict, rss: dict, simple: dict, *, elapsed: float, standins: dict) -> None:
    from benchmarks import procs

    floor_celery, floor_insert = results["floor_celery"], results["floor_insert"]
    floor = statistics.median(floor_celery) + statistics.median(floor_insert)
    worker_argv, _ = procs.worker_argv(queue=QUEUE, name="worker")
    figures: dict = {
        "benchmark": "notify",
        "incidents": args.incidents,
        "deliveries_per_incident": simple["per_incident"],
        "paced_rate_per_s": args.rate,
        "worker_command": " ".join(worker_argv[1:worker_argv.index("--include")]),
        "floor_ms": {"celery_round_trip_p50": ms(statistics.median(floor_celery)),
                     "celery_round_trip_p99": ms(percentile(floor_celery, 99)),
                     "insert_p50": ms(statistics.median(floor_insert)), "total_p50": ms(floor)},
    }
    targets: dict[str, bool] = {}
    lines = [f"floor: Celery round trip p50 {figures['floor_ms']['celery_round_trip_p50']} ms, "
             f"INSERT p50 {figures['floor_ms']['insert_p50']} ms; floor {ms(floor)} ms"]
    if paced := results.get("paced"):
        figures["commit_to_first_outbound_sent_ms"] = p50_p99(paced["first"])
        figures["commit_to_all_sent_ms"] = all_sent = p50_p99(paced["all"])
        figures["breakdown_p50_ms"] = {"commit_to_task_start": ms(percentile(paced["commit_to_task_start"], 50)),
                                       "task": ms(percentile(paced["task"], 50))}
        figures["ratio_all_sent_p50_to_floor"] = ratio = round(percentile(paced["all"], 50) / floor, 2)
        targets["paced_p50_within_2x_floor"] = ratio <= 2
        targets["paced_p99_under_100ms"] = all_sent["p99"] < 100
        first = figures["commit_to_first_outbound_sent_ms"]
        lines += [f"paced ({args.rate}/s): commit → first outbound sent p50 {first['p50']} ms, p99 {first['p99']} ms; "
                  f"→ all sent p50 {all_sent['p50']} ms ({ratio}× the floor; target 2×), "
                  f"p99 {all_sent['p99']} ms ({round(all_sent['p99'] / ms(floor), 1)}× the floor; target < 100 ms)",
                  f"where (p50): commit → task start {figures['breakdown_p50_ms']['commit_to_task_start']} ms, "
                  f"task {figures['breakdown_p50_ms']['task']} ms"]
    if burst := results.get("burst"):
        figures["burst_commit_to_all_sent_ms"] = p50_p99(burst["all"])
        figures["burst_outbound_deliveries_per_s"] = rate = round(burst["deliveries"] / burst["elapsed"], 1)
        figures["burst_incidents_per_s"] = round(args.incidents / burst["elapsed"], 1)
        targets["burst_at_least_500_per_s"] = rate >= 500
        lines.append(f"burst ({args.incidents} incidents in one commit): {rate} outbound deliveries/s "
                     f"(target ≥ 500/s; one Celery round trip each would allow {round(1 / floor)}/s per worker slot)")
    fanout_floor = floor + STANDIN_DELAY  # one send's floor: the round trip plus the stand-in's answer
    for key, name, label in (("realistic", "realistic_commit_to_all_sent_ms", "realistic fan-out"),
                             ("hanging", "hanging_others_commit_to_all_sent_ms", "one hanging receiver, the others")):
        if section := results.get(key):
            figures[name] = values = p50_p99(section["all"])
            figures[f"{key}_unsent_at_cut"] = section["unsent"]
            figures[f"{key}_each_ms"] = [ms(value) for value in section["all"]]  # in commit order
            targets[f"{key}_p99_under_1000ms"] = values["p99"] < 1000 and section["unsent"] == 0
            cut = f"; {section['unsent']} still unsent after {args.fanout_wait:g} s (lower bounds)" \
                if section["unsent"] else ""
            lines.append(f"{label} ({args.fanout_incidents} incidents at {args.fanout_rate}/s, "
                         f"{section['deliveries']} outbound sent): commit → all sent p50 {values['p50']} ms, "
                         f"p99 {values['p99']} ms ({round(values['p99'] / ms(fanout_floor), 1)}× one 300 ms send "
                         f"plus the floor; target p99 < 1,000 ms){cut}")
    if "realistic" in results:
        figures["realistic_outbound_per_incident"] = results["realistic"]["outbound_per_incident"]
    if scaleout := results.get("scaleout"):
        figures["scaleout_outbound_deliveries_per_s"] = rate = round(scaleout["deliveries"] / scaleout["elapsed"], 1)
        gain = f" ({round(rate / figures['burst_outbound_deliveries_per_s'], 2)}× the single stack)" \
            if "burst_outbound_deliveries_per_s" in figures else ""
        lines.append(f"scale-out (two relays, three workers): {rate} outbound deliveries/s{gain}")
    if taken := results.get("intake"):
        figures["intake_post_ms"] = post = p50_p99(taken["api"])
        figures["intake_floor_ms"] = bare = ms(statistics.median(taken["bare"]))
        figures["intake_floor_p99_ms"] = ms(percentile(taken["bare"], 99))
        figures["intake_ratio_p50_to_floor"] = ratio = round(post["p50"] / bare, 2)
        targets["intake_p50_within_3x_floor"] = ratio <= 3
        lines.append(f"intake (API POST on gunicorn, {args.intake_samples} samples): p50 {post['p50']} ms, "
                     f"p99 {post['p99']} ms; bare POST p50 {bare} ms, p99 {figures['intake_floor_p99_ms']} ms "
                     f"({ratio}× the floor; target 3×)")
    figures["peak_rss_mb"] = rss
    portal = max(v for k, v in rss.items() if k != "bench")  # the benchmark process itself is no portal process
    targets["every_process_under_150mb"] = portal < 150
    lines.append(f"peak RSS MB: {rss} (largest portal process {portal}, target < 150 each)")
    figures["standin_requests"] = standins
    figures["targets"] = targets
    figures["target_met"] = all(targets.values())
    figures["elapsed_s"] = round(elapsed, 1)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    figures["cpus"] = os.cpu_count()
    lines.append("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    print("\n".join(lines))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
