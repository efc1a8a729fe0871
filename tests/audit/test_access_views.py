"""Who viewed what: the incident page, the board and their live polls, exports, the organisation's own pages."""

import pytest
from django.urls import reverse

from audit.models import Access
from tests.responses.factories import make_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def notification(covering_org):
    return make_notification(covering_org)


def test_the_incident_page_and_its_polls_are_one_counted_row_per_hour(client, cpd_user, notification, covering_org):
    client.force_login(cpd_user)
    incident = notification.incident
    assert client.get(reverse("notifications:incident_detail", kwargs={"code": incident.code})).status_code == 200
    for _ in range(12):
        assert client.get(reverse("notifications:incident_live", kwargs={"code": incident.code})).status_code == 200
    row = Access.objects.get()
    assert (row.actor, row.action, row.object_code, row.organization_code) == (
        cpd_user, "incident.viewed", str(incident.code), str(covering_org.code))
    assert (row.count, row.role, row.source) == (13, "cpd_staff", "web")


def test_the_board_and_its_polls_are_counted_per_organisation_shown(client, cpd_user, notification, covering_org):
    client.force_login(cpd_user)
    assert client.get(reverse("notifications:board")).status_code == 200
    for _ in range(5):
        assert client.get(reverse("notifications:board_live")).status_code == 200
    row = Access.objects.get(action="board.viewed")
    assert (row.actor, row.organization_code, row.count) == (cpd_user, str(covering_org.code), 6)


def test_an_incident_read_through_the_api_is_counted(client, cpd_user, notification):
    client.force_login(cpd_user)
    response = client.get(f"/api/v1/incidents/{notification.incident.code}/")
    assert response.status_code == 200
    row = Access.objects.get()
    assert (row.action, row.source, row.object_code) == ("incident.viewed", "api", str(notification.incident.code))


def test_a_refused_incident_page_records_no_view(client, other_district_user, notification):
    client.force_login(other_district_user)
    assert client.get(reverse("notifications:incident_detail", kwargs={"code": notification.incident.code})
                      ).status_code == 404
    assert not Access.objects.exists()


def test_a_history_export_names_the_organisations_whose_summaries_it_carries(client, analyst, notification,
                                                                              covering_org):
    client.force_login(analyst)
    response = client.get(reverse("reviews:history") + "?_export=csv")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    row = Access.objects.get(action="history.exported")
    assert (row.actor, row.organization_code, row.role) == (analyst, str(covering_org.code), "analyst")


def test_a_worker_opening_their_organisations_incident_is_in_its_access_log(client, worker, notification,
                                                                            covering_org):
    client.force_login(worker)
    assert client.get(reverse("responses:incident", kwargs={"code": notification.code})).status_code == 200
    row = Access.objects.get()
    assert (row.actor, row.action, row.object_code, row.organization_code) == (
        worker, "responses.viewed", str(notification.code), str(covering_org.code))
