"""Load the shipped City of Chicago files into the geography and organisation tables.

Every loader is idempotent (keyed on the natural number or code) and streams its file row by
row. A bad row is reported with its row number and the reason, and the load goes on; the
result counts loaded (new), updated, unchanged and rejected rows.
"""

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import geo
from .models import Beat, CommunityArea, Coverage, District, Hospital, Organization, normalise_district

DATA_DIR = Path(__file__).resolve().parent / "data"

# A community area counts as covered by an outreach label when it holds at least this share
# of the label's tagged victimisations, and at least this many of them.
COVERAGE_MIN_SHARE = 0.10
COVERAGE_MIN_COUNT = 3


class RowError(ValueError):
    """A row that cannot be loaded; the message says why."""


@dataclass
class LoadResult:
    name: str
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    messages: list[str] = field(default_factory=list)

    def reject(self, row: int | str, reason: str) -> None:
        """`row` is a row number, or a label such as 'beat 0714' when rows were merged."""
        self.rejected += 1
        where = f"row {row}" if isinstance(row, int) else row
        self.messages.append(f"{self.name}: {where}: {reason}")

    def count(self, created: bool, changed: bool) -> None:
        if created:
            self.loaded += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    @property
    def summary(self) -> str:
        return (
            f"{self.name}: {self.loaded} loaded, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.rejected} rejected"
        )


