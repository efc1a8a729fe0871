"""make bench-dashboard: the monthly review's pages on ten years of a national-scale deployment.

Generates --incidents incidents (default 1,000,000) with their victims, about two notifications
each, --deliveries deliveries (default 5,000,000) and the response logs of the notifications
that responded, in its own PostgreSQL database (BENCH_DASHBOARD_DATABASE_URL, created if
missing, migrated, real geography and organisations loaded). The rows are written by set-based
SQL (INSERT … SELECT FROM generate_series) in one transaction, in the order a deployment
writes them (by when the shooting occurred), and reused by the next run while a marker table
says they are there at the size asked for (--regenerate forces a new set).

Then, in this process with Django's test client (so the figures are server time: URL routing,
views, queries, templates; no network, no browser):

- month view: /dashboard/?month=<last closed month> as an analyst (every district): headline
  figures, the twelve-month trends, the month's district and organisation tables;
- year view: the same page with its tables over the last twelve closed months
  (&month_from=…&month_to=…), the twelve-month view the dashboard offers;
- history: /history/ first page filtered to district 007 and a three-month date range;
- monthly API: /api/v1/reviews/monthly/<month>/?district=007 as 007's commander.

Each view: one cold request (the monthly summary table emptied first, so it computes and stores
the months it needs), --warmup requests, then --samples timed ones (p50, p95). The floor is a
bare aggregate over the same month of incidents, timed the same way. Peak RSS of this process
(the only one serving: the test client runs the views in it). The last line is one JSON object.
"""

import argparse
import csv
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "notifications" / "data" / "shooting_victimizations_2024-09_to_2026-08.csv"
YEARS = 10
HISTORY_DISTRICT = "007"
TARGET_MONTH_P95_MS, TARGET_ANY_P95_MS = 150, 300
# The tables the generator writes (and empties first), children before parents.
TABLES = ("responses_responselog", "notifications_delivery", "notifications_notification",
          "notifications_victim", "notifications_incident")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- the data --------------------------------------------------------------------------------

def places() -> tuple[list[tuple], dict]:
    """Where shootings happen: one (district, beat, community area) per RD number of the shipped
    CPD file, as ids (so the districts' shares are Chicago's); and per community area (and per
    district, for incidents without one) the organisations notified there, covering ones first."""
    from districts.models import Beat, CommunityArea, Coverage, District, Organization, normalise_district

    districts = dict(District.objects.values_list("number", "id"))
    beats = dict(Beat.objects.values_list("number", "id"))
    areas = {name.upper(): pk for name, pk in CommunityArea.objects.values_list("name", "id")}
    seen, rows = set(), []
    with SHIPPED.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["case_number"] in seen:
                continue
            seen.add(row["case_number"])
            try:
                district = districts[normalise_district(row["district"])]
            except (KeyError, ValueError):
                continue
            beat = beats.get(row["beat"].zfill(4))
            rows.append((district, beat, areas.get(row["community_area"].upper())))
    covering: dict[int, list[int]] = {}
    coverage = Coverage.objects.filter(community_area__isnull=False)
    for area, org in coverage.values_list("community_area", "organization"):
        covering.setdefault(area, []).append(org)
    everyone = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    by_district: dict[int, list[int]] = {}
    for district, _beat, area in rows:
        by_district.setdefault(district, [])
        by_district[district] += [org for org in covering.get(area, []) if org not in by_district[district]]
    lists = {}
    for district, _beat, area in rows:
        if area is not None and area not in lists:
            lists[area] = _padded(covering.get(area, []) + by_district[district], everyone)
    for district in districts.values():
        lists[-district] = _padded(by_district.get(district, []), everyone)
    return rows, lists


def _padded(first: list[int], everyone: list[int], size: int = 3) -> list[int]:
    out = list(dict.fromkeys(first))
    for org in everyone:
        if len(out) >= size:
            break
        if org not in out:
            out.append(org)
    return out[:size]


