"""Reference data (districts, organisations, hospitals) and the organisation's webhook test and deliveries."""

import pytest

from districts.models import Channel, District, OnCall
from notifications.models import Delivery, Notification
from tests.api.conftest import token_client
from tests.workers import incident_notify

pytestmark = pytest.mark.django_db


def test_districts_come_as_three_digit_numbers(api_client, worker):
    body = api_client(worker).get("/api/v1/districts/", {"page_size": 200}).json()

    assert body["count"] == District.objects.count() >= 22
    assert body["results"][0]["number"] == "001"
    assert {"007", "015"} <= {row["number"] for row in body["results"]}


@pytest.mark.parametrize("number", ["7", "007"])
def test_a_district_lists_its_beats_community_areas_and_covering_organisations(api_client, cpd_user, number):
    body = api_client(cpd_user).get(f"/api/v1/districts/{number}/").json()

    assert body["number"] == "007" and body["name"] == "Englewood"
    assert "0723" in {beat["number"] for beat in body["beats"]}
    assert {"number": 68, "name": "Englewood"} in body["community_areas"]
    assert "Public Equity" in {org["name"] for org in body["organizations"]}


@pytest.mark.parametrize("number", ["999", "abc", "0000"])
def test_an_unknown_district_is_a_404(api_client, cpd_user, number):
    assert api_client(cpd_user).get(f"/api/v1/districts/{number}/").status_code == 404


def test_outreach_sees_only_its_own_organisation_and_others_see_all(api_client, worker, analyst):
    mine = api_client(worker).get("/api/v1/organizations/").json()
    everyone = api_client(analyst).get("/api/v1/organizations/").json()

    assert [row["name"] for row in mine["results"]] == ["Public Equity"]
    assert everyone["count"] > 1


def test_hospitals_are_listed_with_their_codes(api_client, cpd_user):
    body = api_client(cpd_user).get("/api/v1/hospitals/").json()

    assert body["count"] >= 10
    assert all(row["code"] for row in body["results"])


def test_a_token_without_reference_read_cannot_list_districts(district_token):
    _, raw = district_token

    assert token_client(raw).get("/api/v1/districts/").status_code == 403


@pytest.fixture
def webhook(covering_org):
    return Channel.objects.create(organization=covering_org, kind=Channel.Kind.WEBHOOK,
                                  target="https://hooks.example.org/cvi", secret="whsec_dGVzdHNlY3JldA==")


def test_a_supervisor_sends_a_test_event_and_sees_its_delivery(api_client, supervisor, covering_org, webhook):
    client = api_client(supervisor)
    sent = client.post(f"/api/v1/organizations/{covering_org.code}/webhook-test/", format="json")

    assert sent.status_code == 202, sent.json()
    drill = Notification.objects.get(code=sent.json()["notification"])
    assert drill.kind == Notification.Kind.DRILL and drill.organization == covering_org
    webhook_deliveries = [d for d in sent.json()["deliveries"] if d["kind"] == "webhook"]
    assert [d["target"] for d in webhook_deliveries] == ["https://hooks.example.org/cvi"]

    listed = client.get(f"/api/v1/organizations/{covering_org.code}/deliveries/").json()
    assert [row["code"] for row in listed["results"]] == [webhook_deliveries[0]["code"]]
    assert listed["results"][0]["purpose"] == Delivery.Purpose.DRILL


def test_a_worker_sees_deliveries_but_may_not_send_a_test_event(api_client, worker, covering_org, webhook):
    client = api_client(worker)

    assert client.post(f"/api/v1/organizations/{covering_org.code}/webhook-test/").status_code == 403
    assert client.get(f"/api/v1/organizations/{covering_org.code}/deliveries/").status_code == 200
    assert not Notification.objects.filter(kind=Notification.Kind.DRILL).exists()


def test_only_the_supervisor_sees_deliveries_to_colleagues_phones(api_client, worker, supervisor, covering_org,
                                                                  englewood):
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550177")
    OnCall.objects.create(organization=covering_org, user=worker, tier=OnCall.Tier.PRIMARY)
    incident_notify(district=englewood, organization=covering_org)
    url = f"/api/v1/organizations/{covering_org.code}/deliveries/?kind=sms"

    as_worker = api_client(worker).get(url).json()
    as_supervisor = api_client(supervisor).get(url).json()

    assert as_worker["count"] == 0
    assert [row["target"] for row in as_supervisor["results"]] == ["+13125550177"]


def test_another_organisations_webhooks_are_a_404(api_client, supervisor, other_org):
    client = api_client(supervisor)

    assert client.post(f"/api/v1/organizations/{other_org.code}/webhook-test/").status_code == 404
    assert client.get(f"/api/v1/organizations/{other_org.code}/deliveries/").status_code == 404


@pytest.mark.parametrize("role", ["cpd_user", "analyst"])
def test_cpd_and_analysts_have_no_webhook_endpoints(request, api_client, role, covering_org):
    client = api_client(request.getfixturevalue(role))

    assert client.post(f"/api/v1/organizations/{covering_org.code}/webhook-test/").status_code == 403
    assert client.get(f"/api/v1/organizations/{covering_org.code}/deliveries/").status_code == 403
