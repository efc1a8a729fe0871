"""The entry form's "who will be told": the covering organisations, and the partners the
scenario playbooks would add for what has been entered so far, with the playbook as the reason.
One GET to the locate helper; nothing is saved or sent."""

import pytest
from django.urls import reverse

from audit.models import Event
from districts.loaders import load_partners
from notifications.models import Incident, Notification
from protocols.services_playbooks import load_playbooks
from tests.conftest import ENGLEWOOD_POINT

SURVIVORS = "Chicago Survivors"
UCM_PROGRAMME = "UChicago Medicine Violence Recovery Program"
PLACE = {"district": "007", "beat": "0723", "community_area": "68"}


@pytest.fixture
def playbooks(reference_data):
    load_partners()
    load_playbooks()


def preview(client, **params):
    response = client.get(reverse("notifications:locate"), {**PLACE, "victims": "1", "age_band": "20-29", **params})
    assert response.status_code == 200
    return response.json()


def partner(found: dict, name: str) -> dict | None:
    return next((p for p in found["partners"] if p["name"] == name), None)


def test_a_victim_taken_to_a_hospital_brings_in_its_violence_intervention_programme(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    found = preview(client, hospital="UCM")
    programme = partner(found, "Violence Recovery Program")
    assert programme is not None
    assert "University of Chicago Medicine" in programme["reason"]
    assert "Victim taken to a hospital" in programme["reason"]
    assert programme["limited"] is False
    assert "Public Equity" in found["organizations"]  # the covering organisations are still there


def test_without_a_hospital_no_programme_is_listed(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    assert partner(preview(client), "Violence Recovery Program") is None


def test_a_fatal_victim_brings_in_victim_services_with_the_limited_relay(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    assert partner(preview(client), SURVIVORS) is None
    survivors = partner(preview(client, fatal="1"), SURVIVORS)
    assert survivors == {"name": SURVIVORS, "limited": True,
                         "reason": "Playbook “Fatal shooting”: told the place and the number of victims only"}


def test_several_victims_and_a_fatal_one_list_each_partner_once(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    found = preview(client, victims="4", fatal="2", age_band=["0-19", "20-29", "30-39", "unknown"], hospital="UCM")
    names = [p["name"] for p in found["partners"]]
    assert len(names) == len(set(names))
    assert {SURVIVORS, "Violence Recovery Program", "Community Safety"} <= set(names)


def test_a_located_point_previews_the_partners_too(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    response = client.get(reverse("notifications:locate"), {"lat": ENGLEWOOD_POINT[0], "lon": ENGLEWOOD_POINT[1],
                                                            "victims": "1", "fatal": "1"})
    assert response.json()["district"] == "007"
    assert partner(response.json(), SURVIVORS)["limited"] is True


def test_the_reason_is_in_the_readers_language(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    found = client.get(reverse("notifications:locate"), {**PLACE, "victims": "1", "fatal": "1"},
                       headers={"accept-language": "es"}).json()
    assert "Tiroteo mortal" in partner(found, SURVIVORS)["reason"]
    assert "solo" in partner(found, SURVIVORS)["reason"]


@pytest.mark.parametrize("params", [
    {"victims": "x", "fatal": "9", "hospital": "NOPE", "gathering": "party", "occurred_at": "2026-13-45T99:99"},
    {"victims": "-1", "age_band": "<script>", "latitude": "nan", "longitude": "1e400"},
    {"victims": "999999999999999999999", "fatal": "١"},
])
def test_unreadable_facts_are_left_out_and_the_preview_still_answers(client, cpd_user, playbooks, params):
    client.force_login(cpd_user)
    found = preview(client, **params)
    assert "Public Equity" in found["organizations"]
    assert partner(found, SURVIVORS) is None


def test_the_preview_saves_and_sends_nothing(client, cpd_user, playbooks):
    client.force_login(cpd_user)
    before = Event.objects.count()
    preview(client, fatal="1", hospital="UCM")
    assert not Incident.objects.exists() and not Notification.objects.exists()
    assert Event.objects.count() == before


def test_the_preview_is_refused_to_outreach_and_analysts(client, worker, analyst, playbooks):
    for user in (worker, analyst):
        client.force_login(user)
        assert client.get(reverse("notifications:locate"), {**PLACE, "fatal": "1"}).status_code == 403
