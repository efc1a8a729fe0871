"""Incident intake: `incident_create` validates, routes, and fans out in one transaction.

Real places (tests/conftest.py) and the shipped coverage: Englewood (community area 68) is
covered by Public Equity, READI Chicago and TADC; Austin (25) by INVC, READI and Together
Chicago.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import Event
from districts.models import Channel, Coverage, District, Hospital, Organization
from notifications.exceptions import Conflict
from notifications.models import Delivery, Incident, Notification, TimelineEntry, Victim
from notifications.services import incident_create
from tests.conftest import AUSTIN_POINT, ENGLEWOOD_POINT

ENGLEWOOD_ORGS = {"Public Equity", "READI Chicago (Heartland Alliance)", "Target Area Development Corp (TADC)"}
AUSTIN_ORGS = {"Institute for Nonviolence Chicago (INVC)", "READI Chicago (Heartland Alliance)",
               "Together Chicago"}


def englewood_incident(**overrides) -> dict:
    arguments = {
        "source": "web", "occurred_at": timezone.now() - timedelta(minutes=7), "block": "6300 S Halsted St",
        "latitude": ENGLEWOOD_POINT[0], "longitude": ENGLEWOOD_POINT[1],
        "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True},
                    {"age_band": "0-19", "sex": "F", "fatal": True, "gunshot": True}],
        "hospital": "UCM", "note": "Two shot outside the store.",
    }
    return {**arguments, **overrides}


def covering_names(place_area: int) -> set[str]:
    return set(Organization.objects.filter(coverage__community_area__number=place_area, active=True)
               .values_list("name", flat=True))


def test_the_conftest_places_are_covered_as_these_tests_assume(reference_data):
    assert covering_names(68) == ENGLEWOOD_ORGS
    assert covering_names(25) == AUSTIN_ORGS


@pytest.fixture
def dispatch_lists(reference_data):
    """Every organisation's shared email list, as the demo has them."""
    for organization in Organization.objects.all():
        Channel.objects.create(organization=organization, kind=Channel.Kind.EMAIL,
                               target=f"dispatch-{organization.pk}@example.org")


