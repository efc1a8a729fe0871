import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import Event
from notifications.models import Delivery, Notification, TimelineEntry
from notifications.state import notification_status_correct, notification_status_set
from notifications.summary import record_summary_view
from responses.models import FollowUp, Referral, ResponseLog
from responses.services import followup_reminders_send, response_log

from .factories import make_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def notification(covering_org):
    return make_notification(covering_org, minutes_ago=40)


def log(notification, actor, **kwargs):
    kwargs.setdefault("client_key", uuid.uuid4())
    return response_log(notification=notification, actor=actor, source="phone", **kwargs)


def test_a_response_with_referrals_updates_the_agreed_summary(notification, worker):
    arrived = notification.incident.occurred_at + timedelta(minutes=15)
    response, created = log(notification, worker, arrived_at=arrived, response_types=["hospital", "family"],
                            retaliation_risk="medium", referrals=[{"kind": "trauma", "count": 2}],
                            people_engaged={"family": 3}, notes="Mother asked for help with the funeral.")
    assert created
    assert {(r.kind, r.count) for r in response.referrals.all()} == {("trauma", 2)}
    notification.refresh_from_db()
    assert notification.responded
    assert notification.arrived_at == arrived
    assert notification.response_category == "hospital"
    assert notification.incident.__class__.objects.get(pk=notification.incident_id).arrived_at == arrived


def test_the_same_client_key_returns_the_first_response_and_saves_nothing_new(notification, worker):
    key = uuid.uuid4()
    first, created = log(notification, worker, client_key=key, referrals=[{"kind": "legal", "count": 1}])
    again, created_again = log(notification, worker, client_key=key, referrals=[{"kind": "legal", "count": 5}])
    assert created and not created_again
    assert again.pk == first.pk
    assert ResponseLog.objects.count() == 1
    assert Referral.objects.get().count == 1


def test_consent_withheld_keeps_arrival_and_category_off_the_summary(notification, worker, covering_org):
    covering_org.share_arrival = covering_org.share_response_category = False
    covering_org.save()
    log(notification, worker, arrived_at=timezone.now() - timedelta(minutes=5), response_types=["scene"])
    notification.refresh_from_db()
    assert notification.responded
    assert notification.arrived_at is None
    assert notification.response_category == ""


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"arrived_at_minutes": -5}, "arrived_at", "before the shooting"),
    ({"arrived_at_minutes": 60 * 24}, "arrived_at", "in the future"),
    ({"follow_up_on_days": -1}, "follow_up_on", "in the past"),
    ({"referrals": [{"kind": "housing", "count": -1}]}, "referrals", "cannot be negative"),
    ({"referrals": [{"kind": "bail", "count": 1}]}, "referrals", "Unknown kind"),
    ({"people_engaged": {"family": -2}}, "people_engaged", "cannot be negative"),
    ({"notes": "x" * 2001}, "notes", "limited to 2000"),
    ({"response_types": ["arrest"]}, "response_types", "Unknown response type"),
    ({"retaliation_risk": "extreme"}, "retaliation_risk", "Choose none"),
    ({"client_key": "not-a-uuid"}, "client_key", "malformed"),
])
def test_bad_input_gets_a_message_on_its_field_and_nothing_is_saved(notification, worker, kwargs, field, message):
    occurred = notification.incident.occurred_at
    if "arrived_at_minutes" in kwargs:
        kwargs["arrived_at"] = occurred + timedelta(minutes=kwargs.pop("arrived_at_minutes"))
    if "follow_up_on_days" in kwargs:
        kwargs["follow_up_on"] = timezone.localdate() + timedelta(days=kwargs.pop("follow_up_on_days"))
        kwargs["follow_up_task"] = "Call the family"
    with pytest.raises(ValidationError) as error:
        log(notification, worker, **kwargs)
    assert message in " ".join(error.value.message_dict[field])
    assert not ResponseLog.objects.exists() and not Referral.objects.exists() and not FollowUp.objects.exists()
    notification.refresh_from_db()
    assert not notification.responded


def test_a_worker_cannot_log_a_response_to_another_organisations_notification(notification, other_worker):
    with pytest.raises(ValidationError) as error:
        log(notification, other_worker, notes="should not land")
    assert "notification" in error.value.message_dict
    assert not ResponseLog.objects.exists()


def test_a_replayed_key_from_another_organisation_is_refused(notification, worker, other_worker, other_org):
    key = uuid.uuid4()
    log(notification, worker, client_key=key)
    theirs = make_notification(other_org, district="015", beat="1512", community_area=25, block="800 N CENTRAL AVE")
    with pytest.raises(ValidationError) as error:
        log(theirs, other_worker, client_key=key)
    assert "client_key" in error.value.message_dict


