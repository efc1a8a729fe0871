"""Reads about districts, beats, community areas, hospitals, organisations, coverage, members,
channels and on-call rosters. Each function says what it is scoped to; views and APIs check
the caller's access first and pass the scope in."""

import hashlib
import uuid

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from core.parsers import int_or_none

from . import geo
from .models import (
    Beat,
    Channel,
    CommunityArea,
    Coverage,
    District,
    Hospital,
    Invitation,
    Membership,
    OnCall,
    Organization,
    UserToken,
    normalise_district,
)


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


def districts_all() -> QuerySet[District]:
    return District.objects.defer("boundary")


def district_by_number(number) -> District | None:
    """The district numbered `7`, `"07"` or `"007"`, with its beats; None for anything else."""
    try:
        number = normalise_district(number)
    except ValueError:
        return None
    return (District.objects.prefetch_related(Prefetch("beats", queryset=Beat.objects.defer("boundary")))
            .filter(number=number).first())


def board_district(*, district_id: int | None = None, number: str | None = None) -> District | None:
    """The board's district: the given one (CPD's own), else by number, else the first pilot one.

    None when `number` names no district.
    """
    districts = districts_all()
    if district_id is not None:
        return districts.get(pk=district_id)
    if not number:
        return districts.filter(is_pilot=True).first() or districts.first()
    try:
        return districts.filter(number=normalise_district(number)).first()
    except ValueError:
        return None


def beats_by_district(district_numbers) -> dict[str, list[str]]:
    """{district number: [beat numbers]} for the incident form's beat picker."""
    beats: dict[str, list[str]] = {}
    for number, district in (Beat.objects.filter(district__number__in=list(district_numbers))
                             .values_list("number", "district__number")):
        beats.setdefault(district, []).append(number)
    return beats


def organizations_covering_place(*, district=None, beat=None, community_area=None) -> list[Organization]:
    """Who an incident at this place (numbers as typed or located) would notify; unknown numbers are ignored."""
    def pk(model, number):
        text = str(number or "")
        # ASCII only: "²" is a digit to isdigit() but not to the database.
        if not (text.isascii() and text.isdigit()) or len(text) > 4:
            return None
        return model.objects.filter(number=number).values_list("pk", flat=True).first()

    return list(organizations_covering(community_area_id=pk(CommunityArea, community_area), beat_id=pk(Beat, beat),
                                       district_id=pk(District, district)))


def hospitals_all() -> QuerySet[Hospital]:
    return Hospital.objects.all()


def district_desk(district_id: int) -> tuple[District, list[Organization]]:
    """A CPD desk's district and the organisations covering it, each with `areas_here`: the
    community areas of this district it covers."""
    district = District.objects.defer("boundary").get(pk=district_id)
    area_ids = set(community_areas_in_district(district).values_list("pk", flat=True))
    organizations = list(organizations_in_district(district).prefetch_related(
        Prefetch("coverage__community_area", queryset=CommunityArea.objects.defer("boundary"))))
    for organization in organizations:
        organization.areas_here = [c.community_area for c in organization.coverage.all()
                                   if c.community_area_id in area_ids]
    return district, organizations


def citywide_overview() -> dict:
    """The pilot districts, the active organisations and the coverage figures, for analysts and admins."""
    organizations = Organization.objects.filter(active=True).prefetch_related("coverage__community_area")
    covered = Coverage.objects.filter(organization__active=True, community_area__isnull=False)
    return {
        "districts": pilot_districts(),
        "organizations": organizations,
        "stats": {
            "organizations": organizations.count(),
            "signed": organizations.filter(signed_understanding=True).count(),
            "areas_covered": covered.values("community_area").distinct().count(),
            "areas": CommunityArea.objects.count(),
            "multiply_covered": CommunityArea.objects.annotate(
                n=Count("coverage", filter=Q(coverage__organization__active=True))).filter(n__gt=1).count(),
        },
    }


# --- one organisation ---------------------------------------------------------------------

def organization_by_id(organization_id: int) -> Organization:
    return Organization.objects.get(pk=organization_id)


def organization_by_code(code, *, organization_id: int | None) -> Organization | None:
    """The organisation with this code if it is `organization_id` (the caller's own); else None."""
    try:
        code = uuid.UUID(str(code))
    except ValueError:
        return None
    return Organization.objects.filter(code=code, pk=organization_id).first()


