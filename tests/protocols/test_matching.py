"""Each seeded playbook matches the hand-built incidents it should, and not the others; the
matches are stored with the incident when it is entered and when it is corrected."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Incident
from notifications.services import incident_correct, incident_create, incident_import
from protocols.matching import metres_between
from protocols.models import Place
from protocols.services_playbooks import places_import
from tests.conftest import ENGLEWOOD_POINT

# ENGLEWOOD_POINT is S Halsted St & W 63rd St. These are metres north of it along Halsted.
NORTH_150 = (ENGLEWOOD_POINT[0] + 140 / 111_320, ENGLEWOOD_POINT[1])
NORTH_200 = (ENGLEWOOD_POINT[0] + 200 / 111_320, ENGLEWOOD_POINT[1])
FAR_AWAY = (41.79162, -87.66603)  # 5600 S Marshfield Ave, West Englewood: 2 km from the places below


def _v(age_band="20-29", fatal=False):
    return {"age_band": age_band, "sex": "M", "fatal": fatal, "gunshot": True}


def enter(actor, *, point=FAR_AWAY, victims=None, minutes_ago=30, **extra) -> Incident:
    incident, _ = incident_create(
        actor=actor, source="web", occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        block="6300 S HALSTED ST", latitude=point[0], longitude=point[1], victims=victims or [_v()], **extra)
    return incident


def codes(incident: Incident) -> set[str]:
    return set(incident.scenarios.values_list("code", flat=True))


@pytest.fixture
def school_nearby(admin_user):
    """A school 60 m east of FAR_AWAY's neighbour, so only a shooting at it matches."""
    places_import(actor=admin_user, text="kind,name,latitude,longitude\n"
                                         f"school,Test Academy,{ENGLEWOOD_POINT[0]},{ENGLEWOOD_POINT[1] + 0.0007}\n")


def test_the_test_points_are_where_the_tests_say():
    assert 135 < metres_between(*ENGLEWOOD_POINT, *NORTH_150) < 150
    assert 195 < metres_between(*ENGLEWOOD_POINT, *NORTH_200) < 205


CASES = [
    ("one adult, no hospital", {}, {"standard"}),
    ("fatal", {"victims": [_v(fatal=True)]}, {"fatal", "standard"}),
    ("a 0-19 victim", {"victims": [_v("0-19")]}, {"youth", "standard"}),
    ("two victims", {"victims": [_v(), _v()]}, {"multiple", "standard"}),
    ("four victims", {"victims": [_v()] * 4}, {"mass_shooting", "multiple", "standard"}),
    ("taken to a hospital", {"hospital": "UCM"}, {"hospital", "standard"}),
    ("not known if taken", {"hospital": "UNKNOWN"}, {"standard"}),
    ("at a vigil", {"gathering": "vigil"}, {"vigil_funeral", "standard"}),
    ("at a funeral", {"gathering": "funeral"}, {"vigil_funeral", "standard"}),
]