def _upsert(model, lookup: dict, values: dict) -> tuple[bool, bool]:
    """Create or update one row; returns (created, changed) without writing unchanged rows."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        model.objects.create(**lookup, **values)
        return True, False
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
    return False, bool(changed)


def district_number(raw: object) -> str:
    """'7', 7, '7.0' and '007' all become '007'; anything else raises RowError."""
    try:
        return normalise_district(raw, spreadsheet=True)
    except ValueError:
        raise RowError(f"{str(raw).strip()!r} is not a district number") from None


def _check_point(latitude: object, longitude: object) -> None:
    """A latitude/longitude pair, when given, must be numbers inside Chicago."""
    if not (latitude or longitude):
        return
    try:
        lat, lon = float(str(latitude).strip()), float(str(longitude).strip())
    except ValueError:
        raise RowError(f"the point ({latitude!r}, {longitude!r}) is not a latitude and longitude") from None
    if not geo.in_chicago_bounds(lat, lon):
        raise RowError(f"the point ({lat}, {lon}) is outside Chicago")


def _features(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open() as handle:
        data = json.load(handle)
    yield from enumerate(data.get("features", []), start=1)


def _csv_rows(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        # Row 1 is the header, so the first record is row 2, as a spreadsheet shows it.
        yield from enumerate(csv.DictReader(handle), start=2)


def _merge_geometries(geometries: Iterable[dict]) -> dict:
    """Pieces of one beat or district (e.g. beat 3100) become one MultiPolygon."""
    polygons = []
    for geometry in geometries:
        if geometry["type"] == "Polygon":
            polygons.append(geometry["coordinates"])
        elif geometry["type"] == "MultiPolygon":
            polygons.extend(geometry["coordinates"])
        else:
            raise RowError(f"geometry type {geometry['type']} is not a polygon")
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def _group_features(result: LoadResult, path: Path, key) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for index, feature in _features(path):
        try:
            number = key(feature.get("properties") or {})
            if not feature.get("geometry"):
                raise RowError("no geometry")
        except KeyError as error:
            result.reject(index, f"no {error.args[0]} property")
            continue
        except (RowError, ValueError) as error:
            result.reject(index, str(error))
            continue
        groups.setdefault(number, []).append(feature)
    return groups


@transaction.atomic
def load_districts(data_dir: Path = DATA_DIR) -> LoadResult:
    result = LoadResult("districts")
    groups = _group_features(result, data_dir / "police_districts.geojson",
                             lambda props: district_number(props["dist_num"]))
    stations = {}
    for row_number, row in _csv_rows(data_dir / "police_stations.csv"):
        try:
            number = district_number(row.get("DISTRICT", ""))
            if number not in groups:
                raise RowError(f"unknown district {number} (not in police_districts.geojson)")
            _check_point(row.get("LATITUDE"), row.get("LONGITUDE"))
        except RowError as error:
            result.reject(f"row {row_number} of police_stations.csv", str(error))
            continue
        stations[number] = row
    for number, features in sorted(groups.items()):
        station = stations.get(number, {})
        name = (station.get("DISTRICT_NAME") or "").strip()
        if not name:
            label = features[0]["properties"].get("dist_label", "")
            name = "Outside regular districts" if number == "031" else label.title()
        address = " ".join((station.get("ADDRESS") or "").split())
        if address and station.get("ZIP"):
            address = f"{address}, Chicago IL {station['ZIP'].strip()}"
        values = {
            "name": name,
            "station_address": address,
            "station_phone": (station.get("PHONE") or "").strip(),
            "boundary": _merge_geometries(f["geometry"] for f in features),
        }
        result.count(*_upsert(District, {"number": number}, values))
    return result


@transaction.atomic
def load_beats(data_dir: Path = DATA_DIR) -> LoadResult:
    result = LoadResult("beats")
    districts = {d.number: d for d in District.objects.all()}

    def beat_key(props: dict) -> str:
        number = str(props["BEAT_NUM"]).strip()
        if not re.fullmatch(r"\d{4}", number):
            raise RowError(f"{number!r} is not a four-digit beat")
        return number

    groups = _group_features(result, data_dir / "police_beats.geojson", beat_key)
    for number, features in sorted(groups.items()):
        props = features[0]["properties"]
        try:
            district = districts[district_number(props["DISTRICT"])]
        except (RowError, KeyError):
            result.reject(f"beat {number}", f"unknown district {props.get('DISTRICT')!r}")
            continue
        values = {
            "district": district,
            "sector": str(props.get("SECTOR", "")).strip()[:2],
            "boundary": _merge_geometries(f["geometry"] for f in features),
        }
        result.count(*_upsert(Beat, {"number": number}, values))
    return result


@transaction.atomic
def load_community_areas(data_dir: Path = DATA_DIR) -> LoadResult:
    result = LoadResult("community areas")

    def area_key(props: dict) -> str:
        number = int(str(props["area_numbe"]).strip())
        if not 1 <= number <= 77:
            raise RowError(f"community area {number} is not between 1 and 77")
        return str(number)

    groups = _group_features(result, data_dir / "community_areas.geojson", area_key)
    for number, features in sorted(groups.items(), key=lambda item: int(item[0])):
        values = {
            "name": str(features[0]["properties"].get("community", "")).strip().upper(),
            "boundary": _merge_geometries(f["geometry"] for f in features),
        }
        result.count(*_upsert(CommunityArea, {"number": int(number)}, values))
    return result


@transaction.atomic
def load_hospitals(data_dir: Path = DATA_DIR) -> LoadResult:
    result = LoadResult("hospitals")
    for row_number, row in _csv_rows(data_dir / "hospitals.csv"):
        code = (row.get("code") or "").strip().upper()
        name = (row.get("name") or "").strip()
        if not re.fullmatch(r"[A-Z0-9_]{2,16}", code):
            result.reject(row_number, f"code {code!r} is not 2 to 16 letters, digits or _")
            continue
        if not name:
            result.reject(row_number, "no name")
            continue
        values = {
            "name": name,
            "area": (row.get("area") or "").strip(),
            "adult_trauma_level": (row.get("adult_trauma_level") or "").strip(),
            "pediatric_trauma_level": (row.get("pediatric_trauma_level") or "").strip(),
            "violence_intervention": (row.get("violence_intervention") or "").strip()[:300],
        }
        result.count(*_upsert(Hospital, {"code": code}, values))
    return result


_COUNTED = re.compile(r"^(?P<name>.+?)\s*\((?P<count>\d+)\)$")


def parse_counted_list(text: str) -> list[tuple[str, int]]:
    """'HUMBOLDT PARK (130); WEST TOWN (11)' → [('HUMBOLDT PARK', 130), ('WEST TOWN', 11)]."""
    items = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _COUNTED.match(part)
        if not match:
            raise RowError(f"{part!r} is not 'NAME (count)'")
        items.append((match["name"].strip().upper(), int(match["count"])))
    return items


def load_organizations(path: Path = DATA_DIR / "outreach_org_coverage.csv") -> LoadResult:
    """Organisations and their community-area coverage from the City's outreach tags."""
    result = LoadResult("organizations")
    areas = {area.name: area for area in CommunityArea.objects.all()}
    if not areas:
        raise RowError("load the geography first: there are no community areas")
    seen: set[str] = set()
    for row_number, row in _csv_rows(path):
        label = (row.get("street_outreach_organization_label") or "").strip()
        org_name = (row.get("organization") or "").strip()
        try:
            if not label or not org_name:
                raise RowError("no label or organization")
            counted = parse_counted_list(row.get("community_areas") or "")
            unknown = [name for name, _ in counted if name not in areas]
            if unknown:
                raise RowError(f"unknown community area {unknown[0]!r}")
        except RowError as error:
            result.reject(row_number, str(error))
            continue
        with transaction.atomic():
            organization, created = Organization.objects.get_or_create(
                name=org_name, defaults={"short_name": _short_name(org_name), "signed_understanding": True}
            )
            if created:
                result.loaded += 1
            elif org_name not in seen:
                result.unchanged += 1
            seen.add(org_name)
            total = sum(count for _, count in counted)
            for name, count in counted:
                if count >= COVERAGE_MIN_COUNT and count >= COVERAGE_MIN_SHARE * total:
                    Coverage.objects.get_or_create(
                        organization=organization, kind=Coverage.Kind.COMMUNITY_AREA,
                        community_area=areas[name], defaults={"note": f"City tag {label}"},
                    )
    return result


