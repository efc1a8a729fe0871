"""Incident intake: create, correct and import incidents, and fan them out to organisations.

Every writer (the browser form, the API, the demo, the historical import) calls these. Bad
input raises `ValidationError({field: [messages]})` before anything is written (the checks
live in `intake.py`); a duplicate RD number with different content raises `Conflict`.
Creation and correction each run in one transaction that also writes the notifications,
their deliveries (the outbox), the timeline and the audit event, and wakes the outbox relay
once the transaction commits. Both cost a fixed number of statements however many
organisations and people hear of the incident: each table is written with one INSERT and the
routing inputs are read one query per kind (tests/notifications/test_intake_statements.py).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_log
from core.prefetched import prefetched_set
from districts.models import Beat, CommunityArea, District, Hospital

from . import outbox
from .access import incidents_for_user
from .exceptions import Conflict
from .intake import (
    FIELDS,
    RD_UNUSABLE,
    CleanIncident,
    Errors,
    Reference,
    clean_incident,
    parse_occurred_at,
    stored_fingerprint,
)
from .models import Delivery, Incident, Notification, TimelineEntry, Victim
from .relay import outbox_wake
from .routing import organizations_for_incident
from .scenarios import partner_routes, relay_for, scenarios_match
from .stamps import figures_changed

AUDIT_SOURCES = {Incident.Source.WEB: "web", Incident.Source.API: "api", Incident.Source.IMPORT: "system"}


# --- writing -------------------------------------------------------------------------------


def _count_victims(incident: Incident, victims: list[dict]) -> None:
    incident.victim_count = len(victims)
    incident.fatal_count = sum(1 for victim in victims if victim["fatal"])


def _store_victims(incident: Incident, victims: list[dict]) -> list[Victim]:
    return Victim.objects.bulk_create([Victim(incident=incident, **victim) for victim in victims])


def _apply(incident: Incident, clean: CleanIncident) -> None:
    for name in FIELDS:
        if name != "victims":
            setattr(incident, name, getattr(clean, name))


def _notifications_new(incident: Incident, routes, *, now: datetime) -> list[Notification]:
    """One unsaved-then-inserted notification per route, with its escalation timer (one INSERT)."""
    return Notification.objects.bulk_create([
        Notification(incident=incident, organization=route.organization, reason=route.reason,
                     relay=relay_for(route.organization),
                     next_escalation_at=now + timedelta(minutes=route.organization.ack_window_minutes),
                     escalation_level=0)
        for route in routes
    ])


def _routes(incident: Incident, *, notified: set[int], age_bands=None, new: bool = False) -> tuple[list, list]:
    """Match the playbooks, then route: the covering organisations, then the partners the
    playbooks bring in, none of them already `notified`. Returns (playbooks, routes)."""
    playbooks = scenarios_match(incident, age_bands=age_bands, new=new)
    routes = [r for r in organizations_for_incident(incident) if r.organization.pk not in notified]
    routes += partner_routes(incident, playbooks, skip=notified | {r.organization.pk for r in routes})
    return playbooks, routes


def _scenario_text(playbooks) -> str:
    return f"; playbooks: {', '.join(p.code for p in playbooks)}" if playbooks else ""


def _geo_data(incident: Incident) -> dict:
    return {
        "district": incident.district.number,
        "beat": incident.beat.number if incident.beat else None,
        "community_area": incident.community_area.number if incident.community_area else None,
        "victims": incident.victim_count, "fatal": incident.fatal_count,
    }


def _rd_in_scope(actor, incident: Incident) -> bool:
    """Whether the caller may know of `incident`; when not, its RD number is refused exactly as a
    malformed one is (RD_UNUSABLE): not a 409, not "already entered", not the incident."""
    if actor is None:  # the system itself (the demo seed, an import): it sees everything
        return True
    return incidents_for_user(actor).filter(pk=incident.pk).exists()


def _existing_by_rd(clean: CleanIncident, *, actor) -> Incident:
    """The stored incident with this RD number when its content matches and the caller may see
    it; Conflict when its content differs; ValidationError (RD_UNUSABLE) when out of scope."""
    existing = Incident.objects.select_related("district", "beat", "community_area", "hospital").defer(
        "district__boundary", "beat__boundary", "community_area__boundary").get(rd_number=clean.rd_number)
    if not _rd_in_scope(actor, existing):
        raise ValidationError({"rd_number": [str(RD_UNUSABLE)]})
    if stored_fingerprint(existing) != clean.fingerprint():
        raise Conflict(_("RD number %(rd)s was already entered with different details.") % {"rd": clean.rd_number})
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
    gathering: str = "",
) -> tuple[Incident, bool]:
    """Store a shooting and notify every organisation covering its place.

    Returns (incident, created). The same RD number with the same content returns the stored
    incident and False (a retried POST); with different content it raises Conflict. A created
    incident comes with its district, beat, community area, hospital, victims, playbooks and
    notifications (each with its organisation, in the organisations' name order) as written, so
    reading them costs nothing (`core.prefetched.has_prefetched`).
    """
    raw = {name: value for name, value in locals().items() if name in FIELDS}
    clean = clean_incident(raw, actor=actor, ref=Reference())
    if clean.rd_number and Incident.objects.filter(rd_number=clean.rd_number).exists():
        return _existing_by_rd(clean, actor=actor), False
    try:
        with transaction.atomic():
            incident = _incident_write(clean, actor=actor, source=source)
    except IntegrityError:
        # A concurrent request stored the same RD number between our check and our insert.
        if clean.rd_number and Incident.objects.filter(rd_number=clean.rd_number).exists():
            return _existing_by_rd(clean, actor=actor), False
        raise
    return incident, True


def _incident_write(clean: CleanIncident, *, actor, source: str) -> Incident:
    now = timezone.now()
    incident = Incident(source=source, entered_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply(incident, clean)
    _count_victims(incident, clean.victims)
    incident.save()
    victims = _store_victims(incident, clean.victims)
    figures_changed([(incident.occurred_at, incident.district_id)])
    playbooks, routes = _routes(incident, notified=set(), age_bands=[v["age_band"] for v in clean.victims], new=True)
    notifications = _notifications_new(incident, routes, now=now)
    entered = TimelineEntry(
        incident=incident, at=incident.entered_at, kind="incident.entered",
        text=(f"Entered by CPD; {len(notifications)} organisation{'s' if len(notifications) != 1 else ''} to notify"
              f"{_scenario_text(playbooks)}")[:300],
    )
    outbox.deliveries_fan_out(sends=[(n, Delivery.Purpose.NOTIFY) for n in notifications], timeline=[entered])
    audit_log(actor=actor, source=AUDIT_SOURCES.get(source, "system"), action="incident.created", obj=incident,
              data={**_geo_data(incident), "organizations": [str(n.organization.code) for n in notifications],
                    "scenarios": [p.code for p in playbooks]})
    transaction.on_commit(outbox_wake, robust=True)
    # What was just written, where prefetch_related would put it: the answer reads nothing back.
    prefetched_set(incident, "victims", victims)
    prefetched_set(incident, "scenarios", playbooks)
    prefetched_set(incident, "notifications", sorted(notifications, key=lambda n: n.organization.name))
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
    ref = Reference()
    numbers = [(record.get("rd_number") or "").strip().upper() for record in records]
    outcome.rd_numbers = numbers
    seen = set(Incident.objects.filter(rd_number__in=[n for n in numbers if n]).values_list("rd_number", flat=True))
    cleaned: list[CleanIncident] = []
    for index, record in enumerate(records):
        if numbers[index] in seen:
            outcome.present += 1
            continue
        try:
            if not numbers[index]:
                raise ValidationError({"rd_number": ["A historical incident needs its RD number."]})
            clean = clean_incident(record, actor=None, ref=ref, check_age=False, historical=True)
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
            figures_changed((incident.occurred_at, incident.district_id) for incident in incidents)
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
        "gathering": incident.gathering,
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


def _changed_fields(incident: Incident, after: CleanIncident) -> list[str]:
    old, new = stored_fingerprint(incident), after.fingerprint()
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
        # The victims are read once (prefetched) for the current values and the comparison.
        incident = Incident.objects.select_for_update(of=("self",)).select_related(
            "district", "beat", "community_area", "hospital__violence_programme").prefetch_related(
            "victims").get(pk=incident.pk)
        merged = _merge_location(_current_values(incident), changes)
        if "occurred_at" in changes:
            occurred = parse_occurred_at(changes["occurred_at"], Errors())
            check_age = occurred is not None and occurred != incident.occurred_at
        else:
            check_age = False
        ref = Reference().remember(incident.district, incident.beat, incident.community_area)
        after = clean_incident(merged, actor=actor, ref=ref, check_age=check_age)
        other = (Incident.objects.filter(rd_number=after.rd_number).exclude(pk=incident.pk).first()
                 if after.rd_number and after.rd_number != incident.rd_number else None)
        if other is not None:
            message = (_("RD number %(rd)s belongs to another incident.") % {"rd": after.rd_number}
                       if _rd_in_scope(actor, other)
                       else str(RD_UNUSABLE))
            raise ValidationError({"rd_number": [message]})
        changed = _changed_fields(incident, after)
        if not changed:
            return incident
        before = (incident.occurred_at, incident.district_id)
        _apply(incident, after)
        if "victims" in changed:
            incident.victims.all().delete()
            _store_victims(incident, after.victims)
            _count_victims(incident, after.victims)
            incident._prefetched_objects_cache.pop("victims", None)  # the prefetch holds the old ones
        incident.save()
        figures_changed([before, (incident.occurred_at, incident.district_id)])
        _fan_out_correction(incident, changed, actor=actor, source=source,
                            age_bands=[victim["age_band"] for victim in after.victims])
    return incident


def _fan_out_correction(incident: Incident, changed: list[str], *, actor, source: str, age_bands: list[str]) -> None:
    now = timezone.now()
    new: list[Notification] = []
    playbooks = []
    updated = list(incident.notifications.select_related("organization"))
    if incident.source != Incident.Source.IMPORT:
        playbooks, routes = _routes(incident, notified={n.organization_id for n in updated}, age_bands=age_bands)
        new = _notifications_new(incident, routes, now=now)
    labels = ", ".join(name.replace("_", " ") for name in changed)
    text = f"Corrected: {labels}"
    if updated or new:
        text += f"; update to {len(updated)}, new notification to {len(new)}"
    text += _scenario_text(playbooks)
    corrected = TimelineEntry(incident=incident, at=now, kind="incident.corrected", text=text[:300])
    if incident.source != Incident.Source.IMPORT:
        # The updates first, then the new notifications (the order they were written in before).
        sends = [(n, Delivery.Purpose.UPDATE) for n in updated] + [(n, Delivery.Purpose.NOTIFY) for n in new]
        outbox.deliveries_fan_out(sends=sends, timeline=[corrected])
    else:
        corrected.save()
    audit_log(actor=actor, source=AUDIT_SOURCES.get(source, "system"), action="incident.corrected", obj=incident,
              data={"fields": changed, **_geo_data(incident),
                    "updated": [str(n.organization.code) for n in updated],
                    "notified": [str(n.organization.code) for n in new], "scenarios": [p.code for p in playbooks]})
    transaction.on_commit(outbox_wake, robust=True)
