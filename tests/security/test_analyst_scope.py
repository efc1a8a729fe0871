"""Analysts see incidents as a notification carries them (ARCHITECTURE.md): RD number, time,
block, district, beat, community area, victims, hospital, scene status and CPD's note, but never
the exact point nor who entered it, on any page, export or API response they can reach."""

import csv
import io

import openpyxl
import pytest

from tests.conftest import ENGLEWOOD_POINT
from tests.security.conftest import sign_in

pytestmark = pytest.mark.django_db

# How the point and the person who entered it would show: the page prints 5 decimals, the API
# and exports the number as stored; the desk's username, and "by <first name>" as the incident page
# words it (a review's list of possible action-item owners names CPD staff, rightly).
POINT_TEXTS = [f"{ENGLEWOOD_POINT[0]}", f"{ENGLEWOOD_POINT[1]}", f"{ENGLEWOOD_POINT[0]:.5f}"]
ENTERED_BY_TEXTS = ["dana_cpd", "by Dana"]


def assert_none_in(text: str, what: str) -> None:
    for needle in POINT_TEXTS + ENTERED_BY_TEXTS:
        assert needle not in text, f"{what} shows {needle!r} to an analyst"


def test_the_analysts_incident_page_shows_what_a_notification_carries_and_no_more(client, world):
    sign_in(client, world.users["analyst"])
    for url in (f"/incidents/{world.incident_a.code}/", f"/incidents/{world.incident_a.code}/live/"):
        page = client.get(url)
        assert page.status_code == 200
        assert_none_in(page.content.decode(), url)
    page = client.get(f"/incidents/{world.incident_a.code}/").content.decode()
    assert "JH900001" in page and "6300 S HALSTED ST" in page and "Crowd gathering at the corner." in page
    assert "Map point" not in page


def test_cpd_still_sees_the_point_and_who_entered_it(client, world):
    sign_in(client, world.users["cpd_staff"])
    page = client.get(f"/incidents/{world.incident_a.code}/").content.decode()
    assert f"{ENGLEWOOD_POINT[0]:.5f}" in page and "by Dana" in page


def test_the_api_gives_analysts_no_coordinates_and_not_who_entered_it(client, world):
    sign_in(client, world.users["analyst"])
    listed = client.get("/api/v1/incidents/")
    assert listed.status_code == 200
    incidents = listed.json()["results"]
    assert {i["rd_number"] for i in incidents} == {"JH900001", "JH900002"}
    detail = client.get(f"/api/v1/incidents/{world.incident_a.code}/").json()
    for incident in [*incidents, detail]:
        assert not {"latitude", "longitude", "entered_by"} & set(incident)
        assert incident["note"] == "Crowd gathering at the corner." and incident["victims"]
    assert_none_in(listed.content.decode(), "the incident list API")


def test_cpd_callers_keep_the_coordinates_in_the_api(client, world):
    sign_in(client, world.users["cpd_staff"])
    detail = client.get(f"/api/v1/incidents/{world.incident_a.code}/").json()
    assert detail["latitude"] == ENGLEWOOD_POINT[0] and detail["entered_by"] == "dana_cpd"


def test_the_history_page_and_its_exports_carry_no_point_and_not_who_entered_it(client, world):
    sign_in(client, world.users["analyst"])
    page = client.get("/history/")
    assert page.status_code == 200 and "JH900001" in page.content.decode()
    assert_none_in(page.content.decode(), "the history page")
    exported = client.get("/history/", {"_export": "csv"})
    text = b"".join(exported.streaming_content).decode() if exported.streaming else exported.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert any("JH900001" in row for row in rows)
    assert_none_in(text, "the CSV export")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/history/", {"_export": "xlsx"}).content))
    cells = " ".join(str(c.value) for sheet in book for row in sheet.iter_rows() for c in row)
    assert "JH900001" in cells
    assert_none_in(cells, "the XLSX export")


def test_the_board_the_reviews_and_the_dashboard_show_analysts_no_point(client, world):
    sign_in(client, world.users["analyst"])
    for url in ("/board/?district=007", "/board/live/?district=007", "/dashboard/", "/reviews/",
                f"/reviews/{world.review_a.code}/", "/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert_none_in(page.content.decode(), url)