@transaction.atomic
def load_partners(path: Path = DATA_DIR / "partner_organizations.csv") -> LoadResult:
    """Partner organisations (hospital violence-intervention programmes, victim services, City
    staff) and which hospitals' programme each is. Load the geography first (the hospitals)."""
    result = LoadResult("partner organizations")
    hospitals = {hospital.code: hospital for hospital in Hospital.objects.all()}
    for row_number, row in _csv_rows(path):
        name = (row.get("name") or "").strip()
        partner_type = (row.get("partner_type") or "").strip()
        codes = (row.get("hospitals") or "").split()
        if not name:
            result.reject(row_number, "no name")
            continue
        if partner_type not in Organization.PartnerType.values:
            result.reject(row_number, f"{partner_type!r} is not a partner type")
            continue
        unknown = [code for code in codes if code not in hospitals]
        if unknown:
            result.reject(row_number, f"unknown hospital {unknown[0]!r} (load the geography first)")
            continue
        values = {"short_name": (row.get("short_name") or "").strip()[:40] or _short_name(name),
                  "partner_type": partner_type}
        result.count(*_upsert(Organization, {"name": name}, values))
        organization = Organization.objects.get(name=name)
        for code in codes:
            if hospitals[code].violence_programme_id != organization.pk:
                hospitals[code].violence_programme = organization
                hospitals[code].save(update_fields=["violence_programme"])
    return result


def _short_name(name: str) -> str:
    """'READI Chicago (Heartland Alliance)' → 'READI Chicago'; '… (INVC)' keeps the acronym."""
    match = re.match(r"^(?P<head>.+?)\s*\((?P<inner>[^)]+)\)$", name)
    if not match:
        return name[:40]
    inner = match["inner"]
    return (inner if inner.isupper() and len(inner) <= 8 else match["head"])[:40]


def load_geography(data_dir: Path = DATA_DIR) -> list[LoadResult]:
    results = [
        load_districts(data_dir),
        load_beats(data_dir),
        load_community_areas(data_dir),
        load_hospitals(data_dir),
    ]
    geo.reset()
    return results