def test_an_englewood_shooting_notifies_exactly_the_covering_organisations_once_each(
        cpd_user, dispatch_lists, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident, created = incident_create(actor=cpd_user, **englewood_incident())

    assert created
    notifications = Notification.objects.filter(incident=incident)
    assert sorted(n.organization.name for n in notifications) == sorted(ENGLEWOOD_ORGS)
    assert all(n.reason == "covers community area 68 Englewood" for n in notifications)
    expected = sorted(f"dispatch-{n.organization_id}@example.org" for n in notifications)
    assert sorted(address for message in mail.outbox for address in message.to) == expected
    assert Delivery.objects.filter(notification__incident=incident, purpose=Delivery.Purpose.NOTIFY).count() == 3


def test_a_point_fills_in_district_beat_and_community_area_and_the_victims_are_counted(cpd_user):
    incident, _ = incident_create(actor=cpd_user, **englewood_incident())
    incident.refresh_from_db()
    assert (incident.district.number, incident.beat.number, incident.community_area.number) == ("007", "0723", 68)
    assert incident.block == "6300 S HALSTED ST"
    assert (incident.victim_count, incident.fatal_count) == (2, 1)
    assert incident.hospital.code == "UCM"
    assert incident.entered_by == cpd_user and incident.source == Incident.Source.WEB


def test_the_escalation_timer_starts_from_each_organisations_own_window(cpd_user):
    Organization.objects.filter(name="Public Equity").update(ack_window_minutes=5)
    before = timezone.now()
    incident, _ = incident_create(actor=cpd_user, **englewood_incident())
    for notification in incident.notifications.select_related("organization"):
        window = timedelta(minutes=notification.organization.ack_window_minutes)
        assert notification.escalation_level == 0
        assert before + window <= notification.next_escalation_at <= timezone.now() + window
    assert incident.notifications.get(organization__name="Public Equity").organization.ack_window_minutes == 5


def test_entering_writes_the_timeline_and_an_audit_event_without_the_note(cpd_user):
    incident, _ = incident_create(actor=cpd_user, **englewood_incident(note="Shot near the corner store"))
    assert TimelineEntry.objects.filter(incident=incident, kind="incident.entered").count() == 1
    event = Event.objects.get(action="incident.created", object_code=str(incident.code))
    assert event.actor == cpd_user and event.source == "web"
    assert event.data["district"] == "007" and event.data["victims"] == 2 and event.data["fatal"] == 1
    assert len(event.data["organizations"]) == 3
    assert "corner store" not in str(event.data)


def test_codes_without_a_point_are_accepted_in_every_spelling(admin_user):
    for spelling in ("015", "15", 15):
        incident, _ = incident_create(actor=admin_user, **englewood_incident(
            latitude=None, longitude=None, district=spelling, beat="1512", community_area=25, hospital=None,
            block=f"5900 W CHICAGO AVE {spelling!r}"))
        assert incident.district.number == "015"
    assert {n.organization.name for n in incident.notifications.all()} == AUSTIN_ORGS


def test_a_hospital_is_accepted_as_a_code_or_an_object(cpd_user):
    incident, _ = incident_create(actor=cpd_user, **englewood_incident(hospital=Hospital.objects.get(code="STROGER")))
    assert incident.hospital.code == "STROGER"


def test_an_organisation_is_notified_once_when_several_of_its_rules_match(cpd_user, covering_org, englewood):
    Coverage.objects.create(organization=covering_org, kind=Coverage.Kind.DISTRICT, district=englewood)
    incident, _ = incident_create(actor=cpd_user, **englewood_incident())
    notification = incident.notifications.get(organization=covering_org)
    assert incident.notifications.count() == 3
    assert notification.reason == "covers community area 68 Englewood; covers district 7 (Englewood)"


def test_an_inactive_organisation_is_not_notified(cpd_user, covering_org):
    covering_org.active = False
    covering_org.save()
    incident, _ = incident_create(actor=cpd_user, **englewood_incident())
    assert covering_org.name not in {n.organization.name for n in incident.notifications.all()}
    assert incident.notifications.count() == 2


# --- bad input: a message on the field, nothing saved ---------------------------------------

BAD_INPUTS = [
    ("future time", {"occurred_at": timezone.now() + timedelta(minutes=30)}, "occurred_at", "future"),
    ("older than 30 days", {"occurred_at": timezone.now() - timedelta(days=31)}, "occurred_at", "30 days"),
    ("beat outside the district", {"latitude": None, "longitude": None, "district": "007", "beat": "1512"},
     "beat", "not in District 7"),
    ("point outside Chicago", {"latitude": 41.5, "longitude": -87.6}, "latitude", "outside Chicago"),
    ("point in another district", {"district": "015"}, "district", "District 7, not District 15"),
    ("point in another beat", {"beat": "0714"}, "beat", "beat 0723, not beat 0714"),
    ("point in another community area", {"community_area": 25}, "community_area", "68 Englewood"),
    ("no victims", {"victims": []}, "victims", "at least one"),
    ("51 victims", {"victims": [{"fatal": False}] * 51}, "victims", "At most 50"),
    ("unknown age band", {"victims": [{"age_band": "teen"}]}, "victims", "age band"),
    ("unknown hospital", {"hospital": "NOPE"}, "hospital", "not a known hospital"),
    ("over-long note", {"note": "x" * 501}, "note", "500 characters"),
    ("unknown district", {"latitude": None, "longitude": None, "district": "099"}, "district", "no District 99"),
    ("district that is not a number", {"latitude": None, "longitude": None, "district": "seven"}, "district",
     "not a district number"),
    ("no district and no point", {"latitude": None, "longitude": None}, "district", "district"),
    ("half a point", {"longitude": None}, "longitude", "both"),
    ("empty block", {"block": "  "}, "block", "block"),
    ("bad scene status", {"scene_status": "burning"}, "scene_status", "active, secured or cleared"),
    ("bad RD number", {"rd_number": "JH 41/1616"}, "rd_number", "letters and digits"),
]


@pytest.mark.parametrize(("case", "overrides", "field", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_a_message_on_the_field_and_saves_nothing(admin_user, case, overrides, field, message,
                                                                   django_capture_on_commit_callbacks):
    counts = (Incident.objects.count(), Victim.objects.count(), Notification.objects.count(),
              Delivery.objects.count(), Event.objects.count())
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as raised:
        incident_create(actor=admin_user, **englewood_incident(**overrides))
    assert message in " ".join(raised.value.message_dict[field])
    assert callbacks == []
    assert counts == (Incident.objects.count(), Victim.objects.count(), Notification.objects.count(),
                      Delivery.objects.count(), Event.objects.count())


def test_every_problem_is_reported_at_once(admin_user):
    with pytest.raises(ValidationError) as raised:
        incident_create(actor=admin_user, **englewood_incident(
            occurred_at=timezone.now() + timedelta(days=1), note="x" * 600, hospital="NOPE", victims=[]))
    assert set(raised.value.message_dict) == {"occurred_at", "note", "hospital", "victims"}


def test_a_time_within_the_five_minute_grace_is_accepted(cpd_user):
    incident, created = incident_create(actor=cpd_user, **englewood_incident(
        occurred_at=timezone.now() + timedelta(minutes=4)))
    assert created


def test_a_time_without_an_offset_is_chicago_time(cpd_user):
    local = timezone.localtime(timezone.now() - timedelta(hours=1)).replace(microsecond=0, tzinfo=None)
    incident, _ = incident_create(actor=cpd_user, **englewood_incident(occurred_at=local.isoformat()))
    assert timezone.localtime(incident.occurred_at).replace(tzinfo=None) == local


def test_cpd_staff_cannot_enter_an_incident_in_another_district(other_district_user):
    with pytest.raises(ValidationError) as raised:
        incident_create(actor=other_district_user, **englewood_incident())
    assert "own district" in raised.value.message_dict["district"][0]
    assert not Incident.objects.exists()


# --- RD number idempotency -----------------------------------------------------------------


def test_the_same_rd_number_with_the_same_content_returns_the_stored_incident(
        cpd_user, django_capture_on_commit_callbacks):
    arguments = englewood_incident(rd_number="jh411616", occurred_at=timezone.now().replace(second=0, microsecond=0))
    with django_capture_on_commit_callbacks(execute=True):
        first, created = incident_create(actor=cpd_user, **arguments)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again, created_again = incident_create(actor=cpd_user, **{**arguments, "rd_number": "JH411616",
                                                                  "block": "6300 s halsted  st"})
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and first.rd_number == "JH411616"
    assert callbacks == []
    assert Notification.objects.filter(incident=first).count() == 3
    assert Event.objects.filter(action="incident.created").count() == 1


def test_the_same_rd_number_with_different_content_is_a_conflict(cpd_user):
    arguments = englewood_incident(rd_number="JH411616")
    incident_create(actor=cpd_user, **arguments)
    with pytest.raises(Conflict):
        incident_create(actor=cpd_user, **{**arguments, "victims": [{"fatal": True}]})
    assert Incident.objects.count() == 1


def test_routing_to_a_place_nobody_covers_stores_the_incident_with_no_notifications(admin_user):
    district = District.objects.get(number="001")
    incident, created = incident_create(actor=admin_user, **englewood_incident(
        latitude=None, longitude=None, district=district.number, block="100 W MADISON ST"))
    assert created and incident.notifications.count() == 0


def test_a_point_on_the_other_side_of_town_routes_to_that_sides_organisations(admin_user):
    incident, _ = incident_create(actor=admin_user, **englewood_incident(
        latitude=AUSTIN_POINT[0], longitude=AUSTIN_POINT[1], block="5900 W CHICAGO AVE"))
    assert incident.district.number == "015"
    assert {n.organization.name for n in incident.notifications.all()} == AUSTIN_ORGS
