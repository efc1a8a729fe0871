"""In Chromium: a new district commander logs in, follows the onboarding pathway from the
navigation (reads the four protocols, meets the district's organisations in the directory, is
recorded at a monthly review, passes the knowledge check) and signs off; the directory map and
the onboarding page fit a phone and pass axe. With CVI_SCREENSHOTS=<dir> it saves screenshots."""

import os

import pytest
from playwright.sync_api import expect

from districts.models import Organization
from protocols.models import OnboardingSignOff, Pathway
from reviews.selectors import Month
from reviews.services import review_attendance_add, review_create
from tests.browser import fits_the_screen, serious_violations
from tests.conftest import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # page + database in one test

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-US", "timezone_id": "America/Chicago"}


def shoot(page, name):
    directory = os.environ.get("CVI_SCREENSHOTS")
    if directory:
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)


def check_on_phone_and_desk(page, name):
    for suffix, viewport in (("-phone", PHONE), ("", DESKTOP)):
        page.set_viewport_size(viewport)
        assert fits_the_screen(page), (name, viewport)
        assert serious_violations(page) == [], (name, viewport)
        shoot(page, name + suffix)


def test_a_new_commander_walks_through_onboarding_to_sign_off(page, live_server, seeded, commander, analyst):
    Organization.objects.filter(name="Public Equity").update(  # made up: a 555 number, example.org
        liaison_name="Aisha Brown", liaison_title="Director of outreach", liaison_phone="+13125550142",
        liaison_email="liaison@example.org")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(commander.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Onboarding").click()
    expect(page.locator("h1")).to_have_text("New district commander")
    expect(page.get_by_text("0 of 7 steps done")).to_be_visible()
    expect(page.get_by_role("button", name="Sign off")).to_have_count(0)

    for title in ["Common vision", "Notification protocol", "Rules of engagement", "Communication guidance"]:
        page.get_by_role("link", name="Read version 1").first.click()
        expect(page.locator("h1")).to_have_text(title)
        page.get_by_role("button", name="I have read version 1 and accept it").click()
        expect(page.locator("h1")).to_have_text("New district commander")
    expect(page.get_by_text("4 of 7 steps done")).to_be_visible()

    page.get_by_role("link", name="Open the directory").click()
    expect(page.locator("h1")).to_have_text("District 7 (Englewood)")
    expect(page.locator("svg.coverage-map path.count").first).to_be_attached()
    liaison = page.locator(".directory-org", has_text="Public Equity")
    expect(liaison).to_contain_text("Aisha Brown, Director of outreach")
    check_on_phone_and_desk(page, "directory-map")
    page.go_back()
    page.get_by_role("button", name="I have met them").click()
    expect(page.get_by_text("Step done: Meet the organisations covering the district.")).to_be_visible()

    # The analyst running March's review records the commander as present.
    review = review_create(actor=analyst, month=Month(2026, 3), districts=[commander.membership.district])
    review_attendance_add(actor=analyst, review=review, user=commander, organization="CPD 7th District")
    page.reload()
    expect(page.get_by_text("Done: you were recorded at a monthly review.")).to_be_visible()
    check_on_phone_and_desk(page, "onboarding-commander")

    check = Pathway.objects.get(role="cpd_commander").steps.get(kind="knowledge_check")
    questions = list(check.questions.all())
    page.get_by_label(questions[0].choice_labels()[(questions[0].answer + 1) % 3]).check()  # one wrong
    for question in questions[1:]:
        page.get_by_label(question.choice_labels()[question.answer]).check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.locator(".question.wrong")).to_have_count(1)
    page.get_by_label(questions[0].choice_labels()[questions[0].answer]).check()
    page.get_by_role("button", name="Check my answers").click()
    expect(page.get_by_text("All answers right: the knowledge check is done.")).to_be_visible()
    expect(page.get_by_text("7 of 7 steps done")).to_be_visible()

    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("You signed off your onboarding. Welcome to the protocol.")).to_be_visible()
    expect(page.get_by_text("common-vision v1")).to_be_visible()
    assert OnboardingSignOff.objects.get(user=commander).versions["notification-protocol"] == 1
    check_on_phone_and_desk(page, "onboarding-signed-off")

    page.get_by_role("link", name="Who is behind").click()
    expect(page.locator("tbody tr", has_text="Marcus")).to_contain_text("Signed off")


def test_a_protocol_document_prints_without_the_portals_chrome(page, live_server, client, seeded, worker):
    client.force_login(worker)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    page.goto(f"{live_server.url}/protocols/rules-of-engagement/")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator("form[action$='acknowledge/']")).to_be_hidden()
    expect(page.locator(".doc-body")).to_contain_text("Outreach workers identify themselves")
    page.emulate_media(media="screen")
    page.set_viewport_size(PHONE)
    assert fits_the_screen(page)
    assert serious_violations(page) == []
    shoot(page, "protocol-document-phone")
