"""Demo data for the notifications app.

- A handful of live incidents in the pilot districts, a few minutes to a few hours old,
  entered through `incident_create` so they fan out like real ones (the console shows the
  messages, the feeds show the notifications); a few organisations have already answered.
- Two years of historical incidents from the City's shooting victimisations file, imported
  with `incident_import` (the City's own district, beat and area), then given simulated
  notification and response timelines (history.py), marked simulated, and matched against
  the scenario playbooks (nobody is notified) so the history and the monthly review can be
  filtered and counted by scenario.

Idempotent on the RD number: a second run adds nothing and changes nothing.
"""

import csv
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.services import audit_log
from core.dates import CHICAGO
from districts.demo import seeded_user_ids
from districts.geo import locate
from districts.models import Membership, Role
from protocols.matching import active_playbooks

from .history import history_simulate
from .intake import Reference
from .models import Incident, Notification, Victim
from .scenarios import scenarios_rematch
from .services import incident_create, incidents_import
from .state import notification_acknowledge, notification_status_set

HISTORY_CSV = Path(__file__).resolve().parent / "data" / "shooting_victimizations_2024-09_to_2026-08.csv"


@dataclass(frozen=True)
class LiveIncident:
    rd_number: str
    minutes_ago: int
    block: str
    point: tuple[float, float]
    victims: list[dict]
    hospital: str = ""
    scene_status: str = Incident.SceneStatus.ACTIVE
    note: str = ""
    # How far the covering organisations have got: "acknowledged" or "on_scene" for the first
    # one or two of them (alphabetically), nothing for the rest.
    progress: tuple[str, ...] = ()


def _v(age_band="unknown", sex="M", fatal=False) -> dict:
    return {"age_band": age_band, "sex": sex, "fatal": fatal, "gunshot": True}


# Real blocks and points (from the City's file) in pilot districts; RD numbers in a range CPD
# does not issue (JZ9…), so they never collide with imported ones.
LIVE_INCIDENTS = [
    LiveIncident("JZ900101", 6, "400 W 61ST PL", (41.78301, -87.6367), [_v("20-29"), _v("0-19")],
                 hospital="UCM", note="Two men shot on the sidewalk; both taken to UCM."),
    LiveIncident("JZ900102", 24, "5600 S MARSHFIELD AVE", (41.79162, -87.66603), [_v("30-39", fatal=True)],
                 scene_status=Incident.SceneStatus.SECURED, note="One fatal. Family gathering at the scene.",
                 progress=("on_scene", "acknowledged")),
    LiveIncident("JZ900103", 55, "4800 W LEXINGTON ST", (41.87163, -87.74575), [_v("0-19", "F")],
                 hospital="STROGER", progress=("on_scene", "acknowledged")),
    LiveIncident("JZ900104", 95, "200 S WOODWARD DR", (41.8773, -87.71683), [_v("20-29"), _v("20-29"), _v()],
                 hospital="SINAI", scene_status=Incident.SceneStatus.CLEARED,
                 note="Shots from a passing car. Retaliation concern voiced at the scene.",
                 progress=("on_scene", "on_scene")),
    LiveIncident("JZ900105", 170, "1400 W 79TH ST", (41.75004, -87.65898), [_v("40-49")],
                 hospital="ACMC", scene_status=Incident.SceneStatus.CLEARED, progress=("acknowledged",)),
]


def seed(stdout) -> None:
    stdout.write(seed_live_incidents())
    stdout.write(import_history(stdout).summary)
    stdout.write(match_history())
    stdout.write(f"simulated history: notification and response timelines for {history_simulate()} incidents "
                 f"(marked simulated)")


def match_history() -> str:
    """Match the imported history against the scenario playbooks (an import matches nothing by
    itself), once: an incident that matched (every one matches the every-shooting playbook) is
    left alone on the next run. Nobody is notified."""
    if not active_playbooks():
        return "scenarios: no playbooks loaded; history not matched"
    pending = Incident.objects.filter(source=Incident.Source.IMPORT, scenarios__isnull=True)
    with transaction.atomic():
        count = scenarios_rematch(incidents=pending)
    return f"scenarios: {count} historical incidents matched"


