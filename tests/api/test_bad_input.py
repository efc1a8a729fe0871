"""Malformed bodies: the right 4xx with a clear message, nothing saved, the attempt in the audit trail."""

import json

import pytest

from audit.models import Event
from notifications.models import Incident
from tests.api.conftest import incident_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/incidents/"


def _post_raw(client, body: bytes | str, content_type: str = "application/json"):
    return client.generic("POST", URL, body, content_type=content_type)


def test_malformed_json_is_a_400_with_a_message_and_nothing_is_saved(api_client, cpd_user):
    response = _post_raw(api_client(cpd_user), '{"block": "6300 S HALSTED ST",')

    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith("Malformed JSON")
    assert not Incident.objects.exists()
    event = Event.objects.get(action="api.rejected")
    assert event.actor == cpd_user and event.data["path"] == URL and event.data["status"] == 400


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42"])
def test_a_body_that_is_not_an_object_is_a_400(api_client, cpd_user, body):
    response = _post_raw(api_client(cpd_user), body)

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_nan_and_infinity_are_not_json(api_client, cpd_user):
    body = json.dumps(incident_payload()).replace('"latitude": 41.7796', '"latitude": NaN')

    assert _post_raw(api_client(cpd_user), body).status_code == 400


def test_a_body_over_one_megabyte_is_a_413_and_is_audited(api_client, cpd_user):
    body = json.dumps(incident_payload(note="x" * (1024 * 1024)))
    response = _post_raw(api_client(cpd_user), body)

    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than 1 MB."
    assert not Incident.objects.exists()
    assert Event.objects.filter(action="api.rejected", data__status=413).exists()


def test_form_encoded_bodies_are_refused_with_415(api_client, cpd_user):
    response = _post_raw(api_client(cpd_user), "block=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


def test_a_nul_character_or_a_lone_surrogate_is_a_400_not_a_crash(api_client, cpd_user):
    nul = _post_raw(api_client(cpd_user), json.dumps(incident_payload(block="6300 S\u0000HALSTED")))
    surrogate = _post_raw(api_client(cpd_user), json.dumps(incident_payload(note="\ud800")))

    assert nul.status_code == 400 and "block" in nul.json()
    assert surrogate.status_code == 400 and "note" in surrogate.json()


def test_absurd_numbers_are_a_400_not_a_crash(api_client, cpd_user):
    body = json.dumps(incident_payload()).replace('"latitude": 41.7796', '"latitude": ' + "9" * 400)

    response = _post_raw(api_client(cpd_user), body)

    assert response.status_code == 400
    assert "latitude" in response.json()


def test_a_year_ten_thousand_date_is_a_400(api_client, cpd_user):
    response = _post_raw(api_client(cpd_user), json.dumps(incident_payload(occurred_at="9999-12-31T23:59:59-12:00")))

    assert response.status_code == 400
    assert "occurred_at" in response.json()


def test_a_wrong_method_is_a_405(api_client, cpd_user):
    assert api_client(cpd_user).delete(URL).status_code == 405