GENERATE_INCIDENTS = """
CREATE TEMP TABLE bench_gen_incident ON COMMIT DROP AS
WITH draws AS (
    SELECT i, random() AS r_place, random() AS r_beat, random() AS r_time, random() AS r_victims,
           random() AS r_fatal, random() AS r_fatal2, random() AS r_notified, random() AS r_ack,
           random() AS r_arrived, random() AS r_k1, random() AS r_k2, random() AS r_hospital,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z1,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z2,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z3,
           sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z4
    FROM generate_series(1, %(incidents)s) AS i
), placed AS (
    -- 97%% where the shipped file's shootings were; 3%% in any district (every one gets some).
    SELECT d.*, COALESCE(p.district_id, u.district_id) AS district_id, COALESCE(p.beat_id, b.beat_id) AS beat_id,
           p.community_area_id
    FROM draws d
    LEFT JOIN bench_gen_place p ON d.r_place < 0.97 AND p.idx = 1 + floor(d.r_beat * %(places)s)::int
    LEFT JOIN bench_gen_district u
           ON d.r_place >= 0.97 AND u.idx = 1 + floor((d.r_place - 0.97) / 0.03 * %(districts)s)::int
    LEFT JOIN bench_gen_beat b ON b.district_id = u.district_id AND b.idx = 1 + floor(d.r_beat * u.beats)::int
), clocked AS (
    SELECT p.*,
           %(start)s::timestamptz + (i - 1 + r_time) * %(step)s * interval '1 second' AS occurred,
           least(exp(ln(7) + 0.7 * z1), 240) * interval '1 minute' AS to_entered,
           least(exp(ln(0.5) + 0.8 * z2), 30) * interval '1 minute' AS to_sent,
           least(exp(ln(4) + 0.9 * z3), 180) * interval '1 minute' AS to_ack,
           least(exp(ln(25) + 0.5 * z4), 240) * interval '1 minute' AS to_arrived,
           1 + (r_victims >= 0.82)::int + (r_victims >= 0.95)::int + (r_victims >= 0.99)::int AS victims
    FROM placed p
)
SELECT i, district_id, beat_id, community_area_id, COALESCE(community_area_id, -district_id) AS org_key,
       occurred, occurred + to_entered AS entered,
       CASE WHEN r_notified < 0.96 THEN occurred + to_entered + to_sent END AS sent,
       CASE WHEN r_notified < 0.96 THEN occurred + to_entered + to_sent + (3 + r_k2 * 17) * interval '1 second'
       END AS confirmed,
       CASE WHEN r_notified < 0.96 AND r_ack < 0.85 THEN occurred + to_entered + to_sent + to_ack END AS ack,
       CASE WHEN r_notified < 0.96 AND r_ack < 0.85 AND r_arrived < 0.55
            THEN occurred + to_entered + to_sent + to_ack + to_arrived END AS arrived,
       victims,
       CASE WHEN r_fatal < 0.2 THEN least(victims, 1 + (r_fatal2 < 0.15)::int) ELSE 0 END AS fatal,
       -- Never notified: 2%% had a notification that failed, 2%% no covering organisation at all.
       CASE WHEN r_notified >= 0.98 THEN 0 ELSE 1 + (r_k1 < 0.6)::int + (r_k2 < 0.4)::int END AS told,
       CASE WHEN r_hospital < 0.6 THEN (%(hospitals)s::bigint[])[1 + floor(r_hospital / 0.6 * %(hospital_count)s)::int]
       END AS hospital_id
FROM clocked
"""

