"""The organisation directory's coverage map: a district drawn as SVG on the server from the
district, beat and community-area polygons in the database, no tiles and no map library.

Geometry is simplified with shapely (about 15 m) and projected from lon/lat to the SVG box with
an equirectangular projection scaled by cos(latitude), true enough at a district's size. The
main map shades each community area (its part inside the district) by how many organisations
cover it; each organisation also gets a small map of its own coverage here (its community
areas, its beats, or the whole district), drawn over the same outline.
"""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.imports import imported

from .models import CommunityArea, Coverage, District, Organization

WIDTH = 640
PAD = 8
TOLERANCE = 0.00015  # degrees, about 15 m


@dataclass
class MapShape:
    path: str
    label: str = ""
    x: float = 0.0
    y: float = 0.0


@dataclass
class OrgLayer:
    organization: Organization
    shapes: list[MapShape] = field(default_factory=list)
    whole_district: bool = False
    places: list[str] = field(default_factory=list)


@dataclass
class CoverageMap:
    width: int
    height: int
    district: MapShape
    beats: list[MapShape]
    areas: list[MapShape]
    layers: list[OrgLayer]
    # (shape, number of organisations covering it, shade class), one per community-area piece
    counts: list[tuple[MapShape, int, str]] = field(default_factory=list)
    levels: list[tuple[str, str]] = field(default_factory=list)  # (shade class, legend label)


class _Projection:
    def __init__(self, bounds: tuple[float, float, float, float]):
        west, south, east, north = bounds
        self.kx = math.cos(math.radians((south + north) / 2))
        self.west, self.north = west, north
        span_x, span_y = (east - west) * self.kx, north - south
        self.scale = (WIDTH - 2 * PAD) / span_x if span_x else 1.0
        self.height = round(span_y * self.scale + 2 * PAD)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (round(PAD + (lon - self.west) * self.kx * self.scale, 1),
                round(PAD + (self.north - lat) * self.scale, 1))

    def path(self, geom) -> str:
        polygons = geom.geoms if geom.geom_type == "MultiPolygon" else [geom] if geom.geom_type == "Polygon" else [
            g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
        parts = []
        for polygon in polygons:
            for ring in [polygon.exterior, *polygon.interiors]:
                points = [self.point(x, y) for x, y in ring.coords]
                parts.append("M" + " L".join(f"{x},{y}" for x, y in points) + " Z")
        return " ".join(parts)

    def shape(self, geom, label: str = "") -> MapShape:
        centre = geom.representative_point()
        x, y = self.point(centre.x, centre.y)
        return MapShape(path=self.path(geom), label=label, x=x, y=y)


def coverage_map(district: District, organizations: list[Organization], area_numbers: set[int]) -> CoverageMap | None:
    """The district's map with the coverage of `organizations` inside it; community areas are those
    numbered in `area_numbers` (their part inside the district). None without a boundary."""
    if not district.boundary:
        return None
    shape = imported("shapely.geometry").shape  # where a map is drawn: see districts/geo.py on shapely's weight

    outline = shape(district.boundary).buffer(0)
    projection = _Projection(outline.bounds)
    simplified = outline.simplify(TOLERANCE, preserve_topology=True)
    beats = {beat.pk: (beat.number, shape(beat.boundary).simplify(TOLERANCE, preserve_topology=True))
             for beat in district.beats.all() if beat.boundary}
    areas = {}
    for area in _areas(area_numbers):
        clipped = shape(area.boundary).buffer(0).intersection(outline)
        if not clipped.is_empty:
            areas[area.pk] = (area.display_name, clipped.simplify(TOLERANCE, preserve_topology=True))
    layers, area_orgs = [], {pk: set() for pk in areas}
    coverage = Coverage.objects.filter(organization__in=organizations).select_related("community_area", "beat")
    by_org: dict[int, list[Coverage]] = {}
    for row in coverage:
        by_org.setdefault(row.organization_id, []).append(row)
    for organization in organizations:
        layer = OrgLayer(organization=organization)
        for row in by_org.get(organization.pk, []):
            if row.district_id == district.pk:
                layer.whole_district = True
                layer.places.append(district.label)
                for orgs in area_orgs.values():
                    orgs.add(organization.pk)
            elif row.community_area_id in areas:
                area_orgs[row.community_area_id].add(organization.pk)
                name, geom = areas[row.community_area_id]
                layer.shapes.append(projection.shape(geom))
                layer.places.append(name)
            elif row.beat_id in beats:
                number, geom = beats[row.beat_id]
                layer.shapes.append(projection.shape(geom))
                layer.places.append(_("Beat %(number)s") % {"number": number})
        layers.append(layer)
    counts = [(projection.shape(geom, name), len(area_orgs[pk]), _shade(len(area_orgs[pk])))
              for pk, (name, geom) in areas.items()]
    return CoverageMap(
        width=WIDTH, height=projection.height, district=projection.shape(simplified, district.label),
        beats=[projection.shape(geom, number) for number, geom in beats.values()],
        areas=[projection.shape(geom, name) for name, geom in areas.values()],
        layers=layers, counts=counts, levels=_levels(),
    )


def _shade(count: int) -> str:
    return f"shade-{min(count, 3)}"


def _levels() -> list[tuple[str, str]]:
    return [("shade-0", _("No organisation")), ("shade-1", _("1 organisation")),
            ("shade-2", _("2 organisations")), ("shade-3", _("3 or more"))]


def _areas(numbers: set[int]):
    return CommunityArea.objects.filter(number__in=numbers, boundary__isnull=False)
