"""`make bench-pages`: what the outreach feed and the response form cost a phone on a slow network.

It builds a throwaway portal (SQLite in a temporary directory, the real Chicago geography, a
worker with five incidents), serves it with gunicorn as production would (DEBUG off, static
files collected and pre-compressed by WhiteNoise, HTML gzipped as the reverse proxy does), logs
in through the login page in Chromium, then opens each page in a fresh browser context (empty
cache, no service worker) under Chromium's network emulation (CDP
Network.emulateNetworkConditions) and 4× CPU throttling, and reports:

- transferred bytes (encoded body + headers, from CDP Network.loadingFinished) per page, and for
  the feed followed by the response form in one context (the issue's "first load" budget);
- time to first render (first-contentful-paint) and to the load event.

Figures are printed, never asserted. The last line of output is one JSON object.
`--screenshots DIR` also writes phone-width screenshots of the feed, an incident and the form.
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_BYTES = 100 * 1024
PASSWORD = "bench-password-2026"  # noqa: S105  (a throwaway database)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# Chrome DevTools' presets (bytes per second, round-trip latency in ms).
NETWORKS = {
    "slow-3g": {"latency": 2000, "downloadThroughput": 500 * 1000 / 8 * 0.8, "uploadThroughput": 500 * 1000 / 8 * 0.8},
    "fast-3g": {"latency": 562.5, "downloadThroughput": 1600 * 1000 / 8 * 0.9,
                "uploadThroughput": 750 * 1000 / 8 * 0.9},
}
SETTINGS = '''
from cvi_portal.settings import *  # noqa
# Served over plain HTTP on the loopback: the production cookie and redirect rules would stop the browser.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# The reverse proxy's gzip, so HTML is measured as a phone would receive it.
MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *MIDDLEWARE]
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_site(tmp: Path) -> dict:
    """A fresh database with geography, the cast and five incidents; returns the env and codes."""
    (tmp / "bench_settings.py").write_text(SETTINGS)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench_settings", "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}",
           "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}", "CVI_VAR_DIR": str(tmp / "var"), "DEBUG": "false",
           "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
    out = subprocess.run([sys.executable, __file__, "--seed"], env=env, check=True, cwd=ROOT,
                         capture_output=True, text=True)
    return {"env": env, **json.loads(out.stdout.strip().splitlines()[-1])}


def seed() -> None:
    """Runs inside the bench environment (`--seed`): prints {"incident": code} as JSON."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from districts.loaders import load_geography, load_organizations
    from districts.models import Beat, CommunityArea, District, Hospital, Membership, Organization, Role
    from notifications.models import Incident, Notification, Victim
    from notifications.state import notification_status_set
    from responses.models import FollowUp
    from responses.services import response_log

    list(load_geography())
    load_organizations()
    org = Organization.objects.get(name="Public Equity")
    users = {}
    for username, first, last, role in [("tasha", "Tasha", "Green", Role.OUTREACH_WORKER),
                                        ("luis", "Luis", "Ortega", Role.OUTREACH_SUPERVISOR)]:
        user = get_user_model().objects.create_user(username=username, password=PASSWORD, first_name=first,
                                                    last_name=last)
        Membership.objects.create(user=user, role=role, organization=org)
        users[username] = user
    district = District.objects.get(number="007")
    now = timezone.now()
    rows = [  # minutes ago, block, beat, community area, victims, hospital, what outreach did
        (6, "6700 S ASHLAND AVE", "0726", 67, [("20-29", "M", False)], "UCM", None),
        (41, "5900 S HALSTED ST", "0712", 68, [("0-19", "M", True), ("20-29", "M", False)], "UCM_COMER", "on_scene"),
        (190, "1100 W 63RD ST", "0722", 68, [("30-39", "F", False)], "STROGER", "respond"),
        (26 * 60, "7000 S RACINE AVE", "0733", 67, [("20-29", "M", False)], "UCM", "unable"),
        (50 * 60, "6500 S MAY ST", "0724", 68, [("40-49", "M", False)], None, "respond"),
    ]
    codes = []
    for minutes, block, beat, area, victims, hospital, done in rows:
        occurred = now - timedelta(minutes=minutes)
        incident = Incident.objects.create(
            occurred_at=occurred, block=block, district=district, beat=Beat.objects.filter(number=beat).first(),
            community_area=CommunityArea.objects.get(number=area),
            hospital=Hospital.objects.filter(code=hospital).first() if hospital else None,
            victim_count=len(victims), fatal_count=sum(v[2] for v in victims),
            scene_status="active" if minutes < 60 else "cleared")
        Victim.objects.bulk_create([Victim(incident=incident, age_band=a, sex=s, fatal=f) for a, s, f in victims])
        n = Notification.objects.create(incident=incident, organization=org, status="sent",
                                        first_sent_at=occurred + timedelta(minutes=4))
        Notification.objects.filter(pk=n.pk).update(created_at=occurred + timedelta(minutes=4))
        tasha = users["tasha"]
        if done == "on_scene":
            notification_status_set(notification=n, actor=tasha, source="web", status="on_scene",
                                    at=occurred + timedelta(minutes=19))
        elif done == "unable":
            notification_status_set(notification=n, actor=tasha, source="web", status="unable", reason="scene_held",
                                    at=occurred + timedelta(minutes=9))
        elif done == "respond":
            notification_status_set(notification=n, actor=tasha, source="web", status="at_hospital",
                                    at=occurred + timedelta(minutes=24))
            response_log(notification=n, actor=tasha, source="web", client_key=secrets.token_hex(16),
                         arrived_at=occurred + timedelta(minutes=24), response_types=["hospital", "family"],
                         referrals=[{"kind": "trauma", "count": 1}], people_engaged={"family": 4})
        codes.append(str(n.code))
    FollowUp.objects.create(organization=org, notification=Notification.objects.get(code=codes[2]),
                            task="Visit the family with the trauma counsellor", due_on=timezone.localdate(),
                            assigned_to=users["tasha"])
    print(json.dumps({"incident": codes[1], "new": codes[0]}))