def test_a_follow_up_date_makes_a_task_for_the_worker_and_reminds_once(notification, worker):
    tomorrow = timezone.localdate() + timedelta(days=1)
    log(notification, worker, follow_up_on=tomorrow, follow_up_task="Visit the family")
    task = FollowUp.objects.get()
    assert (task.assigned_to, task.task, task.due_on) == (worker, "Visit the family", tomorrow)
    assert followup_reminders_send() == 0  # not due yet
    assert followup_reminders_send(today=tomorrow) == 1
    assert followup_reminders_send(today=tomorrow) == 0
    reminders = Delivery.objects.filter(purpose="reminder", payload__followup=str(task.code))
    reminder = reminders.get()
    assert (reminder.kind, reminder.recipient, reminder.status) == ("in_app", worker, "sent")
    assert reminder.notification is None
    assert "Visit the family" not in str(list(reminders.values_list("payload", flat=True)))


def test_a_status_tap_acknowledges_first_and_on_scene_sets_arrival(notification, worker):
    notification_status_set(notification=notification, actor=worker, source="phone", status="on_scene")
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None
    assert notification.status == "on_scene"
    assert notification.arrived_at == notification.status_at
    kinds = list(TimelineEntry.objects.filter(notification=notification).values_list("kind", flat=True))
    assert kinds == ["notification.acknowledged", "notification.on_scene"]


def test_tapping_the_same_status_twice_records_one_tap(notification, worker):
    for _ in range(2):
        notification_status_set(notification=notification, actor=worker, source="phone", status="en_route")
    assert TimelineEntry.objects.filter(notification=notification, kind="notification.en_route").count() == 1


def test_unable_to_respond_needs_a_reason(notification, worker):
    with pytest.raises(ValidationError) as error:
        notification_status_set(notification=notification, actor=worker, source="phone", status="unable")
    assert "reason" in error.value.message_dict
    notification_status_set(notification=notification, actor=worker, source="phone", status="unable",
                            reason="scene_held")
    notification.refresh_from_db()
    assert (notification.status, notification.unable_reason) == ("unable", "scene_held")


def test_a_corrected_tap_time_moves_the_arrival_and_leaves_an_audit_trail(notification, worker):
    notification_status_set(notification=notification, actor=worker, source="phone", status="on_scene")
    earlier = notification.incident.occurred_at + timedelta(minutes=12)
    notification_status_correct(notification=notification, actor=worker, source="phone", status="on_scene",
                                at=earlier)
    notification.refresh_from_db()
    assert notification.arrived_at == earlier == notification.status_at
    event = Event.objects.get(action="notification.time_corrected")
    assert event.data["to"] == earlier.isoformat()
    with pytest.raises(ValidationError):
        notification_status_correct(notification=notification, actor=worker, source="phone", status="on_scene",
                                    at=notification.incident.occurred_at - timedelta(minutes=1))


def test_summary_views_are_recorded_for_cpd_and_not_for_the_organisation(notification, cpd_user, worker):
    assert record_summary_view(user=cpd_user, notifications=[notification]) == 1
    assert record_summary_view(user=worker, notifications=[notification]) == 0
    event = Event.objects.get(action="summary.viewed")
    assert event.actor == cpd_user
    assert event.data["organization"] == str(notification.organization.code)


def test_nothing_private_reaches_the_notification_or_the_audit_trail(notification, worker):
    secret = "Cousin named Dre is planning to retaliate"
    log(notification, worker, notes=secret, retaliation_risk="high", people_engaged={"peers": 4})
    stored = Notification.objects.filter(pk=notification.pk).values().get()
    assert secret not in str(stored) and "high" not in str(stored)
    assert secret not in str(list(Event.objects.values_list("data", flat=True)))


def test_the_reminder_task_is_on_the_beat_schedule_and_reminds_due_follow_ups(notification, worker, settings):
    from responses.tasks import followup_reminders

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "responses.tasks.followup_reminders")
    assert entry["schedule"] > 0
    FollowUp.objects.create(organization=notification.organization, notification=notification, task="Call",
                            due_on=timezone.localdate(), assigned_to=worker)
    assert followup_reminders.delay().get() == 1
    assert followup_reminders.delay().get() == 0


def test_the_demo_responses_are_logged_once(notification, covering_org, reference_data):
    import io

    from districts import demo as districts_demo
    from responses import demo

    districts_demo.seed(io.StringIO())  # the seed's own accounts: the demo acts through them only
    user = districts_demo.demo_users()["outreach.worker"]
    notification_status_set(notification=notification, actor=user, source="phone", status="on_scene")
    for _ in range(2):
        demo.seed(io.StringIO())
    assert ResponseLog.objects.filter(notification=notification).count() == 1
