"""The content security policy in a real browser: the pages that run JavaScript work under it
and the browser reports no violation (an inline script or handler the policy blocked)."""

import os
import re

import pytest

from districts.models import District

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def signed_in(page, live_server, context, client):
    """The page, signed in as `user` (a session made with the test client), collecting every
    CSP violation the browser reports."""
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    def _as(user):
        client.force_login(user)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": live_server.url}])
        return violations

    return _as


def test_the_district_picker_works_without_an_inline_handler(page, live_server, signed_in, analyst):
    District.objects.filter(number__in=["007", "015"]).update(is_pilot=True)
    violations = signed_in(analyst)
    page.goto(f"{live_server.url}/board/?district=007")
    assert page.locator("h1").inner_text() == "District 7 (Englewood)"
    with page.expect_navigation():
        page.select_option("#board-district", "015")
    assert re.search(r"district=015", page.url)
    assert page.locator("h1").inner_text() == "District 15 (Austin)"
    assert violations == []


def test_the_api_reference_renders_under_the_policy(page, live_server, signed_in, admin_user):
    violations = signed_in(admin_user)
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock").first.wait_for(timeout=20_000)  # Swagger UI read the schema and drew it
    assert page.locator(".opblock").count() > 10
    assert violations == []
