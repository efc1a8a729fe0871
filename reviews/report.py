"""The monthly report: one month's review table for a district, several districts or the whole
city, as a page and as a PDF, built from the same context.

What it holds: the headline figures with the change from last month and from the same month
last year; twelve-month trend charts (reviews.charts, the dashboard's SVG, inline so WeasyPrint
draws them without JavaScript); the districts' and the organisations' figures; reconciliation
with CPD's record; the review's themes and action items when the month has a review; and a note
when demo history is among the figures.

The report leaves the review table, so every count of 1 to 3 is "≤3" (reviews.selectors.
suppressed), and a change that would give a small count away is not computed. It reads only
figures (counts, rates, minutes) from reviews.selectors, never an organisation's own record.

This module reads and renders; it never writes, and it does not import reviews.services (which
publishes through it): the caller passes the figures, read through the summary table.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.dates import month_of
from core.imports import imported
from core.suppression import is_small, suppress
from districts.models import District

from .charts import format_value, line_chart
from .models import ActionItem, Review, ReviewDistrict
from .reconciliation import reconcile
from .selectors import Month, suppressed
from .selectors_dashboard import includes_simulated, month_range, shifted
from .summaries import first_day, scope_key

TREND_MONTHS = 12


class ReportError(ValueError):
    """A report that cannot be built as asked (a month in the future); the message says why."""


# --- the figures the report shows --------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    key: str
    kind: str  # "count", "rate" or "minutes"

    @property
    def label(self) -> str:
        return str(_labels()[self.key])

    def raw(self, entry: dict | None):
        if entry is None:
            return None
        value = entry.get(self.key)
        return value["median"] if self.kind == "minutes" and value is not None else value

    def shown(self, entry: dict | None) -> str:
        value = self.raw(entry)
        if self.kind == "rate":
            return format_value(None if value is None else round(value * 100, 1), "%")
        if self.kind == "minutes":
            return format_value(value, _("min"))
        # A count already suppressed ("≤3", reviews.selectors.suppressed) is shown as it is.
        return "—" if value is None else str(value if isinstance(value, str) else suppress(value))


def _labels() -> dict[str, str]:
    median = _("Median minutes, %(from)s → %(to)s")
    return {
        "incidents": _("Incidents"), "victims": _("Victims"), "fatal": _("Fatal"), "notified": _("Notified"),
        "notifications": _("Notifications"),
        "notification_coverage": _("Notification coverage"),
        "minutes_occurred_to_entered": median % {"from": _("occurred"), "to": _("entered")},
        "minutes_entered_to_sent": median % {"from": _("entered"), "to": _("sent")},
        "minutes_sent_to_acknowledged": median % {"from": _("sent"), "to": _("acknowledged")},
        "minutes_acknowledged_to_arrived": median % {"from": _("acknowledged"), "to": _("arrived")},
        "acknowledged_rate": _("Acknowledged"), "responded_rate": _("Responded"),
        "late": _("Acknowledged late"), "missed": _("Never acknowledged"), "escalated": _("Escalated"),
    }


HEADLINE = [Figure("incidents", "count"), Figure("victims", "count"), Figure("fatal", "count"),
            Figure("notification_coverage", "rate"), Figure("minutes_occurred_to_entered", "minutes"),
            Figure("minutes_entered_to_sent", "minutes"),
            Figure("minutes_sent_to_acknowledged", "minutes"), Figure("acknowledged_rate", "rate"),
            Figure("responded_rate", "rate"), Figure("late", "count"), Figure("missed", "count"),
            Figure("escalated", "count")]
TRENDS = [Figure("incidents", "count"), Figure("notification_coverage", "rate"),
          Figure("minutes_entered_to_sent", "minutes"), Figure("minutes_sent_to_acknowledged", "minutes"),
          Figure("acknowledged_rate", "rate"), Figure("responded_rate", "rate")]
DISTRICT_COLUMNS = [Figure("incidents", "count"), Figure("victims", "count"), Figure("fatal", "count"),
                    Figure("notification_coverage", "rate"), Figure("minutes_entered_to_sent", "minutes"),
                    Figure("minutes_sent_to_acknowledged", "minutes"), Figure("acknowledged_rate", "rate"),
                    Figure("responded_rate", "rate"), Figure("late", "count"), Figure("missed", "count")]
ORGANIZATION_COLUMNS = [Figure("notifications", "count"), Figure("minutes_sent_to_acknowledged", "minutes"),
                        Figure("minutes_acknowledged_to_arrived", "minutes"), Figure("acknowledged_rate", "rate"),
                        Figure("responded_rate", "rate"), Figure("late", "count"), Figure("missed", "count"),
                        Figure("escalated", "count")]


# --- months and scope --------------------------------------------------------------------------

def current_month() -> Month:
    return Month(*month_of(timezone.now()))


def check_month(month: Month) -> None:
    """ReportError for a month after the current one (its figures do not exist yet)."""
    now = current_month()
    if (month.year, month.month) > (now.year, now.month):
        raise ReportError(_("%(value)s is in the future: choose %(now)s or earlier.") % {
            "value": month.label, "now": now.label})


def months_needed(month: Month) -> list[Month]:
    """The months whose figures the report reads: the twelve of the trend and a year before."""
    return [shifted(month, -TREND_MONTHS), *month_range(shifted(month, -(TREND_MONTHS - 1)), month)]


def month_name(month: Month) -> str:
    """"March 2026" in the active language."""
    return date_format(date(month.year, month.month, 1), "YEAR_MONTH_FORMAT")


def _short_name(month: Month, *, first: bool) -> str:
    return date_format(date(month.year, month.month, 1), "M") + (f"\n{month.year}" if first or month.month == 1
                                                                  else "")


def district_label(district: District) -> str:
    return _("District %(number)s (%(name)s)") % {"number": int(district.number), "name": district.name}


def scope_label(districts: list[District] | None) -> str:
    if districts is None:
        return _("Every district")
    return ", ".join(district_label(d) for d in districts)


def report_scope(districts: list[District] | None) -> str:
    """The key a published version is filed under: "all", "district:007", "district:007,011"."""
    return scope_key(districts=districts)


# --- the pieces --------------------------------------------------------------------------------

def _entry(figures: dict | None, districts: list[District] | None) -> dict | None:
    """The figure set the headline follows: one district's, or the total of those asked for."""
    if figures is None:
        return None
    if districts is not None and len(districts) == 1:
        return next((d for d in figures["districts"] if d["district"] == districts[0].number), None)
    return figures["pilot"]


