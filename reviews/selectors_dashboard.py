"""Reads for the dashboards beyond the figures themselves (reviews.selectors and the summary
table's read-through, reviews.services.monthly_reviews): month arithmetic and the latest month
that has data.
"""

from django.db.models import Max

from core.dates import month_of, month_shift
from districts.models import Organization
from notifications.models import Incident, Notification

from .selectors import Month


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included (empty when first is after last)."""
    months, at = [], (first.year, first.month)
    while at <= (last.year, last.month):
        months.append(Month(*at))
        at = month_shift(*at, 1)
    return months


def shifted(month: Month, months: int) -> Month:
    return Month(*month_shift(month.year, month.month, months))


def latest_month_with_data(*, until: Month, districts=None, organization: Organization | None = None) -> Month | None:
    """The latest month up to and including `until` with an incident in scope (for an
    organisation: an incident it was notified of); None when there is none. One query."""
    end = until.bounds[1]
    if organization is not None:
        rows = Notification.objects.filter(kind=Notification.Kind.INCIDENT, organization=organization,
                                           incident__occurred_at__lt=end)
        if districts is not None:
            rows = rows.filter(incident__district__in=districts)
        latest = rows.aggregate(latest=Max("incident__occurred_at"))["latest"]
    else:
        rows = Incident.objects.filter(occurred_at__lt=end)
        if districts is not None:
            rows = rows.filter(district__in=districts)
        latest = rows.aggregate(latest=Max("occurred_at"))["latest"]
    return None if latest is None else Month(*month_of(latest))


def includes_simulated(figures) -> bool:
    """Whether any notification behind these months' figures (`monthly_review` results) is the
    demo's simulated history (notifications/history.py): its clocks were drawn, not recorded.
    Read from the figures themselves, so it costs no query."""
    return any(entry["pilot"].get("simulated") for entry in figures)
