"""Which playbooks an incident matches, from plain facts about it.

`notifications` (above this app) builds an `IncidentFacts` from the incident it is writing,
including the other shootings near it in place and time (`repeat_window` says how far to
look), and stores what `playbooks_matching` returns on the incident, in the same transaction
as routing. Places are read here: they belong to this app.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .models_playbooks import Place, Playbook

EARTH_METRES = 6_371_000


@dataclass(frozen=True)
class Neighbour:
    """Another shooting: where and when."""

    latitude: float
    longitude: float
    occurred_at: datetime


@dataclass(frozen=True)
class IncidentFacts:
    victim_count: int
    fatal_count: int
    age_bands: tuple[str, ...] = ()
    hospital: str | None = None  # hospital code; None or UNKNOWN when not taken to one
    trauma_centre: bool = False
    latitude: float | None = None
    longitude: float | None = None
    occurred_at: datetime | None = None
    gathering: str = ""
    neighbours: tuple[Neighbour, ...] = field(default_factory=tuple)


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); plenty for a block-scale comparison."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_METRES * math.asin(math.sqrt(a))


def box(latitude: float, longitude: float, metres: float) -> dict:
    """Latitude/longitude bounds of a square around a point (for an indexed pre-filter)."""
    dlat = metres / 111_320
    dlon = metres / (111_320 * max(math.cos(math.radians(latitude)), 0.01))
    return {"latitude__gte": latitude - dlat, "latitude__lte": latitude + dlat,
            "longitude__gte": longitude - dlon, "longitude__lte": longitude + dlon}


def active_playbooks() -> list[Playbook]:
    return list(Playbook.objects.filter(active=True).order_by("position", "code"))


def repeat_window(playbooks: list[Playbook] | None = None) -> tuple[int, int] | None:
    """(metres, days): how far to look for other shootings, or None when no active playbook has
    a repeat rule (then nobody needs to look)."""
    rules = [rule for p in (active_playbooks() if playbooks is None else playbooks) for rule in p.rules
             if rule.get("field") == "repeat"]
    if not rules:
        return None
    return max(int(r["metres"]) for r in rules), max(int(r["days"]) for r in rules)


def _near_place(facts: IncidentFacts, kinds: list[str], metres: int) -> bool:
    if facts.latitude is None or facts.longitude is None:
        return False
    candidates = Place.objects.filter(kind__in=kinds, **box(facts.latitude, facts.longitude, metres))
    return any(metres_between(facts.latitude, facts.longitude, p.latitude, p.longitude) <= metres
               for p in candidates.only("latitude", "longitude"))


def _repeat(facts: IncidentFacts, metres: int, days: int) -> bool:
    if facts.latitude is None or facts.longitude is None or facts.occurred_at is None:
        return False
    window = timedelta(days=days)
    return any(abs(n.occurred_at - facts.occurred_at) <= window
               and metres_between(facts.latitude, facts.longitude, n.latitude, n.longitude) <= metres
               for n in facts.neighbours)


def _values(rule: dict) -> list:
    value = rule.get("value")
    return value if isinstance(value, list) else [value]


def rule_holds(rule: dict, facts: IncidentFacts) -> bool:
    name, op, value = rule["field"], rule["op"], rule.get("value")
    if name in ("victim_count", "fatal_count"):
        count = getattr(facts, name)
        return count >= value if op == "gte" else count == value
    if name == "age_band":
        return any(band in _values(rule) for band in facts.age_bands)
    if name == "hospital":
        taken = facts.hospital not in (None, "", "UNKNOWN")
        return taken and (value == "any" or facts.trauma_centre)
    if name == "place":
        return _near_place(facts, _values(rule), int(rule["metres"]))
    if name == "repeat":
        return _repeat(facts, int(rule["metres"]), int(rule["days"]))
    if name == "gathering":
        return bool(facts.gathering) and facts.gathering in _values(rule)
    return False  # a field the declared set no longer knows never matches


def playbooks_matching(facts: IncidentFacts, playbooks: list[Playbook] | None = None) -> list[Playbook]:
    """The active playbooks whose every rule holds, most specific (lowest position) first."""
    playbooks = active_playbooks() if playbooks is None else playbooks
    return [p for p in playbooks if all(rule_holds(rule, facts) for rule in p.rules)]
