"""An RD number already used on an incident outside the caller's scope is refused exactly as a
malformed one is: the same 400 and the same sentence, on the web form and the API, when
creating and when correcting. Nothing says that the other incident exists, where, or what it is;
inside the caller's own scope the conflict is named (409, "already entered")."""

import pytest
from django.urls import reverse

from notifications.intake import RD_UNUSABLE
from notifications.models import Incident
from tests.api.conftest import client_for_user, incident_payload
from tests.conftest import AUSTIN_POINT
from tests.notifications.test_intake_views import form_data

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"
AUSTIN = {"latitude": AUSTIN_POINT[0], "longitude": AUSTIN_POINT[1], "block": "800 N CENTRAL AVE"}


@pytest.fixture
def englewood_incident(cpd_user) -> Incident:
    response = client_for_user(cpd_user).post(URL, incident_payload(rd_number="JH700001"), format="json")
    assert response.status_code == 201
    return Incident.objects.get(rd_number="JH700001")


def test_the_api_refuses_another_districts_rd_number_as_it_refuses_a_malformed_one(
        englewood_incident, other_district_user):
    client = client_for_user(other_district_user)
    taken = client.post(URL, incident_payload(rd_number="JH700001", **AUSTIN), format="json")
    malformed = client.post(URL, incident_payload(rd_number="JH 7000!", **AUSTIN), format="json")

    assert (taken.status_code, malformed.status_code) == (400, 400)
    assert taken.json() == malformed.json() == {"rd_number": [str(RD_UNUSABLE)]}
    assert str(englewood_incident.code) not in taken.content.decode()
    assert Incident.objects.filter(rd_number="JH700001").count() == 1
    assert Incident.objects.count() == 1


def test_inside_the_callers_district_the_conflict_is_named(englewood_incident, cpd_user):
    response = client_for_user(cpd_user).post(URL, incident_payload(rd_number="JH700001", block="6400 S HALSTED ST"),
                                              format="json")
    assert response.status_code == 409
    assert "already entered" in response.json()["detail"]


def test_the_web_form_refuses_another_districts_rd_number_without_naming_it(
        client, englewood_incident, other_district_user):
    client.force_login(other_district_user)
    data = form_data(rd_number="JH700001", district="015", beat="", community_area="25", hospital="",
                     block="800 N Central Ave")
    taken = client.post(reverse("notifications:incident_new"), data)
    malformed = client.post(reverse("notifications:incident_new"), {**data, "rd_number": "JH 7000!"})

    assert (taken.status_code, malformed.status_code) == (400, 400)
    for page in (taken.content.decode(), malformed.content.decode()):
        assert "can&#x27;t be used" in page or "can't be used" in page
        assert "already entered" not in page and "Open that incident" not in page
    assert str(englewood_incident.code) not in taken.content.decode()
    assert Incident.objects.count() == 1


def test_a_correction_to_another_districts_rd_number_is_refused_without_naming_it(
        englewood_incident, other_district_user):
    client = client_for_user(other_district_user)
    own = client.post(URL, incident_payload(rd_number="JK700002", **AUSTIN), format="json").json()["code"]
    response = client.patch(f"{URL}{own}/", {"rd_number": "JH700001"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"rd_number": [str(RD_UNUSABLE)]}
    assert Incident.objects.get(code=own).rd_number == "JK700002"


def test_a_correction_to_an_rd_number_in_the_callers_own_district_says_so(englewood_incident, cpd_user):
    client = client_for_user(cpd_user)
    own = client.post(URL, incident_payload(rd_number="JH700003"), format="json").json()["code"]
    response = client.patch(f"{URL}{own}/", {"rd_number": "JH700001"}, format="json")

    assert response.status_code == 400
    assert "belongs to another incident" in response.json()["rd_number"][0]
