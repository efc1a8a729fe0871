"""The login page and each role's home page in a real browser, on a phone and on a desk."""

import os

import pytest

from districts.models import District
from tests.browser import fits_the_screen, serious_violations
from tests.conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 860}}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "timezone_id": "America/Chicago"}


@pytest.fixture
def pilots(reference_data):
    District.objects.filter(number__in=["007", "015"]).update(is_pilot=True)


@pytest.mark.parametrize(
    ("user_fixture", "heading", "names"),
    [
        ("cpd_user", "District 7 (Englewood)", ["Public Equity", "Target Area Development Corp (TADC)"]),
        ("analyst", "The protocol across Chicago",
         ["District 15 (Austin)", "Institute for Nonviolence Chicago (INVC)"]),
        ("worker", "Incidents", ["Public Equity"]),
    ],
)
def test_a_member_logs_in_and_their_home_page_names_real_places_fits_the_screen_and_passes_axe(
    page, live_server, pilots, request, user_fixture, heading, names
):
    user = request.getfixturevalue(user_fixture)
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/accounts/login/?next=/"
    assert serious_violations(page) == []
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    assert page.locator("h1").first.inner_text() == heading
    for viewport in VIEWPORTS.values():
        page.set_viewport_size(viewport)
        body = page.locator("main").inner_text()
        for name in names:
            assert name in body, name
        assert fits_the_screen(page), viewport
        assert serious_violations(page) == [], viewport

