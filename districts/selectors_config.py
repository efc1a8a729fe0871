"""Reads for the administrators' configuration pages: organisations with their coverage, the
places they may cover, and the districts with their pilot flag. Administrators only (the views
check the role first); nothing here is scoped further."""

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from core.parsers import uuid_or_none

from . import geo
from .maps import CoverageMap, coverage_map
from .models import Beat, CommunityArea, Coverage, District, Organization
from .selectors import district_by_number, district_ids_covered_by


def organizations_for_admin() -> QuerySet[Organization]:
    """Every organisation, active or not, with `coverage_count` (the places it covers)."""
    return Organization.objects.annotate(coverage_count=Count("coverage"))


def organization_for_admin(code) -> Organization | None:
    """The organisation with this code, or None (an unknown or malformed code)."""
    code = uuid_or_none(code)
    return Organization.objects.filter(code=code).first() if code else None


def organization_coverage(organization: Organization) -> list[Coverage]:
    """The places the organisation covers: community areas, then beats, then whole districts."""
    order = {Coverage.Kind.COMMUNITY_AREA: 0, Coverage.Kind.BEAT: 1, Coverage.Kind.DISTRICT: 2}
    rows = Coverage.objects.filter(organization=organization).select_related(
        "community_area", "beat", "district").defer("community_area__boundary", "beat__boundary", "district__boundary")
    rows = sorted(rows, key=lambda row: (order[row.kind], str(row.place.number).zfill(4)))
    for row in rows:
        row.label = place_label(row.place)
    return rows


def place_label(place: Beat | CommunityArea | District) -> str:
    """A covered place as the pages name it: "Englewood (68)", "Beat 0723", "District 7 (Englewood)"."""
    if isinstance(place, CommunityArea):
        return f"{place.display_name} ({place.number})"
    if isinstance(place, Beat):
        return _("Beat %(number)s") % {"number": place.number}
    return place.label


def coverage_of(organization: Organization, kind: str, number: str) -> Coverage | None:
    """The organisation's coverage of the place named by kind and number as the page posts it
    (`community_area` 68, `beat` 0723, `district` 007); None when it covers no such place."""
    lookups = {Coverage.Kind.COMMUNITY_AREA: "community_area__number", Coverage.Kind.BEAT: "beat__number",
               Coverage.Kind.DISTRICT: "district__number"}
    text = str(number or "")
    if kind not in lookups or not (text.isascii() and text.isdigit()) or len(text) > 4:
        return None
    return Coverage.objects.filter(organization=organization, kind=kind, **{lookups[kind]: text}).select_related(
        "organization", "community_area", "beat", "district").first()


def coverage_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The places an organisation may cover, grouped for one select: values `kind:number`."""
    areas = sorted(CommunityArea.objects.defer("boundary"), key=lambda area: area.name)
    return [
        (_("Community areas"), [(f"community_area:{a.number}", f"{a.display_name} ({a.number})") for a in areas]),
        (_("Beats"), [(f"beat:{b.number}", _("Beat %(number)s (district %(district)s)") % {
            "number": b.number, "district": int(b.district.number)})
            for b in Beat.objects.defer("boundary", "district__boundary").select_related("district")]),
        (_("Whole districts"), [(f"district:{d.number}", d.label) for d in District.objects.defer("boundary")]),
    ]


def organization_maps(organization: Organization) -> list[tuple[District, CoverageMap]]:
    """The directory's coverage map of each district where the organisation covers something,
    with the organisation's own layer (districts without a boundary are left out). Only the
    community areas it covers are clipped to each district: the page draws its layer, not the
    directory's shading of every area."""
    districts = District.objects.filter(pk__in=district_ids_covered_by(organization.pk), boundary__isnull=False)
    covered = set(Coverage.objects.filter(organization=organization, community_area__isnull=False)
                  .values_list("community_area__number", flat=True))
    maps = []
    for district in districts.prefetch_related("beats"):
        areas = covered & set(geo.community_areas_in_district(district.number))
        drawn = coverage_map(district, [organization], areas)
        if drawn is not None:
            maps.append((district, drawn))
    return maps


def districts_for_admin() -> QuerySet[District]:
    """Every district, in number order, with `beat_count`."""
    return District.objects.defer("boundary").annotate(beat_count=Count("beats")).order_by("number")


def district_for_admin(number) -> District | None:
    """The district numbered `7`, `"07"` or `"007"`; None for anything else."""
    return district_by_number(number)
