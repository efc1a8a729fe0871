"""The shooting review meeting (/reviews/): who may see and run a review, the agenda built from
the data (flagged incidents first, figures, reconciliation, carried-over action items), the
meeting's record (themes, action items, attendance, minutes, closing) and every refusal."""

import uuid
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from core.dates import CHICAGO, month_of, month_shift
from districts.models import Beat, CommunityArea, District, Role
from notifications.models import Incident, Notification, TimelineEntry
from responses.models import ResponseLog
from reviews.models import ActionItem, CpdIncident, Review, ReviewAttendance, ReviewTheme
from reviews.selectors import Month
from reviews.selectors_meeting import agenda, agenda_incidents, carried_items
from reviews.services import action_item_add, action_item_update, review_close, review_create, review_update
from tests.conftest import make_member

pytestmark = pytest.mark.django_db

LIST = "/reviews/"
NEW = "/reviews/new/"
MARCH = Month(2026, 3)
APRIL = Month(2026, 4)
LATER = date.today() + timedelta(days=60)  # a due date after any meeting these tests set


def chicago(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def district(number: str) -> District:
    return District.objects.get(number=number)


def make_incident(*, at, block="6300 S HALSTED ST", number="007", beat="0723", area=68, rd=None, **extra):
    return Incident.objects.create(
        occurred_at=at, block=block, rd_number=rd, district=district(number),
        beat=Beat.objects.get(number=beat) if beat else None,
        community_area=CommunityArea.objects.get(number=area) if area else None,
        victim_count=1, **extra)


def tell(incident, organization, *, sent_after=3, ack_after=None, **fields) -> Notification:
    """A notification first sent `sent_after` minutes after the shooting (None: never sent),
    acknowledged `ack_after` minutes after it was sent (None: never)."""
    sent = incident.occurred_at + timedelta(minutes=sent_after) if sent_after is not None else None
    acked = sent + timedelta(minutes=ack_after) if sent and ack_after is not None else None
    notification = Notification.objects.create(
        incident=incident, organization=organization, first_sent_at=sent, acknowledged_at=acked,
        status=Notification.Status.ACKNOWLEDGED if acked else Notification.Status.SENT if sent
        else Notification.Status.PENDING, **fields)
    # Written when the incident was entered, a minute after the shooting (not when the test runs).
    Notification.objects.filter(pk=notification.pk).update(created_at=incident.occurred_at + timedelta(minutes=1))
    notification.refresh_from_db()
    if sent:
        Incident.objects.filter(pk=incident.pk).update(first_sent_at=sent)
        TimelineEntry.objects.create(incident=incident, notification=notification, at=sent, kind="delivery.sent",
                                     text=f"SMS to {organization}")
    return notification


def a_review(actor, month=MARCH, numbers=("007",)) -> Review:
    return review_create(actor=actor, month=month, districts=[district(n) for n in numbers])


def page(code) -> str:
    return reverse("reviews:meeting", kwargs={"code": code})


def url(name, review, **kwargs) -> str:
    return reverse(f"reviews:{name}", kwargs={"code": review.code, **kwargs})


def this_month() -> Month:
    return Month(*month_of(timezone.now()))


@pytest.fixture
def other_commander(reference_data):
    return make_member("ana_commander15", Role.CPD_COMMANDER, district="015")


@pytest.fixture
def review(commander):
    return a_review(commander)


# --- who may see and run a review ------------------------------------------------------------------

def test_an_anonymous_visitor_is_sent_to_the_login_page(client, review):
    for address in (LIST, page(review.code)):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={address}"
    response = client.post(url("meeting_theme_add", review), {"free_tag": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(NEW, {"month": "2026-03", "districts": ["007"]}).status_code == 302
    assert not ReviewTheme.objects.exists() and Review.objects.count() == 1


@pytest.mark.parametrize("who", ["worker", "supervisor", "admin_user"])
def test_outreach_users_and_administrators_are_refused(client, request, review, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(LIST).status_code == 403
    assert client.get(page(review.code)).status_code == 403
    assert client.post(NEW, {"month": "2026-02", "districts": ["007"]}).status_code == 403
    assert client.post(url("meeting_theme_add", review), {"free_tag": "x"}).status_code == 403
    assert Review.objects.count() == 1 and not ReviewTheme.objects.exists()


def test_commanders_see_their_own_districts_reviews_and_analysts_every_one(client, commander, analyst,
                                                                           other_commander):
    own = a_review(commander)
    elsewhere = a_review(other_commander, numbers=("015",))
    joint = a_review(analyst, month=Month(2026, 2), numbers=("007", "011"))
    client.force_login(commander)
    response = client.get(LIST)
    assert response.status_code == 200
    assert list(response.context["reviews"]) == [own]
    assert client.get(page(elsewhere.code)).status_code == 404
    assert client.get(page(joint.code)).status_code == 404  # shows another district's incidents
    client.force_login(analyst)
    assert list(client.get(LIST).context["reviews"]) == [elsewhere, own, joint]  # newest month first, then newest
    assert client.get(page(joint.code)).status_code == 200


def test_cpd_desk_staff_read_their_districts_reviews_and_change_nothing(client, cpd_user, review):
    client.force_login(cpd_user)
    response = client.get(LIST)
    assert response.status_code == 200 and list(response.context["reviews"]) == [review]
    assert "New review" not in response.content.decode()
    response = client.get(page(review.code))
    assert response.status_code == 200
    assert 'action="/reviews/' not in response.content.decode()  # no form to post
    assert client.post(NEW, {"month": "2026-02", "districts": ["007"]}).status_code == 403
    for name, data in [("meeting_theme_add", {"free_tag": "x"}), ("meeting_close", {}),
                       ("meeting_item_add", {"text": "x", "owner_name": "CPD"}),
                       ("meeting_attendee_add", {"name": "x", "present": "present"}),
                       ("meeting_update", {"status": "held"})]:
        assert client.post(url(name, review), data).status_code == 403
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT and not ReviewTheme.objects.exists()


def test_another_districts_commander_cannot_reach_a_review(client, other_commander, review):
    client.force_login(other_commander)
    assert client.get(page(review.code)).status_code == 404
    assert client.post(url("meeting_theme_add", review), {"free_tag": "x"}).status_code == 404
    assert client.post(url("meeting_close", review)).status_code == 404
    assert not ReviewTheme.objects.exists()


def test_each_action_takes_only_its_method(client, commander, review):
    client.force_login(commander)
    assert client.post(LIST).status_code == 405
    assert client.get(NEW).status_code == 405
    assert client.post(page(review.code)).status_code == 405
    for name in ("meeting_update", "meeting_close", "meeting_theme_add", "meeting_item_add", "meeting_attendee_add"):
        assert client.get(url(name, review)).status_code == 405
    assert client.get(page(uuid.uuid4())).status_code == 404


def test_the_navigation_leads_cpd_and_analysts_to_the_reviews(client, request):
    for who, shown in [("commander", True), ("analyst", True), ("cpd_user", True), ("worker", False)]:
        client.force_login(request.getfixturevalue(who))
        assert ('href="/reviews/"' in client.get("/").content.decode()) is shown, who


# --- starting a review -----------------------------------------------------------------------------

def test_a_commander_starts_a_review_of_the_current_month(client, commander):
    client.force_login(commander)
    now = this_month()
    response = client.post(NEW, {"month": now.label, "districts": ["007"]})
    review = Review.objects.get()
    assert response.status_code == 302 and response["Location"] == page(review.code)
    assert review.month == date(now.year, now.month, 1) and review.status == Review.Status.DRAFT
    assert [d.number for d in review.districts.all()] == ["007"]
    event = Event.objects.get(action="review.created")
    assert event.data == {"month": now.label, "districts": ["007"]} and event.object_code == str(review.code)
    assert "Review created." in client.get(response["Location"]).content.decode()


def test_an_analyst_starts_a_joint_review_of_several_districts(client, analyst):
    client.force_login(analyst)
    response = client.post(NEW, {"month": "2026-03", "districts": ["007", "011"]})
    assert response.status_code == 302
    assert sorted(d.number for d in Review.objects.get().districts.all()) == ["007", "011"]


@pytest.mark.parametrize(("month", "message"), [
    ("2026-13", "“2026-13” is not a month: use YYYY-MM, for example 2026-03."),
    ("March", "“March” is not a month"),
    ("", "Give the month, for example 2026-03."),
])
def test_a_malformed_month_is_refused_on_the_form(client, commander, month, message):
    client.force_login(commander)
    response = client.post(NEW, {"month": month, "districts": ["007"]})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Review.objects.exists()


def test_a_month_in_the_future_is_refused_and_what_was_typed_stays(client, commander):
    client.force_login(commander)
    later = Month(*month_shift(*month_of(timezone.now()), 1))
    response = client.post(NEW, {"month": later.label, "districts": ["007"]})
    assert response.status_code == 400
    assert f"{later.label} is in the future" in response.content.decode()
    assert f'value="{later.label}"' in response.content.decode()
    assert not Review.objects.exists()


def test_a_district_the_user_may_not_use_is_refused(client, commander):
    client.force_login(commander)
    response = client.post(NEW, {"month": "2026-03", "districts": ["015"]})
    assert response.status_code == 400
    assert "District “015” is not one you can review." in response.content.decode()
    response = client.post(NEW, {"month": "2026-03"})
    assert response.status_code == 400 and "Choose at least one district." in response.content.decode()
    response = client.post(NEW, {"month": "2026-03", "districts": ["not-a-district"]})
    assert response.status_code == 400
    assert not Review.objects.exists()


def test_a_duplicate_review_says_where_the_existing_one_is(client, commander, analyst):
    existing = a_review(commander)
    client.force_login(commander)
    response = client.post(NEW, {"month": "2026-03", "districts": ["007"]})
    assert response.status_code == 400
    text = response.content.decode()
    assert "There is already a review of 2026-03 for District 7 (Englewood)." in text
    assert f'href="{page(existing.code)}"' in text
    # An analyst's joint review that includes the district is a duplicate too.
    client.force_login(analyst)
    response = client.post(NEW, {"month": "2026-03", "districts": ["011", "007"]})
    assert response.status_code == 400 and "There is already a review of 2026-03" in response.content.decode()
    assert Review.objects.count() == 1
    assert client.post(NEW, {"month": "2026-04", "districts": ["011", "007"]}).status_code == 302


# --- the agenda --------------------------------------------------------------------------------------

@pytest.fixture
def march_incidents(covering_org, other_org):
    """One incident of each kind in March, the 7th District, and one in the 15th. Public Equity's
    window is its default 10 minutes."""
    fine = make_incident(at=chicago(2026, 3, 2, 21, 0), block="FINE")
    tell(fine, covering_org, ack_after=4)
    late = make_incident(at=chicago(2026, 3, 3, 22, 0), block="LATE")
    tell(late, covering_org, ack_after=25)
    missed = make_incident(at=chicago(2026, 3, 4, 23, 0), block="MISSED")
    tell(missed, covering_org)
    escalated = make_incident(at=chicago(2026, 3, 5, 1, 0), block="ESCALATED")
    tell(escalated, covering_org, ack_after=8, escalation_paged_level=1)
    never = make_incident(at=chicago(2026, 3, 6, 2, 0), block="NEVER")
    tell(never, covering_org, sent_after=None)
    both = make_incident(at=chicago(2026, 3, 1, 3, 0), block="LATE AND ESCALATED")
    tell(both, covering_org, ack_after=30, escalation_paged_level=2)
    make_incident(at=chicago(2026, 3, 7, 3, 0), block="ELSEWHERE", number="015", beat="1533", area=25)
    make_incident(at=chicago(2026, 4, 1, 0, 5), block="APRIL")
    return {"fine": fine, "late": late, "missed": missed}


def test_the_agenda_lists_every_incident_of_the_month_with_the_problems_first_worst_first(march_incidents):
    rows = agenda_incidents(MARCH, [district("007")])
    assert [row.incident.block for row in rows] == [
        "NEVER", "MISSED", "LATE AND ESCALATED", "ESCALATED", "LATE", "FINE"]
    flags = {row.incident.block: [flag.code for flag in row.flags] for row in rows}
    assert flags == {"NEVER": ["never_notified"], "MISSED": ["missed"], "LATE AND ESCALATED": ["escalated", "late"],
                     "ESCALATED": ["escalated"], "LATE": ["late"], "FINE": []}
    missed = next(row for row in rows if row.incident.block == "MISSED")
    assert missed.flags[0].organizations == ("Public Equity",)


def test_a_message_still_inside_its_window_is_unacknowledged_not_missed(covering_org):
    incident = make_incident(at=chicago(2026, 3, 9, 12, 0), block="WAITING")
    tell(incident, covering_org, sent_after=1)
    rows = agenda_incidents(MARCH, [district("007")], now=chicago(2026, 3, 9, 12, 5))
    assert [flag.code for flag in rows[0].flags] == ["unacknowledged"]
    rows = agenda_incidents(MARCH, [district("007")], now=chicago(2026, 3, 9, 12, 30))
    assert [flag.code for flag in rows[0].flags] == ["missed"]


def test_the_review_page_shows_the_flagged_incidents_first_with_their_timelines(client, commander, review,
                                                                                march_incidents):
    client.force_login(commander)
    response = client.get(page(review.code))
    assert response.status_code == 200
    text = response.content.decode()
    order = [text.index(block) for block in ("· NEVER", "· MISSED", "· LATE AND ESCALATED",
                                             "· ESCALATED", "· LATE<", "· FINE")]
    assert order == sorted(order)
    assert "ELSEWHERE" not in text and "APRIL" not in text
    assert f'href="/incidents/{march_incidents["missed"].code}/"' in text
    assert "SMS to Public Equity" in text  # the timeline
    assert "Never notified" in text and "Acknowledged late" in text


def test_the_agenda_carries_the_months_figures_and_reconciliation(commander, review, march_incidents):
    CpdIncident.objects.create(rd_number="JJ100001", occurred_at=chicago(2026, 3, 10, 4, 0), block="CPD ONLY",
                               district=district("007"), victim_count=2, fatal_count=0, gunshot_count=2,
                               changed_at=timezone.now())
    march_incidents["fine"].rd_number = "JJ100002"
    march_incidents["fine"].save()
    CpdIncident.objects.create(rd_number="JJ100002", occurred_at=march_incidents["fine"].occurred_at, block="FINE",
                               district=district("007"), victim_count=1, fatal_count=0, gunshot_count=1,
                               changed_at=timezone.now())
    result = agenda(review)
    assert [entry["district"] for entry in result.figures] == ["007"]
    # The figures count notifications never acknowledged, the unsent one too ("missed" there).
    assert result.figures[0]["incidents"] == 6 and result.figures[0]["missed"] == 2
    assert result.figures[0]["late"] == 2 and result.figures[0]["escalated"] == 2
    [rec] = result.reconciliations
    assert rec.cpd_shootings == 2 and rec.matched == 1 and rec.coverage == 0.5
    assert [s.rd_number for s in rec.never_entered] == ["JJ100001"]


def test_the_review_page_shows_the_figures_and_the_shootings_never_entered(client, commander, review,
                                                                             march_incidents):
    CpdIncident.objects.create(rd_number="JJ100001", occurred_at=chicago(2026, 3, 10, 4, 0), block="1 CPD ONLY ST",
                               district=district("007"), victim_count=2, fatal_count=0, gunshot_count=2,
                               changed_at=timezone.now())
    client.force_login(commander)
    text = client.get(page(review.code)).content.decode()
    assert "Notification coverage" in text and "JJ100001" in text and "1 CPD ONLY ST" in text


def test_the_agenda_costs_the_same_queries_however_many_incidents(commander, review, covering_org):
    def count():
        with CaptureQueriesContext(connection) as queries:
            agenda(review)
        return len(queries)

    tell(make_incident(at=chicago(2026, 3, 1, 21, 0)), covering_org, ack_after=4)
    agenda(review)  # the month's summary row now exists; each count below replaces it
    tell(make_incident(at=chicago(2026, 3, 2, 21, 0)), covering_org, ack_after=4)
    one = count()
    for day in range(3, 9):
        tell(make_incident(at=chicago(2026, 3, day, 21, 0)), covering_org, ack_after=20, escalation_paged_level=1)
    assert count() == one


def test_an_organisations_private_notes_never_appear(client, analyst, covering_org, worker):
    review = a_review(analyst)
    incident = make_incident(at=chicago(2026, 3, 2, 21, 0))
    notification = tell(incident, covering_org, ack_after=4)
    ResponseLog.objects.create(notification=notification, organization=covering_org, client_key=uuid.uuid4(),
                               created_by=worker, notes="PRIVATE-NOTE-ABOUT-A-PERSON",
                               people_engaged={"names": "PRIVATE-PERSON"})
    client.force_login(analyst)
    text = client.get(page(review.code)).content.decode()
    assert "PRIVATE-NOTE" not in text and "PRIVATE-PERSON" not in text


def test_viewing_the_agenda_is_recorded_for_the_organisations(client, commander, review, covering_org):
    notification = tell(make_incident(at=chicago(2026, 3, 2, 21, 0)), covering_org, ack_after=4)
    client.force_login(commander)
    client.get(page(review.code))
    assert Event.objects.filter(action="summary.viewed", object_code=str(notification.code)).count() == 1


# --- the meeting's record ------------------------------------------------------------------------------

def test_a_theme_is_added_with_a_tag_or_a_tag_of_ones_own(client, commander, review):
    client.force_login(commander)
    response = client.post(url("meeting_theme_add", review), {"tag": "acknowledgement", "note": "Nights are slow."})
    assert response.status_code == 302 and response["Location"] == page(review.code)
    client.post(url("meeting_theme_add", review), {"free_tag": "Summer events"})
    assert [(t.tag, t.free_tag) for t in review.themes.all()] == [("acknowledgement", ""), ("", "Summer events")]
    text = client.get(page(review.code)).content.decode()
    assert "Slow or missed acknowledgement" in text and "Summer events" in text and "Theme added." in text
    assert Event.objects.filter(action="review.theme_added").count() == 2


def test_an_empty_theme_is_refused_and_the_note_stays(client, commander, review):
    client.force_login(commander)
    response = client.post(url("meeting_theme_add", review), {"tag": "", "free_tag": "  ", "note": "Kept note"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "A theme needs a tag from the list or a tag of your own." in text and "Kept note" in text
    response = client.post(url("meeting_theme_add", review), {"tag": "not-a-tag"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not ReviewTheme.objects.exists()


def test_an_action_item_is_raised_with_a_user_or_a_named_owner(client, commander, review, cpd_user):
    client.force_login(commander)
    response = client.post(url("meeting_item_add", review),
                           {"text": "Check the night desk's entry times", "owner_user": cpd_user.pk,
                            "due_date": LATER.isoformat()})
    assert response.status_code == 302
    client.post(url("meeting_item_add", review), {"text": "Share the hospital contact list",
                                                  "owner_name": "Public Equity"})
    items = list(review.action_items.all())
    assert [(i.owner_user, i.owner_name, i.status) for i in items] == [
        (cpd_user, "", "open"), (None, "Public Equity", "open")]
    text = client.get(page(review.code)).content.decode()
    assert "Check the night desk" in text and "Owner: Public Equity" in text
    event = Event.objects.filter(action="review.action_item_added").order_by("id").first()
    assert "text" not in event.data and event.data["owner"] == "user"


def test_an_action_item_without_an_owner_is_refused_and_nothing_is_lost(client, commander, review):
    client.force_login(commander)
    response = client.post(url("meeting_item_add", review),
                           {"text": "Call the hospital", "due_date": LATER.isoformat()})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Give the item an owner" in text and "Call the hospital" in text and f'value="{LATER.isoformat()}"' in text
    assert not ActionItem.objects.exists()


def test_an_action_item_due_before_the_meeting_is_refused(client, commander, review):
    client.force_login(commander)
    client.post(url("meeting_update", review), {"meeting_at": "2026-04-08T10:00", "status": "held", "notes": ""})
    review.refresh_from_db()
    assert review.status == Review.Status.HELD and review.meeting_at == chicago(2026, 4, 8, 10, 0)
    response = client.post(url("meeting_item_add", review), {"text": "Too soon", "owner_name": "CPD",
                                                             "due_date": "2026-04-07"})
    assert response.status_code == 400
    assert "The due date is before the meeting (2026-04-08)." in response.content.decode()
    response = client.post(url("meeting_item_add", review), {"text": "Bad date", "owner_name": "CPD",
                                                             "due_date": "07/04/2026x"})
    assert response.status_code == 400 and "Give the date as YYYY-MM-DD." in response.content.decode()
    assert not ActionItem.objects.exists()
    assert client.post(url("meeting_item_add", review), {"text": "On the day", "owner_name": "CPD",
                                                         "due_date": "2026-04-08"}).status_code == 302


def test_the_due_date_is_checked_against_the_meeting_as_stored(commander, review):
    # Another page set the meeting after this copy of the review was read.
    review_update(actor=commander, review=Review.objects.get(pk=review.pk), meeting_at=chicago(2030, 1, 10, 10, 0),
                  notes="", status="held")
    with pytest.raises(ValidationError) as refused:
        action_item_add(actor=commander, review=review, text="x", owner_name="CPD", due_date=date(2029, 12, 1))
    assert refused.value.message_dict == {"due_date": ["The due date is before the meeting (2030-01-10)."]}
    assert not ActionItem.objects.exists()


def test_the_meeting_details_refuse_a_bad_time_and_keep_the_minutes(client, commander, review):
    client.force_login(commander)
    response = client.post(url("meeting_update", review), {"meeting_at": "tomorrow-ish", "status": "held",
                                                           "notes": "Minutes typed here"})
    assert response.status_code == 400
    assert "Give the date and time" in response.content.decode() and "Minutes typed here" in response.content.decode()
    response = client.post(url("meeting_update", review), {"status": "closed", "notes": ""})
    assert response.status_code == 400
    review.refresh_from_db()
    assert review.notes == "" and review.status == Review.Status.DRAFT


def test_attendance_is_a_user_or_a_name_with_the_organisation(client, commander, review, cpd_user):
    client.force_login(commander)
    client.post(url("meeting_attendee_add", review), {"user": cpd_user.pk, "present": "present"})
    client.post(url("meeting_attendee_add", review), {"name": "R. Alvarez", "organization": "Public Equity",
                                                      "present": "absent"})
    rows = list(ReviewAttendance.objects.order_by("id"))
    assert [(r.user, r.name, r.organization, r.present) for r in rows] == [
        (cpd_user, "", "", True), (None, "R. Alvarez", "Public Equity", False)]
    response = client.post(url("meeting_attendee_add", review), {"organization": "CPD", "present": "present"})
    assert response.status_code == 400 and "Choose a portal user or write the person" in response.content.decode()
    response = client.post(url("meeting_attendee_add", review), {"user": cpd_user.pk, "present": "present"})
    assert response.status_code == 400 and "already on the attendance list" in response.content.decode()
    assert ReviewAttendance.objects.count() == 2
    for event in Event.objects.filter(action="review.attendance_added"):
        assert "Alvarez" not in str(event.data)


def test_outreach_workers_are_never_offered_as_portal_users(client, commander, review, worker, cpd_user):
    client.force_login(commander)
    text = client.get(page(review.code)).content.decode()
    assert f'value="{cpd_user.pk}"' in text and f'value="{worker.pk}"' not in text
    response = client.post(url("meeting_item_add", review), {"text": "x", "owner_user": worker.pk})
    assert response.status_code == 400 and not ActionItem.objects.exists()


def test_a_closed_review_cannot_be_changed(client, commander, review):
    client.force_login(commander)
    response = client.post(url("meeting_close", review))
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.CLOSED and review.closed_at is not None
    for name, data in [("meeting_theme_add", {"free_tag": "late"}),
                       ("meeting_item_add", {"text": "x", "owner_name": "CPD"}),
                       ("meeting_attendee_add", {"name": "x", "present": "present"}),
                       ("meeting_update", {"status": "held", "notes": "changed"}), ("meeting_close", {})]:
        response = client.post(url(name, review), data, follow=True)
        assert "This review is closed: it can no longer be changed." in response.content.decode(), name
    review.refresh_from_db()
    assert review.notes == "" and review.status == Review.Status.CLOSED
    assert not ReviewTheme.objects.exists() and not ActionItem.objects.exists()
    assert not ReviewAttendance.objects.exists()
    assert 'action="/reviews/' not in client.get(page(review.code)).content.decode()


# --- carry-over ---------------------------------------------------------------------------------------

def test_an_open_action_item_carries_over_until_it_is_done(client, commander, analyst):
    march = a_review(commander)
    item = action_item_add(actor=commander, review=march, text="Fix the SMS fallback", owner_name="CSCC")
    review_close(actor=commander, review=march)
    april = a_review(commander, month=APRIL)
    may_elsewhere = a_review(analyst, month=Month(2026, 5), numbers=("015",))
    assert carried_items(april) == [item]
    assert carried_items(may_elsewhere) == []  # no district in common
    assert carried_items(march) == []  # not on its own review's carried list
    client.force_login(commander)
    text = client.get(page(april.code)).content.decode()
    assert "Fix the SMS fallback" in text and "raised in the review of March 2026" in text

    response = client.post(url("meeting_item_status", april, item_code=item.code), {"status": "in_progress"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "in_progress" and item.closed_at is None
    assert carried_items(april) == [item]
    client.post(url("meeting_item_status", april, item_code=item.code), {"status": "done"})
    item.refresh_from_db()
    assert item.status == "done" and item.closed_at is not None
    assert carried_items(april) == []
    assert "Fix the SMS fallback" not in client.get(page(april.code)).content.decode()
    assert carried_items(a_review(commander, month=Month(2026, 5))) == []
    event = Event.objects.get(action="review.action_item_updated", data__to="done")
    assert event.data["carried"] is True


def test_an_item_carries_into_a_joint_review_that_shares_a_district(commander, analyst):
    march = a_review(commander)
    item = action_item_add(actor=commander, review=march, text="Joint follow-up", owner_name="CSCC")
    joint = a_review(analyst, month=APRIL, numbers=("007", "011"))
    assert carried_items(joint) == [item]


def test_an_item_off_the_review_cannot_be_updated_from_it(client, commander, other_commander):
    elsewhere = a_review(other_commander, numbers=("015",))
    item = action_item_add(actor=other_commander, review=elsewhere, text="Theirs", owner_name="CPD 15")
    mine = a_review(commander, month=APRIL)
    client.force_login(commander)
    assert client.post(url("meeting_item_status", mine, item_code=item.code), {"status": "done"}).status_code == 404
    assert client.post(url("meeting_item_status", mine, item_code=uuid.uuid4()), {"status": "done"}).status_code == 404
    item.refresh_from_db()
    assert item.status == "open"


def test_a_bad_status_is_refused_with_a_message(client, commander, review):
    item = action_item_add(actor=commander, review=review, text="x", owner_name="CPD")
    client.force_login(commander)
    response = client.post(url("meeting_item_status", review, item_code=item.code), {"status": "finished"},
                           follow=True)
    assert "Choose a status from the list." in response.content.decode()
    item.refresh_from_db()
    assert item.status == "open"


def test_reopening_an_item_clears_when_it_closed(commander, review):
    item = action_item_add(actor=commander, review=review, text="x", owner_name="CPD")
    item = action_item_update(actor=commander, review=review, item=item, status="dropped")
    assert item.closed_at is not None
    item = action_item_update(actor=commander, review=review, item=item, status="open")
    assert item.closed_at is None


# --- in Spanish -------------------------------------------------------------------------------------------

def test_the_pages_speak_spanish(client, commander, review):
    client.force_login(commander)
    client.cookies["django_language"] = "es"
    text = client.get(LIST).content.decode()
    assert "Revisiones de tiroteos" in text and "Nueva revisión" in text
    text = client.get(page(review.code)).content.decode()
    assert "Revisión de tiroteos: marzo de 2026" in text and "Temas" in text and "Asistencia" in text
    response = client.post(url("meeting_theme_add", review), {"note": "x"})
    assert "Un tema necesita una etiqueta de la lista o una propia." in response.content.decode()
