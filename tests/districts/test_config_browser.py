"""In Chromium: the administration pages read on a desktop and a phone (no sideways scroll, no
serious accessibility violation), and adding a place from the list shows it on the page."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import fits_the_screen, serious_violations
from tests.conftest import COVERING_ORG

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


def shoot(page, name):
    if directory := os.environ.get("CVI_SCREENSHOTS"):
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)


def test_an_administrator_adds_a_place_and_the_pages_read_on_a_phone(page, browser, live_server, client, admin_user):
    from districts.models import Organization
    organization = Organization.objects.get(name=COVERING_ORG)
    client.force_login(admin_user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}
    page.context.add_cookies([cookie])
    page.goto(live_server.url + reverse("districts:administration"))
    page.get_by_role("link", name="Organisations", exact=True).first.click()
    page.get_by_role("link", name=COVERING_ORG).click()
    expect(page.locator("h1")).to_have_text(COVERING_ORG)
    page.locator("#id_place").select_option("beat:0723")
    page.get_by_role("button", name="Add place").click()
    expect(page.locator(".coverage-list")).to_contain_text("Beat 0723")
    expect(page.locator(".messages")).to_contain_text("now covers Beat 0723")
    assert serious_violations(page) == []
    shoot(page, "organization-edit-desktop")

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    phone.add_cookies([cookie])
    on_phone = phone.new_page()
    for name, url in [("administration", reverse("districts:administration")),
                      ("organizations", reverse("districts:organizations")),
                      ("organization-edit", reverse("districts:organization_edit", args=[organization.code])),
                      ("districts", reverse("districts:district_list")),
                      ("district-pilot", reverse("districts:district_pilot", args=["007"]))]:
        on_phone.goto(live_server.url + url)
        assert fits_the_screen(on_phone), name
        assert serious_violations(on_phone) == [], name
        shoot(on_phone, f"{name}-phone")
    phone.close()