def seed_live_incidents() -> str:
    """Enter the live demo incidents that are not there yet; returns a summary line."""
    # Only the seed's own accounts act in the demo, never a real member of the same district.
    ours = seeded_user_ids()
    users = get_user_model().objects.filter(pk__in=ours)
    desk = {m.district.number: m.user for m in Membership.objects.filter(
        role=Role.CPD_STAFF, user__in=ours).select_related("user", "district")}
    created = 0
    now = timezone.now()
    for live in LIVE_INCIDENTS:
        if Incident.objects.filter(rd_number=live.rd_number).exists():
            continue
        # The district desk's demo account enters its own district's incidents; the rest come
        # in as if from CPD's integration (no user).
        place = locate(*live.point)
        actor = desk.get(place.district) if place else None
        incident, was_created = incident_create(
            actor=actor, source=Incident.Source.WEB if actor else Incident.Source.API,
            occurred_at=now - timedelta(minutes=live.minutes_ago), block=live.block,
            latitude=live.point[0], longitude=live.point[1], victims=live.victims, rd_number=live.rd_number,
            hospital=live.hospital or None, scene_status=live.scene_status, note=live.note,
        )
        created += was_created
        _progress(incident, live, users=users)
    return f"live incidents: {created} entered, {len(LIVE_INCIDENTS) - created} already there"


def _progress(incident: Incident, live: LiveIncident, *, users) -> None:
    """Let the first organisations answer, through the same services a worker's taps use.

    The answers are recorded as they happen, seconds after entry: the clocks stay true.
    """
    if not live.progress:
        return
    notifications = list(incident.notifications.select_related("organization").order_by("organization__name"))
    for step, notification in zip(live.progress, notifications, strict=False):
        member = users.filter(membership__organization=notification.organization,
                              membership__role=Role.OUTREACH_WORKER).first()
        notification_acknowledge(notification=notification, actor=member, via="app")
        if step == "on_scene":
            notification_status_set(notification=notification, actor=member, source="phone",
                                    status=Notification.Status.ON_SCENE)


# --- the historical import -----------------------------------------------------------------


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    present: int = 0
    rejected: int = 0

    @property
    def summary(self) -> str:
        return (f"historical incidents: {self.imported} imported, {self.present} already there, "
                f"{self.rejected} rejected ({self.rows} rows)")


SEX = {"M": Victim.Sex.MALE, "F": Victim.Sex.FEMALE}


def _case_rows(path: Path):
    """Rows grouped by case number, in file order, each with its spreadsheet row number.

    The file is read row by row; only the grouping (a few thousand small dicts) is held.
    """
    cases: OrderedDict[str, list[tuple[int, dict]]] = OrderedDict()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            cases.setdefault((row.get("case_number") or "").strip().upper(), []).append((number, row))
    return cases


def _incident_arguments(rows: list[tuple[int, dict]], ref: Reference) -> dict:
    """incident_import's arguments for one case; ValueError for what the service cannot judge."""
    _, first = rows[0]
    area_name = (first.get("community_area") or "").strip()
    area = ref.area_by_name(area_name) if area_name else None
    if area_name and area is None:
        raise ValueError(f"community_area: unknown community area “{area_name}”")
    if not (first.get("date") or "").strip():
        raise ValueError("date: empty")
    occurred = datetime.strptime(first["date"].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHICAGO)
    return {
        "occurred_at": occurred, "block": first["block"],
        "latitude": float(first["latitude"]) if first.get("latitude") else None,
        "longitude": float(first["longitude"]) if first.get("longitude") else None,
        "district": first.get("district") or None, "beat": first.get("beat") or None,
        "community_area": area,
        "victims": [{"age_band": Victim.AgeBand.UNKNOWN, "sex": SEX.get((row.get("sex") or "").strip().upper(),
                                                                          Victim.Sex.UNKNOWN),
                     "fatal": (row.get("fatal") or "").strip().lower() == "true",
                     "gunshot": (row.get("gunshot_injury_i") or "").strip().upper() != "NO"}
                    for _, row in rows],
    }


def import_history(stdout, path: Path = HISTORY_CSV) -> ImportResult:
    """Import the City's shooting victimisations as historical incidents (no notifications).

    A case the service rejects is reported with its first row number and skipped.
    """
    result = ImportResult()
    ref = Reference()
    records, first_rows = [], []
    for rd_number, rows in _case_rows(path).items():
        result.rows += len(rows)
        try:
            records.append({"rd_number": rd_number, **_incident_arguments(rows, ref)})
        except (ValueError, KeyError) as error:
            result.rejected += 1
            stdout.write(f"  row {rows[0][0]} ({rd_number or 'no case number'}): {error}")
            continue
        first_rows.append(rows[0][0])
    outcome = incidents_import(actor=None, records=records)
    for index, error in outcome.errors:
        detail = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
        stdout.write(f"  row {first_rows[index]} ({records[index]['rd_number']}): {detail}")
    result.imported, result.present = outcome.created, outcome.present
    result.rejected += len(outcome.errors)
    if result.imported:
        audit_log(actor=None, source="system", action="incidents.imported",
                  data={"file": path.name, "imported": result.imported, "rejected": result.rejected})
    return result