def _change(figure: Figure, now: dict | None, before: dict | None, *, against: str) -> str:
    """How the figure moved, in words; for a count where either side is 1 to 3 the earlier
    month's value is given instead (suppressed), as a difference would give the count away."""
    current, previous = figure.raw(now), figure.raw(before)
    if current is None or previous is None:
        return _("No figure for %(month)s to compare") % {"month": against}
    if figure.kind == "count" and (is_small(current) or is_small(previous)):
        return _("%(month)s: %(value)s") % {"month": against, "value": suppress(previous)}
    if figure.kind == "rate":
        difference, unit = round((current - previous) * 100, 1), _("points")
    else:
        difference, unit = round(current - previous, 1), (_("min") if figure.kind == "minutes" else "")
    if difference == 0:
        return _("Same as %(month)s") % {"month": against}
    amount = format_value(abs(difference), unit)
    template = _("+%(amount)s from %(month)s") if difference > 0 else _("−%(amount)s from %(month)s")
    return template % {"amount": amount, "month": against}


def _headline(by_month: dict, month: Month, districts) -> list[dict]:
    now = _entry(by_month.get(month.label), districts)
    before = _entry(by_month.get(shifted(month, -1).label), districts)
    year_ago = _entry(by_month.get(shifted(month, -12).label), districts)
    return [{"key": figure.key, "label": figure.label, "value": figure.shown(now),
             "changes": [_change(figure, now, before, against=month_name(shifted(month, -1))),
                         _change(figure, now, year_ago, against=month_name(shifted(month, -12)))]}
            for figure in HEADLINE]


