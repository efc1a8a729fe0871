"""The outbox in-process (eager Celery, as in the embedded default): who gets a notification,
what it says, and what a send records. The same path with a real relay and worker is in
test_relay_worker.py and test_faults.py."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail

from core.dates import CHICAGO
from districts.models import Channel, OnCall, Role
from notifications import sms
from notifications.delivery import delivery_failure_record, retry_delay
from notifications.exceptions import TransportError
from notifications.models import Delivery, Incident, TimelineEntry
from notifications.recipients import on_call_users
from notifications.sending import delivery_attempt
from tests.conftest import COVERING_ORG, make_member
from tests.workers import incident_notify

pytestmark = pytest.mark.sqlite  # also run on the embedded default (make test)
NOTE = "Victim Jamal Carter, 19, brother of a Black P Stones member"


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    sms.outbox.clear()


@pytest.fixture
def roster(covering_org, worker, supervisor):
    """Public Equity: a shared dispatch list (the fallback), the worker on call with a phone,
    the supervisor on the roster as supervisor with a phone, a backup with a phone."""
    backup = make_member("ray_backup", Role.OUTREACH_WORKER, organization=COVERING_ORG)
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="dispatch@pe.example.org",
                           is_fallback=True)
    for user, tier, phone in [(worker, OnCall.Tier.PRIMARY, "+13125550101"),
                              (backup, OnCall.Tier.BACKUP, "+13125550102"),
                              (supervisor, OnCall.Tier.SUPERVISOR, "+13125550103")]:
        OnCall.objects.create(organization=covering_org, user=user, tier=tier)
        Channel.objects.create(organization=covering_org, user=user, kind=Channel.Kind.SMS, target=phone)
    return {"worker": worker, "backup": backup, "supervisor": supervisor}


def test_an_incident_reaches_the_shared_list_the_on_call_phone_and_every_members_feed(
        englewood, covering_org, roster, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)

    deliveries = notification.deliveries.all()
    assert {(d.kind, d.target) for d in deliveries if d.kind != Channel.Kind.IN_APP} == {
        ("email", "dispatch@pe.example.org"), ("sms", "+13125550101")}
    assert {d.recipient for d in deliveries if d.kind == Channel.Kind.IN_APP} == set(roster.values())
    assert {d.status for d in deliveries} == {Delivery.Status.SENT}
    assert [m.to for m in mail.outbox] == [["dispatch@pe.example.org"]]
    assert [t.to for t in sms.outbox] == ["+13125550101"]


def test_only_the_covering_organisations_members_get_feed_rows(englewood, covering_org, roster, other_worker,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    assert not notification.deliveries.filter(recipient=other_worker).exists()


def test_the_on_call_window_is_read_in_chicago_time_and_an_overnight_shift_belongs_to_its_first_day(
        covering_org, worker, supervisor):
    friday = 4
    OnCall.objects.create(organization=covering_org, user=worker, starts=time(8), ends=time(20))
    OnCall.objects.create(organization=covering_org, user=supervisor, weekday=friday, starts=time(22), ends=time(6))

    def on_call(local: datetime):
        return set(on_call_users(organization=covering_org, tier=OnCall.Tier.PRIMARY, at=local))

    assert on_call(datetime(2026, 3, 6, 12, 0, tzinfo=CHICAGO)) == {worker}  # Friday noon
    assert on_call(datetime(2026, 3, 6, 23, 0, tzinfo=CHICAGO)) == {supervisor}  # Friday 23:00
    assert on_call(datetime(2026, 3, 7, 2, 0, tzinfo=CHICAGO)) == {supervisor}  # Saturday 02:00, Friday's shift
    # 18:00 UTC on a Thursday is noon in Chicago (CST): the worker's window.
    assert on_call(datetime(2026, 3, 5, 18, 0, tzinfo=UTC)) == {worker}


def test_when_no_window_covers_the_moment_every_primary_is_paged(covering_org, worker, supervisor):
    OnCall.objects.create(organization=covering_org, user=worker, starts=time(8), ends=time(9))
    OnCall.objects.create(organization=covering_org, user=supervisor, starts=time(10), ends=time(11))
    midnight = datetime(2026, 3, 6, 0, 30, tzinfo=CHICAGO)
    assert set(on_call_users(organization=covering_org, tier=OnCall.Tier.PRIMARY, at=midnight)) == {worker, supervisor}


def test_messages_carry_district_block_time_and_victim_count_but_never_the_note_or_names(
        englewood, covering_org, roster, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org, victims=2, note=NOTE)

    email = mail.outbox[0]
    bodies = [email.subject, email.body, email.alternatives[0].content, sms.outbox[0].body]
    for body in bodies:
        assert "Jamal" not in body and "Stones" not in body and "tasha" not in body.lower()
    assert "6300 S HALSTED ST" in email.body and "Victims: 2" in email.body and "District 7" in email.body
    assert "/a/" in sms.outbox[0].body and "6300 S HALSTED ST" in sms.outbox[0].body
    assert f"/n/{notification.code}/" in email.body  # the full incident, behind login
    for delivery in notification.deliveries.all():
        assert set(delivery.payload) == {"message", "notification", "incident"}


def test_the_first_send_starts_the_incident_and_notification_clocks_and_writes_the_timeline(
        englewood, covering_org, roster, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    notification.refresh_from_db()
    incident = Incident.objects.get(pk=notification.incident_id)
    assert notification.status == "sent" and notification.first_sent_at is not None
    outbound = notification.deliveries.exclude(kind=Channel.Kind.IN_APP)
    assert incident.first_sent_at == min(d.sent_at for d in outbound)
    sent_lines = list(TimelineEntry.objects.filter(incident=incident, kind="delivery.sent")
                      .values_list("text", flat=True))
    # one line per message that left the portal, one for the members' feed
    assert len(sent_lines) == outbound.count() + 1 and "In-app to 3 member(s)" in sent_lines[0]


def test_feed_rows_are_sent_with_the_incidents_commit(englewood, covering_org, roster):
    notification = incident_notify(district=englewood, organization=covering_org)  # no relay, no worker
    feed = notification.deliveries.filter(kind=Channel.Kind.IN_APP)
    assert {d.status for d in feed} == {Delivery.Status.SENT}
    assert {d.status for d in notification.deliveries.exclude(kind=Channel.Kind.IN_APP)} == {Delivery.Status.QUEUED}
    notification.refresh_from_db()
    assert notification.first_sent_at is None  # the clock waits for a message that leaves the portal


def test_an_organisation_with_only_the_feed_is_sent_at_commit(englewood, covering_org, worker):
    notification = incident_notify(district=englewood, organization=covering_org)
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.first_sent_at is not None


def test_a_notification_starts_its_escalation_timer_at_the_organisations_window(englewood, covering_org, roster):
    covering_org.ack_window_minutes = 7
    covering_org.save()
    notification = incident_notify(district=englewood, organization=covering_org)
    notification.refresh_from_db()
    assert notification.next_escalation_at - notification.created_at == pytest.approx(timedelta(minutes=7),
                                                                                       abs=timedelta(seconds=1))


def test_running_the_same_delivery_twice_sends_it_once(englewood, covering_org, roster):
    notification = incident_notify(district=englewood, organization=covering_org)  # wake not run: still queued
    sms_delivery = notification.deliveries.get(kind=Channel.Kind.SMS)
    assert delivery_attempt(delivery_id=sms_delivery.pk) == "sent"
    assert delivery_attempt(delivery_id=sms_delivery.pk) == "skipped"
    assert len(sms.outbox) == 1
    sms_delivery.refresh_from_db()
    assert sms_delivery.attempts == 1


@pytest.mark.parametrize("permanent", [False, True])
def test_a_late_failure_from_an_outlived_run_does_not_undo_another_runs_send(englewood, covering_org, roster,
                                                                             permanent):
    """Run A outlives the sending timeout; the relay gives the row back and run B sends it.
    A's failure, arriving last, must leave B's success alone and page no fallback."""
    notification = incident_notify(district=englewood, organization=covering_org)
    delivery = notification.deliveries.get(kind=Channel.Kind.SMS)
    assert delivery_attempt(delivery_id=delivery.pk) == "sent"  # run B
    before = Delivery.objects.count()

    outcome = delivery_failure_record(delivery=delivery, error=TransportError("read timed out", permanent=permanent))

    delivery.refresh_from_db()
    assert (outcome, delivery.status, delivery.last_error) == ("skipped", Delivery.Status.SENT, "")
    assert Delivery.objects.count() == before  # no fallback queued
    assert not mail.outbox  # no ops alert


def test_a_delivery_not_yet_due_is_not_sent_early(englewood, covering_org, roster):
    notification = incident_notify(district=englewood, organization=covering_org)
    delivery = notification.deliveries.get(kind=Channel.Kind.SMS)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED,
                                                   next_attempt_at=delivery.created_at + timedelta(minutes=5))
    assert delivery_attempt(delivery_id=delivery.pk) == "skipped"
    assert sms.outbox == []


def test_retry_delays_double_each_attempt_with_jitter(settings):
    settings.OUTBOX_RETRY_BASE_MS = 10_000
    for attempt, step in [(1, 10), (2, 20), (3, 40), (4, 80)]:
        delays = {retry_delay(attempt).total_seconds() for _ in range(20)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1  # jittered, so a burst of failures does not retry in lockstep


def test_a_correction_goes_to_the_same_recipients_as_an_update_of_the_incident(englewood, covering_org, roster,
                                                              django_capture_on_commit_callbacks):
    from django.db import transaction

    from notifications.outbox import deliveries_create
    from notifications.relay import outbox_wake

    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        update = deliveries_create(notification=notification, purpose=Delivery.Purpose.UPDATE)
        transaction.on_commit(outbox_wake)
    assert {(d.kind, d.target) for d in update if d.kind != "in_app"} == {("email", "dispatch@pe.example.org"),
                                                                          ("sms", "+13125550101")}
    assert {d.payload["message"] for d in update} == {"incident.updated"}
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Update"]
