"""The administrator's people pages in a real browser: reached from the navigation, usable on a
phone and on a desk, no serious accessibility violation, and no page needs inline script or style
(the CSP would block it)."""

import os

import pytest

from tests.browser import fits_the_screen, serious_violations
from tests.conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desk": {"width": 1280, "height": 860}}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "timezone_id": "America/Chicago"}


def test_an_administrator_finds_users_in_the_navigation_and_invites_someone(page, live_server, admin_user,
                                                                            cpd_user, worker):
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.set_viewport_size(VIEWPORTS["desk"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    assert page.locator("h1").inner_text() == "Users"
    for viewport in VIEWPORTS.values():
        page.set_viewport_size(viewport)
        assert cpd_user.email in page.locator("main").inner_text()
        assert fits_the_screen(page), viewport
        assert serious_violations(page) == [], viewport

    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email address").fill("rosa.ortiz@example.org")
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Role", exact=True).select_option("outreach_worker")
    page.get_by_role("button", name="Send the invitation").click()
    assert "An outreach role needs an organisation." in page.locator("main").inner_text()
    assert page.get_by_label("Email address").input_value() == "rosa.ortiz@example.org"  # kept
    assert serious_violations(page) == []
    page.get_by_label("Organisation (outreach roles)").select_option(label="Public Equity")
    page.get_by_role("button", name="Send the invitation").click()
    assert page.locator("h1").inner_text() == "Rosa"
    assert "Invitation pending" in page.locator("main").inner_text()
    assert fits_the_screen(page) and serious_violations(page) == []
    assert blocked == []