def _charts(by_month: dict, month: Month, districts) -> list[dict]:
    months = month_range(shifted(month, -(TREND_MONTHS - 1)), month)
    charts = []
    for figure in TRENDS:
        points, rows = [], []
        unit = "%" if figure.kind == "rate" else (_("min") if figure.kind == "minutes" else "")
        for index, at in enumerate(months):
            value = figure.raw(_entry(by_month.get(at.label), districts))
            if figure.kind == "rate" and value is not None:
                value = round(value * 100, 1)
            elif figure.kind == "count":
                value = suppress(value)
            points.append((_short_name(at, first=index == 0), value))
            rows.append((month_name(at), value if isinstance(value, str) else format_value(value, unit)))
        description = _("%(figure)s, month by month from %(first)s to %(last)s.") % {
            "figure": figure.label, "first": month_name(months[0]), "last": month_name(months[-1])}
        charts.append({"id": f"report-{figure.key}", "title": figure.label, "rows": rows,
                       "svg": line_chart(points, title=figure.label, unit=unit, description=description,
                                         y_max=100 if figure.kind == "rate" else None,
                                         chart_id=f"report-{figure.key}")})
    return charts


def _table(entries: list[dict], columns: list[Figure], *, name) -> list[dict]:
    return [{"name": name(entry), "cells": [column.shown(suppressed(entry)) for column in columns]}
            for entry in entries]


def reconciliation_rows(month: Month, districts: list[District]) -> list[dict]:
    """CPD's record against the portal's, one row per district; counts suppressed."""
    rows = []
    for district in districts:
        result = reconcile(month=month, district=district)
        rows.append({
            "name": district_label(district), "cpd_shootings": suppress(result.cpd_shootings),
            "matched": suppress(result.matched),
            "coverage": format_value(None if result.coverage is None else round(result.coverage * 100, 1), "%"),
            "never_entered": suppress(len(result.never_entered)),
            "never_notified": suppress(len(result.never_notified)),
            "lag_median": format_value(result.entry_lag_minutes["median"], _("min")),
            "lag_p90": format_value(result.entry_lag_minutes["p90"], _("min")),
            "has_record": result.cpd_shootings > 0,
        })
    return rows


def _reviews(month: Month, districts: list[District] | None) -> list[Review]:
    """The month's reviews covering any district of the scope (every review of the month citywide)."""
    reviews = Review.objects.filter(month=first_day(month))
    if districts is not None:
        reviews = reviews.filter(review_districts__district__in=districts).distinct()
    return list(reviews.prefetch_related("review_districts__district", "themes").order_by("created_at"))


def _action_items(month: Month, districts: list[District] | None) -> tuple[list[ActionItem], list[ActionItem]]:
    """(open, closed): the items still open raised in this month's or an earlier review of the
    scope's districts, and those closed since the month began."""
    start = month.bounds[0]
    items = ActionItem.objects.filter(review__month__lte=first_day(month)).select_related("owner_user", "review")
    if districts is not None:
        overlapping = ReviewDistrict.objects.filter(review=OuterRef("review_id"), district__in=districts)
        items = items.filter(Exists(overlapping))
    items = items.filter(Q(status__in=ActionItem.OPEN_STATUSES) | Q(closed_at__gte=start))
    items = list(items.order_by("review__month", "created_at", "id"))
    return [i for i in items if i.is_open], [i for i in items if not i.is_open]


def _review_part(month: Month, districts) -> dict | None:
    reviews = _reviews(month, districts)
    if not reviews:
        return None
    open_items, closed_items = _action_items(month, districts)
    return {
        "reviews": [{"districts": ", ".join(district_label(row.district) for row in review.review_districts.all()),
                     "status": review.get_status_display(), "meeting_at": review.meeting_at,
                     "themes": [{"label": theme.label, "note": theme.note} for theme in review.themes.all()]}
                    for review in reviews],
        "open_items": open_items, "closed_items": closed_items,
        "closed_since": date_format(first_day(month), "DATE_FORMAT"),
    }


