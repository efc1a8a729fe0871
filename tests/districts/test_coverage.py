"""Who covers a place, on the real coverage loaded from the City's outreach tags."""

import pytest

from districts.models import Beat, CommunityArea, Coverage, District, Organization
from districts.selectors import organizations_covering, organizations_in_district

pytestmark = pytest.mark.django_db

ENGLEWOOD_ORGS = {"Public Equity", "READI Chicago (Heartland Alliance)", "Target Area Development Corp (TADC)"}


def _names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def test_englewood_is_covered_by_public_equity_readi_and_tadc(reference_data):
    englewood = CommunityArea.objects.get(number=68)
    assert _names(organizations_covering(community_area_id=englewood.pk)) == ENGLEWOOD_ORGS


def test_a_north_side_area_is_covered_by_its_own_organisation_and_not_by_the_south_side_ones(reference_data):
    albany_park = CommunityArea.objects.get(name="ALBANY PARK")
    names = _names(organizations_covering(community_area_id=albany_park.pk))
    assert "ALSO (Alliance of Local Service Organizations)" in names
    assert not names & ENGLEWOOD_ORGS


def test_an_organisation_covering_a_place_by_several_rules_comes_back_once(reference_data):
    public_equity = Organization.objects.get(name="Public Equity")
    district, beat = District.objects.get(number="007"), Beat.objects.get(number="0723")
    Coverage.objects.create(organization=public_equity, kind=Coverage.Kind.DISTRICT, district=district)
    Coverage.objects.create(organization=public_equity, kind=Coverage.Kind.BEAT, beat=beat)
    found = list(organizations_covering(
        community_area_id=CommunityArea.objects.get(number=68).pk, beat_id=beat.pk, district_id=district.pk,
    ))
    assert found.count(public_equity) == 1
    assert {org.name for org in found} == ENGLEWOOD_ORGS


def test_a_beat_or_district_rule_adds_an_organisation_that_covers_no_community_area_there(reference_data):
    also = Organization.objects.get(name="ALSO (Alliance of Local Service Organizations)")
    beat = Beat.objects.get(number="0723")
    assert also not in organizations_covering(beat_id=beat.pk)
    Coverage.objects.create(organization=also, kind=Coverage.Kind.BEAT, beat=beat)
    assert also in organizations_covering(beat_id=beat.pk)
    assert also not in organizations_covering(beat_id=Beat.objects.get(number="0724").pk)


def test_an_inactive_organisation_covers_nothing(reference_data):
    Organization.objects.filter(name="Target Area Development Corp (TADC)").update(active=False)
    englewood = CommunityArea.objects.get(number=68)
    assert _names(organizations_covering(community_area_id=englewood.pk)) == ENGLEWOOD_ORGS - {
        "Target Area Development Corp (TADC)"
    }


def test_no_place_given_means_no_organisation(reference_data):
    assert not organizations_covering().exists()


def test_the_7th_district_lists_the_englewood_organisations_once_each(reference_data):
    organizations = list(organizations_in_district(District.objects.get(number="007")))
    names = [org.name for org in organizations]
    assert set(names) >= ENGLEWOOD_ORGS
    assert len(names) == len(set(names))
    assert "ALSO (Alliance of Local Service Organizations)" not in names


def test_the_15th_district_lists_the_austin_organisations_and_not_the_englewood_only_ones(reference_data):
    names = _names(organizations_in_district(District.objects.get(number="015")))
    # READI works in Englewood and in Austin; Public Equity and TADC only on the South Side.
    assert {"Institute for Nonviolence Chicago (INVC)", "READI Chicago (Heartland Alliance)"} <= names
    assert not names & {"Public Equity", "Target Area Development Corp (TADC)"}


def test_the_7th_district_holds_englewood_west_englewood_and_part_of_greater_grand_crossing(reference_data):
    from districts.selectors import community_areas_in_district

    areas = community_areas_in_district(District.objects.get(number="007"))
    assert sorted(areas.values_list("name", flat=True)) == ["ENGLEWOOD", "GREATER GRAND CROSSING", "WEST ENGLEWOOD"]


def test_reloading_the_geography_forgets_the_cached_district_areas(reference_data):
    from districts import geo
    from districts.loaders import load_geography

    geo.community_areas_in_district("007")
    assert geo.community_areas_in_district.cache_info().currsize >= 1
    load_geography()
    assert geo.community_areas_in_district.cache_info().currsize == 0
