"""Corrections: a victim died, the location was wrong. The notified organisations hear about
it; an organisation newly covering the corrected place is notified for the first time."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import Event
from districts.models import Channel, Organization, Role
from notifications.models import Delivery, Incident, Notification, TimelineEntry
from notifications.services import incident_correct, incident_create
from tests.conftest import ENGLEWOOD_POINT, make_member

AUBURN_GRESHAM_POINT = (41.75004, -87.65898)  # 1400 W 79th St: 6th District, Auburn Gresham (71)
# Auburn Gresham is covered by Acclivus and TADC; Englewood by Public Equity, READI and TADC.
AUBURN_GRESHAM_ORGS = {"Acclivus", "TADC"}
ENGLEWOOD_ORGS = {"Public Equity", "READI Chicago", "TADC"}


@pytest.fixture
def dispatch_lists(reference_data):
    for organization in Organization.objects.all():
        Channel.objects.create(organization=organization, kind=Channel.Kind.EMAIL,
                               target=f"dispatch-{organization.pk}@example.org")


@pytest.fixture
def commander_6th(reference_data):
    return make_member("ada_commander6", Role.CPD_COMMANDER, district="006")


@pytest.fixture
def gresham_incident(commander_6th, dispatch_lists, django_capture_on_commit_callbacks) -> Incident:
    with django_capture_on_commit_callbacks(execute=True):
        incident, _ = incident_create(
            actor=commander_6th, source="web", occurred_at=timezone.now() - timedelta(minutes=20),
            block="1400 W 79th St", latitude=AUBURN_GRESHAM_POINT[0], longitude=AUBURN_GRESHAM_POINT[1],
            victims=[{"age_band": "20-29", "sex": "M", "fatal": False}], rd_number="JH500001",
        )
    return incident


def org_names(incident: Incident) -> set[str]:
    return {n.organization.short_name for n in incident.notifications.all()}


def test_the_auburn_gresham_incident_starts_with_its_two_covering_organisations(gresham_incident):
    assert (gresham_incident.district.number, gresham_incident.community_area.number) == ("006", 71)
    assert org_names(gresham_incident) == AUBURN_GRESHAM_ORGS


def test_a_victim_who_died_updates_the_counts_and_tells_every_notified_organisation(
        gresham_incident, commander_6th, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_correct(incident=gresham_incident, actor=commander_6th, source="web",
                                    victims=[{"age_band": "20-29", "sex": "M", "fatal": True}])

    assert (incident.victim_count, incident.fatal_count) == (1, 1)
    assert incident.victims.get().fatal
    updates = Delivery.objects.filter(notification__incident=incident, purpose=Delivery.Purpose.UPDATE)
    assert {d.notification.organization.short_name for d in updates} == AUBURN_GRESHAM_ORGS
    assert updates.count() == 2
    assert Notification.objects.filter(incident=incident).count() == 2
    event = Event.objects.get(action="incident.corrected")
    assert event.data["fields"] == ["victims"] and event.actor == commander_6th
    assert TimelineEntry.objects.filter(incident=incident, kind="incident.corrected").count() == 1


def test_a_corrected_location_notifies_the_newly_covering_organisations_and_updates_the_notified_ones(
        gresham_incident, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_correct(incident=gresham_incident, actor=admin_user, source="web",
                                    latitude=ENGLEWOOD_POINT[0], longitude=ENGLEWOOD_POINT[1],
                                    block="6300 S Halsted St")

    assert (incident.district.number, incident.beat.number, incident.community_area.number) == ("007", "0723", 68)
    purposes = {n.organization.short_name: sorted(d.purpose for d in n.deliveries.all())
                for n in incident.notifications.all()}
    assert purposes == {
        "Acclivus": ["notify", "update"],  # told first, told of the move even though it no longer covers it
        "TADC": ["notify", "update"],
        "Public Equity": ["notify"],  # newly covering: a first notice
        "READI Chicago": ["notify"],
    }
    assert incident.notifications.get(organization__short_name="READI Chicago").next_escalation_at is not None
    event = Event.objects.get(action="incident.corrected")
    assert set(event.data["fields"]) == {"block", "latitude", "longitude", "district", "beat", "community_area"}
    assert len(event.data["notified"]) == 2 and len(event.data["updated"]) == 2


def test_a_correction_that_changes_nothing_sends_nothing(gresham_incident, commander_6th,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        incident_correct(incident=gresham_incident, actor=commander_6th, source="web",
                         block="1400 w 79th  st", scene_status="active")
    assert callbacks == []
    assert not Delivery.objects.filter(purpose=Delivery.Purpose.UPDATE).exists()
    assert not Event.objects.filter(action="incident.corrected").exists()


def test_a_bad_correction_changes_nothing(gresham_incident, commander_6th):
    before = Delivery.objects.count()
    with pytest.raises(ValidationError) as raised:
        incident_correct(incident=gresham_incident, actor=commander_6th, source="web", beat="1512", note="x" * 501)
    assert set(raised.value.message_dict) == {"beat", "note"}
    gresham_incident.refresh_from_db()
    assert gresham_incident.beat.number == "0612" and gresham_incident.note == ""
    assert Delivery.objects.count() == before


def test_correcting_the_beat_alone_drops_the_old_point_and_keeps_the_district(gresham_incident,
                                                                              commander_6th):
    incident = incident_correct(incident=gresham_incident, actor=commander_6th, source="web", beat="0611")
    assert incident.beat.number == "0611" and incident.district.number == "006"
    assert incident.latitude is None and incident.longitude is None


def test_an_old_incident_can_still_be_corrected(gresham_incident, commander_6th):
    Incident.objects.filter(pk=gresham_incident.pk).update(occurred_at=timezone.now() - timedelta(days=40))
    incident = incident_correct(incident=gresham_incident, actor=commander_6th, source="web", scene_status="cleared")
    assert incident.scene_status == "cleared"


def test_moving_the_time_more_than_30_days_back_is_refused(gresham_incident, commander_6th):
    with pytest.raises(ValidationError) as raised:
        incident_correct(incident=gresham_incident, actor=commander_6th, source="web",
                         occurred_at=timezone.now() - timedelta(days=45))
    assert "30 days" in raised.value.message_dict["occurred_at"][0]


def test_an_rd_number_taken_by_another_incident_is_refused(gresham_incident, commander_6th):
    incident_create(actor=commander_6th, source="web", occurred_at=timezone.now(), block="7900 S HALSTED ST",
                    district="006", victims=[{}], rd_number="JH500002")
    with pytest.raises(ValidationError) as raised:
        incident_correct(incident=gresham_incident, actor=commander_6th, source="web", rd_number="JH500002")
    assert "another incident" in raised.value.message_dict["rd_number"][0]


def test_an_unknown_field_is_a_programming_error(gresham_incident, commander_6th):
    with pytest.raises(TypeError):
        incident_correct(incident=gresham_incident, actor=commander_6th, source="web", victim_names=["x"])