INSERT_INCIDENTS = """
INSERT INTO notifications_incident (id, code, rd_number, occurred_at, block, latitude, longitude, scene_status, note,
    source, victim_count, fatal_count, entered_at, first_sent_at, first_confirmed_at, acknowledged_at, arrived_at,
    updated_at, beat_id, community_area_id, district_id, entered_by_id, hospital_id)
SELECT i, gen_random_uuid(), 'BD' || lpad(i::text, 8, '0'), occurred,
       (100 * (1 + i %% 120))::text || (ARRAY[' S HALSTED ST', ' W MADISON AVE', ' S ASHLAND AVE', ' W 63RD ST',
                                                ' S COTTAGE GROVE AVE', ' W CHICAGO AVE', ' S KEDZIE AVE',
                                                ' W NORTH AVE'])[1 + i %% 8],
       NULL, NULL, 'cleared', '', 'web', victims, fatal, entered, sent, confirmed, ack, arrived,
       COALESCE(arrived, ack, confirmed, entered) + interval '1 minute',
       beat_id, community_area_id, district_id, NULL, hospital_id
FROM bench_gen_incident ORDER BY i
"""

INSERT_VICTIMS = """
INSERT INTO notifications_victim (age_band, sex, fatal, gunshot, incident_id)
SELECT (ARRAY['0-19', '20-29', '20-29', '30-39', '40-49', '50-59', '60+', 'unknown'])[1 + floor(random() * 8)::int],
       CASE WHEN random() < 0.86 THEN 'M' ELSE 'F' END, v <= g.fatal, true, g.i
FROM bench_gen_incident g CROSS JOIN LATERAL generate_series(1, g.victims) AS v ORDER BY g.i, v
"""

# The first organisation carries the incident's own clocks (the incident's are the firsts);
# the others are sent a few seconds later and acknowledge and arrive after it, or never.
INSERT_NOTIFICATIONS = """
INSERT INTO notifications_notification (id, code, kind, reason, created_at, status, status_at, unable_reason,
    first_sent_at, first_confirmed_at, acknowledged_at, acknowledged_via, arrived_at, responded, response_category,
    escalation_level, next_escalation_at, acknowledged_by_id, assigned_to_id, incident_id, organization_id,
    escalation_paged_level, simulated)
SELECT id, gen_random_uuid(), 'incident', 'community area coverage', created,
       CASE WHEN arrived IS NOT NULL THEN 'on_scene' WHEN ack IS NOT NULL AND r_unable < 0.1 THEN 'unable'
            WHEN ack IS NOT NULL THEN 'acknowledged' WHEN confirmed IS NOT NULL THEN 'delivered'
            WHEN sent IS NOT NULL THEN 'sent' ELSE 'failed' END,
       COALESCE(arrived, ack, confirmed, sent, created),
       CASE WHEN arrived IS NULL AND ack IS NOT NULL AND r_unable < 0.1 THEN 'no_capacity' ELSE '' END,
       sent, confirmed, ack,
       CASE WHEN ack IS NULL THEN '' ELSE (ARRAY['link', 'sms', 'app'])[1 + floor(r_unable * 3)::int] END,
       arrived, arrived IS NOT NULL AND r_responded < 0.9,
       CASE WHEN arrived IS NULL OR r_responded >= 0.9 THEN '' WHEN r_responded < 0.6 THEN 'scene' ELSE 'hospital' END,
       escalated, NULL, NULL, NULL, incident_id, organization_id,
       CASE WHEN escalated > 0 AND r_responded < 0.8 THEN 1 ELSE 0 END, false
FROM (
    SELECT n.*, CASE WHEN n.j = 0 THEN n.incident_arrived
                     WHEN n.ack IS NOT NULL AND n.r_arrive < 0.7 AND n.incident_arrived IS NOT NULL
                     THEN greatest(n.ack, n.incident_arrived) + random() * interval '10 minutes' END AS arrived,
           CASE WHEN n.sent IS NOT NULL AND (n.ack IS NULL OR n.ack > n.sent + interval '10 minutes')
                THEN 1 + (random() < 0.3)::int ELSE 0 END AS escalated
    FROM (
        SELECT g.i * 4 + j AS id, j, g.i AS incident_id, o.organization_id, g.entered AS created,
               g.arrived AS incident_arrived, random() AS r_unable, random() AS r_responded, random() AS r_arrive,
               CASE WHEN j = 0 THEN g.sent ELSE g.sent + j * (2 + random() * 10) * interval '1 second' END AS sent,
               CASE WHEN j = 0 THEN g.confirmed ELSE g.confirmed + j * (2 + random() * 10) * interval '1 second'
               END AS confirmed,
               CASE WHEN j = 0 THEN g.ack WHEN random() < 0.8 THEN g.ack + random() * interval '15 minutes' END AS ack
        FROM bench_gen_incident g
        CROSS JOIN LATERAL generate_series(0, g.told - 1) AS j
        JOIN bench_gen_orgs o ON o.org_key = g.org_key AND o.idx = j + 1
    ) n
) m
ORDER BY id
"""

