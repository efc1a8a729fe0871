"""Reads of the monthly summary table (`MonthlySummary`): `monthly_review` computed once per
month and scope, so a year or multi-year view reads twelve rows instead of recomputing twelve
months. The writes, and the read-through `monthly_reviews`, are in services.py.

While a month is settling (`SETTLING`, 45 days after its end), a stored copy is used only while
it still matches what it was computed from: its fingerprint
summarises the month's incidents (count, latest change), notifications (acknowledgements,
arrivals, responses, pages) and response logs (count, latest). Three grouped aggregate queries
give every asked month's fingerprint; a month whose fingerprint moved (an incident corrected,
a late acknowledgement, a response logged weeks later) is recomputed on that read and stored
again. An older month is read as stored: the nightly task (`monthly_summaries_refresh`)
recomputes every month of the last two years, so a change to a settled month (a record CPD
updates months later) shows the next morning. The current month is always computed live.
"""

import hashlib
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth

from core.dates import CHICAGO
from districts.models import Organization
from notifications.models import Incident, Notification
from responses.models import ResponseLog

from .models import MonthlySummary
from .selectors import Month

SETTLING = timedelta(days=45)


def settled(month: Month, now: datetime) -> bool:
    """Whether a month ended long enough ago that its stored figures are trusted until the night."""
    return month.bounds[1] + SETTLING <= now


def scope_key(*, districts=None, organization: Organization | None = None) -> str:
    if organization is not None:
        return f"organization:{organization.code}" + (f"@{_numbers(districts)}" if districts is not None else "")
    return "all" if districts is None else f"district:{_numbers(districts)}"


def _numbers(districts) -> str:
    return ",".join(sorted(d.number for d in districts))


def first_day(month: Month) -> date:
    return date(month.year, month.month, 1)


def fingerprints(months: list[Month], *, districts=None, organization=None) -> dict[Month, str]:
    """What each month's figures depend on, as a short hash; three queries for all months."""
    start, end = min(months, key=first_day).bounds[0], max(months, key=first_day).bounds[1]
    incidents = Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    if districts is not None:
        incidents = incidents.filter(district__in=districts)
    # Joined on the incident's time (its index), not `incident__in` a subquery: PostgreSQL then
    # walks the month's incidents to their notifications instead of scanning every notification.
    notifications = Notification.objects.filter(kind=Notification.Kind.INCIDENT, incident__occurred_at__gte=start,
                                                incident__occurred_at__lt=end)
    if districts is not None:
        notifications = notifications.filter(incident__district__in=districts)
    if organization is not None:
        notifications = notifications.filter(organization=organization)
    parts: dict[date, list] = {}

    def add(rows, *names):
        for row in rows:
            key = row["month"].date() if hasattr(row["month"], "date") else row["month"]
            parts.setdefault(key, []).extend(str(row[name]) for name in names)

    add(incidents.annotate(month=TruncMonth("occurred_at", tzinfo=CHICAGO)).values("month")
        .annotate(n=Count("id"), changed=Max("updated_at"), sent=Max("first_sent_at")), "n", "changed", "sent")
    add(notifications.annotate(month=TruncMonth("incident__occurred_at", tzinfo=CHICAGO)).values("month")
        .annotate(n=Count("id"), status=Max("status_at"), ack=Max("acknowledged_at"), arrived=Max("arrived_at"),
                  responded=Count("id", filter=Q(responded=True)), paged=Sum("escalation_paged_level")),
        "n", "status", "ack", "arrived", "responded", "paged")
    logs = ResponseLog.objects.filter(notification__kind=Notification.Kind.INCIDENT,
                                      notification__incident__occurred_at__gte=start,
                                      notification__incident__occurred_at__lt=end)
    if districts is not None:
        logs = logs.filter(notification__incident__district__in=districts)
    if organization is not None:
        logs = logs.filter(notification__organization=organization)
    add(logs.annotate(month=TruncMonth("notification__incident__occurred_at", tzinfo=CHICAGO)).values("month")
        .annotate(n=Count("id"), latest=Max("created_at")), "n", "latest")
    return {month: hashlib.sha256("|".join(parts.get(first_day(month), ["empty"])).encode()).hexdigest()[:32]
            for month in months}


def stored_summaries(months: list[Month], *, scope: str) -> dict[date, MonthlySummary]:
    """The stored rows of these months for one scope, by the month's first day."""
    return {row.month: row for row in MonthlySummary.objects.filter(scope=scope,
                                                                    month__in=[first_day(m) for m in months])}