@pytest.mark.parametrize(("label", "extra", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_seeded_playbook_matches_its_incidents_and_no_other(playbooks, cpd_user, label, extra, expected):
    assert codes(enter(cpd_user, **extra)) == expected


def test_a_shooting_at_a_listed_place_matches_and_one_far_from_it_does_not(playbooks, cpd_user, school_nearby):
    assert codes(enter(cpd_user, point=ENGLEWOOD_POINT)) == {"sensitive_place", "standard"}
    assert "sensitive_place" not in codes(enter(cpd_user, point=FAR_AWAY))


def test_a_repeat_shooting_within_a_block_and_14_days_matches(playbooks, cpd_user):
    enter(cpd_user, point=ENGLEWOOD_POINT, minutes_ago=13 * 24 * 60)
    assert codes(enter(cpd_user, point=NORTH_150)) == {"repeat", "standard"}


def test_the_earlier_shooting_is_not_a_repeat_of_the_later_one(playbooks, cpd_user):
    first = enter(cpd_user, point=ENGLEWOOD_POINT, minutes_ago=3 * 24 * 60)
    enter(cpd_user, point=NORTH_150)
    call_command("match_scenarios", stdout=StringIO())
    assert "repeat" not in codes(first)


def test_a_shooting_200_m_away_is_not_a_repeat(playbooks, cpd_user):
    enter(cpd_user, point=ENGLEWOOD_POINT, minutes_ago=2 * 24 * 60)
    assert "repeat" not in codes(enter(cpd_user, point=NORTH_200))


def test_a_shooting_15_days_later_is_not_a_repeat(playbooks, cpd_user):
    first = enter(cpd_user, point=ENGLEWOOD_POINT, minutes_ago=20)
    Incident.objects.filter(pk=first.pk).update(occurred_at=timezone.now() - timedelta(days=15, minutes=30))
    assert "repeat" not in codes(enter(cpd_user, point=NORTH_150))


def test_a_correction_rematches_the_playbooks(playbooks, cpd_user):
    incident = enter(cpd_user)
    incident = incident_correct(incident=incident, actor=cpd_user, source="web", victims=[_v("0-19", fatal=True)])
    assert codes(incident) == {"fatal", "youth", "standard"}
    incident = incident_correct(incident=incident, actor=cpd_user, source="web", victims=[_v()])
    assert codes(incident) == {"standard"}


def test_without_playbooks_an_incident_matches_nothing(cpd_user):
    assert codes(enter(cpd_user, victims=[_v(fatal=True)])) == set()


def test_matching_history_again_stores_the_scenarios_and_notifies_nobody(playbooks, englewood):
    incident, _ = incident_import(actor=None, rd_number="JH100001", occurred_at="2025-06-01T22:10:00-05:00",
                                  block="6300 S HALSTED ST", district="007", victims=[_v("0-19", fatal=True)])
    assert codes(incident) == set()  # an import matches nothing by itself
    call_command("match_scenarios", "--since", "2025-01-01", stdout=StringIO())
    assert codes(incident) == {"fatal", "youth", "standard"}
    assert not incident.notifications.exists()


def test_matching_in_bulk_agrees_with_matching_each_incident(playbooks, cpd_user, school_nearby):
    made = [enter(cpd_user, point=ENGLEWOOD_POINT, minutes_ago=13 * 24 * 60, victims=[_v("0-19")]),
            enter(cpd_user, point=NORTH_150, victims=[_v(), _v()], hospital="UCM"),
            enter(cpd_user, point=NORTH_200, minutes_ago=20, gathering="vigil"),
            enter(cpd_user, point=FAR_AWAY, victims=[_v(fatal=True)] * 4)]
    one_by_one = {incident.pk: codes(incident) for incident in made}
    assert one_by_one[made[0].pk] >= {"sensitive_place", "youth"}
    assert one_by_one[made[1].pk] >= {"repeat", "multiple", "hospital"}
    call_command("match_scenarios", stdout=StringIO())
    assert {incident.pk: codes(incident) for incident in made} == one_by_one


def test_a_places_file_loaded_again_updates_each_place_once(admin_user):
    first = places_import(actor=admin_user, text="kind,name,latitude,longitude\n"
                          "school,Test Academy,41.78,-87.64\npark,Test Park,41.79,-87.65\n")
    assert (first.created, first.updated) == (2, 0)
    again = places_import(actor=admin_user, text="kind,name,latitude,longitude,address\n"
                          "school,Test Academy,41.70,-87.60,1 Test St\n"
                          "school,Test Academy,41.71,-87.61,2 Test St\n"  # twice in one file: the last row
                          "school,New School,41.72,-87.62,\n")
    assert (again.created, again.updated) == (1, 1)
    academy = Place.objects.get(kind="school", name="Test Academy")
    assert (academy.latitude, academy.longitude, academy.address) == (41.71, -87.61, "2 Test St")
    assert Place.objects.count() == 3
