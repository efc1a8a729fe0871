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
MAX_PLACE_METRES = 1000  # rules.MAX_METRES: the largest distance a place or repeat rule may name


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


class PointIndex:
    """Points in square cells of `cell_metres`, to find the ones near a point without a query
    per point (matching many stored incidents at once). Each point carries a payload."""

    def __init__(self, points, *, cell_metres: float):
        self.dlat = cell_metres / 111_320
        self.cells: dict[tuple[int, int], list] = {}
        for latitude, longitude, payload in points:
            self.cells.setdefault(self._cell(latitude, longitude), []).append((latitude, longitude, payload))

    def _cell(self, latitude: float, longitude: float) -> tuple[int, int]:
        # Longitude cells are as wide as latitude ones in degrees: narrower on the ground, never wider.
        return int(latitude // self.dlat), int(longitude // self.dlat)

    def near(self, latitude: float, longitude: float, metres: float) -> list:
        """Payloads of the points within `metres` (at most one cell size) of the point."""
        row, col = self._cell(latitude, longitude)
        span = 1 + int(metres / 111_320 / self.dlat / max(math.cos(math.radians(latitude)), 0.01))
        found = []
        for r in range(row - 1, row + 2):
            for c in range(col - span, col + span + 1):
                for lat, lon, payload in self.cells.get((r, c), ()):
                    if metres_between(latitude, longitude, lat, lon) <= metres:
                        found.append(payload)
        return found


def places_index() -> PointIndex:
    """Every listed place, by kind, for matching many incidents at once."""
    rows = Place.objects.values_list("latitude", "longitude", "kind")
    return PointIndex([(lat, lon, kind) for lat, lon, kind in rows], cell_metres=MAX_PLACE_METRES)


def _near_place(facts: IncidentFacts, kinds: list[str], metres: int, places: PointIndex | None = None) -> bool:
    if facts.latitude is None or facts.longitude is None:
        return False
    if places is not None:
        return any(kind in kinds for kind in places.near(facts.latitude, facts.longitude, metres))
    candidates = Place.objects.filter(kind__in=kinds, **box(facts.latitude, facts.longitude, metres))
    return any(metres_between(facts.latitude, facts.longitude, p.latitude, p.longitude) <= metres
               for p in candidates.only("latitude", "longitude"))


def _repeat(facts: IncidentFacts, metres: int, days: int) -> bool:
    if facts.latitude is None or facts.longitude is None or facts.occurred_at is None:
        return False
    # A repeat follows another shooting: the earlier one (or one at the same moment) counts.
    window = timedelta(days=days)
    return any(timedelta(0) <= facts.occurred_at - n.occurred_at <= window
               and metres_between(facts.latitude, facts.longitude, n.latitude, n.longitude) <= metres
               for n in facts.neighbours)


def _values(rule: dict) -> list:
    value = rule.get("value")
    return value if isinstance(value, list) else [value]


def rule_holds(rule: dict, facts: IncidentFacts, places: PointIndex | None = None) -> bool:
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
        return _near_place(facts, _values(rule), int(rule["metres"]), places)
    if name == "repeat":
        return _repeat(facts, int(rule["metres"]), int(rule["days"]))
    if name == "gathering":
        return bool(facts.gathering) and facts.gathering in _values(rule)
    return False  # a field the declared set no longer knows never matches


def playbooks_matching(facts: IncidentFacts, playbooks: list[Playbook] | None = None, *,
                       places: PointIndex | None = None) -> list[Playbook]:
    """The active playbooks whose every rule holds, most specific (lowest position) first.
    `places` (a `places_index()`) replaces the query per place rule when matching in bulk."""
    playbooks = active_playbooks() if playbooks is None else playbooks
    return [p for p in playbooks if all(rule_holds(rule, facts, places) for rule in p.rules)]