def measure(browser, base: str, state: dict, paths: list[str], network: dict) -> dict:
    """Open `paths` one after another in one fresh context; bytes and paint times per page.

    Service workers are blocked here so every byte the page needs shows on the page's own
    network log; what the service worker fetches afterwards is `warm_up` below.
    """
    context = browser.new_context(storage_state=state, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True, service_workers="block")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    cdp.send("Network.emulateNetworkConditions", {"offline": False, **network})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    transferred = {"bytes": 0, "requests": 0}

    def finished(event):
        transferred["bytes"] += event["encodedDataLength"]
        transferred["requests"] += 1

    cdp.on("Network.loadingFinished", finished)
    results = []
    for path in paths:
        before = dict(transferred)
        page.goto(base + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        timing = page.evaluate("""() => {
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            const nav = performance.getEntriesByType('navigation')[0];
            return {fcp: paint ? paint.startTime : null, load: nav ? nav.loadEventEnd : null};
        }""")
        results.append({"path": path, "bytes": transferred["bytes"] - before["bytes"],
                        "requests": transferred["requests"] - before["requests"],
                        "first_render_ms": round(timing["fcp"] or 0), "load_ms": round(timing["load"] or 0)})
    context.close()
    return {"pages": results, "total_bytes": sum(r["bytes"] for r in results)}


def warm_up(browser, base: str, state: dict) -> dict:
    """Bytes the service worker fetches after the first feed load to make the feed and the
    newest incidents readable offline (on a normal connection; it happens after first render)."""
    context = browser.new_context(storage_state=state, viewport={"width": 390, "height": 844})
    fetched = {"bytes": 0, "requests": 0}

    def finished(request):
        if request.service_worker is not None:
            sizes = request.sizes()
            fetched["bytes"] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            fetched["requests"] += 1

    context.on("requestfinished", finished)
    page = context.new_page()
    page.goto(base + "/feed/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    last = -1
    for _ in range(50):  # until the page cache stops growing
        count = page.evaluate("caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
                              ".then(lists => lists.reduce((n, l) => n + l.length, 0))")
        if count == last:
            break
        last = count
        page.wait_for_timeout(300)
    context.close()
    return {**fetched, "cached_entries": last}


def screenshots(browser, base: str, state: dict, site: dict, out: Path) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(storage_state=state, viewport={"width": 390, "height": 844},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    shots = [("feed.png", "/feed/", False), ("response-incident.png", f"/n/{site['incident']}/", False),
             ("response-form.png", f"/n/{site['incident']}/respond/", False),
             ("response-form-full.png", f"/n/{site['incident']}/respond/", True)]
    written = []
    for name, path, full in shots:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=out / name, full_page=full)
        written.append(name)
    for name, path in [("response-followups.png", "/follow-ups/"),
                       ("response-incident-full.png", f"/n/{site['incident']}/")]:
        page.goto(base + path)
        page.screenshot(path=out / name, full_page=True)
        written.append(name)
    page.goto(base + "/feed/")
    page.locator("select[name=language]").select_option("es")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=out / "feed-es.png")
    written.append("feed-es.png")
    context.close()
    context = browser.new_context(storage_state=login_state(browser, base, "luis"),
                                  viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    for name, path in [("response-team.png", "/team/"), ("response-transparency.png", "/team/transparency/")]:
        page.goto(base + path)
        page.screenshot(path=out / name, full_page=True)
        written.append(name)
    context.close()
    return written


def login_state(browser, base: str, username: str) -> dict:
    """Sign in through the login page; the cookies to reuse in fresh contexts."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/feed/")
    state = context.storage_state()
    context.close()
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--screenshots", type=Path, help="write phone screenshots into this directory")
    parser.add_argument("--screenshots-only", action="store_true", help="skip the measurements")
    args = parser.parse_args()
    if args.seed:
        seed()
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="cvi-bench-pages-") as tmpdir:
        print("building a throwaway portal (geography, a worker, five incidents)…", flush=True)
        site = build_site(Path(tmpdir))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "cvi_portal.wsgi:application", "-b",
                                   f"127.0.0.1:{port}", "-w", "2", "--log-level", "warning"],
                                  env=site["env"], cwd=ROOT)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                state = login_state(browser, base, "tasha")
                feed, form = "/feed/", f"/n/{site['incident']}/respond/"
                figures = {"budget_bytes": BUDGET_BYTES}
                for name, network in ({} if args.screenshots_only else NETWORKS).items():
                    cold_feed = measure(browser, base, state, [feed], network)["pages"][0]
                    cold_form = measure(browser, base, state, [form], network)["pages"][0]
                    both = measure(browser, base, state, [feed, form], network)
                    figures[name] = {
                        "feed": cold_feed, "form": cold_form,
                        "feed_then_form_bytes": both["total_bytes"],
                        "within_budget": both["total_bytes"] <= BUDGET_BYTES,
                    }
                    print(f"{name}: feed {cold_feed['bytes'] / 1024:.1f} KB in {cold_feed['requests']} requests, "
                          f"first render {cold_feed['first_render_ms']} ms, load {cold_feed['load_ms']} ms; "
                          f"form {cold_form['bytes'] / 1024:.1f} KB, first render {cold_form['first_render_ms']} ms,"
                          f" load {cold_form['load_ms']} ms; feed then form "
                          f"{both['total_bytes'] / 1024:.1f} KB of the {BUDGET_BYTES // 1024} KB budget", flush=True)
                if not args.screenshots_only:
                    figures["service_worker_warm_up"] = warm_up(browser, base, state)
                    print(f"service worker warm-up after the first feed load: "
                          f"{figures['service_worker_warm_up']['bytes'] / 1024:.1f} KB in "
                          f"{figures['service_worker_warm_up']['requests']} requests", flush=True)
                if args.screenshots:
                    figures["screenshots"] = screenshots(browser, base, state, site, args.screenshots)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
