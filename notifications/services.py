"""Incident intake: create, correct and import incidents, and fan them out to organisations.

Every writer (the browser form, the API, the demo, the historical import) calls these. Bad
input raises `ValidationError({field: [messages]})` before anything is written; a duplicate
RD number with different content raises `Conflict`. Creation and correction each run in one
transaction that also writes the notifications, their deliveries (the outbox), the timeline
and the audit event, and wakes the outbox relay once the transaction commits.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.services import audit_log
from districts.access import scope_of
from districts.geo import locate
from districts.models import Beat, CommunityArea, District, Hospital

from . import outbox
from .exceptions import Conflict
from .models import Delivery, Incident, Notification, TimelineEntry, Victim
from .routing import organizations_for_incident

CHICAGO = ZoneInfo("America/Chicago")
FUTURE_GRACE = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)
MAX_VICTIMS = 50
MAX_NOTE = 500
RD_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,11}$")
AUDIT_SOURCES = {Incident.Source.WEB: "web", Incident.Source.API: "api", Incident.Source.IMPORT: "system"}
# The fields a caller may give; `incident_correct` accepts the same names as changes.
FIELDS = ("rd_number", "occurred_at", "block", "latitude", "longitude", "district", "beat", "community_area",
          "victims", "hospital", "scene_status", "note")


# --- reference lookups ---------------------------------------------------------------------


class _Reference:
    """Districts, beats, community areas and hospitals by their public codes, memoised.

    One instance per call (or per import run, where it saves thousands of queries).
    """

    def __init__(self):
        self._cache: dict[tuple[str, Any], Any] = {}

    def _get(self, kind: str, key, query):
        if (kind, key) not in self._cache:
            self._cache[(kind, key)] = query.first()
        return self._cache[(kind, key)]

    def district(self, number: str) -> District | None:
        return self._get("district", number, District.objects.defer("boundary").filter(number=number))

    def beat(self, number: str) -> Beat | None:
        return self._get("beat", number, Beat.objects.defer("boundary").filter(number=number))

    def area(self, number: int) -> CommunityArea | None:
        return self._get("area", number, CommunityArea.objects.defer("boundary").filter(number=number))

    def area_by_name(self, name: str) -> CommunityArea | None:
        return self._get("area_name", name, CommunityArea.objects.defer("boundary").filter(name__iexact=name))

    def hospital(self, code: str) -> Hospital | None:
        return self._get("hospital", code, Hospital.objects.filter(code__iexact=code, active=True))


# --- cleaning ------------------------------------------------------------------------------


@dataclass
class _Clean:
    """Validated, resolved incident content, ready to store or to compare with a stored one."""

    rd_number: str | None = None
    occurred_at: datetime | None = None
    block: str = ""
    latitude: float | None = None
    longitude: float | None = None
    district: District | None = None
    beat: Beat | None = None
    community_area: CommunityArea | None = None
    victims: list[dict] = field(default_factory=list)
    hospital: Hospital | None = None
    scene_status: str = Incident.SceneStatus.ACTIVE
    note: str = ""

    def fingerprint(self) -> dict:
        return {
            "occurred_at": self.occurred_at, "block": self.block,
            "latitude": _round(self.latitude), "longitude": _round(self.longitude),
            "district": self.district.pk if self.district else None, "beat": self.beat.pk if self.beat else None,
            "community_area": self.community_area.pk if self.community_area else None,
            "victims": sorted(tuple(sorted(v.items())) for v in self.victims),
            "hospital": self.hospital.pk if self.hospital else None,
            "scene_status": self.scene_status, "note": self.note,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _stored_fingerprint(incident: Incident) -> dict:
    victims = [{"age_band": v.age_band, "sex": v.sex, "fatal": v.fatal, "gunshot": v.gunshot}
               for v in incident.victims.all()]
    return _Clean(
        occurred_at=incident.occurred_at, block=incident.block, latitude=incident.latitude,
        longitude=incident.longitude, district=incident.district, beat=incident.beat,
        community_area=incident.community_area, victims=victims, hospital=incident.hospital,
        scene_status=incident.scene_status, note=incident.note,
    ).fingerprint()


class _Errors(dict):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


def _district_label(district: District) -> str:
    return f"District {int(district.number)}"


def _parse_occurred_at(value, errors: _Errors) -> datetime | None:
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            errors.add("occurred_at", "Enter a date and time, e.g. 2026-03-07T21:14.")
            return None
        value = parsed
    if not isinstance(value, datetime):
        errors.add("occurred_at", "Enter the date and time of the shooting.")
        return None
    if timezone.is_naive(value):
        # API.md: a time without an offset is Chicago local time.
        value = value.replace(tzinfo=CHICAGO)
    return value


def _check_time(occurred_at: datetime, errors: _Errors, *, check_age: bool) -> None:
    now = timezone.now()
    if occurred_at > now + FUTURE_GRACE:
        errors.add("occurred_at", "The time is in the future. Check the date and the AM/PM.")
    elif check_age and occurred_at < now - MAX_AGE:
        errors.add("occurred_at", "The time is more than 30 days ago. Older shootings are imported, not entered.")


def _parse_district(value, ref: _Reference, errors: _Errors) -> District | None:
    if value in (None, ""):
        return None
    if isinstance(value, District):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{1,3}", text):
        errors.add("district", f"“{text}” is not a district number. Use e.g. 007 or 7.")
        return None
    district = ref.district(f"{int(text):03d}")
    if district is None:
        errors.add("district", f"There is no District {int(text)}.")
    return district


def _parse_beat(value, ref: _Reference, errors: _Errors) -> Beat | None:
    if value in (None, ""):
        return None
    if isinstance(value, Beat):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{3,4}", text):
        errors.add("beat", f"“{text}” is not a beat. Beats are four digits, e.g. 0714.")
        return None
    beat = ref.beat(f"{int(text):04d}")
    if beat is None:
        errors.add("beat", f"There is no beat {int(text):04d}.")
    return beat


def _parse_area(value, ref: _Reference, errors: _Errors) -> CommunityArea | None:
    if value in (None, ""):
        return None
    if isinstance(value, CommunityArea):
        return value
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.add("community_area", "A community area is a number from 1 to 77.")
        return None
    area = ref.area(number) if 1 <= number <= 77 else None
    if area is None:
        errors.add("community_area", "A community area is a number from 1 to 77.")
    return area


def _parse_point(latitude, longitude, errors: _Errors) -> tuple[float | None, float | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    if latitude in (None, "") or longitude in (None, ""):
        missing = "latitude" if latitude in (None, "") else "longitude"
        errors.add(missing, "Give both latitude and longitude, or neither.")
        return None, None
    try:
        return float(latitude), float(longitude)
    except (TypeError, ValueError):
        errors.add("latitude", "Latitude and longitude are decimal degrees, e.g. 41.7796, -87.6446.")
        return None, None


def _resolve_geography(clean: _Clean, raw: dict, ref: _Reference, errors: _Errors, *, historical: bool) -> None:
    """Fill district, beat and community area from the point, or check them against it.

    A historical row keeps the City's recorded codes: its coordinates are jittered by about a
    block, so the point only fills what the row leaves empty.
    """
    clean.district = _parse_district(raw.get("district"), ref, errors)
    clean.beat = _parse_beat(raw.get("beat"), ref, errors)
    clean.community_area = _parse_area(raw.get("community_area"), ref, errors)
    clean.latitude, clean.longitude = _parse_point(raw.get("latitude"), raw.get("longitude"), errors)
    place = None
    if clean.latitude is not None:
        place = locate(clean.latitude, clean.longitude)
        # A historical row's jittered point can land just over the city limit; its codes stand.
        if place is None and not (historical and clean.district is not None):
            errors.add("latitude", "The point is outside Chicago.")
    if clean.latitude is not None and place is not None:
        derived = {"district": place.district and ref.district(place.district),
                   "beat": place.beat and ref.beat(place.beat),
                   "community_area": place.community_area and ref.area(place.community_area)}
        for name, value in derived.items():
            given = getattr(clean, name)
            if value and given is None:
                setattr(clean, name, value)
            elif value and given.pk != value.pk and not historical and name not in errors:
                errors.add(name, f"The map point is in {_place_text(name, value)}, not {_place_text(name, given)}.")
    if clean.district is None and clean.beat is not None and "district" not in errors:
        clean.district = clean.beat.district
    if clean.district is None:
        if "district" not in errors:
            errors.add("district", "Choose the district, or give a map point.")
    elif clean.beat is not None and clean.beat.district_id != clean.district.pk and "beat" not in errors:
        errors.add("beat", f"Beat {clean.beat.number} is not in {_district_label(clean.district)}.")


def _place_text(name: str, value) -> str:
    if name == "district":
        return _district_label(value)
    if name == "beat":
        return f"beat {value.number}"
    return f"community area {value.number} {value.display_name}"


def _parse_victims(value, errors: _Errors) -> list[dict]:
    if not isinstance(value, list | tuple) or not value:
        errors.add("victims", "Add at least one victim.")
        return []
    if len(value) > MAX_VICTIMS:
        errors.add("victims", f"At most {MAX_VICTIMS} victims per incident; enter a mass shooting as several.")
        return []
    victims = []
    for number, raw in enumerate(value, start=1):
        raw = raw if isinstance(raw, dict) else {}
        victim = {
            "age_band": raw.get("age_band") or Victim.AgeBand.UNKNOWN,
            "sex": raw.get("sex") or Victim.Sex.UNKNOWN,
            "fatal": bool(raw.get("fatal", False)),
            "gunshot": bool(raw.get("gunshot", True)),
        }
        if victim["age_band"] not in Victim.AgeBand.values:
            errors.add("victims", f"Victim {number}: unknown age band “{victim['age_band']}”.")
        if victim["sex"] not in Victim.Sex.values:
            errors.add("victims", f"Victim {number}: sex must be M, F, X or unknown.")
        victims.append(victim)
    return victims


def _parse_hospital(value, ref: _Reference, errors: _Errors) -> Hospital | None:
    if value in (None, ""):
        return None
    if isinstance(value, Hospital):
        return value
    hospital = ref.hospital(str(value).strip())
    if hospital is None:
        errors.add("hospital", f"“{value}” is not a known hospital code.")
    return hospital


def _clean(raw: dict, *, actor, ref: _Reference, check_age: bool = True, historical: bool = False) -> _Clean:
    """Validate and resolve everything, collecting every message; raise once at the end."""
    errors = _Errors()
    clean = _Clean()
    rd_number = (raw.get("rd_number") or "").strip().upper() or None
    if rd_number and not RD_NUMBER.fullmatch(rd_number):
        errors.add("rd_number", "An RD number is letters and digits, at most 12, e.g. JH411616.")
    clean.rd_number = rd_number
    clean.occurred_at = _parse_occurred_at(raw.get("occurred_at"), errors)
    if clean.occurred_at is not None:
        _check_time(clean.occurred_at, errors, check_age=check_age)
    clean.block = " ".join(str(raw.get("block") or "").split()).upper()
    if not clean.block:
        errors.add("block", "Enter the block, e.g. 7800 S OGLESBY AVE.")
    elif len(clean.block) > 120:
        errors.add("block", "Keep the block to 120 characters.")
    _resolve_geography(clean, raw, ref, errors, historical=historical)
    clean.victims = _parse_victims(raw.get("victims"), errors)
    clean.hospital = _parse_hospital(raw.get("hospital"), ref, errors)
    clean.scene_status = raw.get("scene_status") or Incident.SceneStatus.ACTIVE
    if clean.scene_status not in Incident.SceneStatus.values:
        errors.add("scene_status", "Scene status is active, secured or cleared.")
    clean.note = (raw.get("note") or "").strip()
    if len(clean.note) > MAX_NOTE:
        errors.add("note", f"Keep the note to {MAX_NOTE} characters (it has {len(clean.note)}).")
    scope = scope_of(actor) if actor is not None else None
    if scope is not None and scope.is_cpd and clean.district is not None and clean.district.pk != scope.district_id:
        errors.add("district", "You can enter incidents for your own district only.")
    if errors:
        raise ValidationError(dict(errors))
    return clean


# --- writing -------------------------------------------------------------------------------


def _count_victims(incident: Incident, victims: list[dict]) -> None:
    incident.victim_count = len(victims)
    incident.fatal_count = sum(1 for victim in victims if victim["fatal"])


def _store_victims(incident: Incident, victims: list[dict]) -> None:
    Victim.objects.bulk_create([Victim(incident=incident, **victim) for victim in victims])


def _apply(incident: Incident, clean: _Clean) -> None:
    for name in FIELDS:
        if name != "victims":
            setattr(incident, name, getattr(clean, name))


def _notify(incident: Incident, routes, *, now: datetime) -> list[Notification]:
    """One notification per route, with its escalation timer and its NOTIFY deliveries."""
    notifications = []
    for route in routes:
        notification = Notification.objects.create(
            incident=incident, organization=route.organization, reason=route.reason,
            next_escalation_at=now + timedelta(minutes=route.organization.ack_window_minutes),
            escalation_level=0,
        )
        outbox.deliveries_create(notification=notification, purpose=Delivery.Purpose.NOTIFY)
        notifications.append(notification)
    return notifications


def _geo_data(incident: Incident) -> dict:
    return {
        "district": incident.district.number,
        "beat": incident.beat.number if incident.beat else None,
        "community_area": incident.community_area.number if incident.community_area else None,
        "victims": incident.victim_count, "fatal": incident.fatal_count,
    }


def _existing_by_rd(clean: _Clean) -> Incident:
    """The stored incident with this RD number when its content matches; Conflict otherwise."""
    existing = Incident.objects.select_related("district", "beat", "community_area", "hospital").get(
        rd_number=clean.rd_number
    )
    if _stored_fingerprint(existing) != clean.fingerprint():
        raise Conflict(f"RD number {clean.rd_number} was already entered with different details.")
    return existing


def incident_create(
    *,
    actor,
    source: str,
    occurred_at: datetime | str,
    block: str,
    victims: list[dict],
    rd_number: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    district: str | int | District | None = None,
    beat: str | Beat | None = None,
    community_area: int | CommunityArea | None = None,
    hospital: str | Hospital | None = None,
    scene_status: str = Incident.SceneStatus.ACTIVE,
    note: str = "",
) -> tuple[Incident, bool]:
    """Store a shooting and notify every organisation covering its place.

    Returns (incident, created). The same RD number with the same content returns the stored
    incident and False (a retried POST); with different content it raises Conflict.
    """
    raw = {name: value for name, value in locals().items() if name in FIELDS}
    clean = _clean(raw, actor=actor, ref=_Reference())
    if clean.rd_number and Incident.objects.filter(rd_number=clean.rd_number).exists():
        return _existing_by_rd(clean), False
    try:
        with transaction.atomic():
            incident = _incident_write(clean, actor=actor, source=source, fan_out=True)
    except IntegrityError:
        # A concurrent request stored the same RD number between our check and our insert.
        if clean.rd_number and Incident.objects.filter(rd_number=clean.rd_number).exists():
            return _existing_by_rd(clean), False
        raise
    return incident, True


def _incident_write(clean: _Clean, *, actor, source: str, fan_out: bool) -> Incident:
    now = timezone.now()
    incident = Incident(source=source, entered_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply(incident, clean)
    _count_victims(incident, clean.victims)
    incident.save()
    _store_victims(incident, clean.victims)
    if not fan_out:
        return incident
    notifications = _notify(incident, organizations_for_incident(incident), now=now)
    TimelineEntry.objects.create(
        incident=incident, at=incident.entered_at, kind="incident.entered",
        text=f"Entered by CPD; {len(notifications)} organisation{'s' if len(notifications) != 1 else ''} to notify",
    )
    audit_log(actor=actor, source=AUDIT_SOURCES.get(source, "system"), action="incident.created", obj=incident,
              data={**_geo_data(incident), "organizations": [str(n.organization.code) for n in notifications]})
    transaction.on_commit(outbox.outbox_wake)
    return incident


def incident_import(
    *,
    actor,
    rd_number: str,
    occurred_at: datetime | str,
    block: str,
    victims: list[dict],
    latitude: float | None = None,
    longitude: float | None = None,
    district: str | int | District | None = None,
    beat: str | Beat | None = None,
    community_area: int | CommunityArea | None = None,
) -> tuple[Incident, bool]:
    """Store one historical incident from CPD's records without notifying anyone.

    The 30-day rule does not apply and the City's recorded district, beat and community area
    win over the (jittered) point. Idempotent on the RD number: a stored one is returned as is.
    """
    record = {name: value for name, value in locals().items() if name in FIELDS}
    outcome = incidents_import(actor=actor, records=[record])
    if outcome.errors:
        raise outcome.errors[0][1]
    return Incident.objects.get(rd_number=outcome.rd_numbers[0]), bool(outcome.created)


@dataclass
class ImportOutcome:
    created: int = 0
    present: int = 0
    errors: list[tuple[int, ValidationError]] = field(default_factory=list)  # (record index, error)
    rd_numbers: list[str] = field(default_factory=list)  # of the records, cleaned, in order


def incidents_import(*, actor, records: list[dict], batch_size: int = 500) -> ImportOutcome:
    """Store many historical incidents in a few bulk inserts; nobody is notified.

    Each record takes `incident_import`'s names. A record that fails validation is reported in
    `errors` with its index and skipped; one whose RD number is stored (or repeated earlier in
    `records`) counts as present. Runs in one transaction.
    """
    outcome = ImportOutcome()
    ref = _Reference()
    numbers = [(record.get("rd_number") or "").strip().upper() for record in records]
    outcome.rd_numbers = numbers
    seen = set(Incident.objects.filter(rd_number__in=[n for n in numbers if n]).values_list("rd_number", flat=True))
    cleaned: list[_Clean] = []
    for index, record in enumerate(records):
        if numbers[index] in seen:
            outcome.present += 1
            continue
        try:
            if not numbers[index]:
                raise ValidationError({"rd_number": ["A historical incident needs its RD number."]})
            clean = _clean(record, actor=None, ref=ref, check_age=False, historical=True)
        except ValidationError as error:
            outcome.errors.append((index, error))
            continue
        seen.add(clean.rd_number)
        cleaned.append(clean)
    entered_by = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        for start in range(0, len(cleaned), batch_size):
            batch = cleaned[start:start + batch_size]
            incidents = []
            for clean in batch:
                incident = Incident(source=Incident.Source.IMPORT, entered_by=entered_by)
                _apply(incident, clean)
                _count_victims(incident, clean.victims)
                incidents.append(incident)
            Incident.objects.bulk_create(incidents)
            Victim.objects.bulk_create([Victim(incident=incident, **victim)
                                        for incident, clean in zip(incidents, batch, strict=True)
                                        for victim in clean.victims])
            outcome.created += len(incidents)
    return outcome


def _current_values(incident: Incident) -> dict:
    return {
        "rd_number": incident.rd_number, "occurred_at": incident.occurred_at, "block": incident.block,
        "latitude": incident.latitude, "longitude": incident.longitude, "district": incident.district,
        "beat": incident.beat, "community_area": incident.community_area,
        "victims": [{"age_band": v.age_band, "sex": v.sex, "fatal": v.fatal, "gunshot": v.gunshot}
                    for v in incident.victims.all()],
        "hospital": incident.hospital, "scene_status": incident.scene_status, "note": incident.note,
    }


POINT = ("latitude", "longitude")
CODES = ("district", "beat", "community_area")


def _merge_location(current: dict, changes: dict) -> dict:
    """The corrected values: `changes` over `current`, with stale location parts dropped.

    A corrected point re-derives the codes it was not given; corrected codes without a point
    drop the old point (it contradicts them); a corrected district drops the old beat and
    community area unless they are given too. A caller that sends every field (the form)
    gets exactly what it sent, checked.
    """
    merged = {**current, **changes}
    if any(name in changes for name in POINT):
        for name in CODES:
            if name not in changes:
                merged[name] = None
    elif any(name in changes for name in CODES):
        merged["latitude"] = merged["longitude"] = None
        if "district" in changes:
            for name in ("beat", "community_area"):
                if name not in changes:
                    merged[name] = None
    return merged


def _changed_fields(incident: Incident, after: _Clean) -> list[str]:
    old, new = _stored_fingerprint(incident), after.fingerprint()
    changed = [name for name in FIELDS if name in old and old[name] != new[name]]
    if incident.rd_number != after.rd_number:
        changed.insert(0, "rd_number")
    return changed


def incident_correct(*, incident: Incident, actor, source: str, **changes) -> Incident:
    """Apply a correction (a victim died, the location was wrong) and tell the organisations.

    `changes` takes the names `incident_create` takes; geography is derived and checked again
    over the merged values. Organisations already notified get an UPDATE; organisations that
    cover the corrected place and were not notified get a new notification. A correction that
    changes nothing returns the incident untouched. Historical (imported) incidents are
    corrected without notifying anyone.
    """
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise TypeError(f"incident_correct() got unexpected fields: {', '.join(unknown)}")
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).select_related(
            "district", "beat", "community_area", "hospital").get(pk=incident.pk)
        merged = _merge_location(_current_values(incident), changes)
        if "occurred_at" in changes:
            occurred = _parse_occurred_at(changes["occurred_at"], _Errors())
            check_age = occurred is not None and occurred != incident.occurred_at
        else:
            check_age = False
        after = _clean(merged, actor=actor, ref=_Reference(), check_age=check_age)
        if after.rd_number and after.rd_number != incident.rd_number and Incident.objects.filter(
                rd_number=after.rd_number).exists():
            raise ValidationError({"rd_number": [f"RD number {after.rd_number} belongs to another incident."]})
        changed = _changed_fields(incident, after)
        if not changed:
            return incident
        _apply(incident, after)
        if "victims" in changed:
            incident.victims.all().delete()
            _store_victims(incident, after.victims)
            _count_victims(incident, after.victims)
        incident.save()
        _fan_out_correction(incident, changed, actor=actor, source=source)
    return incident


def _fan_out_correction(incident: Incident, changed: list[str], *, actor, source: str) -> None:
    now = timezone.now()
    new: list[Notification] = []
    updated = list(incident.notifications.select_related("organization"))
    if incident.source != Incident.Source.IMPORT:
        for notification in updated:
            outbox.deliveries_create(notification=notification, purpose=Delivery.Purpose.UPDATE)
        notified = {n.organization_id for n in updated}
        routes = [r for r in organizations_for_incident(incident) if r.organization.pk not in notified]
        new = _notify(incident, routes, now=now)
    labels = ", ".join(name.replace("_", " ") for name in changed)
    text = f"Corrected: {labels}"
    if updated or new:
        text += f"; update to {len(updated)}, new notification to {len(new)}"
    TimelineEntry.objects.create(incident=incident, at=now, kind="incident.corrected", text=text[:300])
    audit_log(actor=actor, source=AUDIT_SOURCES.get(source, "system"), action="incident.corrected", obj=incident,
              data={"fields": changed, **_geo_data(incident),
                    "updated": [str(n.organization.code) for n in updated],
                    "notified": [str(n.organization.code) for n in new]})
    transaction.on_commit(outbox.outbox_wake)
