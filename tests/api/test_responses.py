"""`/api/v1/responses/`: the organisation-only record, idempotent by `client_key`."""

import uuid

import pytest
from django.utils import timezone

from responses.models import Referral, ResponseLog
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/responses/"


def response_payload(notification, **overrides) -> dict:
    payload = {
        "notification": str(notification.code),
        "client_key": str(uuid.uuid4()),
        "arrived_at": timezone.now().isoformat(),
        "response_types": ["scene", "family"],
        "retaliation_risk": "medium",
        "referrals": [{"kind": "trauma", "count": 2}],
        "people_engaged": {"family": 3},
        "notes": "Met the family on the porch.",
    }
    payload.update(overrides)
    return payload


def test_a_worker_logs_a_response_and_a_replay_returns_the_same_body(api_client, worker, covering_notification):
    payload = response_payload(covering_notification)
    first = api_client(worker).post(URL, payload, format="json")
    replay = api_client(worker).post(URL, payload, format="json")

    assert (first.status_code, replay.status_code) == (201, 200), first.json()
    assert first.json() == replay.json()
    assert ResponseLog.objects.count() == 1 and Referral.objects.count() == 1
    body = first.json()
    assert body["notes"] == "Met the family on the porch."
    assert body["retaliation_risk"] == "medium"
    assert body["referrals"] == [{"kind": "trauma", "count": 2}]
    covering_notification.refresh_from_db()
    assert covering_notification.responded and covering_notification.response_category == "scene"


def test_a_replay_with_changed_content_still_returns_the_first_response(api_client, worker, covering_notification):
    payload = response_payload(covering_notification)
    api_client(worker).post(URL, payload, format="json")
    replay = api_client(worker).post(URL, {**payload, "notes": "edited offline"}, format="json")

    assert replay.status_code == 200
    assert replay.json()["notes"] == "Met the family on the porch."


@pytest.mark.parametrize("role", ["cpd_user", "commander", "analyst", "admin_user"])
def test_nobody_outside_outreach_reaches_responses(request, api_client, role, covering_notification):
    client = api_client(request.getfixturevalue(role))

    assert client.get(URL).status_code == 403
    assert client.post(URL, response_payload(covering_notification), format="json").status_code == 403
    assert not ResponseLog.objects.exists()


def test_a_worker_cannot_log_a_response_to_another_organisations_notification(api_client, other_worker,
                                                                             covering_notification):
    response = api_client(other_worker).post(URL, response_payload(covering_notification), format="json")

    assert response.status_code == 400
    assert response.json()["notification"] == ["No such notification for your organisation."]
    assert not ResponseLog.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"client_key": "not-a-uuid"}, "client_key"),
    ({"response_types": ["prayer"]}, "response_types"),
    ({"retaliation_risk": "extreme"}, "retaliation_risk"),
    ({"referrals": [{"kind": "trauma", "count": -1}]}, "referrals"),
    ({"referrals": [{"kind": "trauma"}, {"kind": "trauma"}]}, "referrals"),
    ({"people_engaged": {"strangers": 2}}, "people_engaged"),
    ({"follow_up_on": "2020-01-01"}, "follow_up_on"),
    ({"notes": 42}, "notes"),
    ({"names": ["somebody"]}, "names"),
])
def test_bad_response_input_is_a_400_on_the_field_and_saves_nothing(api_client, worker, covering_notification,
                                                                    change, field):
    response = api_client(worker).post(URL, response_payload(covering_notification, **change), format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ResponseLog.objects.exists()


def test_the_monthly_list_shows_the_organisations_own_responses_in_that_month(
        api_client, worker, other_worker, covering_notification):
    api_client(worker).post(URL, response_payload(covering_notification), format="json")
    this_month = timezone.localdate().strftime("%Y-%m")

    mine = api_client(worker).get(URL, {"month": this_month}).json()
    other_month = api_client(worker).get(URL, {"month": "2020-01"}).json()
    theirs = api_client(other_worker).get(URL, {"month": this_month}).json()

    assert mine["count"] == 1 and mine["results"][0]["notes"] == "Met the family on the porch."
    assert other_month["count"] == 0
    assert theirs["count"] == 0


@pytest.mark.parametrize("month", ["2026-13", "0000-06", "26-03", "2026-3"])
def test_a_malformed_month_is_a_400(api_client, worker, month):
    response = api_client(worker).get(URL, {"month": month})

    assert response.status_code == 400
    assert response.json()["month"] == ["A month is YYYY-MM in 2000–2099, e.g. 2026-03."]


def test_an_organisations_case_tool_logs_responses_with_its_token(org_token, covering_notification):
    token, raw = org_token
    response = token_client(raw).post(URL, response_payload(covering_notification), format="json")

    assert response.status_code == 201, response.json()
    assert ResponseLog.objects.get().created_by == token.user
    assert token_client(raw).get(URL).json()["count"] == 1


def test_a_district_token_has_no_access_to_responses(district_token, covering_notification):
    _, raw = district_token

    assert token_client(raw).post(URL, response_payload(covering_notification), format="json").status_code == 403
