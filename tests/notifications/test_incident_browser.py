"""In Chromium: CPD staff enter a shooting with the keyboard and watch, without reloading,
each organisation go from pending to sent, delivered and acknowledged; the page works on a
phone. Deliveries are handed over by the test (the relay's one pass) so the page is seen
before and after each step."""

import os

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from districts.models import Channel, Organization
from notifications.delivery import delivery_confirm
from notifications.models import Delivery, Incident
from notifications.relay import relay_once
from notifications.state import notification_acknowledge
from tests.browser import fits_the_screen, serious_violations
from tests.conftest import ENGLEWOOD_POINT

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ORGS = ["Public Equity", "READI Chicago", "TADC"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-US", "timezone_id": "America/Chicago"}


@pytest.fixture
def phone_tree(reference_data):
    """Each organisation's shared SMS phone tree: the provider reports delivery later."""
    for organization in Organization.objects.all():
        Channel.objects.create(organization=organization, kind=Channel.Kind.SMS,
                               target=f"+1312555{organization.pk:04d}")


def session_cookie(client, user, live_server) -> dict:
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


def statuses(page):
    return page.locator("[data-org-status] .org-row")


def row(page, name):
    return page.locator(f"[data-org-status] .org-row[data-org^='{name}']")


def shoot(page, name):
    directory = os.environ.get("CVI_SCREENSHOTS")
    if directory:
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)


def test_staff_enter_a_shooting_and_watch_each_organisation_acknowledge_live(
        page, browser, live_server, client, cpd_user, phone_tree, settings):
    page.context.add_cookies([session_cookie(client, cpd_user, live_server)])
    # The relay is not running: the request's wake-up finds nobody, so deliveries wait in the
    # outbox until this test hands them over.
    settings.CELERY_TASK_ALWAYS_EAGER = False

    page.goto(live_server.url + reverse("notifications:incident_new"))
    expect(page.locator("#id_rd_number")).to_be_focused()
    page.keyboard.type("JH880001")
    page.locator("#id_block").fill("6300 S Halsted St")
    page.locator("details.point-helper summary").click()
    page.locator("#point-paste").fill(f"{ENGLEWOOD_POINT[0]}, {ENGLEWOOD_POINT[1]}")
    page.keyboard.press("Enter")
    expect(page.locator("[data-point-result]")).to_contain_text("District 7, beat 0723, Englewood (68)")
    expect(page.locator("#id_beat")).to_have_value("0723")
    page.locator("#id_victims-0-age_band").select_option("20-29")
    page.locator("#id_victims-0-sex").select_option("M")
    page.keyboard.press("Alt+v")
    expect(page.locator("#id_victims-1-age_band")).to_be_focused()
    page.locator("#id_victims-1-age_band").select_option("0-19")
    page.locator("#id_victims-1-fatal").check()
    expect(page.locator("[data-victim-count]")).to_have_text("2 victims, 1 fatal")
    expect(page.locator("[data-notify-preview] li")).to_have_text(ORGS)
    assert serious_violations(page) == []
    page.locator("#id_hospital").select_option("UCM")
    page.locator("#id_note").fill("Two shot outside the corner store; crowd gathering.")
    shoot(page, "incident-form-desktop")
    page.locator("#id_note").press("Control+Enter")

    incident = Incident.objects.get(rd_number="JH880001")
    expect(page).to_have_url(live_server.url + reverse("notifications:incident_detail", args=[incident.code]))
    assert (incident.victim_count, incident.fatal_count, incident.community_area.number) == (2, 1, 68)
    page.evaluate("window.__sameDocument = true")
    expect(statuses(page)).to_have_count(3)
    for name in ORGS:
        expect(row(page, name).locator(".status")).to_have_text("Pending")

    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert relay_once() == 3
    for name in ORGS:
        expect(row(page, name).locator(".status")).to_have_text("Sent")

    for delivery in Delivery.objects.filter(notification__incident=incident, kind=Channel.Kind.SMS):
        delivery_confirm(delivery=delivery)
    for name in ORGS:
        expect(row(page, name).locator(".status")).to_have_text("Delivered")
    expect(page.locator(".clock.done")).to_have_count(4)  # occurred, entered, first sent, first confirmed

    for notification in incident.notifications.all():
        notification_acknowledge(notification=notification, actor=None, via="link")
    for name in ORGS:
        expect(row(page, name).locator(".status")).to_have_text("Acknowledged")
    expect(page.locator(".timeline")).to_contain_text("acknowledged")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert serious_violations(page) == []
    shoot(page, "incident-page-desktop")

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                locale="en-US", timezone_id="America/Chicago")
    phone.add_cookies([session_cookie(client, cpd_user, live_server)])
    on_phone = phone.new_page()
    for url, name in [(reverse("notifications:incident_detail", args=[incident.code]), "incident-page-phone"),
                      (reverse("notifications:incident_new"), "incident-form-phone"),
                      (reverse("notifications:board"), "board-phone")]:
        on_phone.goto(live_server.url + url)
        assert fits_the_screen(on_phone), name
        shoot(on_phone, name)
    on_phone.goto(live_server.url + reverse("notifications:incident_detail", args=[incident.code]))
    for name in ORGS:
        expect(row(on_phone, name).locator(".status")).to_be_visible()
    phone.close()

    page.goto(live_server.url + reverse("notifications:board"))
    expect(page.locator(".board-incident")).to_have_count(1)
    expect(page.locator(".board-incident .pill")).to_have_count(3)
    assert serious_violations(page) == []
    shoot(page, "board-desktop")


def test_a_mistake_on_the_form_is_shown_on_its_field_and_the_typing_is_kept(page, live_server, client, cpd_user):
    page.context.add_cookies([session_cookie(client, cpd_user, live_server)])
    page.goto(live_server.url + reverse("notifications:incident_new"))
    page.locator("#id_rd_number").fill("JH880002")
    page.locator("#id_block").fill("6300 S Halsted St")
    page.locator("details.point-helper summary").click()
    page.locator("#id_latitude").fill(str(ENGLEWOOD_POINT[0]))
    page.locator("#id_longitude").fill(str(ENGLEWOOD_POINT[1]))
    page.locator("#id_longitude").press("Tab")
    expect(page.locator("[data-point-result]")).to_contain_text("District 7, beat 0723")
    page.locator("#id_beat").select_option("0711")  # disagree with the point on purpose
    page.locator("#id_note").fill("Keep this text.")
    page.get_by_role("button", name="Save and notify").click()

    expect(page.locator(".field.has-error .field-error")).to_contain_text("not beat 0711")
    expect(page.locator("#id_beat")).to_be_focused()
    expect(page.locator("#id_note")).to_have_value("Keep this text.")
    assert not Incident.objects.exists()
