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
