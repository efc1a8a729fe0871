"""The outreach pages in Chromium at a phone's viewport (390 × 844), against a live server."""

import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from districts.models import Membership
from notifications.acknowledgements import ack_token
from notifications.models import Delivery, Notification
from responses.models import FollowUp, ResponseLog

from .factories import make_notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PRIVATE_NOTE = "Older brother wants to settle it himself"


def wait_for(condition, seconds: float = 15.0) -> bool:
    """Poll the database until the browser's work lands (not a timing assertion: it only waits)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_from_the_one_tap_link_to_a_logged_response_and_cpd_sees_only_the_summary(
        page, live_server, login, worker, cpd_user, covering_org):
    notification = make_notification(covering_org, minutes_ago=25, block="6300 S HALSTED ST")
    delivery = Delivery.objects.create(notification=notification, recipient=worker, kind="sms", target="+13125550111",
                                       status="sent", sent_at=timezone.now())
    login(worker)

    page.goto(f"{live_server.url}/a/{ack_token(delivery)}/")
    page.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(page.get_by_role("heading", name="Already acknowledged")).to_be_visible()

    page.goto(live_server.url + reverse("responses:feed"))
    page.get_by_role("link", name=re.compile("6300 S HALSTED ST")).click()
    page.get_by_role("button", name="On scene").click()
    expect(page.get_by_role("status").filter(has_text="Saved: On scene")).to_be_visible()
    expect(page.get_by_role("button", name="On scene")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("link", name="Log the response").click()
    page.get_by_label("Hospital").check()
    page.get_by_label("Family", exact=True).check()
    page.get_by_label("Family members").fill("3")
    page.get_by_label("Medium").check()
    page.get_by_label("Trauma support").fill("2")
    page.get_by_label("Funeral assistance").fill("1")
    page.get_by_label("Private notes").fill(PRIVATE_NOTE)
    page.get_by_role("button", name="Save response").click()
    expect(page.get_by_role("status").filter(has_text="Response saved.")).to_be_visible()
    expect(page.get_by_text(PRIVATE_NOTE)).to_be_visible()

    log = ResponseLog.objects.get()
    assert {(r.kind, r.count) for r in log.referrals.all()} == {("trauma", 2), ("funeral", 1)}
    notification.refresh_from_db()
    assert notification.acknowledged_by == worker and notification.acknowledged_via == "link"
    assert notification.status == "on_scene" and notification.responded and notification.response_category == "hospital"

    # CPD: the board and the incident page carry the agreed summary, never the private record;
    # every outreach page refuses them.
    login(cpd_user)
    cpd_pages = (reverse("notifications:board"),
                 reverse("notifications:incident_detail", args=[notification.incident.code]))
    for url in cpd_pages:
        response = page.goto(live_server.url + url)
        assert response.status == 200
        html = page.content()
        assert PRIVATE_NOTE not in html and "Funeral" not in html and "Trauma support" not in html
    for url in (reverse("responses:incident", args=[notification.code]),
                reverse("responses:respond", args=[notification.code]), reverse("responses:feed"),
                reverse("responses:transparency")):
        response = page.goto(live_server.url + url)
        assert response.status in (403, 404)
        assert PRIVATE_NOTE not in page.content()


def test_a_response_logged_offline_is_sent_once_when_the_phone_is_back_online(
        page, context, live_server, login, worker, covering_org):
    notification = make_notification(covering_org, minutes_ago=30, block="5900 S ASHLAND AVE")
    login(worker)
    page.goto(live_server.url + reverse("responses:feed"))
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(live_server.url + reverse("responses:respond", args=[notification.code]))
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.get_by_label("Scene", exact=True).check()
    page.get_by_label("Housing").fill("1")
    page.get_by_label("Private notes").fill("Logged with no signal")
    page.get_by_role("button", name="Save response").click()
    expect(page.locator("#outbox")).to_contain_text("Waiting to send: 1 update")
    assert ResponseLog.objects.count() == 0

    # Offline, the feed and the incident still read from the phone's cache.
    page.goto(live_server.url + reverse("responses:incident", args=[notification.code]))
    expect(page.get_by_role("heading", name="5900 S ASHLAND AVE")).to_be_visible()
    expect(page.locator("#outbox")).to_contain_text("Waiting to send: 1 update")

    context.set_offline(False)
    assert wait_for(lambda: ResponseLog.objects.count() == 1)
    expect(page.locator("#outbox")).to_have_text("Back online: your saved updates were sent.")
    page.reload()  # page load flushes again: the queue is empty, and a replay would find the key
    page.wait_for_load_state("networkidle")
    expect(page.locator("#outbox")).to_be_hidden()
    assert ResponseLog.objects.count() == 1
    assert ResponseLog.objects.get().referrals.get().kind == "housing"


def test_a_status_tapped_offline_keeps_the_time_it_was_tapped(page, context, live_server, login, worker,
                                                              covering_org):
    notification = make_notification(covering_org, minutes_ago=15, block="1200 W 69TH ST")
    login(worker)
    page.goto(live_server.url + reverse("responses:incident", args=[notification.code]))
    context.set_offline(True)
    page.get_by_role("button", name="En route").click()
    expect(page.locator("#outbox")).to_be_visible()
    tapped = timezone.now()
    time.sleep(1.5)
    context.set_offline(False)
    assert wait_for(lambda: Notification.objects.get(pk=notification.pk).status == "en_route")
    notification.refresh_from_db()
    assert notification.status_at <= tapped + timezone.timedelta(seconds=1)
    assert notification.acknowledged_at is not None


OUTREACH_PAGES = ["responses:feed", "responses:incident", "responses:respond", "responses:followups",
                  "responses:offline", "responses:team", "responses:oncall", "responses:channels",
                  "responses:consent", "responses:transparency"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_outreach_page_passes_axe_without_serious_violations(page, live_server, login, supervisor, worker,
                                                                   covering_org, language):
    Membership.objects.filter(user=supervisor).update(language=language)
    notification = make_notification(covering_org, minutes_ago=50, victims=(("0-19", "M", True), ("20-29", "F", False)))
    FollowUp.objects.create(organization=covering_org, notification=notification, task="Visit the family",
                            due_on=timezone.localdate(), assigned_to=supervisor)
    login(supervisor)
    axe = Axe()
    problems = {}
    for name in OUTREACH_PAGES:
        args = [notification.code] if name in ("responses:incident", "responses:respond") else []
        assert page.goto(live_server.url + reverse(name, args=args)).status == 200, name
        assert page.locator("html").get_attribute("lang") == language, name
        page.locator("details").evaluate_all("els => els.forEach(d => d.open = true)")
        violations = [v for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        if violations:
            problems[name] = [(v["id"], v["nodes"][0]["target"]) for v in violations]
    # The form with errors shown, too.
    page.goto(live_server.url + reverse("responses:respond", args=[notification.code]))
    page.get_by_label(re.compile("Private notes|Notas privadas")).evaluate("el => el.removeAttribute('maxlength')")
    page.get_by_label(re.compile("Private notes|Notas privadas")).fill("x" * 2001)
    page.locator("form.response-form button[type=submit]").click()
    expect(page.locator("#form-errors")).to_be_visible()
    violations = [v for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    if violations:
        problems["respond with errors"] = [(v["id"], v["nodes"][0]["target"]) for v in violations]
    assert problems == {}


def test_a_queued_response_survives_signing_out_and_is_sent_once_after_signing_in_again(
        page, context, live_server, login, worker, covering_org):
    notification = make_notification(covering_org, minutes_ago=30, block="6100 S WOOD ST")
    login(worker)
    page.goto(live_server.url + reverse("responses:respond", args=[notification.code]))
    context.set_offline(True)
    page.get_by_label("Family", exact=True).check()
    page.get_by_role("button", name="Save response").click()
    expect(page.locator("#outbox")).to_contain_text("Waiting to send: 1 update")

    context.clear_cookies()  # the session ended while the phone was offline
    context.set_offline(False)
    page.wait_for_timeout(1500)  # the online event tried, was turned away, and kept the update
    expect(page.locator("#outbox")).to_contain_text("Waiting to send: 1 update")
    assert ResponseLog.objects.count() == 0

    login(worker)
    page.goto(live_server.url + reverse("responses:feed"))
    assert wait_for(lambda: ResponseLog.objects.count() == 1)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert ResponseLog.objects.count() == 1
    assert ResponseLog.objects.get().response_types == ["family"]
