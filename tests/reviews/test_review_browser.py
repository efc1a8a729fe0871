"""The analyst's month in a real browser: the dashboard for one district, the incident history,
one incident, the shooting review with a theme and an action item, and the monthly report."""

import os
from datetime import datetime

import pytest

from core.dates import CHICAGO
from tests.conftest import PASSWORD
from tests.reviews.test_metrics import shooting

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "timezone_id": "America/Chicago",
            "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def march(englewood, covering_org):
    for day, acknowledged in [(3, 4), (9, None), (17, 25), (25, 2)]:
        shooting(englewood, datetime(2026, 3, day, 21, 0, tzinfo=CHICAGO), victims=2, acknowledged=acknowledged,
                 organization=covering_org)


def test_an_analyst_runs_the_month_from_dashboard_to_report(page, live_server, analyst, march):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(analyst.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Monthly review").first.click()
    page.get_by_label("Month", exact=True).fill("2026-03")
    page.get_by_label("District", exact=True).select_option("007")
    page.get_by_role("button", name="Show").click()
    assert "Monthly review: March 2026" in page.locator("h1").inner_text()
    headline = page.locator("#headline-title").locator("..").inner_text()
    assert "Incidents" in headline and "4" in headline
    assert page.locator("svg").count() >= 6  # the trend charts, drawn by the server

    page.get_by_role("link", name="Incident history").first.click()
    page.get_by_label("From").fill("2026-03-01")
    page.get_by_label("To").fill("2026-03-31")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 4
    rows.first.locator("a").first.click()
    assert "6300 S HALSTED ST" in page.locator("main").inner_text()
    assert page.get_by_text("Timeline").count() >= 1

    page.get_by_role("link", name="Shooting reviews").first.click()
    page.get_by_label("Month").fill("2026-03")
    page.locator('input[name="districts"][value="007"]').check()
    page.get_by_role("button", name="Create the review").click()
    assert "Shooting review: March 2026" in page.locator("h1").inner_text()
    assert page.locator("#problems").count() == 1

    page.get_by_label("Theme", exact=True).select_option(index=1)
    page.get_by_label("Note").first.fill("Two notifications acknowledged after the window.")
    page.get_by_role("button", name="Add the theme").click()
    assert "Two notifications acknowledged after the window." in page.locator("#themes").inner_text()

    page.get_by_label("Action", exact=True).fill("Check the backup roster at Public Equity")
    page.get_by_label("Or a named party or organisation").fill("Public Equity")
    page.get_by_label("Due date").fill("2026-12-31")
    page.get_by_role("button", name="Add the action item").click()
    assert "Check the backup roster at Public Equity" in page.locator("#items").inner_text()

    page.get_by_role("link", name="Monthly report", exact=True).click()
    report = page.locator("main").inner_text()
    assert "March 2026" in report and "Check the backup roster" in report
    pdf = page.request.get(live_server.url + page.get_by_role("link", name="Download PDF").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF")
