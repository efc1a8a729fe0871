"""Point-in-polygon lookup: which beat, district and community area hold a point.

The boundaries are read from the database once per process into shapely STRtrees; a lookup
is then a tree query plus one or two exact containment tests (a few microseconds).
`reset()` drops the cache after the geography is reloaded.

shapely (with numpy, about 12 MB of every process that imports it) is imported where a lookup
first needs it (through `core.imports.imported`, one thread at a time: gunicorn's threads
importing it at once leave it broken): the web loads it with its first point, and the relay and
the worker, which import this module through the services but never look a point up, do not
carry it.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from core.imports import imported

from .models import Beat, CommunityArea, District

# Chicago's extent with a margin; anything outside is rejected before the tree query.
CHICAGO_BOUNDS = (-87.95, 41.64, -87.52, 42.03)
BOUNDARIES_AT_ONCE = 16


@dataclass(frozen=True)
class Place:
    district: str | None
    beat: str | None
    community_area: int | None


class _Layer:
    def __init__(self, rows: Iterable[tuple[object, dict]]):
        shapely = imported("shapely")
        shape = imported("shapely.geometry").shape

        self.keys, self.geoms = [], []
        for key, geometry in rows:  # one boundary at a time (see _layers)
            geom = shape(geometry)
            shapely.prepare(geom)
            self.keys.append(key)
            self.geoms.append(geom)
        self.tree = shapely.STRtree(self.geoms)

    def find(self, point):
        for index in self.tree.query(point, predicate="intersects"):
            return self.keys[index]
        return None


@cache
def _layers() -> tuple[_Layer, _Layer, dict[str, str]]:
    """The beats' and community areas' trees, read a few boundaries at a time: a boundary's
    decoded GeoJSON is several times the size of its shape, and holding every one at once put
    about 16 MB on the peak memory of the web process that placed its first point."""
    beat_district: dict[str, str] = {}

    def beats() -> Iterator[tuple[str, dict]]:
        for number, boundary, district in Beat.objects.filter(boundary__isnull=False).values_list(
                "number", "boundary", "district__number").iterator(chunk_size=BOUNDARIES_AT_ONCE):
            beat_district[number] = district
            yield number, boundary

    areas = CommunityArea.objects.filter(boundary__isnull=False).values_list("number", "boundary")
    return _Layer(beats()), _Layer(areas.iterator(chunk_size=BOUNDARIES_AT_ONCE)), beat_district


def reset() -> None:
    _layers.cache_clear()
    community_areas_in_district.cache_clear()


@cache
def community_areas_in_district(district_number: str, min_share: float = 0.02) -> tuple[int, ...]:
    """Numbers of the community areas with at least `min_share` of their ground in the district.

    Beats nest inside districts, community areas do not; computed once per process from the
    polygons (the area tree narrows 77 areas to the few that touch the district).
    """
    boundary = District.objects.filter(number=district_number).values_list("boundary", flat=True).first()
    if not boundary:
        return ()
    shapely = imported("shapely")
    shape = imported("shapely.geometry").shape

    _, areas, _ = _layers()
    district = shape(boundary)
    shapely.prepare(district)
    return tuple(sorted(
        areas.keys[index] for index in areas.tree.query(district, predicate="intersects")
        if district.intersection(areas.geoms[index]).area > min_share * areas.geoms[index].area
    ))


def in_chicago_bounds(latitude: float, longitude: float) -> bool:
    west, south, east, north = CHICAGO_BOUNDS
    return south <= latitude <= north and west <= longitude <= east


def locate(latitude: float, longitude: float) -> Place | None:
    """The place holding (latitude, longitude), or None for a point outside Chicago.

    A point inside the city but on no beat (a lake-front pier, say) comes back with only
    its community area; one on no community area is treated as outside Chicago.
    """
    if not in_chicago_bounds(latitude, longitude):
        return None
    point_at = imported("shapely.geometry").Point

    beats, areas, beat_district = _layers()
    point = point_at(longitude, latitude)
    area = areas.find(point)
    if area is None:
        return None
    beat = beats.find(point)
    return Place(district=beat_district.get(beat) if beat else None, beat=beat, community_area=area)
