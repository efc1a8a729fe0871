"""`/api/v1/notifications/`: an organisation's feed, acknowledgement and status taps."""

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/notifications/"


def test_a_worker_lists_their_organisations_notifications_with_the_incident_as_outreach_sees_it(
        api_client, worker, covering_notification, other_notification):
    body = api_client(worker).get(URL).json()

    assert [row["code"] for row in body["results"]] == [str(covering_notification.code)]
    incident = body["results"][0]["incident"]
    assert incident["block"] == "6300 S HALSTED ST" and incident["district"] == "007"
    assert incident["victims"] == [{"age_band": "20-29", "sex": "M"}]
    # Block level only: no RD number, no exact point.
    assert not {"rd_number", "latitude", "longitude"} & set(incident)


def test_unacknowledged_filters_out_what_someone_already_acknowledged(api_client, worker, covering_notification):
    client = api_client(worker)
    assert client.get(URL, {"status": "unacknowledged"}).json()["count"] == 1

    client.post(f"{URL}{covering_notification.code}/acknowledge/", {}, format="json")

    assert client.get(URL, {"status": "unacknowledged"}).json()["count"] == 0
    assert client.get(URL, {"status": "acknowledged"}).json()["count"] == 1


def test_an_unknown_status_filter_is_a_400(api_client, worker):
    response = api_client(worker).get(URL, {"status": "lost"})

    assert response.status_code == 400
    assert "status" in response.json()


@pytest.mark.parametrize("role", ["cpd_user", "analyst"])
def test_cpd_and_analysts_have_no_notification_feed(request, api_client, role):
    assert api_client(request.getfixturevalue(role)).get(URL).status_code == 403


def test_acknowledging_twice_returns_the_first_acknowledgement(api_client, worker, supervisor, covering_notification):
    url = f"{URL}{covering_notification.code}/acknowledge/"
    first = api_client(worker).post(url, format="json")
    second = api_client(supervisor).post(url, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json()["acknowledged_at"] == second.json()["acknowledged_at"]
    assert second.json()["acknowledged_by"] == "tasha_worker"
    assert second.json()["acknowledged_via"] == "api"
    covering_notification.refresh_from_db()
    assert covering_notification.next_escalation_at is None  # escalation stopped


def test_an_offline_acknowledgement_keeps_its_time_but_not_one_in_the_future(api_client, worker,
                                                                           covering_notification):
    url = f"{URL}{covering_notification.code}/acknowledge/"
    future = api_client(worker).post(url, {"at": (timezone.now() + timedelta(hours=1)).isoformat()}, format="json")
    assert future.status_code == 400 and "future" in future.json()["at"][0]

    at = timezone.now() - timedelta(minutes=3)
    response = api_client(worker).post(url, {"at": at.isoformat()}, format="json")
    assert response.json()["acknowledged_at"] == at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_another_organisations_notification_is_a_404(api_client, worker, other_notification):
    response = api_client(worker).post(f"{URL}{other_notification.code}/acknowledge/", format="json")

    assert response.status_code == 404
    other_notification.refresh_from_db()
    assert other_notification.acknowledged_at is None


def test_cpd_may_not_acknowledge_for_an_organisation(api_client, cpd_user, covering_notification):
    assert api_client(cpd_user).post(f"{URL}{covering_notification.code}/acknowledge/").status_code == 403


def test_a_status_tap_is_recorded_and_acknowledges_first(api_client, worker, covering_notification):
    response = api_client(worker).post(f"{URL}{covering_notification.code}/status/", {"status": "on_scene"},
                                       format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "on_scene"
    assert body["acknowledged_at"] is not None and body["arrived_at"] is not None


def test_unable_needs_a_reason(api_client, worker, covering_notification):
    url = f"{URL}{covering_notification.code}/status/"
    without = api_client(worker).post(url, {"status": "unable"}, format="json")
    with_reason = api_client(worker).post(url, {"status": "unable", "reason": "unsafe"}, format="json")

    assert without.status_code == 400 and "reason" in without.json()
    assert with_reason.status_code == 200 and with_reason.json()["unable_reason"] == "unsafe"


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "pending"}, "status"),
    ({"status": "on_scene", "at": "later"}, "at"),
    ({"status": "on_scene", "where": "corner"}, "where"),
    ({}, "status"),
])
def test_bad_status_input_is_a_400_and_changes_nothing(api_client, worker, covering_notification, body, field):
    before = covering_notification.status
    response = api_client(worker).post(f"{URL}{covering_notification.code}/status/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    covering_notification.refresh_from_db()
    assert covering_notification.status == before
    assert covering_notification.acknowledged_at is None


def test_an_organisations_token_reads_and_acknowledges_its_notifications(org_token, covering_notification,
                                                                        other_notification):
    _, raw = org_token
    client = token_client(raw)
    listed = client.get(URL).json()
    acknowledged = client.post(f"{URL}{covering_notification.code}/acknowledge/", format="json")

    assert [row["code"] for row in listed["results"]] == [str(covering_notification.code)]
    assert acknowledged.status_code == 200
    assert client.post(f"{URL}{other_notification.code}/acknowledge/", format="json").status_code == 404
