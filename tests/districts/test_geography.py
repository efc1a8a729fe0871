import pytest

from districts import geo
from districts.loaders import load_geography
from districts.models import Beat, CommunityArea, District, Hospital
from tests.conftest import AUSTIN_POINT, ENGLEWOOD_POINT

pytestmark = pytest.mark.django_db


def test_it_loads_the_22_districts_with_their_stations(reference_data):
    numbers = set(District.objects.values_list("number", flat=True))
    expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 22, 24, 25]
    assert {f"{n:03d}" for n in expected} <= numbers
    englewood = District.objects.get(number="007")
    assert englewood.name == "Englewood"
    assert "1438 W 63rd St" in englewood.station_address
    # District 12's address has an embedded newline in the source file.
    assert "\n" not in District.objects.get(number="012").station_address


def test_it_loads_beats_in_their_districts_and_77_community_areas(reference_data):
    assert Beat.objects.get(number="0714").district.number == "007"
    assert CommunityArea.objects.count() == 77
    assert CommunityArea.objects.get(number=68).name == "ENGLEWOOD"
    assert Hospital.objects.filter(code="STROGER", adult_trauma_level="I").exists()


@pytest.mark.parametrize(
    ("point", "district", "beat", "area"),
    [
        (ENGLEWOOD_POINT, "007", "0723", 68),
        (AUSTIN_POINT, "015", "1512", 25),
        ((41.8789, -87.6359), "001", "0122", 32),  # Willis Tower, the Loop
        ((41.7943, -87.5917), "002", "0235", 41),  # University of Chicago, Hyde Park
    ],
)
def test_a_point_resolves_to_its_beat_district_and_community_area(reference_data, point, district, beat, area):
    place = geo.locate(*point)
    assert (place.district, place.beat, place.community_area) == (district, beat, area)


@pytest.mark.parametrize("point", [(41.88, -87.2), (40.7128, -74.0060), (41.93, -87.85)])
def test_a_point_outside_chicago_resolves_to_nothing(reference_data, point):
    """Lake Michigan, New York, and Elmwood Park (a suburb inside the bounding box)."""
    assert geo.locate(*point) is None


def test_loading_twice_changes_nothing(reference_data):
    results = load_geography()
    assert all(r.loaded == 0 and r.updated == 0 and r.rejected == 0 for r in results)
    assert [r.unchanged for r in results] == [23, 275, 77, 15]


def test_a_bad_row_is_named_and_the_rest_still_loads(reference_data, tmp_path):
    from districts.loaders import DATA_DIR, load_hospitals

    (tmp_path / "hospitals.csv").write_text(
        "code,name,area,adult_trauma_level,pediatric_trauma_level,violence_intervention,sources\n"
        "NEWHOSP,A New Hospital,Loop,I,,,\n"
        "bad code!,Broken,,,,,\n"
        "NONAME,,,,,,\n"
    )
    result = load_hospitals(tmp_path)
    assert (result.loaded, result.rejected) == (1, 2)
    assert result.messages == [
        "hospitals: row 3: code 'BAD CODE!' is not 2 to 16 letters, digits or _",
        "hospitals: row 4: no name",
    ]
    assert result.summary == "hospitals: 1 loaded, 0 updated, 0 unchanged, 2 rejected"
    assert Hospital.objects.filter(code="NEWHOSP").exists()
    assert DATA_DIR.exists()


def _copy_data(tmp_path):
    import shutil

    from districts.loaders import DATA_DIR

    for path in DATA_DIR.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


SQUARE = {"type": "Polygon", "coordinates": [[[-87.66, 41.77], [-87.65, 41.77], [-87.65, 41.78], [-87.66, 41.77]]]}


