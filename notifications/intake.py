"""Checking incident input: parse, resolve and validate what a caller gives, collecting every
problem as `{field: [messages]}` before anything is written.

`clean_incident` turns raw values (the API's strings, the form's choices, the import's
rows) into a `CleanIncident`: resolved District, Beat, CommunityArea and Hospital rows,
victims as dicts, and a fingerprint to compare with a stored incident (RD idempotency).
The services in `services.py` write; this module only reads reference data.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import CHICAGO
from districts.access import scope_of
from districts.geo import locate
from districts.models import Beat, CommunityArea, District, Hospital, normalise_district

from .models import Incident, Victim

FUTURE_GRACE = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)
MAX_VICTIMS = 50
MAX_NOTE = 500
RD_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,11}$")
# One answer for an RD number that is malformed and for one already used on an incident outside
# the caller's scope: nothing tells the caller which, what that incident is, or where.
RD_UNUSABLE = gettext_lazy("This RD number can't be used. Check it (letters and digits, at most 12, e.g. "
                           "JH411616), or call the CSCC duty desk.")
# The fields a caller may give; `incident_correct` accepts the same names as changes.
FIELDS = ("rd_number", "occurred_at", "block", "latitude", "longitude", "district", "beat", "community_area",
          "victims", "hospital", "scene_status", "note", "gathering")

# --- reference lookups ---------------------------------------------------------------------


class Reference:
    """Districts, beats, community areas and hospitals by their public codes, memoised.

    One instance per call (or per import run, where it saves thousands of queries).
    """

    def __init__(self):
        self._cache: dict[tuple[str, Any], Any] = {}

    def remember(self, *rows) -> "Reference":
        """Seed the memo with rows already loaded (a corrected incident's own places)."""
        for row in rows:
            if isinstance(row, District):
                self._cache[("district", row.number)] = row
            elif isinstance(row, Beat):
                self._cache[("beat", row.number)] = row
            elif isinstance(row, CommunityArea):
                self._cache[("area", row.number)] = row
        return self

    def _get(self, kind: str, key, query):
        if (kind, key) not in self._cache:
            self._cache[(kind, key)] = query.first()
        return self._cache[(kind, key)]

    def district(self, number: str) -> District | None:
        return self._get("district", number, District.objects.defer("boundary").filter(number=number))

    def beat(self, number: str) -> Beat | None:
        """The beat with its district, which is then known too (a point's beat and district
        are one query)."""
        beat = self._get("beat", number, Beat.objects.select_related("district")
                         .defer("boundary", "district__boundary").filter(number=number))
        if beat is not None and Beat.district.is_cached(beat):
            self._cache.setdefault(("district", beat.district.number), beat.district)
        return beat

    def area(self, number: int) -> CommunityArea | None:
        return self._get("area", number, CommunityArea.objects.defer("boundary").filter(number=number))

    def area_by_name(self, name: str) -> CommunityArea | None:
        return self._get("area_name", name, CommunityArea.objects.defer("boundary").filter(name__iexact=name))

    def hospital(self, code: str) -> Hospital | None:
        # With its violence-intervention programme: a playbook may route to it (scenarios.py).
        return self._get("hospital", code, Hospital.objects.filter(code__iexact=code, active=True)
                         .select_related("violence_programme"))


# --- cleaning ------------------------------------------------------------------------------


@dataclass
class CleanIncident:
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
    gathering: str = ""

    def fingerprint(self) -> dict:
        return {
            "occurred_at": self.occurred_at, "block": self.block,
            "latitude": _round(self.latitude), "longitude": _round(self.longitude),
            "district": self.district.pk if self.district else None, "beat": self.beat.pk if self.beat else None,
            "community_area": self.community_area.pk if self.community_area else None,
            "victims": sorted(tuple(sorted(v.items())) for v in self.victims),
            "hospital": self.hospital.pk if self.hospital else None,
            "scene_status": self.scene_status, "note": self.note, "gathering": self.gathering,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def stored_fingerprint(incident: Incident) -> dict:
    victims = [{"age_band": v.age_band, "sex": v.sex, "fatal": v.fatal, "gunshot": v.gunshot}
               for v in incident.victims.all()]
    return CleanIncident(
        occurred_at=incident.occurred_at, block=incident.block, latitude=incident.latitude,
        longitude=incident.longitude, district=incident.district, beat=incident.beat,
        community_area=incident.community_area, victims=victims, hospital=incident.hospital,
        scene_status=incident.scene_status, note=incident.note, gathering=incident.gathering,
    ).fingerprint()


class Errors(dict):
    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)


def _district_label(district: District) -> str:
    return _("District %(number)s") % {"number": int(district.number)}


def parse_occurred_at(value, errors: Errors) -> datetime | None:
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            errors.add("occurred_at", _("Enter a date and time, e.g. 2026-03-07T21:14."))
            return None
        value = parsed
    if not isinstance(value, datetime):
        errors.add("occurred_at", _("Enter the date and time of the shooting."))
        return None
    if timezone.is_naive(value):
        # API.md: a time without an offset is Chicago local time.
        value = value.replace(tzinfo=CHICAGO)
    return value


def _check_time(occurred_at: datetime, errors: Errors, *, check_age: bool) -> None:
    now = timezone.now()
    if occurred_at > now + FUTURE_GRACE:
        errors.add("occurred_at", _("The time is in the future. Check the date and the AM/PM."))
    elif check_age and occurred_at < now - MAX_AGE:
        errors.add("occurred_at", _("The time is more than 30 days ago. Older shootings are imported, not entered."))


def _parse_district(value, ref: Reference, errors: Errors) -> District | None:
    if value in (None, ""):
        return None
    if isinstance(value, District):
        ref.remember(value)  # a point's derived district may be this one
        return value
    try:
        number = normalise_district(value)
    except ValueError:
        errors.add("district", _("“%(value)s” is not a district number. Use e.g. 007 or 7.")
                   % {"value": str(value).strip()})
        return None
    district = ref.district(number)
    if district is None:
        errors.add("district", _("There is no District %(number)s.") % {"number": int(number)})
    return district


def _parse_beat(value, ref: Reference, errors: Errors) -> Beat | None:
    if value in (None, ""):
        return None
    if isinstance(value, Beat):
        ref.remember(value)  # a point's derived beat may be this one
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{3,4}", text):
        errors.add("beat", _("“%(value)s” is not a beat. Beats are four digits, e.g. 0714.") % {"value": text})
        return None
    beat = ref.beat(f"{int(text):04d}")
    if beat is None:
        errors.add("beat", _("There is no beat %(number)s.") % {"number": f"{int(text):04d}"})
    return beat


def _parse_area(value, ref: Reference, errors: Errors) -> CommunityArea | None:
    if value in (None, ""):
        return None
    if isinstance(value, CommunityArea):
        ref.remember(value)  # a point's derived area may be this one
        return value
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.add("community_area", _("A community area is a number from 1 to 77."))
        return None
    area = ref.area(number) if 1 <= number <= 77 else None
    if area is None:
        errors.add("community_area", _("A community area is a number from 1 to 77."))
    return area


def _parse_point(latitude, longitude, errors: Errors) -> tuple[float | None, float | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    if latitude in (None, "") or longitude in (None, ""):
        missing = "latitude" if latitude in (None, "") else "longitude"
        errors.add(missing, _("Give both latitude and longitude, or neither."))
        return None, None
    try:
        return float(latitude), float(longitude)
    except (TypeError, ValueError):
        errors.add("latitude", _("Latitude and longitude are decimal degrees, e.g. 41.7796, -87.6446."))
        return None, None


def _resolve_geography(clean: CleanIncident, raw: dict, ref: Reference, errors: Errors, *, historical: bool) -> None:
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
            errors.add("latitude", _("The point is outside Chicago."))
    if clean.latitude is not None and place is not None:
        beat = place.beat and ref.beat(place.beat)  # first: it brings the district along
        derived = {"district": place.district and ref.district(place.district), "beat": beat,
                   "community_area": place.community_area and ref.area(place.community_area)}
        for name, value in derived.items():
            given = getattr(clean, name)
            if value and given is None:
                setattr(clean, name, value)
            elif value and given.pk != value.pk and not historical and name not in errors:
                errors.add(name, _("The map point is in %(found)s, not %(given)s.") % {
                    "found": _place_text(name, value), "given": _place_text(name, given)})
    if clean.district is None and clean.beat is not None and "district" not in errors:
        clean.district = clean.beat.district
    if clean.district is None:
        if "district" not in errors:
            errors.add("district", _("Choose the district, or give a map point."))
    elif clean.beat is not None and clean.beat.district_id != clean.district.pk and "beat" not in errors:
        errors.add("beat", _("Beat %(beat)s is not in %(district)s.") % {
            "beat": clean.beat.number, "district": _district_label(clean.district)})


def _place_text(name: str, value) -> str:
    if name == "district":
        return _district_label(value)
    if name == "beat":
        return _("beat %(number)s") % {"number": value.number}
    return _("community area %(number)s %(name)s") % {"number": value.number, "name": value.display_name}


def _parse_victims(value, errors: Errors) -> list[dict]:
    if not isinstance(value, list | tuple) or not value:
        errors.add("victims", _("Add at least one victim."))
        return []
    if len(value) > MAX_VICTIMS:
        errors.add("victims", _("At most %(max)s victims per incident; enter a mass shooting as several.")
                   % {"max": MAX_VICTIMS})
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
            errors.add("victims", _("Victim %(number)s: unknown age band “%(value)s”.")
                       % {"number": number, "value": victim["age_band"]})
        if victim["sex"] not in Victim.Sex.values:
            errors.add("victims", _("Victim %(number)s: sex must be M, F, X or unknown.") % {"number": number})
        victims.append(victim)
    return victims


def _parse_hospital(value, ref: Reference, errors: Errors) -> Hospital | None:
    if value in (None, ""):
        return None
    if isinstance(value, Hospital):
        return value
    hospital = ref.hospital(str(value).strip())
    if hospital is None:
        errors.add("hospital", _("“%(value)s” is not a known hospital code.") % {"value": value})
    return hospital


def clean_incident(
    raw: dict, *, actor, ref: Reference, check_age: bool = True, historical: bool = False
) -> CleanIncident:
    """Validate and resolve everything, collecting every message; raise once at the end."""
    errors = Errors()
    clean = CleanIncident()
    rd_number = (raw.get("rd_number") or "").strip().upper() or None
    if rd_number and not RD_NUMBER.fullmatch(rd_number):
        errors.add("rd_number", str(RD_UNUSABLE))
    clean.rd_number = rd_number
    clean.occurred_at = parse_occurred_at(raw.get("occurred_at"), errors)
    if clean.occurred_at is not None:
        _check_time(clean.occurred_at, errors, check_age=check_age)
    clean.block = " ".join(str(raw.get("block") or "").split()).upper()
    if not clean.block:
        errors.add("block", _("Enter the block, e.g. 7800 S OGLESBY AVE."))
    elif len(clean.block) > 120:
        errors.add("block", _("Keep the block to 120 characters."))
    _resolve_geography(clean, raw, ref, errors, historical=historical)
    clean.victims = _parse_victims(raw.get("victims"), errors)
    clean.hospital = _parse_hospital(raw.get("hospital"), ref, errors)
    clean.scene_status = raw.get("scene_status") or Incident.SceneStatus.ACTIVE
    if clean.scene_status not in Incident.SceneStatus.values:
        errors.add("scene_status", _("Scene status is active, secured or cleared."))
    clean.gathering = raw.get("gathering") or ""
    if clean.gathering not in Incident.Gathering.values:
        errors.add("gathering", _("At a vigil or funeral is vigil, funeral or empty."))
    clean.note = (raw.get("note") or "").strip()
    if len(clean.note) > MAX_NOTE:
        errors.add("note", _("Keep the note to %(max)s characters (it has %(length)s).")
                   % {"max": MAX_NOTE, "length": len(clean.note)})
    scope = scope_of(actor) if actor is not None else None
    if scope is not None and scope.is_cpd and clean.district is not None and clean.district.pk != scope.district_id:
        errors.add("district", _("You can enter incidents for your own district only."))
    if errors:
        raise ValidationError(dict(errors))
    return clean