def members_for_choice(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("user__first_name")


def oncall_entries(organization: Organization) -> QuerySet[OnCall]:
    return organization.on_call.select_related("user")


def oncall_entry(organization: Organization, entry_id) -> OnCall | None:
    """One roster entry of the organisation by id (as posted); None if not one of its own."""
    entry_id = int_or_none(entry_id, low=1)  # ASCII digits within a bigint: "²", "١٢", forty nines are None
    if entry_id is None:
        return None
    return OnCall.objects.filter(pk=entry_id, organization=organization).select_related("organization").first()


def organization_channels(organization: Organization) -> QuerySet[Channel]:
    return organization.channels.select_related("user").order_by("user__first_name", "kind")


def organization_channel(organization: Organization, code) -> Channel | None:
    return Channel.objects.filter(code=code, organization=organization).first()


def user_tokens_live(user):
    """The user's API tokens that still work, newest first (the account page lists them)."""
    return UserToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
# --- people (the administrator's Users page) ------------------------------------------------

def people_all() -> QuerySet:
    """Every person with an account, with their membership, scope and invitation, and
    `invitation_pending` annotated. Integration tokens' service accounts are not people (their
    page is the tokens'), so they are left out."""
    pending = Invitation.objects.filter(user=OuterRef("pk"), accepted_at__isnull=True)
    return (get_user_model().objects.filter(integration_token__isnull=True)
            .select_related("membership", "membership__district", "membership__organization", "invitation")
            .defer("membership__district__boundary")
            .annotate(invitation_pending=Exists(pending))
            .order_by("last_name", "first_name", "username"))


def membership_by_code(code) -> Membership | None:
    return (Membership.objects.select_related("user", "district", "organization", "user__invitation")
            .defer("district__boundary").filter(code=code).first())


def organizations_active() -> QuerySet[Organization]:
    """Organisations a person may be given (an inactive one takes no new members)."""
    return Organization.objects.filter(active=True)


def organizations_for_filter() -> QuerySet[Organization]:
    """Every organisation, inactive ones too: their former members are still listed."""
    return Organization.objects.all()


def invitation_for_token(raw: str) -> Invitation | None:
    """The pending, unexpired invitation of an active account that this raw token opens, or
    None whatever the reason (forged, used, expired, replaced by a resend, cancelled, the
    account deactivated): the page says the same for all, and nothing about the address.
    The digest is `services.token_digest`'s (SHA-256), as for API tokens."""
    if not raw or len(raw) > 100:
        return None
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return (Invitation.objects.select_related("user", "user__membership")
            .filter(token_hash=digest, accepted_at__isnull=True, expires_at__gt=timezone.now(),
                    user__is_active=True).first())


# --- the organisation directory -------------------------------------------------------------------


def directory_districts(scope) -> QuerySet[District]:
    """The districts the directory lists first for this reader: an outreach member's organisation's
    districts (where it covers something), everyone else's the pilot districts."""
    districts = districts_all().order_by("number")
    if scope.is_outreach:
        return districts.filter(pk__in=district_ids_covered_by(scope.organization_id))
    return districts.filter(is_pilot=True)


def district_ids_covered_by(organization_id: int) -> set[int]:
    """Ids of the districts where the organisation covers something: the district itself, one of
    its beats, or a community area with ground in it."""
    coverage = Coverage.objects.filter(organization_id=organization_id)
    ids = set(coverage.filter(district__isnull=False).values_list("district_id", flat=True))
    ids |= set(coverage.filter(beat__isnull=False).values_list("beat__district_id", flat=True))
    areas = set(coverage.filter(community_area__isnull=False).values_list("community_area__number", flat=True))
    if areas:
        for district in districts_all().filter(boundary__isnull=False).only("number"):
            if set(geo.community_areas_in_district(district.number)) & areas:
                ids.add(district.pk)
    return ids


def directory_district(number) -> tuple[District, list[Organization], set[int]] | None:
    """One district of the directory: the district (with its beats' boundaries), the organisations
    covering it with `places_here`, and the numbers of its community areas. None for an unknown
    number."""
    try:
        number = normalise_district(number)
    except ValueError:
        return None
    district = District.objects.filter(number=number).prefetch_related("beats").first()
    if district is None:
        return None
    area_numbers = set(geo.community_areas_in_district(district.number))
    organizations = list(organizations_in_district(district))
    return district, organizations, area_numbers