# --- the report --------------------------------------------------------------------------------

def report_context(*, month: Month, districts: list[District] | None, figures: list[dict],
                   now: datetime | None = None) -> dict:
    """Everything the report's templates show. `figures` is `monthly_review` for each of
    `months_needed(month)` (any order), for the same districts; `districts` None is citywide."""
    by_month = {entry["month"]: entry for entry in figures}
    this = by_month[month.label]
    shown_districts = districts if districts is not None else list(
        District.objects.defer("boundary").filter(number__in=[d["district"] for d in this["districts"]])
        .order_by("number"))
    trend_start = shifted(month, -(TREND_MONTHS - 1))
    return {
        "month": month, "month_name": month_name(month), "scope_label": scope_label(districts),
        "scope": report_scope(districts), "districts": districts,
        "district_numbers": [d.number for d in districts] if districts is not None else [],
        "partial": month == current_month(),
        "generated_at": now or timezone.now(),
        "simulated": includes_simulated(by_month.values()),
        "headline": _headline(by_month, month, districts),
        "charts": _charts(by_month, month, districts),
        "trend_from": month_name(trend_start),
        "district_columns": [c.label for c in DISTRICT_COLUMNS],
        "district_rows": _table(this["districts"], DISTRICT_COLUMNS, name=lambda e: _("District %(number)s (%(name)s)")
                                % {"number": int(e["district"]), "name": e["name"]}),
        "total_row": None if districts is not None and len(districts) == 1 else _table(
            [this["pilot"]], DISTRICT_COLUMNS, name=lambda e: _("All districts together"))[0],
        "organization_columns": [c.label for c in ORGANIZATION_COLUMNS],
        "organization_rows": _table(this["organizations"], ORGANIZATION_COLUMNS, name=lambda e: e["name"]),
        "reconciliation": reconciliation_rows(month, shown_districts),
        "review": _review_part(month, districts),
    }


def css_string(text: str) -> str:
    """Text as a CSS string literal, safe inside <style> (quotes, backslashes and "<" escaped)."""
    escaped = "".join(f"\\{ord(char):x} " if char in '\\"<>\n\r' else char for char in text)
    return f'"{escaped}"'


def _page_content() -> str:
    """The footer's CSS content: "Page " counter(page) " of " counter(pages), in the language."""
    marker = "\x00"
    text = _("Page %(page)s of %(pages)s") % {"page": marker + "page" + marker, "pages": marker + "pages" + marker}
    parts = []
    for index, piece in enumerate(text.split(marker)):
        if index % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)


def render_document(context: dict) -> str:
    """The report as one self-contained HTML document (print CSS inline, charts inline): what
    the PDF is made from and what a published version keeps."""
    header = _("Monthly report: %(month)s") % {"month": context["month_name"]} + " · " + context["scope_label"]
    # Both strings are built for CSS by css_string/_page_content, which escape what could end the
    # <style> element or the string.
    return render_to_string("reviews/report_document.html", {
        **context, "for_print": True,
        "page_header": mark_safe(css_string(header)),  # noqa: S308
        "page_footer": mark_safe(_page_content()),  # noqa: S308
    })


def render_pdf(document: str, *, base_url: str | None = None) -> bytes:
    """The document as a Letter-size PDF (WeasyPrint; fonts DejaVu)."""
    # A second's import, only where a PDF is made; one thread at a time (core/imports.py).
    html = imported("weasyprint").HTML
    fetcher_of = imported("weasyprint.urls").URLFetcher

    # The document is self-contained: data: URLs only, so no text in it can make the renderer
    # reach the network or the file system.
    fetcher = fetcher_of(allowed_protocols={"data"})
    return html(string=document, base_url=base_url or settings.SITE_URL + "/", url_fetcher=fetcher).write_pdf()
