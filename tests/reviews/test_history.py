"""The incident history (/history/): who sees what, the filter, sorting, pages, the exports."""

import csv
import io
import uuid
from datetime import datetime, timedelta

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from core.dates import CHICAGO
from districts.models import Beat, CommunityArea, District
from notifications.models import Incident, Notification
from responses.models import ResponseLog

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite,  # the embedded default serves this page too
              pytest.mark.usefixtures("reference_data")]

URL = "/history/"


def make_incident(*, district="007", beat="0723", area=68, block="6300 S HALSTED ST", at=None, rd=None,
                  victims=1, fatal=0, note="", **extra) -> Incident:
    return Incident.objects.create(
        occurred_at=at or timezone.now() - timedelta(hours=1), block=block, rd_number=rd,
        district=District.objects.get(number=district),
        beat=Beat.objects.get(number=beat) if beat else None,
        community_area=CommunityArea.objects.get(number=area) if area else None,
        victim_count=victims, fatal_count=fatal, note=note, **extra,
    )


def tell(incident, organization, *, sent_after=3, **fields) -> Notification:
    """A notification to `organization`, first sent `sent_after` minutes after the shooting
    (None: nothing was ever sent)."""
    sent = incident.occurred_at + timedelta(minutes=sent_after) if sent_after is not None else None
    return Notification.objects.create(incident=incident, organization=organization, first_sent_at=sent,
                                       status=Notification.Status.SENT if sent else Notification.Status.PENDING,
                                       **fields)


