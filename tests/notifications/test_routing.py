"""Routing: which organisations cover an incident's place, once each, and why."""

from django.utils import timezone

from districts.models import Beat, CommunityArea, Coverage, District, Organization
from notifications.models import Incident
from notifications.routing import organizations_for_incident


def unsaved_incident(*, district: str, beat: str | None = None, area: int | None = None) -> Incident:
    return Incident(
        occurred_at=timezone.now(), block="6300 S HALSTED ST", district=District.objects.get(number=district),
        beat=Beat.objects.get(number=beat) if beat else None,
        community_area=CommunityArea.objects.get(number=area) if area else None,
    )


def test_englewood_routes_to_its_three_organisations_with_the_reason(reference_data):
    routes = organizations_for_incident(unsaved_incident(district="007", beat="0723", area=68))
    assert [(r.organization.short_name or r.organization.name, r.reason) for r in routes] == [
        ("Public Equity", "covers community area 68 Englewood"),
        ("READI Chicago", "covers community area 68 Englewood"),
        ("TADC", "covers community area 68 Englewood"),
    ]


def test_beat_and_district_rules_route_too_and_an_organisation_appears_once(reference_data, covering_org, other_org):
    Coverage.objects.create(organization=other_org, kind=Coverage.Kind.BEAT, beat=Beat.objects.get(number="0723"))
    Coverage.objects.create(organization=other_org, kind=Coverage.Kind.DISTRICT,
                            district=District.objects.get(number="007"))
    Coverage.objects.create(organization=covering_org, kind=Coverage.Kind.BEAT, beat=Beat.objects.get(number="0723"))

    routes = organizations_for_incident(unsaved_incident(district="007", beat="0723", area=68))

    names = [r.organization.name for r in routes]
    assert len(names) == len(set(names)) == 4
    reasons = {r.organization.name: r.reason for r in routes}
    assert reasons[other_org.name] == "covers beat 0723; covers district 7 (Englewood)"
    assert reasons[covering_org.name] == "covers community area 68 Englewood; covers beat 0723"


def test_an_incident_with_only_a_district_reaches_only_district_wide_coverage(reference_data, other_org):
    assert organizations_for_incident(unsaved_incident(district="007")) == []
    Coverage.objects.create(organization=other_org, kind=Coverage.Kind.DISTRICT,
                            district=District.objects.get(number="007"))
    assert [r.organization for r in organizations_for_incident(unsaved_incident(district="007"))] == [other_org]


def test_inactive_organisations_are_left_out(reference_data):
    Organization.objects.filter(short_name="TADC").update(active=False)
    routes = organizations_for_incident(unsaved_incident(district="007", area=68))
    assert "TADC" not in {r.organization.short_name for r in routes}
    assert len(routes) == 2
