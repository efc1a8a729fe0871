"""The dashboards, as the analyst, the commander and the outreach supervisor use them."""

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.dates import CHICAGO
from districts.models import District, Organization
from notifications.models import Notification
from reviews.filters_dashboard import this_month
from reviews.models import MonthlySummary
from reviews.selectors import Month, monthly_review
from reviews.selectors_dashboard import latest_month_with_data, shifted
from tests.conftest import PASSWORD
from tests.reviews.test_metrics import shooting

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: the demo runs on it too
URL = reverse("reviews:dashboard")


def day(month: Month, number: int = 10, hour: int = 21) -> datetime:
    return datetime(month.year, month.month, number, hour, 0, tzinfo=CHICAGO)


def several(district, month, count, *, organization=None, **clocks):
    for i in range(count):
        shooting(district, day(month, 1 + i % 27, hour=i % 24), organization=organization, **clocks)


def page(client, user, **query):
    client.login(username=user.username, password=PASSWORD)
    return client.get(URL, query)


def headline(response) -> dict:
    return {card["label"]: card for card in response.context["headline"]}


def chart(html: str, key: str) -> str:
    start = html.index(f'id="trend-{key}"')
    return html[start:html.index("</figure>", start)]


@pytest.fixture
def austin(reference_data):
    return District.objects.get(number="015")


# --- the headline figures --------------------------------------------------------------------

def test_the_headline_says_the_change_from_last_month_and_from_last_year(client, analyst, englewood):
    march = Month(2026, 3)
    several(englewood, march, 5, victims=2)
    several(englewood, Month(2026, 2), 3)
    several(englewood, Month(2025, 3), 7)
    response = page(client, analyst, month="2026-03")
    assert response.status_code == 200
    incidents = headline(response)["Incidents"]
    assert incidents["value"] == "5"
    assert [c["text"] for c in incidents["changes"]] == ["+2 from February", "−2 from March 2025"]
    assert [c["arrow"] for c in incidents["changes"]] == ["▲", "▼"]
    victims = headline(response)["Victims"]
    assert [c["text"] for c in victims["changes"]] == ["+7 from February", "+3 from March 2025"]
    html = response.content.decode()
    assert "Monthly review: March 2026" in html and "+2 from February" in html


def test_rates_change_in_points_and_a_month_without_figures_says_so(client, analyst, englewood, covering_org):
    march = Month(2026, 3)
    several(englewood, march, 4, organization=covering_org, acknowledged=3)  # all acknowledged
    several(englewood, Month(2026, 2), 2, organization=covering_org, acknowledged=None)
    several(englewood, Month(2026, 2), 2, organization=covering_org, acknowledged=4)  # half
    cards = headline(page(client, analyst, month="2026-03"))
    assert cards["Acknowledged"]["value"] == "100%"
    assert [c["text"] for c in cards["Acknowledged"]["changes"]] == [
        "+50 points from February", "No figure for March 2025 to compare"]
    assert cards["Median minutes, sent → acknowledged"]["value"] == "3 min"


def test_the_analyst_sees_every_district_and_each_organisation_with_exact_counts(
        client, analyst, englewood, austin, covering_org, other_org):
    march = Month(2026, 3)
    several(englewood, march, 2, organization=covering_org, acknowledged=2)
    several(austin, march, 1, organization=other_org, acknowledged=2)
    response = page(client, analyst, month="2026-03")
    assert headline(response)["Incidents"]["value"] == "3"
    districts = {row["district"]: row for row in response.context["district_table"].data}
    assert districts["007"]["incidents"] == 2 and districts["015"]["incidents"] == 1
    names = [row["name"] for row in response.context["organization_table"].data]
    assert names == sorted([covering_org.name, other_org.name])
    assert "≤3" not in "".join(card["value"] for card in response.context["headline"])


def test_the_analyst_can_narrow_to_one_district(client, analyst, englewood, austin):
    march = Month(2026, 3)
    several(englewood, march, 6)
    several(austin, march, 4)
    response = page(client, analyst, month="2026-03", district="015")
    assert headline(response)["Incidents"]["value"] == "4"
    assert [row["district"] for row in response.context["district_table"].data] == ["015"]


