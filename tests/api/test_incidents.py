"""`/api/v1/incidents/`: create, list, detail and correct, for each role in and out of scope."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import Event
from core.dates import CHICAGO
from districts.loaders import load_partners
from notifications.models import Incident, Notification
from protocols.services_playbooks import load_playbooks
from tests.api.conftest import incident_payload, token_client
from tests.conftest import AUSTIN_POINT

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


def test_cpd_staff_create_an_incident_and_see_who_was_notified(api_client, cpd_user):
    response = api_client(cpd_user).post(URL, incident_payload(rd_number="JH411616"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    incident = Incident.objects.get(code=body["code"])
    assert incident.source == "api" and incident.entered_by == cpd_user
    assert (body["district"], body["beat"], body["community_area"]) == ("007", "0723", 68)
    assert body["entered_by"] == "dana_cpd"
    assert {n["organization"]["name"] for n in body["notifications"]} >= {"Public Equity"}
    assert body["notifications"][0]["summary"]["acknowledged"] is False
    assert Event.objects.filter(action="incident.created", object_code=body["code"], source="api").exists()


@pytest.mark.parametrize("writer", ["cpd_user", "commander", "admin_user"])
def test_the_answer_to_a_post_is_the_incident_as_it_was_stored(api_client, writer, request):
    # The answer is built from what the service wrote rather than read back: it must be exactly
    # what a GET of the same incident answers, victims, playbooks, partners and summaries included.
    load_partners()
    load_playbooks()
    user = request.getfixturevalue(writer)
    client = api_client(user)
    payload = incident_payload(hospital="UCM", victims=[
        {"age_band": "0-19", "sex": "F", "fatal": True, "gunshot": True},
        {"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": False}])

    posted = client.post(URL, payload, format="json")

    assert posted.status_code == 201, posted.json()
    body = posted.json()
    assert body == client.get(f"{URL}{body['code']}/").json()
    assert len(body["victims"]) == 2 and "fatal" in body["scenarios"]
    names = [n["organization"]["name"] for n in body["notifications"]]
    assert len(names) > 3 and names == sorted(names)


def test_posting_the_same_rd_number_again_returns_the_stored_incident_with_200(api_client, cpd_user):
    payload = incident_payload(rd_number="JH411617")
    first = api_client(cpd_user).post(URL, payload, format="json")
    again = api_client(cpd_user).post(URL, payload, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["code"] == first.json()["code"]
    assert Incident.objects.filter(rd_number="JH411617").count() == 1
    assert Notification.objects.filter(incident__rd_number="JH411617").count() == len(first.json()["notifications"])


def test_the_same_rd_number_with_different_content_is_a_409_and_changes_nothing(api_client, cpd_user):
    api_client(cpd_user).post(URL, incident_payload(rd_number="JH411618"), format="json")
    response = api_client(cpd_user).post(URL, incident_payload(rd_number="JH411618", block="6400 S HALSTED ST"),
                                         format="json")

    assert response.status_code == 409
    assert "JH411618" in response.json()["detail"]
    assert Incident.objects.get(rd_number="JH411618").block == "6300 S HALSTED ST"


@pytest.mark.parametrize("district", [7, "7", "07", "007"])
def test_a_district_may_be_given_as_a_number_or_an_unpadded_string(api_client, cpd_user, district):
    payload = incident_payload(latitude=None, longitude=None, district=district, beat="0723")
    response = api_client(cpd_user).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["district"] == "007"


def test_a_time_without_an_offset_is_chicago_time_and_comes_back_in_utc(api_client, cpd_user):
    local = (timezone.now() - timedelta(hours=1)).astimezone(CHICAGO).replace(microsecond=0)
    payload = incident_payload(occurred_at=local.replace(tzinfo=None).isoformat())
    response = api_client(cpd_user).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    occurred = response.json()["occurred_at"]
    assert occurred.endswith("Z")
    assert datetime.fromisoformat(occurred) == local


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"victims": []}, "victims", ""),
    ({"occurred_at": "yesterday-ish"}, "occurred_at", "Datetime has wrong format"),
    ({"block": 7800}, "block", "Not a valid string"),
    ({"latitude": "41.7"}, "latitude", "valid number"),
    ({"district": "seven", "latitude": None, "longitude": None}, "district", "CPD district number"),
    ({"victims": [{"age_band": "21", "sex": "M"}]}, "victims", "not a valid choice"),
    ({"victims": [{"age_band": "20-29", "fatal": "yes"}]}, "victims", "true or false"),
    ({"scene_status": "burning"}, "scene_status", "not a valid choice"),
    ({"note": "x" * 501}, "note", "no more than 500"),
    ({"colour": "red"}, "colour", "Unknown field"),
    ({"district": "007", "latitude": AUSTIN_POINT[0], "longitude": AUSTIN_POINT[1]}, "district", "map point is in"),
    ({"latitude": 45.0, "longitude": -87.65}, "latitude", "outside Chicago"),
])
def test_bad_incident_input_is_a_400_on_the_field_and_saves_nothing(api_client, cpd_user, change, field, message):
    response = api_client(cpd_user).post(URL, incident_payload(**change), format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert message in str(response.json()[field])
    assert not Incident.objects.exists()
    assert Event.objects.filter(action="api.rejected", source="api", data__fields__contains=[field]).exists()


def test_an_incident_in_the_future_is_refused_with_the_services_message(api_client, cpd_user):
    payload = incident_payload(occurred_at=(timezone.now() + timedelta(hours=2)).isoformat())
    response = api_client(cpd_user).post(URL, payload, format="json")

    assert response.status_code == 400
    assert "future" in response.json()["occurred_at"][0]


def test_cpd_staff_cannot_enter_an_incident_for_another_district(api_client, other_district_user):
    response = api_client(other_district_user).post(URL, incident_payload(), format="json")

    assert response.status_code == 400
    assert "your own district" in response.json()["district"][0]


@pytest.mark.parametrize("role", ["worker", "supervisor", "analyst"])
def test_outreach_and_analysts_may_not_enter_incidents(request, api_client, role):
    response = api_client(request.getfixturevalue(role)).post(URL, incident_payload(), format="json")

    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_an_administrator_may_enter_an_incident_anywhere(api_client, admin_user):
    assert api_client(admin_user).post(URL, incident_payload(), format="json").status_code == 201


def test_anonymous_callers_get_401(anon_client):
    assert anon_client.post(URL, incident_payload(), format="json").status_code == 401
    assert anon_client.get(URL).status_code == 401


def test_the_list_shows_the_callers_district_only(api_client, cpd_user, englewood_incident, austin_incident):
    codes = [row["code"] for row in api_client(cpd_user).get(URL).json()["results"]]

    assert codes == [str(englewood_incident.code)]


def test_analysts_see_every_district_and_can_filter_by_district_and_time(
        api_client, analyst, englewood_incident, austin_incident):
    client = api_client(analyst)
    everything = client.get(URL).json()
    only_15 = client.get(URL, {"district": "15"}).json()
    since = (englewood_incident.occurred_at + timedelta(minutes=1)).isoformat()
    later = client.get(URL, {"since": since}).json()
    until = client.get(URL, {"until": englewood_incident.occurred_at.isoformat()}).json()

    assert everything["count"] == 2
    assert [row["code"] for row in only_15["results"]] == [str(austin_incident.code)]
    assert later["count"] == 0 and until["count"] == 0


def test_a_bad_filter_is_a_400_on_that_parameter(api_client, analyst):
    response = api_client(analyst).get(URL, {"district": "x1", "since": "soon"})

    assert response.status_code == 400
    assert set(response.json()) == {"district", "since"}


def test_page_size_is_capped_at_200(api_client, analyst, englewood_incident):
    response = api_client(analyst).get(URL, {"page_size": 500})

    assert response.status_code == 400
    assert "200" in response.json()["page_size"][0]


def test_outreach_may_not_list_incidents(api_client, worker, englewood_incident):
    assert api_client(worker).get(URL).status_code == 403


def test_detail_is_a_404_outside_the_callers_district(api_client, other_district_user, commander,
                                                      englewood_incident):
    url = f"{URL}{englewood_incident.code}/"

    assert api_client(commander).get(url).status_code == 200
    response = api_client(other_district_user).get(url)
    assert response.status_code == 404
    assert api_client(commander).get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_reading_incidents_records_who_viewed_the_organisations_summaries(api_client, analyst, cpd_user,
                                                                         englewood_incident):
    api_client(analyst).get(f"{URL}{englewood_incident.code}/")
    api_client(cpd_user).get(URL)

    shown = englewood_incident.notifications.count()
    assert Event.objects.filter(action="summary.viewed", actor=analyst).count() == shown
    assert Event.objects.filter(action="summary.viewed", actor=cpd_user).count() == shown
    assert set(Event.objects.filter(action="summary.viewed").values_list("source", flat=True)) == {"api"}


def test_a_correction_updates_the_incident_and_tells_the_notified_organisations(api_client, cpd_user,
                                                                               englewood_incident, covering_org):
    url = f"{URL}{englewood_incident.code}/"
    response = api_client(cpd_user).patch(
        url, {"victims": [{"age_band": "20-29", "sex": "M", "fatal": True, "gunshot": True}]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["fatal_count"] == 1
    event = Event.objects.get(action="incident.corrected", object_code=str(englewood_incident.code))
    assert event.source == "api" and event.data["fields"] == ["victims"]
    assert str(covering_org.code) in event.data["updated"]


def test_a_correction_outside_the_callers_scope_is_a_404_and_changes_nothing(
        api_client, other_district_user, worker, englewood_incident):
    url = f"{URL}{englewood_incident.code}/"

    assert api_client(other_district_user).patch(url, {"block": "1 N STATE ST"}, format="json").status_code == 404
    assert api_client(worker).patch(url, {"block": "1 N STATE ST"}, format="json").status_code == 403
    englewood_incident.refresh_from_db()
    assert englewood_incident.block == "6300 S HALSTED ST"


def test_an_empty_correction_is_refused(api_client, cpd_user, englewood_incident):
    response = api_client(cpd_user).patch(f"{URL}{englewood_incident.code}/", {}, format="json")

    assert response.status_code == 400
    assert "at least one field" in response.json()["non_field_errors"][0]


def test_a_district_integration_token_creates_incidents_in_its_district(district_token):
    token, raw = district_token
    response = token_client(raw).post(URL, incident_payload(rd_number="JH500001"), format="json")

    assert response.status_code == 201, response.json()
    assert Incident.objects.get(rd_number="JH500001").entered_by == token.user


def test_a_misspelt_filter_is_a_400_rather_than_ignored(api_client, analyst, englewood_incident):
    client = api_client(analyst)

    assert client.get(URL, {"distict": "007"}).json() == {"distict": ["Unknown field."]}
    assert client.get(URL, {"format": "json"}).json()["count"] == 1
