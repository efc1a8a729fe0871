"""Escalation on an injected clock: backup at 10 minutes, supervisor at 20, duty desk at 30,
and nothing once acknowledged. The clock moves; nothing sleeps."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import Event
from districts.models import Channel, OnCall, Role
from notifications import sms
from notifications.escalation import escalation_sweep
from notifications.models import Delivery, Notification
from notifications.relay import relay_once
from notifications.state import notification_acknowledge, notification_status_set
from responses.services import response_log
from tests.conftest import COVERING_ORG, make_member
from tests.workers import incident_notify

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: also on the embedded default


@pytest.fixture
def roster(covering_org, worker, supervisor, analyst):
    backup = make_member("ray_backup", Role.OUTREACH_WORKER, organization=COVERING_ORG)
    for user, tier, phone in [(worker, OnCall.Tier.PRIMARY, "+13125550101"),
                              (backup, OnCall.Tier.BACKUP, "+13125550102"),
                              (supervisor, OnCall.Tier.SUPERVISOR, "+13125550103")]:
        OnCall.objects.create(organization=covering_org, user=user, tier=tier)
        Channel.objects.create(organization=covering_org, user=user, kind=Channel.Kind.SMS, target=phone)
    return backup


def _escalations(notification):
    return {(d.kind, d.target) for d in notification.deliveries.filter(purpose=Delivery.Purpose.ESCALATION)
            if d.kind != Channel.Kind.IN_APP}


def test_an_unacknowledged_notification_escalates_backup_supervisor_then_duty_desk_on_schedule(
        englewood, covering_org, roster, settings, django_capture_on_commit_callbacks):
    settings.DUTY_DESK_EMAIL = "duty.desk@cscc.example.org"
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    t0 = notification.created_at

    def sweep(minutes):  # what one pass of the relay's loop does: the sweep, then the handover
        before = notification.escalation_level
        escalation_sweep(now=t0 + timedelta(minutes=minutes, seconds=1))
        relay_once()
        notification.refresh_from_db()
        return notification.escalation_level - before  # the other covering organisations escalate too

    assert sweep(9) == 0 and notification.escalation_level == 0
    assert sweep(10) == 1 and _escalations(notification) == {("sms", "+13125550102")}
    assert sweep(15) == 0
    assert sweep(20) == 1 and ("sms", "+13125550103") in _escalations(notification)
    assert sweep(30) == 1 and ("email", "duty.desk@cscc.example.org") in _escalations(notification)
    assert notification.escalation_level == 3 and notification.next_escalation_at is None
    assert sweep(60) == 0
    assert [t.to for t in sms.outbox] == ["+13125550101", "+13125550102", "+13125550103"]
    lines = list(notification.incident.timeline.filter(kind="notification.escalated", notification=notification)
                 .values_list("text", flat=True))
    assert len(lines) == 3 and "backup" in lines[0] and "supervisor" in lines[1] and "duty desk" in lines[2]
    assert Event.objects.filter(action="notification.escalated", object_code=str(notification.code)).count() == 3


def test_an_acknowledgement_stops_escalation(englewood, covering_org, roster, worker):
    notification = incident_notify(district=englewood, organization=covering_org)
    notification_acknowledge(notification=notification, actor=worker, via="app",
                             at=notification.created_at + timedelta(minutes=4))
    for minutes in (10, 20, 30):
        escalation_sweep(now=notification.created_at + timedelta(minutes=minutes, seconds=1))
    notification.refresh_from_db()
    assert notification.escalation_level == 0 and notification.next_escalation_at is None
    assert not notification.deliveries.filter(purpose=Delivery.Purpose.ESCALATION).exists()


def test_an_acknowledgement_cancels_escalation_messages_not_yet_sent(englewood, covering_org, roster, worker):
    notification = incident_notify(district=englewood, organization=covering_org)
    escalation_sweep(now=notification.created_at + timedelta(minutes=11))  # queued; no relay pass yet
    notification_acknowledge(notification=notification, actor=worker, via="app")
    step = notification.deliveries.filter(purpose=Delivery.Purpose.ESCALATION).exclude(kind=Channel.Kind.IN_APP)
    assert {d.status for d in step} == {Delivery.Status.CANCELLED}


def test_the_window_is_the_organisations(englewood, covering_org, roster):
    covering_org.ack_window_minutes = 3
    covering_org.save()
    notification = incident_notify(district=englewood, organization=covering_org)
    escalation_sweep(now=notification.created_at + timedelta(minutes=3, seconds=1))
    notification.refresh_from_db()
    assert notification.escalation_level == 1


def test_with_nobody_on_the_backup_roster_the_timeline_says_so_and_the_supervisor_is_next(
        englewood, covering_org, roster):
    OnCall.objects.filter(tier=OnCall.Tier.BACKUP).delete()
    notification = incident_notify(district=englewood, organization=covering_org)
    escalation_sweep(now=notification.created_at + timedelta(minutes=10, seconds=1))
    assert "nobody on the roster" in notification.incident.timeline.get(kind="notification.escalated",
                                                                        notification=notification).text
    notification.refresh_from_db()
    assert (notification.escalation_level, notification.escalation_paged_level) == (1, 0)
    escalation_sweep(now=notification.created_at + timedelta(minutes=20, seconds=1))
    assert ("sms", "+13125550103") in _escalations(notification)


def test_without_a_duty_desk_address_the_analysts_are_emailed(englewood, covering_org, roster, analyst, settings):
    settings.DUTY_DESK_EMAIL = ""
    notification = incident_notify(district=englewood, organization=covering_org)
    for minutes in (10, 20, 30):
        escalation_sweep(now=notification.created_at + timedelta(minutes=minutes, seconds=1))
    assert ("email", analyst.email) in _escalations(notification)


def _pages_after(notification, *minutes):
    for step in minutes:
        escalation_sweep(now=notification.created_at + timedelta(minutes=step, seconds=1))
        relay_once()
    notification.refresh_from_db()
    return [d for d in notification.deliveries.filter(purpose=Delivery.Purpose.ESCALATION)
            if d.status != Delivery.Status.CANCELLED]


def test_a_logged_response_acknowledges_and_nobody_is_paged_afterwards(englewood, covering_org, roster, worker):
    notification = incident_notify(district=englewood, organization=covering_org)
    arrived = notification.created_at + timedelta(minutes=4)
    response_log(notification=notification, actor=worker, source="phone", client_key=uuid.uuid4(),
                 arrived_at=arrived, response_types=["scene"])
    assert _pages_after(notification, 10, 20, 30) == []
    assert notification.acknowledged_at is not None and notification.escalation_level == 0
    # The status follows the arrival: CPD never reads "acknowledged" next to "arrived".
    assert (notification.status, notification.arrived_at) == (Notification.Status.ON_SCENE, arrived)
    assert notification.incident.acknowledged_at is not None


def test_a_tap_past_acknowledged_acknowledges_and_stops_escalation(englewood, covering_org, roster, worker):
    notification = incident_notify(district=englewood, organization=covering_org)
    notification_status_set(notification=notification, actor=worker, source="phone",
                            status=Notification.Status.EN_ROUTE)
    assert _pages_after(notification, 10, 20, 30) == []
    assert notification.acknowledged_by == worker and notification.status == Notification.Status.EN_ROUTE


def test_pages_say_escalated_only_when_somebody_was_paged(client, englewood, covering_org, roster, cpd_user):
    OnCall.objects.filter(tier=OnCall.Tier.BACKUP).delete()
    notification = incident_notify(district=englewood, organization=covering_org)
    client.force_login(cpd_user)
    live = reverse("notifications:incident_live", args=[notification.incident.code])

    assert _pages_after(notification, 10) == []  # no backup on the roster: step 1 pages nobody
    html = client.get(live).content.decode()
    assert "nobody could be paged" in html and "escalated (step" not in html
    assert "nobody to page" in client.get(reverse("notifications:board_live")).content.decode()

    assert _pages_after(notification, 20)  # step 2 reaches the supervisor
    assert "escalated (step 2)" in client.get(live).content.decode()
