"""In Chromium: the matched playbooks on the incident, as CPD staff see them on the incident
page (the desk's checklist) and as an outreach worker sees them on a phone (outreach steps);
an administrator's playbook page. No serious accessibility violation on any of them."""

import json
import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from notifications.services import incident_create
from tests.browser import fits_the_screen, serious_violations
from tests.conftest import ENGLEWOOD_POINT

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-US", "timezone_id": "America/Chicago"}


def session_cookie(client, user, live_server) -> dict:
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def shoot(page, name):
    directory = os.environ.get("CVI_SCREENSHOTS")
    if directory:
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)


def test_the_matched_playbooks_show_on_the_incident_for_cpd_and_for_outreach(
        page, browser, live_server, client, cpd_user, worker, admin_user, playbooks):
    incident, _ = incident_create(
        actor=cpd_user, source="web", rd_number="JH880101", occurred_at=timezone.now() - timedelta(minutes=12),
        block="6300 S HALSTED ST", latitude=ENGLEWOOD_POINT[0], longitude=ENGLEWOOD_POINT[1], hospital="UCM",
        victims=[{"age_band": "0-19", "sex": "M", "fatal": True, "gunshot": True}],
        note="Victim taken to UCM; family at the scene.")

    page.context.add_cookies([session_cookie(client, cpd_user, live_server)])
    page.goto(live_server.url + reverse("notifications:incident_detail", args=[incident.code]))
    cards = page.locator("[data-playbooks]")
    expect(cards.locator(".playbook-chips li")).to_have_text(
        ["Fatal shooting", "A young person was shot (0-19)", "Victim taken to a hospital", "Scene response"])
    expect(cards).to_contain_text("Correct the incident as soon as a victim dies")  # the CPD desk's step
    expect(cards).not_to_contain_text("Find the family")  # outreach's step is not the desk's
    # The partners the playbooks brought in are notified, each with its reason.
    expect(page.locator("[data-org-status]")).to_contain_text(
        "violence-intervention programme of University of Chicago Medicine")
    assert serious_violations(page) == []
    shoot(page, "playbook-incident-desktop")

    notification = incident.notifications.get(organization__name="Public Equity")
    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                locale="en-US", timezone_id="America/Chicago")
    phone.add_cookies([session_cookie(client, worker, live_server)])
    on_phone = phone.new_page()
    on_phone.goto(live_server.url + reverse("responses:incident", args=[notification.code]))
    playbook = on_phone.locator("[data-playbooks]")
    expect(playbook.locator("details[data-scenario='fatal'] summary")).to_have_text("Fatal shooting")
    expect(playbook).to_contain_text("Find the family; offer presence and practical help first.")
    assert fits_the_screen(on_phone)
    assert serious_violations(on_phone) == []
    shoot(on_phone, "playbook-outreach-phone")
    phone.close()

    page.context.clear_cookies()
    page.context.add_cookies([session_cookie(client, admin_user, live_server)])
    page.goto(live_server.url + reverse("playbooks:list"))
    expect(page.locator(".playbook-table tbody tr")).to_have_count(9)
    page.get_by_role("link", name="Fatal shooting").click()
    expect(page.locator("#id_rules")).to_contain_text('"fatal_count"')
    assert json.loads(page.locator("#id_rules").input_value()) == [{"field": "fatal_count", "op": "gte", "value": 1}]
    assert serious_violations(page) == []
    shoot(page, "playbook-admin-edit")