def chicago(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def listed(response) -> list[str]:
    """The blocks of the incidents listed on the page, in order."""
    return [row.record.block for row in response.context["table"].paginated_rows]


# --- who may see it --------------------------------------------------------------------------

def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


@pytest.mark.parametrize("who", ["worker", "supervisor", "admin_user"])
def test_outreach_and_administrators_are_refused(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    assert client.get(URL + "?_export=csv").status_code == 403


@pytest.mark.parametrize("who", ["cpd_user", "commander"])
def test_cpd_staff_and_commanders_see_their_own_district_only(client, request, who):
    make_incident(block="6300 S HALSTED ST")
    make_incident(district="015", beat="1533", area=25, block="5500 W CHICAGO AVE")
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL)
    assert response.status_code == 200
    assert listed(response) == ["6300 S HALSTED ST"]
    assert b"Incident history" in response.content


def test_a_cpd_user_cannot_reach_another_district_through_the_filter(client, cpd_user):
    make_incident(district="015", beat="1533", area=25, block="5500 W CHICAGO AVE")
    client.force_login(cpd_user)
    response = client.get(URL, {"district": "015"})
    assert response.status_code == 200
    assert listed(response) == []
    assert "There is no district “015” you can see." in response.content.decode()
    response = client.get(URL, {"beat": "1533"})
    assert listed(response) == []
    assert "There is no beat “1533” in the districts you can see." in response.content.decode()


def test_an_analyst_sees_every_district_and_can_narrow_to_one(client, analyst):
    make_incident(block="6300 S HALSTED ST")
    make_incident(district="015", beat="1533", area=25, block="5500 W CHICAGO AVE")
    client.force_login(analyst)
    assert sorted(listed(client.get(URL))) == ["5500 W CHICAGO AVE", "6300 S HALSTED ST"]
    assert listed(client.get(URL, {"district": "015"})) == ["5500 W CHICAGO AVE"]
    assert listed(client.get(URL, {"district": "15"})) == ["5500 W CHICAGO AVE"]  # as people write it
    assert listed(client.get(URL, {"beat": "723"})) == ["6300 S HALSTED ST"]


def test_each_row_opens_the_incident_page(client, cpd_user):
    incident = make_incident(rd="JH100001")
    client.force_login(cpd_user)
    page = client.get(URL).content.decode()
    detail = reverse("notifications:incident_detail", kwargs={"code": incident.code})
    assert f'href="{detail}"' in page
    assert client.get(detail).status_code == 200


def test_the_nav_offers_the_history_to_cpd_and_analysts_only(client, cpd_user, analyst, admin_user):
    for user, shown in ((cpd_user, True), (analyst, True), (admin_user, False)):
        client.force_login(user)
        assert (f'href="{URL}"' in client.get("/").content.decode()) is shown, user
    client.force_login(analyst)
    assert 'href="/history/" aria-current="page"' in client.get(URL).content.decode()


def test_the_page_speaks_spanish(client, analyst):
    client.force_login(analyst)
    client.cookies["django_language"] = "es"
    page = client.get(URL, headers={"accept-language": "es"}).content.decode()
    assert "Historial de incidentes" in page
    assert "Exportar CSV" in page
    assert "Ordenar por" in page and "Organización notificada" in page


# --- the trust boundary ------------------------------------------------------------------------

def test_no_exact_point_no_author_and_no_private_record_on_the_page_or_in_the_export(
        client, analyst, cpd_user, covering_org):
    incident = make_incident(latitude=41.779612, longitude=-87.644634, entered_by=cpd_user, note="Scene held.")
    notification = tell(incident, covering_org, responded=True, acknowledged_at=incident.occurred_at)
    ResponseLog.objects.create(notification=notification, organization=covering_org, client_key=uuid.uuid4(),
                               notes="PRIVATE-ORG-NOTE about who was there")
    client.force_login(analyst)
    page = client.get(URL).content.decode()
    export = b"".join(client.get(URL, {"_export": "csv"}).streaming_content).decode()
    for text in (page, export):
        assert "41.7796" not in text and "87.6446" not in text
        assert "dana_cpd" not in text and "Dana" not in text
        assert "PRIVATE-ORG-NOTE" not in text
    assert "Scene held." in export  # CPD's note is part of what a notification carries


# --- the states --------------------------------------------------------------------------------

@pytest.fixture
def states(covering_org, other_org):
    """One incident in each state, named by its block."""
    now = timezone.now()
    quiet = make_incident(block="UNACKNOWLEDGED", at=now - timedelta(hours=2))
    tell(quiet, covering_org)
    late = make_incident(block="LATE", at=now - timedelta(hours=3))
    covering_org.ack_window_minutes = 10
    covering_org.save()
    tell(late, covering_org, acknowledged_at=late.occurred_at + timedelta(minutes=3 + 25))
    in_time = make_incident(block="IN TIME", at=now - timedelta(hours=4))
    tell(in_time, covering_org, acknowledged_at=in_time.occurred_at + timedelta(minutes=3 + 9))
    paged = make_incident(block="ESCALATED", at=now - timedelta(hours=5))
    tell(paged, covering_org, escalation_level=2, escalation_paged_level=1,
         acknowledged_at=paged.occurred_at + timedelta(minutes=4))
    tried = make_incident(block="STEP WITHOUT PAGE", at=now - timedelta(hours=6))
    tell(tried, covering_org, escalation_level=1, escalation_paged_level=0,
         acknowledged_at=tried.occurred_at + timedelta(minutes=4))
    make_incident(block="NO NOTIFICATION", at=now - timedelta(hours=7))
    unsent = make_incident(block="NOTHING SENT", at=now - timedelta(hours=8))
    tell(unsent, covering_org, sent_after=None)
    responded = make_incident(block="RESPONDED", at=now - timedelta(hours=9))
    tell(responded, covering_org, acknowledged_at=responded.occurred_at + timedelta(minutes=5), responded=True)
    tell(responded, other_org, acknowledged_at=responded.occurred_at + timedelta(minutes=6))


@pytest.mark.parametrize(("state", "blocks"), [
    ("unacknowledged", ["UNACKNOWLEDGED"]),
    ("acknowledged_late", ["LATE"]),
    ("escalated", ["ESCALATED"]),
    ("never_notified", ["NO NOTIFICATION", "NOTHING SENT"]),
    ("responded", ["RESPONDED"]),
])
def test_the_state_filter(client, cpd_user, states, state, blocks):
    client.force_login(cpd_user)
    assert listed(client.get(URL, {"state": state})) == blocks


def test_each_row_says_its_state_in_words(client, cpd_user, states):
    client.force_login(cpd_user)
    page = client.get(URL).content.decode()
    for words in ("Unacknowledged", "Acknowledged late", "Escalated", "Never notified", "Responded",
                  "Acknowledged in time"):
        assert f">{words}<" in page


# --- the other filters ------------------------------------------------------------------------

def test_the_date_range_is_chicago_days_with_both_ends_included(client, analyst):
    make_incident(block="LAST MINUTE OF MARCH", at=chicago(2026, 3, 31, 23, 59))
    make_incident(block="FIRST OF APRIL", at=chicago(2026, 4, 1, 0, 1))
    make_incident(block="FIRST OF MARCH", at=chicago(2026, 3, 1, 0, 0))
    make_incident(block="END OF FEBRUARY", at=chicago(2026, 2, 28, 23, 59, 59))
    client.force_login(analyst)
    march = client.get(URL, {"occurred_from": "2026-03-01", "occurred_to": "2026-03-31"})
    assert listed(march) == ["LAST MINUTE OF MARCH", "FIRST OF MARCH"]
    assert listed(client.get(URL, {"occurred_from": "2026-04-01"})) == ["FIRST OF APRIL"]


def test_beat_community_area_organisation_fatal_and_search(client, analyst, covering_org, other_org):
    englewood = make_incident(block="6300 S HALSTED ST", beat="0723", area=68, rd="JH200001", fatal=1)
    make_incident(block="7100 S ASHLAND AVE", beat="0733", area=67, rd="JH200002")
    tell(englewood, covering_org)
    client.force_login(analyst)
    assert listed(client.get(URL, {"beat": "0723"})) == ["6300 S HALSTED ST"]
    assert listed(client.get(URL, {"community_area": "67"})) == ["7100 S ASHLAND AVE"]
    assert listed(client.get(URL, {"organization": str(covering_org.code)})) == ["6300 S HALSTED ST"]
    assert listed(client.get(URL, {"organization": str(other_org.code)})) == []
    assert listed(client.get(URL, {"fatal": "yes"})) == ["6300 S HALSTED ST"]
    assert listed(client.get(URL, {"fatal": "no"})) == ["7100 S ASHLAND AVE"]
    assert listed(client.get(URL, {"search": "ashland"})) == ["7100 S ASHLAND AVE"]
    assert listed(client.get(URL, {"search": "jh200001"})) == ["6300 S HALSTED ST"]


def test_an_incident_told_to_two_organisations_is_listed_once(client, analyst, covering_org, other_org):
    incident = make_incident()
    tell(incident, covering_org)
    tell(incident, other_org)
    client.force_login(analyst)
    assert listed(client.get(URL)) == ["6300 S HALSTED ST"]
    page = client.get(URL).content.decode()
    assert str(covering_org) in page and str(other_org) in page


@pytest.mark.parametrize(("query", "message"), [
    ({"occurred_from": "2026-13-45"}, "Enter a valid date."),
    ({"occurred_from": "yesterday"}, "Enter a valid date."),
    ({"occurred_to": "9999-12-31"}, "Give a date between 1900 and 2100."),
    ({"occurred_from": "2026-04-02", "occurred_to": "2026-04-01"}, "The end date is before the start date."),
    ({"district": "999"}, "There is no district “999” you can see."),
    ({"district": "<script>"}, "There is no district “&lt;script&gt;” you can see."),
    ({"beat": "9999"}, "There is no beat “9999” in the districts you can see."),
    ({"community_area": "78"}, "There is no community area “78”."),
    ({"organization": "not-a-code"}, "That organisation is not in the list."),
    ({"organization": str(uuid.uuid4())}, "That organisation is not in the list."),
    ({"state": "vanished"}, "Select a valid choice."),
    ({"fatal": "maybe"}, "Select a valid choice."),
])
def test_bad_filter_input_is_a_message_on_the_form_never_a_server_error(client, analyst, query, message):
    make_incident()
    client.force_login(analyst)
    response = client.get(URL, query)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page
    assert listed(response) == []
    assert "Export CSV" not in page  # an invalid filter is not exported


def test_an_invalid_filter_is_not_exported(client, analyst):
    make_incident()
    client.force_login(analyst)
    response = client.get(URL, {"district": "999", "_export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert not Event.objects.filter(action="history.exported").exists()


def test_a_bad_page_or_sort_still_renders(client, analyst):
    make_incident()
    client.force_login(analyst)
    for query in ({"page": "abc"}, {"page": "999"}, {"page": "-1"}, {"sort": "latitude"}, {"sort": "entered_by"},
                  {"sort": "nonsense"}):
        response = client.get(URL, query)
        assert response.status_code == 200, query
        assert listed(response) == ["6300 S HALSTED ST"], query


# --- pages, order, query count ------------------------------------------------------------------

def test_newest_first_25_a_page_including_the_historical_import(client, analyst):
    start = timezone.now() - timedelta(days=400)
    for n in range(30):
        make_incident(block=f"{n:02d} BLOCK", at=start + timedelta(days=n),
                      source=Incident.Source.IMPORT if n % 2 else Incident.Source.WEB)
    client.force_login(analyst)
    first = client.get(URL)
    assert listed(first) == [f"{n:02d} BLOCK" for n in range(29, 4, -1)]
    assert "30 incidents" in first.content.decode()
    assert "Historical import" in first.content.decode()
    assert listed(client.get(URL, {"page": 2})) == [f"{n:02d} BLOCK" for n in range(4, -1, -1)]


def test_sorting_by_a_column_and_back(client, analyst):
    make_incident(block="TWO", victims=2, at=timezone.now() - timedelta(hours=1))
    make_incident(block="THREE", victims=3, at=timezone.now() - timedelta(hours=2))
    make_incident(block="ONE", victims=1, at=timezone.now() - timedelta(hours=3))
    client.force_login(analyst)
    assert listed(client.get(URL, {"sort": "victim_count"})) == ["ONE", "TWO", "THREE"]
    assert listed(client.get(URL, {"sort": "-victim_count"})) == ["THREE", "TWO", "ONE"]
    assert listed(client.get(URL, {"sort": "district"})) == ["TWO", "THREE", "ONE"]
    page = client.get(URL, {"sort": "victim_count"}).content.decode()
    assert 'aria-sort="ascending"' in page


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"state": "unacknowledged", "district": "007"})
    assert response.status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_with_3_or_25_rows(client, analyst, covering_org, other_org):
    def add(count):
        for _ in range(count):
            incident = make_incident()
            tell(incident, covering_org)
            tell(incident, other_org, acknowledged_at=incident.occurred_at + timedelta(minutes=30))

    client.force_login(analyst)
    client.get("/")  # the session's idle clocks start (one write) on the first signed-in request
    add(3)
    few = _page_queries(client)
    add(22)
    assert _page_queries(client) == few
    add(40)  # more than a page
    assert _page_queries(client) == few


# --- exports ----------------------------------------------------------------------------------

@pytest.fixture
def exportable(covering_org):
    occurred = chicago(2026, 3, 8, 1, 30)  # the night the clocks go forward
    hostile = make_incident(block="=HYPERLINK(\"http://evil.example\",\"x\")", rd="JH300001", at=occurred,
                            note="+cmd|' /C calc'!A0", fatal=1)
    tell(hostile, covering_org, acknowledged_at=occurred + timedelta(minutes=30))
    make_incident(block="@SUM(A1)", rd="JH300002", district="015", beat="1533", area=25,
                  at=chicago(2026, 3, 9, 12, 0), note="-2+3")
    make_incident(block="6300 S HALSTED ST", rd="JH300003", at=chicago(2026, 1, 1, 12, 0), note="\tnote")
    return hostile


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_is_what_the_filter_shows_with_every_text_cell_neutralised(client, analyst, exportable):
    client.force_login(analyst)
    response = client.get(URL, {"occurred_from": "2026-03-01", "occurred_to": "2026-03-31", "_export": "csv"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="incident-history.csv"'
    rows = _csv(response)
    assert [row["RD number"] for row in rows] == ["JH300002", "JH300001"]  # newest first, March only
    hostile = rows[1]
    assert hostile["Block"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert hostile["CPD note"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["Block"] == "'@SUM(A1)" and rows[0]["CPD note"] == "'-2+3"
    assert hostile["Occurred"] == "2026-03-08 01:30:00"  # Chicago wall-clock time
    assert hostile["District"] == "007" and hostile["Beat"] == "0723"
    assert hostile["Fatal"] == "1"
    assert hostile["State"] == "Acknowledged late"
    assert hostile["Organisations notified"] == "Public Equity"
    assert hostile["Incident code"] == str(exportable.code)
    assert not {"Latitude", "Longitude", "Entered by"} & set(rows[0])


def test_the_csv_export_reads_in_chunks_and_keeps_every_row_once(client, analyst, monkeypatch):
    from reviews import tables

    monkeypatch.setattr(tables, "EXPORT_CHUNK", 4)  # several chunks from a few rows
    at = timezone.now() - timedelta(days=2)
    for n in range(11):
        make_incident(block=f"B{n:02d}", victims=1 + n % 2, at=at)  # equal times: the key breaks ties
    client.force_login(analyst)
    rows = _csv(client.get(URL, {"sort": "victim_count", "_export": "csv"}))
    assert sorted(row["Block"] for row in rows) == [f"B{n:02d}" for n in range(11)]
    assert [row["Victims"] for row in rows] == ["1"] * 6 + ["2"] * 5


def test_the_xlsx_export_has_naive_chicago_times_and_neutralised_text(client, cpd_user, exportable):
    client.force_login(cpd_user)
    response = client.get(URL, {"_export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [row["RD number"] for row in rows] == ["JH300001", "JH300003"]  # CPD: their district only
    hostile = rows[0]
    assert hostile["Occurred"] == datetime(2026, 3, 8, 1, 30)
    assert hostile["Block"].startswith("'=") and hostile["CPD note"].startswith("'+")
    assert rows[1]["CPD note"] == "'\tnote"
    assert hostile["Victims"] == 1 and hostile["Fatal"] == 1
    formulas = [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []


def test_an_export_is_audited_with_its_filter_and_row_count(client, analyst, exportable, covering_org):
    client.force_login(analyst)
    b"".join(client.get(URL, {"district": "007", "organization": str(covering_org.code), "fatal": "yes",
                              "_export": "csv"}).streaming_content)
    client.get(URL, {"_export": "xlsx"})
    csv_event, xlsx_event = Event.objects.filter(action="history.exported").order_by("id")
    assert csv_event.actor == analyst and csv_event.source == "web"
    assert csv_event.data == {"format": "csv", "rows": 1, "filter": {
        "district": "007", "organization": str(covering_org.code), "fatal": "yes"}}
    assert xlsx_event.data == {"format": "xlsx", "rows": 3, "filter": {}}


def test_an_unknown_export_format_is_refused_with_a_message(client, analyst):
    client.force_login(analyst)
    response = client.get(URL, {"district": "007", "_export": "pdf"}, follow=True)
    assert response.redirect_chain == [(f"{URL}?district=007", 302)]
    assert "Export as CSV or XLSX." in response.content.decode()


def test_a_too_large_xlsx_export_asks_for_a_narrower_filter(client, analyst, monkeypatch):
    from reviews import views

    monkeypatch.setattr(views, "XLSX_MAX_ROWS", 2)
    for _ in range(3):
        make_incident()
    client.force_login(analyst)
    response = client.get(URL, {"_export": "xlsx"}, follow=True)
    assert response.status_code == 200
    assert "more than an XLSX export holds" in response.content.decode()
    assert not Event.objects.filter(action="history.exported").exists()