def test_a_beat_in_an_unknown_district_or_with_a_bad_number_is_named_and_the_rest_loads(reference_data, tmp_path):
    import json

    from districts.loaders import load_beats

    features = [
        {"properties": {"BEAT_NUM": "0799", "DISTRICT": "7", "SECTOR": "9"}, "geometry": SQUARE},
        {"properties": {"BEAT_NUM": "9901", "DISTRICT": "99", "SECTOR": "0"}, "geometry": SQUARE},
        {"properties": {"BEAT_NUM": "71", "DISTRICT": "7", "SECTOR": "1"}, "geometry": SQUARE},
        {"properties": {"BEAT_NUM": "0798", "DISTRICT": "7", "SECTOR": "9"}, "geometry": None},
        {"properties": {"DISTRICT": "7"}, "geometry": SQUARE},
    ]
    (tmp_path / "police_beats.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = load_beats(tmp_path)
    assert result.messages == [
        "beats: row 3: '71' is not a four-digit beat",
        "beats: row 4: no geometry",
        "beats: row 5: no BEAT_NUM property",
        "beats: beat 9901: unknown district '99'",
    ]
    assert result.summary == "beats: 1 loaded, 0 updated, 0 unchanged, 4 rejected"
    assert Beat.objects.get(number="0799").district.number == "007"
    assert not Beat.objects.filter(number__in=["9901", "0071", "0798"]).exists()


def test_a_police_station_outside_chicago_or_in_an_unknown_district_is_rejected_and_the_rest_loads(
    reference_data, tmp_path
):
    from districts.loaders import load_districts

    data = _copy_data(tmp_path)
    stations = data / "police_stations.csv"
    records = stations.read_text().rstrip("\n")
    stations.write_text(records + "\n"
                        "7,Englewood,1 Liberty Island,10004,,212-555-0100,40.6892,-74.0445\n"
                        "99,Nowhere,1 Main St,60601,,,41.88,-87.63\n"
                        "3,Grand Crossing,7040 S Cottage Grove Ave,60637,,,north,west\n"
                        "HQ,Headquarters,3510 S Michigan Ave,60653,,,41.83,-87.62\n")
    result = load_districts(data)
    assert result.messages == [
        "districts: row 24 of police_stations.csv: the point (40.6892, -74.0445) is outside Chicago",
        "districts: row 25 of police_stations.csv: unknown district 099 (not in police_districts.geojson)",
        "districts: row 26 of police_stations.csv: the point ('north', 'west') is not a latitude and longitude",
        "districts: row 27 of police_stations.csv: 'HQ' is not a district number",
    ]
    assert result.summary == "districts: 0 loaded, 0 updated, 23 unchanged, 4 rejected"
    assert "1438 W 63rd St" in District.objects.get(number="007").station_address


ORG_HEADER = ("street_outreach_organization_label,organization,victimizations_tagged,community_areas,"
              "police_districts,first_date,last_date\n")


def test_a_malformed_organisation_row_or_an_unknown_community_area_is_named_and_the_rest_loads(
    reference_data, tmp_path
):
    from districts.loaders import load_organizations
    from districts.models import Organization

    path = tmp_path / "coverage.csv"
    path.write_text(
        ORG_HEADER
        + 'Hope Englewood,Hope Works Chicago,12,"ENGLEWOOD (10); WEST ENGLEWOOD (2)",007 (12),2025-01-01,2025-12-31\n'
        + "Broken Label,Broken Org,10,ENGLEWOOD 10,007 (10),2025-01-01,2025-12-31\n"
        + "Gotham Label,Gotham Outreach,5,GOTHAM (5),001 (5),2025-01-01,2025-12-31\n"
        + ",No Label Org,5,ENGLEWOOD (5),007 (5),2025-01-01,2025-12-31\n"
        + "Public Equity Englewood,Public Equity,152,ENGLEWOOD (119),007 (148),2024-09-01,2026-08-01\n"
    )
    result = load_organizations(path)
    assert result.messages == [
        "organizations: row 3: 'ENGLEWOOD 10' is not 'NAME (count)'",
        "organizations: row 4: unknown community area 'GOTHAM'",
        "organizations: row 5: no label or organization",
    ]
    assert result.summary == "organizations: 1 loaded, 0 updated, 1 unchanged, 3 rejected"
    hope = Organization.objects.get(name="Hope Works Chicago")
    # West Englewood's 2 of 12 tagged victimisations is below the minimum count: no coverage.
    assert list(hope.coverage.values_list("community_area__number", flat=True)) == [68]
    assert not Organization.objects.filter(name__in=["Broken Org", "Gotham Outreach", "No Label Org"]).exists()


def test_the_load_commands_print_each_rejected_row_and_a_summary(reference_data, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "coverage.csv"
    path.write_text(ORG_HEADER + "Gotham Label,Gotham Outreach,5,GOTHAM (5),001 (5),2025-01-01,2025-12-31\n")
    out, err = StringIO(), StringIO()
    call_command("load_organizations", file=path, stdout=out, stderr=err)
    assert err.getvalue() == "organizations: row 2: unknown community area 'GOTHAM'\n"
    assert out.getvalue() == "organizations: 0 loaded, 0 updated, 0 unchanged, 1 rejected\n"

    out = StringIO()
    call_command("load_geography", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines() == [
        "districts: 0 loaded, 0 updated, 23 unchanged, 0 rejected",
        "beats: 0 loaded, 0 updated, 275 unchanged, 0 rejected",
        "community areas: 0 loaded, 0 updated, 77 unchanged, 0 rejected",
        "hospitals: 0 loaded, 0 updated, 15 unchanged, 0 rejected",
    ]


def test_organisations_cannot_load_before_the_geography(db, tmp_path):
    from django.core.management import CommandError, call_command

    from districts.models import Coverage, Organization

    Coverage.objects.all().delete()
    Organization.objects.all().delete()
    CommunityArea.objects.all().delete()
    with pytest.raises(CommandError, match="load the geography first"):
        call_command("load_organizations")
