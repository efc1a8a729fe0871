"""The organisation's own access log and its records export (supervisors only)."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import Access, Event
from responses.services import response_log

from .factories import make_notification

pytestmark = pytest.mark.django_db
NOTE = "Met the family at the hospital"
ACCESS_LOG = reverse("responses:access_log")
EXPORT = reverse("responses:records_export")


@pytest.fixture
def notification(covering_org):
    return make_notification(covering_org, block="6300 S HALSTED ST")


@pytest.fixture
def logged(notification, worker):
    log, _ = response_log(notification=notification, actor=worker, source="web", client_key=uuid.uuid4(),
                          arrived_at=timezone.now() - timedelta(minutes=5), response_types=["scene"],
                          retaliation_risk="medium", referrals=[{"kind": "trauma", "count": 2}],
                          people_engaged={"family": 3}, notes=NOTE)
    return log


def test_the_supervisor_sees_who_at_cpd_viewed_the_organisations_incident(client, cpd_user, supervisor,
                                                                          notification, other_org):
    client.force_login(cpd_user)
    for _ in range(3):
        client.get(reverse("notifications:incident_live", kwargs={"code": notification.incident.code}))
    # A view of another organisation's records is not in this one's log.
    other = make_notification(other_org, block="5500 W MADISON ST")
    assert client.get(reverse("notifications:incident_detail", kwargs={"code": other.incident.code})
                      ).status_code == 200

    client.force_login(supervisor)
    response = client.get(ACCESS_LOG)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Dana" in body and "CPD district staff" in body
    assert "Opened the incident page" in body and "6300 S HALSTED ST" in body and "3 views" in body
    assert "5500 W MADISON ST" not in body


def test_the_page_is_in_spanish_for_a_spanish_reader(client, supervisor, notification, worker):
    client.force_login(worker)
    client.get(reverse("responses:incident", kwargs={"code": notification.code}))
    client.force_login(supervisor)
    client.post(reverse("responses:language"), {"language": "es"})
    body = client.get(ACCESS_LOG).content.decode()
    assert "Quién consultó sus registros" in body and "Abrió el incidente y sus respuestas" in body


def test_the_access_log_is_linked_from_the_supervisors_pages(client, supervisor):
    client.force_login(supervisor)
    assert f'href="{ACCESS_LOG}"' in client.get(reverse("responses:team")).content.decode()


@pytest.mark.parametrize("who", ["worker", "other_worker", "cpd_user", "analyst", "admin_user"])
def test_only_the_organisations_supervisor_reaches_the_log_and_the_export(client, request, who, logged):
    client.force_login(request.getfixturevalue(who))
    assert client.get(ACCESS_LOG).status_code in (403, 404)
    response = client.get(EXPORT)
    assert response.status_code in (403, 404)
    assert NOTE not in response.content.decode()


def test_anonymous_callers_are_sent_to_sign_in(client):
    assert client.get(EXPORT).status_code == 302
    assert client.get(ACCESS_LOG).status_code == 302


def test_the_supervisor_exports_every_record_with_notes_as_csv(client, supervisor, logged, notification,
                                                               covering_org):
    make_notification(covering_org, block="6500 S HALSTED ST")  # notified, no response yet
    client.force_login(supervisor)
    response = client.get(EXPORT)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="records-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r["block"] for r in rows] == ["6300 S HALSTED ST", "6500 S HALSTED ST"]
    first = rows[0]
    assert (first["notification"], first["response"], first["notes"]) == (str(notification.code), str(logged.code),
                                                                          NOTE)
    assert (first["retaliation_risk"], first["referrals"], first["people_engaged"]) == ("medium", "trauma:2",
                                                                                       "family:3")
    assert rows[1]["response"] == ""
    assert Event.objects.filter(action="records.exported", actor=supervisor).exists()
    assert Access.objects.get(action="records.exported").organization_code == str(covering_org.code)


def test_the_export_as_xlsx_holds_the_same_records(client, supervisor, logged):
    client.force_login(supervisor)
    response = client.get(EXPORT + "?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "notification" and values[1][-1] == NOTE


def test_an_unknown_export_format_is_a_400_with_a_message(client, supervisor):
    client.force_login(supervisor)
    response = client.get(EXPORT + "?format=pdf")
    assert response.status_code == 400
    assert "Export as CSV or XLSX." in response.content.decode()


def test_a_notes_cell_that_looks_like_a_formula_is_neutralised(client, supervisor, notification, worker):
    response_log(notification=notification, actor=worker, source="web", client_key=uuid.uuid4(),
                 notes='=HYPERLINK("http://example.invalid","x")')
    client.force_login(supervisor)
    text = b"".join(client.get(EXPORT).streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