# Exactly %(deliveries)s rows: every notification gets two (in-app, SMS) and `extra` of them,
# spread evenly, a third (email). A notification never sent has only dead rows.
INSERT_DELIVERIES = """
INSERT INTO notifications_delivery (code, kind, purpose, target, payload, status, attempts, max_attempts,
    next_attempt_at, claimed_at, created_at, sent_at, delivered_at, read_at, provider_id, last_error, channel_id,
    recipient_id, notification_id)
SELECT gen_random_uuid(), kind, 'notify', target, '{"message": "incident"}'::jsonb, status,
       CASE WHEN status = 'dead' THEN 5 ELSE 1 END, 5, NULL,
       CASE WHEN sent_at IS NOT NULL THEN sent_at - interval '50 milliseconds' END, created, sent_at,
       CASE WHEN status = 'delivered' THEN sent_at + (2 + r * 18) * interval '1 second' END,
       CASE WHEN kind = 'in_app' THEN ack END,
       CASE WHEN kind = 'sms' AND sent_at IS NOT NULL THEN 'SM' || notification_id || 'x' || d ELSE '' END,
       CASE WHEN status = 'dead' THEN 'permanent: the provider refused the number' ELSE '' END,
       NULL, NULL, notification_id
FROM (
    SELECT notification_id, created, ack, d, r, (ARRAY['in_app', 'sms', 'email'])[d] AS kind,
           CASE d WHEN 1 THEN '' WHEN 2 THEN '+1312555' || lpad((notification_id %% 10000)::text, 4, '0')
                  ELSE 'member' || notification_id %% 97 || '@outreach.invalid' END AS target,
           CASE WHEN sent IS NULL THEN 'dead' WHEN d = 1 THEN 'sent'
                WHEN r < 0.90 THEN 'delivered' WHEN r < 0.96 THEN 'sent' WHEN r < 0.99 THEN 'dead'
                ELSE 'cancelled' END AS status,
           CASE WHEN sent IS NULL OR (d > 1 AND r >= 0.96) THEN NULL
                ELSE sent + (d - 1) * r * interval '1 second' END AS sent_at
    FROM (
        SELECT n.id AS notification_id, n.created_at AS created, n.acknowledged_at AS ack,
               n.first_sent_at AS sent, d, random() AS r
        FROM (SELECT id, created_at, acknowledged_at, first_sent_at, row_number() OVER (ORDER BY id) AS rn
              FROM notifications_notification) n
        CROSS JOIN LATERAL generate_series(1, 2 + (floor(n.rn * %(extra)s::numeric / %(notifications)s)
                                                   - floor((n.rn - 1) * %(extra)s::numeric / %(notifications)s))::int)
                           AS d
    ) drawn
) x
ORDER BY notification_id, d
"""

INSERT_RESPONSES = """
INSERT INTO responses_responselog (code, client_key, created_at, source, arrived_at, response_types, people_engaged,
    retaliation_risk, follow_up_on, notes, created_by_id, notification_id, organization_id)
SELECT gen_random_uuid(), gen_random_uuid(), arrived_at + interval '45 minutes', 'web', arrived_at,
       CASE response_category WHEN 'hospital' THEN '["hospital", "family"]' ELSE '["scene", "canvass"]' END::jsonb,
       '{"victim": 1, "family": 2}'::jsonb,
       (ARRAY['none', 'low', 'low', 'medium', 'high', 'unknown'])[1 + floor(random() * 6)::int],
       NULL, '', NULL, id, organization_id
FROM notifications_notification WHERE responded ORDER BY id
"""