def test_the_commander_sees_only_their_district_with_small_counts_suppressed(
        client, commander, englewood, austin, covering_org, other_org):
    march = Month(2026, 3)
    several(englewood, march, 2, organization=covering_org, acknowledged=2)
    several(austin, march, 9, organization=other_org, acknowledged=2)
    several(englewood, Month(2026, 2), 6)
    response = page(client, commander, month="2026-03")
    assert response.status_code == 200
    cards = headline(response)
    assert cards["Incidents"]["value"] == "≤3"
    assert [c["text"] for c in cards["Incidents"]["changes"]][0] == "February: 6"  # no difference to give 2 away
    rows = list(response.context["district_table"].data)
    assert [row["district"] for row in rows] == ["007"] and rows[0]["incidents"] == "≤3"
    assert [row["name"] for row in response.context["organization_table"].data] == [covering_org.name]
    html = response.content.decode()
    assert other_org.name not in html and "Austin" not in html.split('id="headline-title"')[1]


def test_the_supervisor_sees_their_own_organisation_only_and_exactly(
        client, supervisor, englewood, covering_org, other_org):
    march = Month(2026, 3)
    several(englewood, march, 2, organization=covering_org, acknowledged=2, responded=True)
    several(englewood, march, 5, organization=other_org, acknowledged=2)
    response = page(client, supervisor, month="2026-03")
    assert response.status_code == 200
    cards = headline(response)
    assert cards["Notifications"]["value"] == "2" and cards["Responded"]["value"] == "100%"
    assert [row["name"] for row in response.context["organization_table"].data] == [covering_org.name]
    assert response.context["district_table"] is None
    html = response.content.decode()
    assert other_org.name not in html and str(other_org) not in html


def test_the_supervisor_cannot_ask_for_another_organisation(client, supervisor, other_org, covering_org):
    response = page(client, supervisor, organization=str(other_org.code))
    assert response.status_code == 400
    assert "not one you can see" in response.content.decode()
    assert other_org.name not in response.content.decode()


