"""Writes of the reviews app: the monthly summary table.

`monthly_reviews` is the read-through: stored figures where they still match their month
(summaries.fingerprints), computed and stored otherwise; the current month always computed.
`monthly_summaries_refresh` is the nightly task's work.
"""

from django.utils import timezone

from core.dates import month_of, month_shift
from districts.models import District, Organization

from .models import MonthlySummary
from .selectors import Month, monthly_review
from .summaries import fingerprints, first_day, scope_key, stored_summaries


def monthly_reviews(months: list[Month], *, districts=None, organization: Organization | None = None) -> list[dict]:
    """`monthly_review` for each month, in the order given: stored figures where they still
    match their month, computed (and stored) otherwise; the current month always computed."""
    if not months:
        return []
    scope = scope_key(districts=districts, organization=organization)
    prints = fingerprints(months, districts=districts, organization=organization)
    stored = stored_summaries(months, scope=scope)
    current = Month(*month_of(timezone.now()))
    out = []
    for month in months:
        row = stored.get(first_day(month))
        if month != current and row is not None and row.fingerprint == prints[month]:
            out.append(row.figures)
            continue
        figures = monthly_review(month=month, districts=districts, organization=organization)
        if month != current:
            monthly_summary_store(month=month, scope=scope, fingerprint=prints[month], figures=figures)
        out.append(figures)
    return out


def monthly_summary_store(*, month: Month, scope: str, fingerprint: str, figures: dict) -> MonthlySummary:
    """Write one month's figures for one scope (insert or replace)."""
    summary, _ = MonthlySummary.objects.update_or_create(
        scope=scope, month=first_day(month), defaults={"fingerprint": fingerprint, "figures": figures})
    return summary


def monthly_summaries_refresh(*, months: int = 24) -> int:
    """Recompute the last `months` closed months for every district, every organisation and all
    districts together (the nightly task). Returns how many rows were written."""
    current = Month(*month_of(timezone.now()))
    asked = [Month(*month_shift(current.year, current.month, -back)) for back in range(1, months + 1)]
    scopes = [{"districts": None}]
    scopes += [{"districts": [d]} for d in District.objects.defer("boundary").order_by("number")]
    scopes += [{"organization": o} for o in Organization.objects.order_by("name")]
    written = 0
    for scope in scopes:
        prints = fingerprints(asked, **scope)
        for month in asked:
            monthly_summary_store(month=month, scope=scope_key(**scope), fingerprint=prints[month],
                                  figures=monthly_review(month=month, **scope))
            written += 1
    return written
