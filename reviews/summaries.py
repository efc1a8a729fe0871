"""Reads of the monthly summary table (`MonthlySummary`): `monthly_review` computed once per
month and scope, so a year or multi-year view reads twelve rows instead of recomputing twelve
months. The writes, and the read-through `monthly_reviews`, are in services.py.

While a month is settling (`SETTLING`, 45 days after its end), a stored copy is used only while
it still matches what it was computed from: its fingerprint is the month's change stamps
(`FiguresStamp`, one per district, renewed by the services whenever an incident is entered or
corrected, a clock starts, a notification is acknowledged, tapped, answered or paged). One read
of a few rows gives every asked month's fingerprint; a month whose stamps moved (an incident
corrected, a late acknowledgement, a response logged weeks later) is recomputed on that read
and stored again. An older month is read as stored: the nightly task (`monthly_summaries_refresh`)
recomputes every month of the last two years, so a change to a settled month (a record CPD
updates months later) shows the next morning. The current month is always computed live.
"""

import hashlib
from datetime import date, datetime, timedelta

from districts.models import Organization
from notifications.models import FiguresStamp

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


def fingerprints(months: list[Month], *, districts=None) -> dict[Month, str]:
    """What each month's figures depend on, as a short hash: the change stamps of these districts
    (all of them when None) in that month (notifications.stamps), one indexed read for all
    months. An organisation's figures take every district's stamps: it may be notified anywhere,
    and each change it counts stamps its incident's district."""
    stamps = FiguresStamp.objects.filter(month__in=[first_day(m) for m in months])
    if districts is not None:
        stamps = stamps.filter(district__in=districts)
    parts: dict[date, list[str]] = {}
    for month, district_id, token in stamps.order_by("month", "district_id").values_list("month", "district_id",
                                                                                         "token"):
        parts.setdefault(month, []).append(f"{district_id}:{token}")
    return {month: hashlib.sha256("|".join(parts.get(first_day(month), ["empty"])).encode()).hexdigest()[:32]
            for month in months}


def stored_summaries(months: list[Month], *, scope: str) -> dict[date, MonthlySummary]:
    """The stored rows of these months for one scope, by the month's first day."""
    return {row.month: row for row in MonthlySummary.objects.filter(scope=scope,
                                                                    month__in=[first_day(m) for m in months])}
