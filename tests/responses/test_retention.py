"""Retention: the nightly purge clears victims' details and organisations' notes past their time,
with their history, and the monthly figures come out the same."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import Access, Event
from audit.services import access_record
from core.dates import month_of
from notifications.models import Victim
from responses.models import FollowUp, ResponseLog
from responses.retention import retention_purge
from responses.services import response_log
from responses.tasks import retention_purge_task
from reviews.selectors import Month, monthly_review

from .factories import make_notification

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: the demo runs the purge too
OLD_NOTE = "Talked with the brother about the car on 64th"
NEW_NOTE = "Family at the hospital tonight"


@pytest.fixture(autouse=True)
def retention(settings):
    settings.RETENTION_VICTIM_DAYS = 90
    settings.RETENTION_NOTES_DAYS = 60
    settings.RETENTION_ACCESS_DAYS = 30


def _logged(notification, worker, *, note: str, task: str, days_ago: int) -> ResponseLog:
    log, _ = response_log(notification=notification, actor=worker, source="web", client_key=uuid.uuid4(),
                          arrived_at=notification.incident.occurred_at + timedelta(minutes=30),
                          response_types=["scene", "family"], retaliation_risk="high",
                          referrals=[{"kind": "trauma", "count": 2}], people_engaged={"family": 2},
                          follow_up_on=timezone.localdate() + timedelta(days=1), follow_up_task=task, notes=note)
    then = timezone.now() - timedelta(days=days_ago)
    ResponseLog.objects.filter(pk=log.pk).update(created_at=then)
    FollowUp.objects.filter(response=log).update(created_at=then)
    return log


@pytest.fixture
def records(covering_org, worker):
    old = make_notification(covering_org, minutes_ago=120 * 24 * 60,
                            victims=(("20-29", "M", True), ("0-19", "F", False)))
    new = make_notification(covering_org, minutes_ago=60, victims=(("30-39", "F", False),))
    return {"old": old, "new": new,
            "old_log": _logged(old, worker, note=OLD_NOTE, task="Call the brother", days_ago=100),
            "new_log": _logged(new, worker, note=NEW_NOTE, task="Visit the family", days_ago=0)}


def _month_of(incident) -> Month:
    return Month(*month_of(incident.occurred_at))


def test_victims_details_past_retention_are_cleared_and_their_counts_stay(records):
    old, new = records["old"].incident, records["new"].incident
    retention_purge()
    assert set(Victim.objects.filter(incident=old).values_list("age_band", "sex", "fatal")) == {
        ("unknown", "unknown", True), ("unknown", "unknown", False)}
    assert list(Victim.objects.filter(incident=new).values_list("age_band", "sex")) == [("30-39", "F")]
    old.refresh_from_db()
    assert (old.victim_count, old.fatal_count) == (2, 1)


def test_the_purge_also_clears_the_victims_trigger_history(records):
    history = Victim.pgh_event_model.objects.filter(incident_id=records["old"].incident_id)
    # Triggers are PostgreSQL's: on the embedded SQLite default there is no history to clear.
    assert history.exclude(age_band="unknown").count() == (2 if connection.vendor == "postgresql" else 0)
    retention_purge()
    assert not history.exclude(age_band="unknown").exists()
    assert not history.exclude(sex="unknown").exists()
    assert Victim.pgh_event_model.objects.filter(incident_id=records["new"].incident_id, age_band="30-39").count() \
        == (1 if connection.vendor == "postgresql" else 0)


def test_notes_and_follow_up_texts_past_retention_are_emptied_and_the_coarse_facts_stay(records):
    retention_purge()
    old, new = ResponseLog.objects.get(pk=records["old_log"].pk), ResponseLog.objects.get(pk=records["new_log"].pk)
    assert (old.notes, new.notes) == ("", NEW_NOTE)
    assert (old.response_types, old.retaliation_risk, old.people_engaged) == (["scene", "family"], "high",
                                                                              {"family": 2})
    assert list(old.referrals.values_list("kind", "count")) == [("trauma", 2)]
    assert FollowUp.objects.get(response=old).task == ""
    assert FollowUp.objects.get(response=new).task == "Visit the family"


def test_the_monthly_figures_are_the_same_after_the_purge(records, englewood):
    month = _month_of(records["old"].incident)
    before = monthly_review(month=month, districts=[englewood])
    retention_purge()
    after = monthly_review(month=month, districts=[englewood])
    assert after == before
    seventh = next(d for d in after["districts"] if d["district"] == "007")
    assert (seventh["incidents"], seventh["victims"], seventh["fatal"]) == (1, 2, 1)


def test_the_dashboard_still_opens_on_a_purged_month(client, analyst, records):
    retention_purge()
    client.force_login(analyst)
    month = _month_of(records["old"].incident)
    response = client.get(reverse("reviews:dashboard") + f"?month={month.year}-{month.month:02d}")
    assert response.status_code == 200


def test_old_access_rows_go_and_the_purge_is_audited_once(records, cpd_user, englewood):
    access_record(actor=cpd_user, source="web", action="board.viewed", obj=englewood)
    Access.objects.update(last_at=timezone.now() - timedelta(days=31))
    access_record(actor=cpd_user, source="web", action="incident.viewed", obj=records["new"].incident)
    cleared = retention_purge_task()
    assert cleared == {"victims": 2, "victim_history": cleared["victim_history"], "response_notes": 1,
                       "follow_up_texts": 1, "access_rows": 1}
    assert list(Access.objects.values_list("action", flat=True)) == ["incident.viewed"]
    assert Event.objects.get(action="retention.purged").data["response_notes"] == 1
    # A second night finds nothing and writes nothing.
    assert not any(retention_purge().values())
    assert Event.objects.filter(action="retention.purged").count() == 1
    assert OLD_NOTE not in str(list(Event.objects.values_list("data", flat=True)))


def test_zero_days_keeps_everything(records, settings):
    settings.RETENTION_VICTIM_DAYS = settings.RETENTION_NOTES_DAYS = settings.RETENTION_ACCESS_DAYS = 0
    assert not any(retention_purge().values())
    assert ResponseLog.objects.get(pk=records["old_log"].pk).notes == OLD_NOTE


def test_beat_runs_the_purge_every_night():
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == "responses.tasks.retention_purge"
    assert retention_purge_task.name == entry["task"]
