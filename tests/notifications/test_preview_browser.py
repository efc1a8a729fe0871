"""In Chromium: as CPD staff fill the form, "who will be told" adds the partners the scenario
playbooks bring in (a hospital's violence-intervention programme, victim services with its
limited relay), each with its reason, from one request per change and no inline script."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from districts.loaders import load_partners
from protocols.services_playbooks import load_playbooks

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-US",
            "timezone_id": "America/Chicago"}


def test_the_preview_lists_the_playbooks_partners_as_the_victims_and_hospital_are_entered(
        page, live_server, client, cpd_user):
    load_partners()
    load_playbooks()
    client.force_login(cpd_user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    page.goto(live_server.url + reverse("notifications:incident_new"))
    preview = page.locator("[data-notify-preview]")
    page.locator("#id_community_area").select_option("68")
    expect(preview).to_contain_text("Public Equity")
    expect(preview.locator("li.partner")).to_have_count(0)

    page.locator("#id_hospital").select_option("UCM")
    programme = preview.locator("li.partner", has_text="Violence Recovery Program")
    expect(programme).to_contain_text("Victim taken to a hospital")

    page.locator("#id_victims-0-fatal").check()
    survivors = preview.locator("li.partner.limited", has_text="Chicago Survivors")
    expect(survivors).to_contain_text("told the place and the number of victims only")
    expect(preview).to_contain_text("Public Equity")

    page.locator("#id_victims-0-fatal").uncheck()
    expect(preview.locator("li.partner.limited")).to_have_count(0)
    if directory := os.environ.get("CVI_SCREENSHOTS"):
        page.locator("#id_victims-0-fatal").check()
        expect(survivors).to_be_visible()
        page.screenshot(path=os.path.join(directory, "incident-form-preview.png"), full_page=True)