def test_the_supervisor_export_has_their_organisation_only(client, supervisor, englewood, covering_org, other_org):
    march = Month(2026, 3)
    several(englewood, march, 5, organization=covering_org, acknowledged=2)
    several(englewood, march, 5, organization=other_org, acknowledged=2)
    response = page(client, supervisor, month="2026-03", _export="csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[3] for row in rows[1:]] == [covering_org.name]


# --- the month -------------------------------------------------------------------------------

def test_the_default_month_is_the_latest_with_data_and_the_page_says_so(client, analyst, englewood):
    current = this_month()
    several(englewood, shifted(current, -2), 4)
    several(englewood, shifted(current, -5), 2)
    response = page(client, analyst)
    assert response.context["month"] == shifted(current, -2)
    names = {m: response.context["month_name"] for m in [0]}
    assert response.context["notice"] == (
        f"No incidents recorded yet for {datetime(current.year, current.month, 1):%B %Y}; "
        f"showing {names[0]}.")
    assert response.context["notice"] in response.content.decode()


def test_with_no_data_at_all_the_page_shows_this_month_and_says_so(client, analyst, reference_data):
    response = page(client, analyst)
    assert response.status_code == 200 and response.context["month"] == this_month()
    assert "No incidents recorded yet." in response.content.decode()


def test_the_latest_month_for_a_supervisor_is_the_latest_their_organisation_was_notified(
        englewood, covering_org, other_org):
    current = this_month()
    several(englewood, shifted(current, -3), 1, organization=covering_org)
    several(englewood, shifted(current, -1), 1, organization=other_org)
    assert latest_month_with_data(until=current, organization=covering_org) == shifted(current, -3)
    assert latest_month_with_data(until=current) == shifted(current, -1)


# --- the charts ------------------------------------------------------------------------------

def test_each_chart_has_twelve_months_their_markers_and_a_table_of_the_numbers(client, analyst, englewood,
                                                                                covering_org):
    march = Month(2026, 3)
    for back, count in ((0, 5), (2, 4), (7, 6)):
        several(englewood, shifted(march, -back), count, organization=covering_org, acknowledged=2)
    html = page(client, analyst, month="2026-03").content.decode()
    incidents = chart(html, "incidents")
    assert incidents.count('class="chart-point"') == 12  # a month with none is a zero, not a gap
    assert incidents.count("<tr><th scope=\"row\">") == 12
    assert "<th scope=\"row\">March 2026</th><td class=\"num\">5</td>" in incidents
    assert "<th scope=\"row\">April 2025</th>" in incidents and "March 2025" not in incidents
    coverage = chart(html, "notification_coverage")
    assert coverage.count('class="chart-point"') == 3  # no incidents, no coverage: a gap
    assert "<title id=\"trend-incidents-title\">Incidents</title>" in incidents


def test_the_commander_chart_writes_small_counts_as_text_not_as_a_height(client, commander, englewood):
    march = Month(2026, 3)
    several(englewood, march, 2)
    several(englewood, shifted(march, -1), 8)
    incidents = chart(page(client, commander, month="2026-03").content.decode(), "incidents")
    assert incidents.count('class="chart-point"') == 11  # ten zeros and the 8
    assert "chart-text-value" in incidents and "<td class=\"num\">≤3</td>" in incidents


# --- the tables and exports ------------------------------------------------------------------

def test_the_tables_cover_a_month_range_and_sort(client, analyst, englewood):
    for back, count in ((0, 5), (1, 9), (2, 4)):
        several(englewood, shifted(Month(2026, 3), -back), count)
    response = page(client, analyst, month="2026-03", month_from="2026-01", month_to="2026-03", district="007",
                    **{"d-sort": "-incidents"})
    rows = list(response.context["district_table"].rows)
    assert [row.record["incidents"] for row in rows] == [9, 5, 4]
    assert "Figures from January 2026 to March 2026" in response.content.decode()


def test_the_export_neutralises_formulas_and_suppresses_small_counts(client, analyst, englewood):
    march = Month(2026, 3)
    hostile = Organization.objects.create(name="=cmd|' /C calc'!A0", short_name="=cmd|' /C calc'!A0")
    several(englewood, march, 2, organization=hostile, acknowledged=2)
    response = page(client, analyst, month="2026-03", district="007", _export="csv")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    by_name = {row[header.index("Name")]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in by_name and "=cmd|' /C calc'!A0" not in by_name
    assert by_name["'=cmd|' /C calc'!A0"]["Notifications"] == "≤3"
    assert by_name["Englewood"]["Incidents"] == "≤3" and by_name["Englewood"]["Victims"] == "≤3"

    response = page(client, analyst, month="2026-03", district="007", _export="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    names = [row[values[0].index("Name")] for row in values[1:]]
    assert "'=cmd|' /C calc'!A0" in names
    assert all(not str(v).startswith("=") for row in values for v in row if v is not None)
    englewood_row = values[1 + names.index("Englewood")]
    assert englewood_row[values[0].index("Incidents")] == "≤3"


def test_the_page_and_exports_are_in_spanish_too(client, analyst, englewood):
    several(englewood, Month(2026, 3), 5)
    client.login(username=analyst.username, password=PASSWORD)
    response = client.get(URL, {"month": "2026-03"}, headers={"accept-language": "es"})
    html = response.content.decode()
    assert "Revisión mensual" in html and "marzo de 2026" in html and "Incidentes" in html


# --- who may look, and bad input -------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("role", ["cpd_user", "worker", "admin_user"])
def test_other_roles_are_refused(client, role, request):
    assert page(client, request.getfixturevalue(role)).status_code == 403


@pytest.mark.parametrize(("query", "message"), [
    ({"month": "2026-13"}, "is not a month"),
    ({"month": "abc"}, "is not a month"),
    ({"month": "2099-01"}, "is in the future"),
    ({"month_from": "2026-05", "month_to": "2026-02"}, "ends before it starts"),
    ({"month_from": "2020-01", "month_to": "2026-01"}, "at most 36 months"),
    ({"district": "999"}, "no district"),
    ({"organization": "not-a-code"}, "not one you can see"),
    ({"_export": "pdf"}, "Export as CSV or XLSX"),
])
def test_bad_input_is_a_message_on_the_page(client, analyst, query, message):
    response = page(client, analyst, **query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_commander_cannot_ask_for_another_district(client, commander):
    response = page(client, commander, district="015")
    assert response.status_code == 400 and "no district" in response.content.decode()


def test_the_navigation_leads_each_role_to_the_dashboard(client, analyst, commander, cpd_user):
    for user, shown in ((analyst, True), (commander, True), (cpd_user, False)):
        client.login(username=user.username, password=PASSWORD)
        assert (f'href="{URL}"' in client.get(reverse("home"), follow=True).content.decode()) is shown
        client.logout()


# --- the reads behind the page ---------------------------------------------------------------

def test_the_headline_is_the_review_tables_figures(client, analyst, englewood, austin, covering_org, other_org):
    march = Month(2026, 3)
    several(englewood, march, 4, organization=covering_org, acknowledged=12, arrived=9, responded=True)
    several(englewood, march, 2, organization=other_org, acknowledged=None, paged=1)
    several(austin, march, 3, entered=20, sent=None)
    pilot = monthly_review(month=march)["pilot"]
    cards = headline(page(client, analyst, month="2026-03"))
    assert cards["Incidents"]["value"] == str(pilot["incidents"]) == "9"
    assert cards["Notification coverage"]["value"] == f"{pilot['notification_coverage'] * 100:.1f}%" == "66.7%"
    assert cards["Median minutes, sent → acknowledged"]["value"] == "12 min"
    assert cards["Acknowledged"]["value"] == f"{pilot['acknowledged_rate'] * 100:.1f}%"


def test_the_page_reads_a_bounded_number_of_queries_whatever_the_incidents(client, analyst, englewood, austin,
                                                                            covering_org):
    """Thirteen months are read; each month is computed once (the review table's few queries per
    district and organisation, whatever the number of incidents) and then read from the summary
    table (a settled month until the nightly refresh)."""
    client.login(username=analyst.username, password=PASSWORD)
    client.get("/")  # the session's idle clocks start (one write) on the first signed-in request
    march = Month(2026, 3)

    def add(count):
        for back in range(13):
            several(englewood, shifted(march, -back), count, organization=covering_org, acknowledged=2)
            several(austin, shifted(march, -back), count)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"month": "2026-03"}).status_code == 200
        return len(captured)

    def cold_then_warm():
        MonthlySummary.objects.all().delete()  # nothing stored yet: every month computed and stored
        return queries(), queries()

    add(2)
    cold_few, warm_few = cold_then_warm()
    add(6)
    cold_many, warm_many = cold_then_warm()
    assert cold_many == cold_few and warm_many == warm_few
    assert warm_few <= 20 < cold_few


def test_a_month_range_far_from_the_trend_is_read_on_its_own(client, analyst, englewood):
    several(englewood, Month(2024, 1), 7)
    response = page(client, analyst, month="2026-03", month_from="2024-01", month_to="2024-01", district="007")
    assert [row["incidents"] for row in response.context["district_table"].data] == [7]
    assert headline(response)["Incidents"]["value"] == "0"


def test_figures_built_on_the_demos_simulated_history_say_so(client, analyst, englewood, covering_org):
    several(englewood, Month(2026, 3), 2, organization=covering_org, acknowledged=2)
    assert "simulated" not in page(client, analyst, month="2026-03").content.decode()
    Notification.objects.update(simulated=True)
    MonthlySummary.objects.all().delete()  # the nightly refresh (March is a settled month)
    assert "are simulated, not recorded" in page(client, analyst, month="2026-03").content.decode()
