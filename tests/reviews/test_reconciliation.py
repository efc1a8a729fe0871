"""Reconciliation: CPD's shootings of a month against what the portal was told."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from core.dates import CHICAGO
from notifications.models import Incident
from reviews.models import CpdIncident
from reviews.reconciliation import reconcile
from reviews.selectors import Month
from tests.conftest import ENGLEWOOD_POINT

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
MARCH = Month(2026, 3)


def cpd(district, rd, at, *, block="6300 S HALSTED ST", point=ENGLEWOOD_POINT):
    return CpdIncident.objects.create(rd_number=rd, occurred_at=at, block=block, district=district,
                                      latitude=point[0] if point else None, longitude=point[1] if point else None,
                                      victim_count=1, fatal_count=0, gunshot_count=1, changed_at=timezone.now())


def portal(district, at, *, rd=None, entered_after=8, sent=True, block="6300 S HALSTED ST", point=ENGLEWOOD_POINT):
    incident = Incident.objects.create(rd_number=rd, occurred_at=at, block=block, district=district,
                                       latitude=point[0] if point else None, longitude=point[1] if point else None,
                                       victim_count=1)
    entered = at + timedelta(minutes=entered_after)
    Incident.objects.filter(pk=incident.pk).update(entered_at=entered,
                                                   first_sent_at=entered + timedelta(minutes=1) if sent else None)
    return incident


def test_matches_by_rd_number_then_by_time_and_place(englewood):
    t = datetime(2026, 3, 10, 21, 0, tzinfo=CHICAGO)
    cpd(englewood, "JH100001", t)
    portal(englewood, t + timedelta(minutes=3), rd="JH100001", entered_after=6)
    cpd(englewood, "JH100002", t + timedelta(days=2))  # entered without an RD number, 10 minutes off
    portal(englewood, t + timedelta(days=2, minutes=10), entered_after=12, point=(41.7800, -87.6450))
    cpd(englewood, "JH100003", t + timedelta(days=5))  # never entered
    result = reconcile(month=MARCH, district=englewood)
    assert (result.cpd_shootings, result.matched, result.coverage) == (3, 2, 0.667)
    assert [s.rd_number for s in result.never_entered] == ["JH100003"]
    assert result.entry_lag_minutes == {"median": 15.5, "p90": 20.7}  # 9 and 22 minutes after CPD's time


def test_a_far_away_or_late_portal_incident_is_not_a_match(englewood):
    t = datetime(2026, 3, 12, 1, 0, tzinfo=CHICAGO)
    cpd(englewood, "JH200001", t)
    portal(englewood, t + timedelta(minutes=5), point=(41.7900, -87.6446))  # about 1.2 km north
    portal(englewood, t + timedelta(hours=3))  # the same block, three hours later
    result = reconcile(month=MARCH, district=englewood)
    assert result.matched == 0 and len(result.portal_only) == 2


def test_a_matched_incident_nobody_was_sent_is_flagged(englewood):
    t = datetime(2026, 3, 20, 18, 0, tzinfo=CHICAGO)
    cpd(englewood, "JH300001", t, point=None)
    entered = portal(englewood, t, point=None, sent=False)
    result = reconcile(month=MARCH, district=englewood)
    assert result.matched == 1 and result.never_notified == [entered]


def test_an_empty_month_has_no_coverage(englewood):
    result = reconcile(month=MARCH, district=englewood)
    assert (result.cpd_shootings, result.coverage, result.entry_lag_minutes["median"]) == (0, None, None)


def test_the_commanders_dashboard_shows_cpds_record_against_the_portal(client, commander, englewood):
    t = datetime(2026, 3, 10, 21, 0, tzinfo=CHICAGO)
    for number in range(5):
        cpd(englewood, f"JH40000{number}", t + timedelta(days=number))
        if number:
            portal(englewood, t + timedelta(days=number), rd=f"JH40000{number}")
    client.force_login(commander)
    html = client.get("/dashboard/", {"month": "2026-03"}).content.decode()
    assert "Reconciliation with CPD" in html and "80%" in html  # 4 of CPD's 5 shootings were entered
