"""The monthly summary table: stored months are used while they still match, and never stale."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.dates import CHICAGO, month_of, month_shift
from districts.models import District
from notifications.models import Notification
from notifications.services import incident_correct
from notifications.state import notification_acknowledge
from reviews.models import MonthlySummary
from reviews.selectors import Month, monthly_review
from reviews.services import monthly_reviews, monthly_summaries_refresh
from tests.notifications.test_correct import AUBURN_GRESHAM_POINT
from tests.reviews.test_metrics import shooting

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: the demo runs on it too
YEAR = [Month(2025, month) for month in range(1, 13)]


@pytest.fixture
def year_of_shootings(englewood, covering_org):
    for month in YEAR:
        for day in (2, 12):
            shooting(englewood, datetime(month.year, month.month, day, 22, 0, tzinfo=CHICAGO),
                     acknowledged=None if day == 12 else 5, organization=covering_org)


def test_a_year_is_computed_once_then_read_from_the_table(englewood, year_of_shootings):
    first = monthly_reviews(YEAR, districts=[englewood])
    assert first == [monthly_review(month=m, districts=[englewood]) for m in YEAR]
    assert MonthlySummary.objects.filter(scope="district:007").count() == 12
    with CaptureQueriesContext(connection) as queries:
        again = monthly_reviews(YEAR, districts=[englewood])
    assert again == first
    assert len(queries) == 1  # settled months: one read, whatever the months hold


def test_a_late_acknowledgement_in_a_settling_month_is_read_at_once(englewood, covering_org):
    last = Month(*month_shift(*month_of(timezone.now()), -1))  # still settling
    shooting(englewood, last.bounds[0] + timedelta(days=2, hours=3), acknowledged=None, organization=covering_org)
    assert monthly_reviews([last], districts=[englewood])[0]["districts"][0]["missed"] == 1
    missed = Notification.objects.get(incident__district=englewood, acknowledged_at__isnull=True)
    notification_acknowledge(notification=missed, actor=None, via="link", at=missed.created_at + timedelta(minutes=50))
    again = monthly_reviews([last], districts=[englewood])[0]
    assert (again["districts"][0]["missed"], again["districts"][0]["late"]) == (0, 1)


def test_a_correction_that_moves_an_incident_refreshes_both_districts(englewood, covering_org, admin_user):
    last = Month(*month_shift(*month_of(timezone.now()), -1))
    gresham = District.objects.get(number="006")
    moved = shooting(englewood, last.bounds[0] + timedelta(days=1, hours=3), acknowledged=5,
                     organization=covering_org)

    def counts():
        return [monthly_reviews([last], districts=[d])[0]["pilot"]["incidents"] for d in (englewood, gresham)]

    assert counts() == [1, 0]
    incident_correct(incident=moved, actor=admin_user, source="web", block="1400 W 79th St",
                     latitude=AUBURN_GRESHAM_POINT[0], longitude=AUBURN_GRESHAM_POINT[1],
                     victims=[{"age_band": "20-29", "sex": "M", "fatal": False}])
    assert counts() == [0, 1]


def test_a_settling_month_is_checked_by_its_change_stamps_not_a_recount(englewood, covering_org):
    last = Month(*month_shift(*month_of(timezone.now()), -1))
    shooting(englewood, last.bounds[0] + timedelta(days=2, hours=3), acknowledged=5, organization=covering_org)
    monthly_reviews([last], districts=[englewood])
    with CaptureQueriesContext(connection) as queries:
        monthly_reviews([last], districts=[englewood])
    assert len(queries) == 2  # the stored row and the month's stamps


def test_a_settled_month_is_read_as_stored_until_the_nightly_refresh(englewood, covering_org, year_of_shootings):
    monthly_reviews(YEAR, districts=[englewood])
    missed = Notification.objects.filter(acknowledged_at__isnull=True, incident__occurred_at__month=5).first()
    Notification.objects.filter(pk=missed.pk).update(acknowledged_at=missed.created_at + timedelta(minutes=50))
    with CaptureQueriesContext(connection) as queries:
        may = monthly_reviews([Month(2025, 5)], districts=[englewood])[0]
    assert len(queries) == 1 and may["districts"][0]["missed"] == 1  # settled: no fingerprint, no recount
    now = Month(*month_of(timezone.now()))
    monthly_summaries_refresh(months=(now.year - 2025) * 12 + now.month - 5)  # the night, reaching back to May 2025
    may = monthly_reviews([Month(2025, 5)], districts=[englewood])[0]
    assert may["districts"][0]["missed"] == 0 and may == monthly_review(month=Month(2025, 5), districts=[englewood])


def test_the_current_month_is_always_computed_and_never_stored(englewood):
    now = Month(*month_of(timezone.now()))
    assert monthly_reviews([now], districts=[englewood])[0]["districts"][0]["incidents"] == 0
    shooting(englewood, timezone.now() - timedelta(minutes=30))
    assert monthly_reviews([now], districts=[englewood])[0]["districts"][0]["incidents"] == 1
    assert not MonthlySummary.objects.exists()


def test_the_nightly_refresh_writes_every_scope_for_each_closed_month(englewood, covering_org):
    written = monthly_summaries_refresh(months=2)
    scopes = set(MonthlySummary.objects.values_list("scope", flat=True))
    assert {"all", "district:007", f"organization:{covering_org.code}"} <= scopes
    assert written == MonthlySummary.objects.count() and written % 2 == 0