def generate(*, incidents: int, deliveries: int) -> dict:
    """Empty the tables and write the data set in one transaction; returns the counts."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.dates import month_boundaries, month_of
    from districts.models import Beat, District, Hospital

    rows, org_lists = places()
    districts = list(District.objects.order_by("number").values_list("pk", flat=True))
    beats: dict[int, list[int]] = {}
    for beat, district in Beat.objects.order_by("number").values_list("pk", "district"):
        beats.setdefault(district, []).append(beat)
    hospitals = list(Hospital.objects.order_by("pk").values_list("pk", flat=True))
    current = month_of(timezone.now())
    end = month_boundaries(*current)[0]  # the data ends where the current month starts
    start = month_boundaries(current[0] - YEARS, current[1])[0]
    step = (end - start).total_seconds() / incidents

    def run(cursor, label: str, sql: str, params=None) -> None:
        began = time.perf_counter()
        cursor.execute(sql, params or {})  # with parameters, so `%%` reads as `%` everywhere
        print(f"  {label}: {cursor.rowcount:,} rows in {time.perf_counter() - began:.1f} s", flush=True)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            # The rows are consistent by construction: skip the per-row foreign-key triggers.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}, reviews_monthlysummary RESTART IDENTITY CASCADE")
        # Secondary indexes are dropped and built again after the load: one sort each instead of
        # millions of insertions. Those behind constraints (primary keys, unique codes) stay.
        cursor.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN
                          (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))""", [list(TABLES)])
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("DROP TABLE IF EXISTS bench_gen_place, bench_gen_district, bench_gen_beat, bench_gen_orgs, "
                       "bench_gen_incident")
        cursor.execute("CREATE TEMP TABLE bench_gen_place (idx int PRIMARY KEY, district_id bigint, beat_id bigint, "
                       "community_area_id bigint) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bench_gen_place VALUES (%s, %s, %s, %s)",
                           [(n, *row) for n, row in enumerate(rows, 1)])
        cursor.execute("CREATE TEMP TABLE bench_gen_district (idx int PRIMARY KEY, district_id bigint, beats int) "
                       "ON COMMIT DROP")
        cursor.executemany("INSERT INTO bench_gen_district VALUES (%s, %s, %s)",
                           [(n, pk, len(beats.get(pk, []))) for n, pk in enumerate(districts, 1)])
        cursor.execute("CREATE TEMP TABLE bench_gen_beat (district_id bigint, idx int, beat_id bigint, "
                       "PRIMARY KEY (district_id, idx)) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bench_gen_beat VALUES (%s, %s, %s)",
                           [(d, n, b) for d, ids in beats.items() for n, b in enumerate(ids, 1)])
        cursor.execute("CREATE TEMP TABLE bench_gen_orgs (org_key bigint, idx int, organization_id bigint, "
                       "PRIMARY KEY (org_key, idx)) ON COMMIT DROP")
        cursor.executemany("INSERT INTO bench_gen_orgs VALUES (%s, %s, %s)",
                           [(key, n, org) for key, orgs in org_lists.items() for n, org in enumerate(orgs, 1)])
        cursor.execute("ANALYZE bench_gen_place, bench_gen_district, bench_gen_beat, bench_gen_orgs")
        cursor.execute("SELECT setseed(0.2017)")
        run(cursor, "draws", GENERATE_INCIDENTS, {
            "incidents": incidents, "places": len(rows), "districts": len(districts), "start": start,
            "step": step, "hospitals": hospitals, "hospital_count": len(hospitals)})
        run(cursor, "incidents", INSERT_INCIDENTS)
        run(cursor, "victims", INSERT_VICTIMS)
        run(cursor, "notifications", INSERT_NOTIFICATIONS)
        cursor.execute("SELECT count(*) FROM notifications_notification")
        notifications = cursor.fetchone()[0]
        extra = max(0, min(notifications, deliveries - 2 * notifications))
        run(cursor, "deliveries", INSERT_DELIVERIES, {"extra": extra, "notifications": notifications})
        run(cursor, "response logs", INSERT_RESPONSES)
        began = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        print(f"  {len(indexes)} indexes built in {time.perf_counter() - began:.1f} s", flush=True)
        # Ids were written explicitly: move the identity sequences past them.
        cursor.execute("SELECT setval(pg_get_serial_sequence('notifications_incident', 'id'), "
                       "(SELECT max(id) FROM notifications_incident))")
        cursor.execute("SELECT setval(pg_get_serial_sequence('notifications_notification', 'id'), "
                       "(SELECT max(id) FROM notifications_notification))")
        cursor.execute("SELECT count(*) FROM notifications_delivery")
        written = cursor.fetchone()[0]
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for table in (*TABLES, "reviews_monthlysummary"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")  # visibility map and statistics, as autovacuum would
    print(f"  vacuum and analyze: {time.perf_counter() - began:.1f} s", flush=True)
    return {"incidents": incidents, "notifications": notifications, "deliveries": written,
            "first_day": start.date().isoformat(), "end_day": end.date().isoformat()}


def data_set(*, incidents: int, deliveries: int, regenerate: bool) -> dict:
    """The generated data's description, generating it when it is missing or of another size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dashboard_data (id int PRIMARY KEY, figures jsonb NOT NULL)")
        cursor.execute("SELECT figures FROM bench_dashboard_data WHERE id = 1")
        row = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM notifications_incident")
        present = cursor.fetchone()[0]
    marker = json.loads(row[0]) if row and isinstance(row[0], str) else (row[0] if row else None)
    if (not regenerate and marker and marker["incidents"] == incidents == present
            and marker["deliveries"] == deliveries):
        print(f"reusing the generated data ({incidents:,} incidents, {marker['deliveries']:,} deliveries, "
              f"generated in {marker['generate_s']} s); --regenerate makes a new set", flush=True)
        return {**marker, "reused": True}
    print(f"generating {incidents:,} incidents and {deliveries:,} deliveries …", flush=True)
    began = time.perf_counter()
    figures = generate(incidents=incidents, deliveries=deliveries)
    figures["generate_s"] = round(time.perf_counter() - began, 1)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_dashboard_data VALUES (1, %s) "
                       "ON CONFLICT (id) DO UPDATE SET figures = EXCLUDED.figures", [json.dumps(figures)])
    print(f"generated in {figures['generate_s']} s", flush=True)
    return {**figures, "reused": False}


# --- the measurements ------------------------------------------------------------------------

def users():
    from django.contrib.auth import get_user_model

    from districts.models import District, Membership, Role

    User = get_user_model()
    analyst, _ = User.objects.get_or_create(username="bench.analyst")
    commander, _ = User.objects.get_or_create(username="bench.commander")
    Membership.objects.update_or_create(user=analyst, defaults={"role": Role.ANALYST, "district": None,
                                                                "organization": None})
    Membership.objects.update_or_create(user=commander, defaults={
        "role": Role.CPD_COMMANDER, "district": District.objects.get(number=HISTORY_DISTRICT), "organization": None})
    return analyst, commander


def timed(call, *, samples: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        timings.append(time.perf_counter() - began)
    return timings


def page(client, url: str):
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}:\n{response.content[:2000].decode()}")
        return response
    return get


def queries_of(call, top: int = 3) -> dict:
    """One call's queries: how many, their total time (ms) and the `top` slowest as (ms, SQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    ranked = sorted(((float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries), reverse=True)
    return {"queries": len(ranked), "db_ms": round(sum(took for took, _sql in ranked), 1), "slowest": ranked[:top]}


def profile_of(call, lines: int) -> str:
    """Where one call spends its time in Python: cProfile's top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # The portal's own functions by cumulative time (which read is slow), then every function by
    # its own time (waiting on PostgreSQL, or Python: templates, tables, charts).
    stats.sort_stats("cumulative").print_stats(r"/(reviews|core|districts|notifications)/", lines)
    stats.sort_stats("tottime").print_stats(max(lines // 2, 5))
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


def explain(sql: str, params=None) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def stamps_ensure() -> None:
    """The change stamps a deployment's services would have written (one per district and month,
    notifications.stamps), for a data set generated in SQL without them; idempotent."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""INSERT INTO notifications_figuresstamp (month, district_id, token, changed_at)
            SELECT date_trunc('month', occurred_at AT TIME ZONE 'America/Chicago')::date, district_id,
                   md5(min(id)::text || district_id::text), max(updated_at)
            FROM notifications_incident GROUP BY 1, 2
            ON CONFLICT (month, district_id) DO NOTHING""")
        if cursor.rowcount:
            print(f"  {cursor.rowcount} change stamps written", flush=True)
            cursor.execute("VACUUM (ANALYZE) notifications_figuresstamp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--deliveries", type=int, help="default: five per incident")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true", help="write a new data set even if one is there")
    parser.add_argument("--explain", type=int, default=3,
                        help="EXPLAIN ANALYZE the N slowest queries (of 20 ms or more) of each view")
    parser.add_argument("--profile", type=int, default=25,
                        help="lines of cProfile output for a view that misses its target (0: none)")
    args = parser.parse_args()
    deliveries = args.deliveries or 5 * args.incidents

    sys.path.insert(0, str(ROOT))
    from benchmarks.support import ensure_database

    database_url = (os.environ.get("BENCH_DASHBOARD_DATABASE_URL")
                    or "postgres://postgres@127.0.0.1:5432/cvi_bench_dashboard")
    ensure_database(database_url)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "cvi_portal.settings", "DATABASE_URL": database_url,
                       "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(60),
                       "ALLOWED_HOSTS": "testserver,127.0.0.1", "SECURE_SSL_REDIRECT": "false",
                       # The second factor is a sign-in step; what is timed is a signed-in request.
                       "MFA_ENFORCED": "false",
                       "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "600"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from core.dates import month_of, month_shift
    from reviews.models import MonthlySummary
    from reviews.selectors import Month

    call_command("migrate", verbosity=0)
    # DEBUG off reads the static files' manifest, as in production. Collected in a child process:
    # compressing them takes ~280 MB that is no part of serving a page.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], check=True, cwd=ROOT)
    with open(os.devnull, "w") as quiet:  # idempotent: "0 loaded, 23 unchanged" on a re-run
        call_command("load_geography", stdout=quiet)
        call_command("load_organizations", stdout=quiet)
    data = data_set(incidents=args.incidents, deliveries=deliveries, regenerate=args.regenerate)
    stamps_ensure()
    analyst, commander = users()

    from django.utils import timezone

    current = Month(*month_of(timezone.now()))
    month = Month(*month_shift(current.year, current.month, -1))  # the last closed month
    year_from = Month(*month_shift(month.year, month.month, -11))
    start, end = month.bounds
    history_from = date(*month_shift(month.year, month.month, -2), 1)  # three months, this one the last
    history_to = (end - timedelta(days=1)).date()
    views = {
        "month_view": (analyst, f"/dashboard/?month={month.label}"),
        "year_view": (analyst, f"/dashboard/?month={month.label}&month_from={year_from.label}&month_to={month.label}"),
        "history": (analyst, f"/history/?district={HISTORY_DISTRICT}&occurred_from={history_from.isoformat()}"
                             f"&occurred_to={history_to.isoformat()}"),
        "monthly_api": (commander, f"/api/v1/reviews/monthly/{month.label}/?district={HISTORY_DISTRICT}"),
    }

    # The floor: a bare aggregate over the same month of incidents, through the same connection.
    floor_sql = ("SELECT count(*), avg(first_sent_at - entered_at), sum(fatal_count) "
                 "FROM notifications_incident WHERE occurred_at >= %s AND occurred_at < %s")

    def floor_query():
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, [start, end])
            cursor.fetchall()

    floor = timed(floor_query, samples=args.samples, warmup=args.warmup)
    floor_p50 = statistics.median(floor)
    print(f"\nfloor (count, avg and sum over {month.label}'s incidents, every district): "
          f"p50 {ms(floor_p50)} ms, p95 {ms(percentile(floor, 95))} ms; its plan:", flush=True)
    for line in explain(floor_sql, [start, end]):
        print(f"      {line}")

    results, details = {}, {}
    for name, (user, url) in views.items():
        client = Client()
        client.force_login(user)
        call = page(client, url)
        MonthlySummary.objects.all().delete()  # cold: the summary table has none of the months
        began = time.perf_counter()
        call()
        cold = time.perf_counter() - began
        timings = timed(call, samples=args.samples, warmup=args.warmup)
        results[name] = {"p50": ms(statistics.median(timings)), "p95": ms(percentile(timings, 95))}
        details[name] = {"url": url, "cold_ms": ms(cold), **queries_of(call, top=50)}
        target = TARGET_MONTH_P95_MS if name == "month_view" else TARGET_ANY_P95_MS
        if args.profile and results[name]["p95"] >= target:
            details[name]["profile"] = profile_of(call, args.profile)

    print(f"\nserver time, {args.samples} requests each after {args.warmup} warm-up "
          f"({data['incidents']:,} incidents, {data['deliveries']:,} deliveries, month {month.label}):")
    for name, figures in results.items():
        detail = details[name]
        target = TARGET_MONTH_P95_MS if name == "month_view" else TARGET_ANY_P95_MS
        verdict = "PASS" if figures["p95"] < target else "MISS"
        print(f"  {name:<12} p50 {figures['p50']:>7} ms ({figures['p50'] / ms(floor_p50):.1f}× floor)  "
              f"p95 {figures['p95']:>7} ms ({figures['p95'] / ms(floor_p50):.1f}× floor)  "
              f"cold {detail['cold_ms']} ms  {detail['queries']} queries, {detail['db_ms']} ms in the database  "
              f"target p95 < {target} ms: {verdict}   {detail['url']}")
    for name, detail in details.items():
        print(f"\n{name}: {detail['queries']} queries, {detail['db_ms']} ms in the database, slowest first:")
        for rank, (took, sql) in enumerate(detail["slowest"], 1):
            print(f"  {took:.1f} ms  {sql[:300]}{' …' if len(sql) > 300 else ''}")
            if rank <= args.explain and took >= 20 and sql.lstrip().upper().startswith("SELECT"):
                for line in explain(sql):
                    print(f"      {line}")
        if "profile" in detail:
            print(f"{name} missed its target; one warm request under cProfile:")
            print(detail["profile"])

    rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"\npeak RSS of this process (generation, Django and every request): {rss_mb} MB")
    summary = {
        "benchmark": "dashboard", **results,
        "cold_ms": {name: detail["cold_ms"] for name, detail in details.items()},
        "queries": {name: detail["queries"] for name, detail in details.items()},
        "db_ms": {name: detail["db_ms"] for name, detail in details.items()},
        "floor_ms": {"p50": ms(floor_p50), "p95": ms(percentile(floor, 95))},
        "ratio_p95_to_floor": {name: round(figures["p95"] / ms(floor_p50), 1) for name, figures in results.items()},
        "targets_met": {"month_view_p95_under_150": results["month_view"]["p95"] < TARGET_MONTH_P95_MS,
                        "every_view_p95_under_300": all(f["p95"] < TARGET_ANY_P95_MS for f in results.values())},
        "peak_rss_mb": rss_mb, "generate_s": data["generate_s"], "data_reused": data["reused"],
        "incidents": data["incidents"], "notifications": data["notifications"], "deliveries": data["deliveries"],
        "month": month.label, "samples": args.samples, "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
