"""Partners are notified through the same outbox: the hospital's violence-intervention
programme when a victim is taken there, victim services on a fatal shooting with the place and
number of victims only, each once however often a correction re-matches."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from districts.models import Channel, Hospital, Organization
from notifications.api import NotificationOutput
from notifications.models import Delivery, Notification
from notifications.services import incident_correct, incident_create
from tests.conftest import ENGLEWOOD_POINT, make_member

SURVIVORS = "Chicago Survivors"
UCM_PROGRAMME = "UChicago Medicine Violence Recovery Program"


@pytest.fixture
def partner_lists(playbooks):
    for name in (SURVIVORS, UCM_PROGRAMME):
        organization = Organization.objects.get(name=name)
        Channel.objects.create(organization=organization, kind=Channel.Kind.EMAIL,
                               target=f"dispatch-{organization.pk}@example.org")


def _v(fatal=False):
    return {"age_band": "0-19", "sex": "F", "fatal": fatal, "gunshot": True}


def enter(actor, **extra):
    incident, _ = incident_create(
        actor=actor, source="web", occurred_at=timezone.now() - timedelta(minutes=15), block="6300 S HALSTED ST",
        latitude=ENGLEWOOD_POINT[0], longitude=ENGLEWOOD_POINT[1], note="Family at the scene.", **extra)
    return incident


def partner_notifications(incident, name):
    return Notification.objects.filter(incident=incident, organization__name=name)


def test_the_hospital_programme_is_recorded_from_the_hospitals_file(playbooks):
    assert Hospital.objects.get(code="UCM").violence_programme.name == UCM_PROGRAMME
    assert Hospital.objects.get(code="AIMMC").violence_programme is None


def test_a_victim_taken_to_a_hospital_with_a_programme_notifies_it(partner_lists, cpd_user,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = enter(cpd_user, victims=[_v()], hospital="UCM")
    notification = partner_notifications(incident, UCM_PROGRAMME).get()
    assert notification.relay == Notification.Relay.FULL
    assert "violence-intervention programme of University of Chicago Medicine" in notification.reason
    assert Delivery.objects.filter(notification=notification, kind=Channel.Kind.EMAIL).count() == 1
    assert any(message.to == [f"dispatch-{notification.organization.pk}@example.org"] for message in mail.outbox)


def test_a_hospital_without_a_programme_notifies_no_partner(partner_lists, cpd_user):
    incident = enter(cpd_user, victims=[_v()], hospital="AIMMC")
    assert set(incident.notifications.values_list("organization__partner_type", flat=True)) == {"street_outreach"}


def test_a_correction_that_adds_a_fatal_victim_adds_the_playbook_and_notifies_victim_services_once(
        partner_lists, cpd_user, django_capture_on_commit_callbacks):
    incident = enter(cpd_user, victims=[_v()])
    assert not partner_notifications(incident, SURVIVORS).exists()
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_correct(incident=incident, actor=cpd_user, source="web", victims=[_v(fatal=True)])
    assert "fatal" in set(incident.scenarios.values_list("code", flat=True))
    notification = partner_notifications(incident, SURVIVORS).get()
    assert notification.deliveries.filter(purpose=Delivery.Purpose.NOTIFY, kind=Channel.Kind.EMAIL).count() == 1
    # A second correction re-matches the fatal playbook: the partner gets an update, not a second notification.
    incident = incident_correct(incident=incident, actor=cpd_user, source="web", block="6301 S HALSTED ST")
    assert partner_notifications(incident, SURVIVORS).count() == 1
    assert notification.deliveries.filter(purpose=Delivery.Purpose.NOTIFY).count() == 1


def test_victim_services_hear_only_the_place_and_the_number_of_victims(partner_lists, cpd_user,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = enter(cpd_user, victims=[_v(fatal=True), _v()], hospital="UCM")
    notification = partner_notifications(incident, SURVIVORS).get()
    assert notification.relay == Notification.Relay.LIMITED
    sent = [m for m in mail.outbox if m.to == [f"dispatch-{notification.organization.pk}@example.org"]]
    assert len(sent) == 1
    body = sent[0].body + sent[0].alternatives[0][0]
    assert "6300 S HALSTED ST" in body and "Victims: 2" in body
    for withheld in ("Fatal shooting", "fatal", "University of Chicago", "Family at the scene", "0-19", "Playbooks"):
        assert withheld not in body
    everything = NotificationOutput(Notification.objects.get(pk=notification.pk)).data
    assert "Fatal" not in str(everything)  # the routing reason names no playbook either
    api = everything["incident"]
    assert (api["block"], api["victim_count"]) == ("6300 S HALSTED ST", 2)
    assert api["fatal_count"] is None and api["victims"] == [] and api["hospital"] is None and api["note"] is None
    assert api["scenarios"] == []


def test_a_covering_organisation_sees_the_playbooks_in_its_message(partner_lists, cpd_user,
                                                                    django_capture_on_commit_callbacks):
    covering = Organization.objects.get(name="Public Equity")
    Channel.objects.create(organization=covering, kind=Channel.Kind.EMAIL, target="pe@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        enter(cpd_user, victims=[_v(fatal=True)])
    sent = [m for m in mail.outbox if m.to == ["pe@example.org"]]
    assert "Playbooks: Fatal shooting, A young person was shot (0-19), Scene response" in sent[0].body


def test_a_victim_services_member_sees_the_place_and_the_count_only(client, partner_lists, cpd_user):
    member = make_member("vera_survivors", "outreach_worker", organization=SURVIVORS)
    incident = enter(cpd_user, victims=[_v(fatal=True), _v()], hospital="UCM")
    notification = partner_notifications(incident, SURVIVORS).get()
    client.force_login(member)
    body = client.get(reverse("responses:incident", args=[notification.code])).content.decode()
    assert "6300 S HALSTED ST" in body and "CPD relays the place and the number of victims" in body
    for withheld in ("killed", "University of Chicago", "Family at the scene", "0–19", "Fatal shooting"):
        assert withheld not in body
    # One fixed checklist, whatever matched: the fatal playbook's steps would say what CPD does not.
    assert "Offer your services through the contacts your organisation uses." in body
    assert "reach the family" not in body
    feed = client.get(reverse("responses:feed")).content.decode()
    assert "6300 S HALSTED ST" in feed and "killed" not in feed and "Fatal shooting" not in feed
