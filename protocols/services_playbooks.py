"""Writing playbooks and places: the administrators' pages, the loaders and the demo call these.

Each write checks everything first (`rules.playbook_errors`, every row of a places file) and
raises `ValidationError({field: [messages]})` before anything is saved, so a refused playbook or
places file leaves nothing half-saved. Each write appends an audit event.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_log
from districts.geo import in_chicago_bounds
from districts.models import Organization

from .models_playbooks import Place, Playbook
from .rules import playbook_errors

DATA_DIR = Path(__file__).resolve().parent / "data"
PLAYBOOK_FIELDS = ("code", "title", "title_es", "description", "description_es", "rules", "partner_types",
                   "checklists", "position", "active")
MAX_PLACES = 20_000


def playbook_save(*, actor, source: str = "web", playbook: Playbook | None = None, partners=(), **values) -> Playbook:
    """Create (`playbook` None) or update a playbook from `values` (PLAYBOOK_FIELDS) and its
    partner organisations. Raises ValidationError with every problem; writes nothing then."""
    unknown = set(values) - set(PLAYBOOK_FIELDS)
    if unknown:
        raise TypeError(f"playbook_save() got unexpected fields: {', '.join(sorted(unknown))}")
    current = {name: getattr(playbook, name) for name in PLAYBOOK_FIELDS} if playbook else {}
    merged = {"title_es": "", "description": "", "description_es": "", "rules": [], "partner_types": [],
              "checklists": {}, "position": 100, "active": True, **current, **values}
    errors = playbook_errors(code=merged.get("code", ""), title=merged.get("title", ""), rules=merged["rules"],
                             partner_types=merged["partner_types"], checklists=merged["checklists"])
    taken = Playbook.objects.filter(code=merged.get("code")).exclude(pk=playbook.pk if playbook else None)
    if merged.get("code") and taken.exists():
        errors.setdefault("code", []).append(_("Another playbook has the code “%(code)s”.") % {"code": merged["code"]})
    if errors:
        raise ValidationError(errors)
    created = playbook is None
    with transaction.atomic():
        playbook = playbook or Playbook()
        for name, value in merged.items():
            setattr(playbook, name, value)
        playbook.save()
        playbook.partners.set(list(partners))
        audit_log(actor=actor, source=source, action="playbook.created" if created else "playbook.updated",
                  obj=playbook, data={"code": playbook.code, "rules": playbook.rules,
                                      "partner_types": playbook.partner_types, "active": playbook.active,
                                      "partners": [str(o.code) for o in playbook.partners.all()]})
    return playbook


@dataclass
class PlaybookLoad:
    loaded: int = 0
    updated: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"playbooks: {self.loaded} loaded, {self.updated} updated"


def load_playbooks(path: Path = DATA_DIR / "playbooks.json", *, update: bool = False) -> PlaybookLoad:
    """The seeded playbooks. A playbook already stored is left as administrators edited it
    unless `update`; a partner named in the file but not loaded is reported and skipped."""
    result = PlaybookLoad()
    for entry in json.loads(path.read_text(encoding="utf-8")):
        existing = Playbook.objects.filter(code=entry["code"]).first()
        if existing and not update:
            continue
        names = entry.get("partners", [])
        partners = list(Organization.objects.filter(name__in=names))
        for missing in sorted(set(names) - {o.name for o in partners}):
            result.messages.append(f"playbook {entry['code']}: partner {missing!r} is not loaded (load_partners)")
        values = {name: entry[name] for name in PLAYBOOK_FIELDS if name in entry}
        playbook_save(actor=None, source="system", playbook=existing, partners=partners, **values)
        if existing:
            result.updated += 1
        else:
            result.loaded += 1
    return result


@dataclass
class PlacesImport:
    created: int = 0
    updated: int = 0

    @property
    def summary(self) -> str:
        return f"places: {self.created} loaded, {self.updated} updated"


def _place_row(number: int, row: dict, kinds: dict) -> tuple[dict | None, str | None]:
    kind_text = (row.get("kind") or "").strip().lower().replace(" ", "_")
    kind = kinds.get(kind_text)
    name = " ".join((row.get("name") or "").split())
    if kind is None:
        return None, _("Row %(n)s: “%(kind)s” is not a kind of place (school, park, place_of_worship, "
                       "funeral_home).") % {"n": number, "kind": row.get("kind") or ""}
    if not name or len(name) > 160:
        return None, _("Row %(n)s: give the place a name of at most 160 characters.") % {"n": number}
    try:
        latitude, longitude = float(row.get("latitude") or ""), float(row.get("longitude") or "")
    except ValueError:
        return None, _("Row %(n)s: latitude and longitude are decimal degrees, e.g. 41.7796, -87.6446.") % {
            "n": number}
    if not in_chicago_bounds(latitude, longitude):
        return None, _("Row %(n)s: the point (%(lat)s, %(lon)s) is outside Chicago.") % {
            "n": number, "lat": latitude, "lon": longitude}
    address = " ".join((row.get("address") or "").split())[:200]
    return {"kind": kind, "name": name, "latitude": latitude, "longitude": longitude, "address": address}, None


def places_import(*, actor, text: str, source: str = "web") -> PlacesImport:
    """Load a places CSV (columns kind, name, latitude, longitude, address optional). Every row
    is checked first: one bad row refuses the whole file with a message per bad row (by its row
    number as a spreadsheet shows it), and nothing is saved. A place is keyed on kind and name."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"kind", "name", "latitude", "longitude"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationError({"file": [_("The file needs the columns kind, name, latitude and longitude "
                                          "(missing: %(missing)s).") % {"missing": ", ".join(sorted(missing))}]})
    kinds = {value: value for value in Place.Kind.values}
    rows, problems = [], []
    for number, row in enumerate(reader, start=2):
        clean, problem = _place_row(number, row, kinds)
        if problem:
            problems.append(problem)
        else:
            rows.append(clean)
        if number > MAX_PLACES:
            raise ValidationError({"file": [_("At most %(max)s places per file.") % {"max": MAX_PLACES}]})
    if not rows and not problems:
        problems.append(_("The file has no places."))
    if problems:
        raise ValidationError({"file": problems})
    keyed = {(clean["kind"], clean["name"]): clean for clean in rows}  # a place twice in a file: its last row
    with transaction.atomic():
        existing = set(Place.objects.values_list("kind", "name"))
        result = PlacesImport(created=len(keyed.keys() - existing), updated=len(keyed.keys() & existing))
        # One statement per thousand places, not two queries a row.
        Place.objects.bulk_create([Place(**clean) for clean in keyed.values()], batch_size=1000,
                                  update_conflicts=True, unique_fields=["kind", "name"],
                                  update_fields=["latitude", "longitude", "address"])
        audit_log(actor=actor, source=source, action="places.imported",
                  data={"created": result.created, "updated": result.updated})
    return result


def place_delete(*, actor, place: Place, source: str = "web") -> None:
    with transaction.atomic():
        audit_log(actor=actor, source=source, action="place.deleted", obj=place, data={"kind": place.kind})
        place.delete()
