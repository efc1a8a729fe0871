from django.db.models import Count, Q, QuerySet

from .models import Beat, CommunityArea, Coverage, District, Organization


def organizations_covering(
    *, community_area_id: int | None = None, beat_id: int | None = None, district_id: int | None = None
) -> QuerySet[Organization]:
    """Active organisations whose coverage includes the community area, the beat or the district.

    Each organisation comes back once, however many of its coverage rules match.
    """
    match = Q(pk__in=[])
    if community_area_id:
        match |= Q(coverage__community_area_id=community_area_id)
    if beat_id:
        match |= Q(coverage__beat_id=beat_id)
    if district_id:
        match |= Q(coverage__district_id=district_id)
    ids = Organization.objects.filter(match, active=True).values("pk")
    return Organization.objects.filter(pk__in=ids).order_by("name")


def community_areas_in_district(district: District) -> QuerySet[CommunityArea]:
    """Community areas with at least 2% of their ground in the district (see `geo`)."""
    from . import geo

    return CommunityArea.objects.filter(number__in=geo.community_areas_in_district(district.number))


def organizations_in_district(district: District) -> QuerySet[Organization]:
    """Organisations covering the district itself, one of its beats, or a community area in it."""
    areas = community_areas_in_district(district)
    ids = Coverage.objects.filter(
        Q(district=district) | Q(beat__district=district) | Q(community_area__in=areas)
    ).values("organization_id")
    return Organization.objects.filter(pk__in=ids, active=True).annotate(
        coverage_count=Count("coverage")
    ).order_by("name")


def pilot_districts() -> QuerySet[District]:
    return District.objects.filter(is_pilot=True).defer("boundary").annotate(beat_count=Count("beats"))


def beats_in_district(district: District) -> QuerySet[Beat]:
    return Beat.objects.filter(district=district).defer("boundary")
