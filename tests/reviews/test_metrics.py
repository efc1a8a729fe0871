"""The monthly figures on small hand-built months whose answers are known."""

import uuid
from datetime import datetime, timedelta

import pytest

from core.dates import CHICAGO
from districts.models import District
from notifications.models import Incident, Notification
from responses.models import Referral, ResponseLog
from reviews.selectors import Month, monthly_review, percentile, suppressed

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: the demo runs on it too


def shooting(district, occurred, *, victims=1, fatal=0, entered=5, sent=1, acknowledged=None, arrived=None,
             organization=None, responded=False, paged=0):
    """An incident with its clocks given in minutes after the previous one (None: never)."""
    incident = Incident.objects.create(occurred_at=occurred, block="6300 S HALSTED ST", district=district,
                                       victim_count=victims, fatal_count=fatal)
    clocks, at = {}, occurred
    for name, minutes in [("entered_at", entered), ("first_sent_at", sent), ("acknowledged_at", acknowledged),
                          ("arrived_at", arrived)]:
        at = at + timedelta(minutes=minutes) if minutes is not None and at is not None else None
        clocks[name] = at
    Incident.objects.filter(pk=incident.pk).update(**clocks)
    if organization is not None:
        notification = Notification.objects.create(incident=incident, organization=organization, responded=responded,
                                                   escalation_paged_level=paged)
        Notification.objects.filter(pk=notification.pk).update(
            created_at=clocks["entered_at"], first_sent_at=clocks["first_sent_at"],
            acknowledged_at=clocks["acknowledged_at"], arrived_at=clocks["arrived_at"])
    return incident


def entry(figures, number):
    return next(d for d in figures["districts"] if d["district"] == number)


def test_an_empty_month_has_zero_counts_and_no_rates(englewood):
    figures = monthly_review(month=Month(2026, 2), districts=[englewood])
    seventh = entry(figures, "007")
    assert (seventh["incidents"], seventh["victims"], seventh["notified"]) == (0, 0, 0)
    assert seventh["notification_coverage"] is None and seventh["acknowledged_rate"] is None
    assert seventh["minutes_occurred_to_entered"] == {"median": None, "p90": None}
    assert figures["organizations"] == []


def test_a_month_with_one_incident(englewood, covering_org):
    shooting(englewood, datetime(2026, 2, 10, 21, 0, tzinfo=CHICAGO), victims=2, fatal=1, entered=6, sent=1,
             acknowledged=4, arrived=12, organization=covering_org, responded=True)
    seventh = entry(monthly_review(month=Month(2026, 2), districts=[englewood]), "007")
    assert (seventh["incidents"], seventh["victims"], seventh["fatal"], seventh["notified"]) == (1, 2, 1, 1)
    assert seventh["notification_coverage"] == 1.0
    assert seventh["minutes_occurred_to_entered"] == {"median": 6.0, "p90": 6.0}
    assert seventh["minutes_entered_to_sent"] == {"median": 1.0, "p90": 1.0}
    assert seventh["minutes_sent_to_acknowledged"] == {"median": 4.0, "p90": 4.0}
    assert seventh["minutes_acknowledged_to_arrived"] == {"median": 12.0, "p90": 12.0}
    assert (seventh["acknowledged_rate"], seventh["responded_rate"]) == (1.0, 1.0)
    assert (seventh["late"], seventh["missed"], seventh["escalated"]) == (0, 0, 0)


def test_an_incident_at_23_59_on_the_last_day_belongs_to_that_month(englewood):
    shooting(englewood, datetime(2026, 3, 31, 23, 59, tzinfo=CHICAGO))
    assert entry(monthly_review(month=Month(2026, 3), districts=[englewood]), "007")["incidents"] == 1
    assert entry(monthly_review(month=Month(2026, 4), districts=[englewood]), "007")["incidents"] == 0


def test_the_dst_change_days_count_once_and_in_their_own_month(englewood):
    # 2026-03-08 02:00 local does not exist (clocks spring forward); 2026-11-01 01:30 happens twice.
    shooting(englewood, datetime(2026, 3, 8, 3, 30, tzinfo=CHICAGO))
    shooting(englewood, datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO, fold=0))
    shooting(englewood, datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO, fold=1))
    shooting(englewood, datetime(2026, 10, 31, 23, 30, tzinfo=CHICAGO))
    assert entry(monthly_review(month=Month(2026, 3), districts=[englewood]), "007")["incidents"] == 1
    assert entry(monthly_review(month=Month(2026, 11), districts=[englewood]), "007")["incidents"] == 2
    assert entry(monthly_review(month=Month(2026, 10), districts=[englewood]), "007")["incidents"] == 1


def test_medians_and_90th_percentiles_interpolate(englewood):
    for minutes in (2, 4, 6, 8, 30):
        shooting(englewood, datetime(2026, 5, 1, 12, minutes, tzinfo=CHICAGO), entered=minutes)
    seventh = entry(monthly_review(month=Month(2026, 5), districts=[englewood]), "007")
    assert seventh["minutes_occurred_to_entered"] == {"median": 6.0, "p90": 21.2}
    assert percentile([], 0.5) is None and percentile([7.0], 0.9) == 7.0


def test_late_missed_and_escalated_are_counted_per_organisation(englewood, covering_org, other_org):
    day = datetime(2026, 6, 3, 20, 0, tzinfo=CHICAGO)
    shooting(englewood, day, acknowledged=30, organization=covering_org, sent=0)  # window 10: late
    shooting(englewood, day + timedelta(hours=1), acknowledged=None, organization=covering_org, paged=2)  # missed
    shooting(englewood, day + timedelta(hours=2), acknowledged=3, organization=other_org)
    figures = monthly_review(month=Month(2026, 6), districts=[englewood])
    seventh = entry(figures, "007")
    assert (seventh["late"], seventh["missed"], seventh["escalated"]) == (1, 1, 1)
    by_name = {o["name"]: o for o in figures["organizations"]}
    assert (by_name[covering_org.name]["late"], by_name[covering_org.name]["missed"]) == (1, 1)
    assert by_name[other_org.name]["acknowledged_rate"] == 1.0
    assert figures["pilot"]["incidents"] == 3


def test_responses_by_type_and_referrals_are_counts_from_the_logs(englewood, covering_org, worker):
    incident = shooting(englewood, datetime(2026, 7, 4, 22, 0, tzinfo=CHICAGO), acknowledged=2,
                        organization=covering_org, responded=True)
    notification = incident.notifications.get()
    log = ResponseLog.objects.create(notification=notification, organization=covering_org, client_key=uuid.uuid4(),
                                     response_types=["scene", "family"], retaliation_risk="high",
                                     notes="never leaves the organisation")
    Referral.objects.create(response=log, kind=Referral.Kind.TRAUMA, count=2)
    seventh = entry(monthly_review(month=Month(2026, 7), districts=[englewood]), "007")
    assert seventh["responses_by_type"]["scene"] == 1 and seventh["responses_by_type"]["mediation"] == 0
    assert seventh["referrals_by_kind"]["trauma"] == 2
    assert seventh["retaliation_risk_flagged"] == 1
    assert "never leaves" not in str(seventh)


def test_a_district_with_incidents_and_the_pilot_districts_are_listed_without_asking(englewood):
    shooting(englewood, datetime(2026, 8, 1, 0, 5, tzinfo=CHICAGO))
    numbers = [d["district"] for d in monthly_review(month=Month(2026, 8))["districts"]]
    assert "007" in numbers and set(District.objects.filter(is_pilot=True).values_list("number", flat=True)) <= set(
        numbers)


def test_counts_of_one_to_three_leave_the_review_table_as_at_most_three(englewood):
    for hour in (1, 2):
        shooting(englewood, datetime(2026, 9, 2, hour, 0, tzinfo=CHICAGO), victims=3)
    published = suppressed(entry(monthly_review(month=Month(2026, 9), districts=[englewood]), "007"))
    assert published["incidents"] == "≤3" and published["victims"] == 6 and published["fatal"] == 0
    assert published["responses_by_type"]["scene"] == 0


@pytest.mark.parametrize("text", ["2026-13", "2026-3", "26-03", "march", "2026-03-01", ""])
def test_a_malformed_month_is_refused_with_a_message(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)
