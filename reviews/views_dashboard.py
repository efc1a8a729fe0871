"""The dashboards: one month's headline figures with the change from last month and from the
same month last year, twelve-month trend charts, and tables of the districts and
organisations month by month, exportable as CSV and XLSX.

Who sees what (districts.access):
- analysts: every district (the pilot total, or one district when filtered), every
  organisation; exact counts on the page;
- commanders: their own district and the organisations notified there; counts of 1 to 3 as "≤3";
- outreach supervisors: their own organisation's figures only (no other organisation ever
  appears); exact, as they are the organisation's own numbers;
- anyone else: 403; anonymous visitors: the login page.

Exports leave the review table, so they always show counts of 1 to 3 as "≤3", for analysts too.
A bad filter (a malformed or future month, a district or organisation the user may not see)
is shown on the page beside the field with status 400; nothing is computed or exported then.
"""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_tables2 import RequestConfig

from audit.models import Source
from audit.services import access_record, audit_log
from core.dates import CHICAGO
from core.suppression import is_small, suppress
from districts.access import require_role
from districts.auth import reauthentication_for_export
from districts.models import District, Organization, Role
from protocols.selectors_playbooks import playbook_choices

from .charts import format_value, line_chart
from .filters_dashboard import MAX_RANGE_MONTHS, DashboardFilter, this_month
from .report import reconciliation_rows
from .selectors import INTERVALS, Month
from .selectors_dashboard import includes_simulated, latest_month_with_data, month_range, shifted
from .services import monthly_reviews
from .tables_dashboard import (
    DistrictFiguresTable,
    OrganizationFiguresTable,
    figure_row,
    percent,
)
from .tables_dashboard import export_response as figures_export

DASHBOARD_ROLES = (Role.ANALYST, Role.CPD_COMMANDER, Role.OUTREACH_SUPERVISOR)
EXPORT_FORMATS = ("csv", "xlsx")
TREND_MONTHS = 12
PER_PAGE = 50


@dataclass(frozen=True)
class Figure:
    """One headline or trend figure: where it is in a figure set and how it reads."""

    key: str
    label: str
    kind: str  # "count", "rate" or "minutes"

    def value(self, entry: dict | None):
        if entry is None:
            return None
        value = entry.get(self.key)
        if self.kind == "minutes":
            return None if value is None else value["median"]
        return value


def _figures(*, organisation_view: bool) -> list[Figure]:
    median = _("Median minutes, %(from)s → %(to)s")
    if organisation_view:
        return [
            Figure("notifications", _("Notifications"), "count"),
            Figure("minutes_entered_to_sent", median % {"from": _("entered"), "to": _("sent")}, "minutes"),
            Figure("minutes_sent_to_acknowledged", median % {"from": _("sent"), "to": _("acknowledged")}, "minutes"),
            Figure("minutes_acknowledged_to_arrived", median % {"from": _("acknowledged"), "to": _("arrived")},
                   "minutes"),
            Figure("acknowledged_rate", _("Acknowledged"), "rate"),
            Figure("responded_rate", _("Responded"), "rate"),
            Figure("late", _("Acknowledged late"), "count"),
            Figure("missed", _("Never acknowledged"), "count"),
        ]
    return [
        Figure("incidents", _("Incidents"), "count"),
        Figure("victims", _("Victims"), "count"),
        Figure("fatal", _("Fatal"), "count"),
        Figure("notification_coverage", _("Notification coverage"), "rate"),
        # The pilot's headline result: how soon after the shooting outreach could be told.
        Figure("minutes_occurred_to_entered", median % {"from": _("occurred"), "to": _("entered")}, "minutes"),
        Figure("minutes_entered_to_sent", median % {"from": _("entered"), "to": _("sent")}, "minutes"),
        Figure("minutes_sent_to_acknowledged", median % {"from": _("sent"), "to": _("acknowledged")}, "minutes"),
        Figure("acknowledged_rate", _("Acknowledged"), "rate"),
        Figure("responded_rate", _("Responded"), "rate"),
    ]


TREND_KEYS = {False: ("incidents", "notification_coverage", "minutes_entered_to_sent", "minutes_sent_to_acknowledged",
                      "acknowledged_rate", "responded_rate"),
              True: ("notifications", "minutes_entered_to_sent", "minutes_sent_to_acknowledged",
                     "minutes_acknowledged_to_arrived", "acknowledged_rate", "responded_rate")}


@dataclass
class Viewer:
    """What one user's dashboard covers and offers."""

    exact: bool  # counts as they are on the page
    district: District | None  # fixed (a commander's)
    organization: Organization | None  # fixed (a supervisor's)
    district_choices: object
    organization_choices: object
    title: str


def _viewer(scope) -> Viewer:
    districts = District.objects.defer("boundary").order_by("number")
    if scope.is_cpd:
        district = districts.get(pk=scope.district_id)
        notified_there = Organization.objects.filter(notifications__incident__district=district).distinct()
        return Viewer(exact=False, district=district, organization=None,
                      district_choices=districts.filter(pk=district.pk), organization_choices=notified_there,
                      title=district.label)
    if scope.is_supervisor:
        organization = Organization.objects.get(pk=scope.organization_id)
        return Viewer(exact=True, district=None, organization=organization, district_choices=districts,
                      organization_choices=Organization.objects.filter(pk=organization.pk),
                      title=str(organization))
    return Viewer(exact=True, district=None, organization=None, district_choices=districts,
                  organization_choices=Organization.objects.order_by("name"), title=_("Every district"))


def month_name(month: Month, *, with_year: bool = True) -> str:
    """"November 2026" (or "November"), in the page's language."""
    return date_format(date(month.year, month.month, 1), "YEAR_MONTH_FORMAT" if with_year else "F")


def _short_name(month: Month, *, first: bool) -> str:
    """A chart's month label: "Jan", with the year under it in January and on the first point."""
    first_day = date(month.year, month.month, 1)
    return date_format(first_day, "M") + (f"\n{month.year}" if first or month.month == 1 else "")


def _month_index(month: Month) -> int:
    return month.year * 12 + month.month


def _months_apart(first: Month, last: Month) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


# --- reading the figures ---------------------------------------------------------------------

def _read(months: list[Month], *, districts, organization, scenario=None) -> dict[str, dict]:
    """{month label: figures} through the summary table's read-through (reviews.services)."""
    return {figures["month"]: figures
            for figures in monthly_reviews(months, districts=districts, organization=organization, scenario=scenario)}


def _own_entry(figures: dict, organization: Organization) -> dict:
    """The organisation's figure set for the month; zeros when it was notified of nothing."""
    found = next((o for o in figures["organizations"] if o["organization"] == str(organization.code)), None)
    return found or {"organization": str(organization.code), "name": organization.name, "notifications": 0,
                     "acknowledged_rate": None, "responded_rate": None, "late": 0, "missed": 0, "escalated": 0,
                     **{name: {"median": None, "p90": None} for name in INTERVALS}}


def _entry(figures: dict, viewer: Viewer, district: District | None) -> dict | None:
    """The figure set the headline and trends follow: the supervisor's organisation, one
    district (a commander's, or the analyst's filter), or the pilot total."""
    if viewer.organization is not None:
        return _own_entry(figures, viewer.organization)
    if district is not None:
        return next((d for d in figures["districts"] if d["district"] == district.number), None)
    return figures["pilot"]


def _change(figure: Figure, current, previous, *, against: str, exact: bool) -> dict:
    """How the figure moved against an earlier month, as an arrow and a sentence that says the
    same (so neither colour nor the arrow is needed). With suppressed counts, a change that
    would give a small count away is not computed: the earlier month's value is shown instead."""
    if current is None or previous is None:
        return {"arrow": "", "direction": "none",
                "text": _("No figure for %(month)s to compare") % {"month": against}}
    if figure.kind == "count" and not exact and (is_small(current) or is_small(previous)):
        return {"arrow": "", "direction": "none",
                "text": _("%(month)s: %(value)s") % {"month": against, "value": suppress(previous)}}
    if figure.kind == "rate":
        difference, unit = round((current - previous) * 100, 1), _("points")
    else:
        difference, unit = round(current - previous, 1), (_("min") if figure.kind == "minutes" else "")
    if difference == 0:
        return {"arrow": "=", "direction": "same", "text": _("Same as %(month)s") % {"month": against}}
    amount = format_value(abs(difference), unit)
    if difference > 0:
        return {"arrow": "▲", "direction": "up", "text": _("+%(amount)s from %(month)s") % {
            "amount": amount, "month": against}}
    return {"arrow": "▼", "direction": "down", "text": _("−%(amount)s from %(month)s") % {
        "amount": amount, "month": against}}


def _shown(figure: Figure, value, *, exact: bool) -> str:
    if figure.kind == "rate":
        return format_value(percent(value), "%")
    if figure.kind == "minutes":
        return format_value(value, _("min"))
    return "—" if value is None else str(value if exact else suppress(value))


def _headline(figures_by_month: dict, month: Month, viewer: Viewer, district) -> list[dict]:
    now = _entry(figures_by_month[month.label], viewer, district)
    before = _entry(figures_by_month[shifted(month, -1).label], viewer, district)
    year_ago = _entry(figures_by_month[shifted(month, -12).label], viewer, district)
    cards = []
    for figure in _figures(organisation_view=viewer.organization is not None):
        current = figure.value(now)
        cards.append({
            "label": figure.label, "value": _shown(figure, current, exact=viewer.exact),
            "changes": [
                _change(figure, current, figure.value(before), exact=viewer.exact,
                        against=month_name(shifted(month, -1), with_year=month.month == 1)),
                _change(figure, current, figure.value(year_ago), exact=viewer.exact,
                        against=month_name(shifted(month, -12))),
            ],
        })
    return cards


def _charts(figures_by_month: dict, months: list[Month], viewer: Viewer, district) -> list[dict]:
    organisation_view = viewer.organization is not None
    by_key = {figure.key: figure for figure in _figures(organisation_view=organisation_view)}
    charts = []
    for key in TREND_KEYS[organisation_view]:
        figure = by_key[key]
        points, rows = [], []
        for index, month in enumerate(months):
            value = figure.value(_entry(figures_by_month[month.label], viewer, district))
            if figure.kind == "rate":
                value = percent(value)
            elif figure.kind == "count" and not viewer.exact and is_small(value):
                value = suppress(value)
            points.append((_short_name(month, first=index == 0), value))
            unit = "%" if figure.kind == "rate" else (_("min") if figure.kind == "minutes" else "")
            rows.append((month_name(month), value if isinstance(value, str) else format_value(value, unit)))
        unit = "%" if figure.kind == "rate" else (_("min") if figure.kind == "minutes" else "")
        description = _("%(figure)s, month by month from %(first)s to %(last)s.") % {
            "figure": figure.label, "first": month_name(months[0]), "last": month_name(months[-1])}
        charts.append({
            "id": f"trend-{key}", "title": figure.label, "rows": rows,
            "svg": line_chart(points, title=figure.label, unit=unit, description=description,
                              y_max=100 if figure.kind == "rate" else None, chart_id=f"trend-{key}"),
        })
    return charts


def _table_rows(figures_by_month: dict, months: list[Month], viewer: Viewer, organization, *, exact: bool):
    """(district rows, organisation rows, pilot rows) over the months, each from `figure_row`."""
    district_rows, organisation_rows, pilot_rows = [], [], []
    for month in months:
        figures = figures_by_month[month.label]
        common = {"month_label": month.label, "month_name": month_name(month), "exact": exact}
        pilot_rows.append({**figure_row({**figures["pilot"], "name": _("All districts")}, **common),
                           "level": _("Pilot")})
        district_rows += [{**figure_row(entry, **common), "level": _("District")} for entry in figures["districts"]]
        entries = [_own_entry(figures, viewer.organization)] if viewer.organization else [
            entry for entry in figures["organizations"]
            if organization is None or entry["organization"] == str(organization.code)]
        organisation_rows += [{**figure_row(entry, **common), "level": _("Organisation")} for entry in entries]
    return district_rows, organisation_rows, pilot_rows


def _scenario_rows(figures: dict, month: Month, viewer: Viewer, district) -> list[dict]:
    """The month's incidents by scenario playbook (counts of 1 to 3 as "≤3" for a commander),
    each with the incident history's query for them. Not for a supervisor's organisation view."""
    entry = None if viewer.organization is not None else _entry(figures, viewer, district)
    counts = (entry or {}).get("incidents_by_scenario") or {}
    start, end = month.bounds
    last_day = date.fromordinal(end.astimezone(CHICAGO).date().toordinal() - 1)
    rows = []
    for code, title in playbook_choices():
        if counts.get(code):
            query = {"scenario": code, "occurred_from": start.astimezone(CHICAGO).date().isoformat(),
                     "occurred_to": last_day.isoformat()}
            if district is not None:
                query["district"] = district.number
            rows.append({"code": code, "title": title, "query": urlencode(query),
                         "count": counts[code] if viewer.exact else suppress(counts[code])})
    return rows


# --- the view --------------------------------------------------------------------------------

def _resolve_month(form_month: Month | None, viewer: Viewer, districts) -> tuple[Month, str]:
    """The month to show and, when it is not the one asked for (none asked), why."""
    if form_month is not None:
        return form_month, ""
    current = this_month()
    latest = latest_month_with_data(until=current, districts=districts, organization=viewer.organization)
    if latest is None:
        return current, _("No incidents recorded yet.")
    if latest != current:
        return latest, _("No incidents recorded yet for %(current)s; showing %(latest)s.") % {
            "current": month_name(current), "latest": month_name(latest)}
    return latest, ""


def _table_months(cleaned: dict, month: Month, form) -> list[Month] | None:
    """The tables' months: the range asked for, or the headline month; None (with a form
    error) when the range, once completed with the headline month, runs backwards or too long."""
    first, last = cleaned.get("month_from"), cleaned.get("month_to")
    if first is None and last is None:
        return [month]
    first = first or (month if _months_apart(month, last) >= 0 else last)
    last = last or (month if _months_apart(first, month) >= 0 else first)
    if _months_apart(first, last) + 1 > MAX_RANGE_MONTHS:
        form.add_error("month_to", _("Choose at most %(limit)s months at a time.") % {"limit": MAX_RANGE_MONTHS})
        return None
    return month_range(first, last)


@login_required
def dashboard(request):
    scope = require_role(request.user, *DASHBOARD_ROLES)
    viewer = _viewer(scope)
    data = request.GET.copy()
    export_format = data.pop("_export", [None])[-1]
    for key in ("d-sort", "o-sort", "d-page", "o-page"):
        data.pop(key, None)
    filterset = DashboardFilter(data, districts=viewer.district_choices,
                                organizations=viewer.organization_choices)
    form = filterset.form
    context = {"filter": filterset, "viewer": viewer, "exact": viewer.exact,
               "organisation_view": viewer.organization is not None}
    if export_format is not None and export_format not in EXPORT_FORMATS:
        form.add_error(None, _("Export as CSV or XLSX."))
    if not form.is_valid():
        return render(request, "reviews/dashboard.html", {**context, "invalid": True}, status=400)

    cleaned = form.cleaned_data
    district = viewer.district or cleaned.get("district")
    districts = [district] if district is not None else None
    organization = viewer.organization or cleaned.get("organization")
    month, notice = _resolve_month(cleaned.get("month"), viewer, districts)
    table_months = _table_months(cleaned, month, form)
    if table_months is None:
        return render(request, "reviews/dashboard.html", {**context, "invalid": True}, status=400)

    trend_months = month_range(shifted(month, -(TREND_MONTHS - 1)), month)
    scenario = cleaned.get("scenario")
    figures_by_month = _read([shifted(month, -12), *trend_months], districts=districts,
                             organization=viewer.organization, scenario=scenario)
    missing = [m for m in table_months if m.label not in figures_by_month]
    if missing:
        figures_by_month.update(_read(missing, districts=districts, organization=viewer.organization,
                                      scenario=scenario))

    if export_format is not None:
        reauthentication_for_export(request)  # raises: allauth confirms the password, then comes back
        district_rows, organisation_rows, pilot_rows = _table_rows(figures_by_month, table_months, viewer,
                                                                   organization, exact=False)
        rows = organisation_rows if viewer.organization else (
            (pilot_rows if district is None else []) + district_rows + organisation_rows)
        audit_log(actor=request.user, source=Source.WEB, action="dashboard.exported",
                  data={"format": export_format, "rows": len(rows), "from": table_months[0].label,
                        "to": table_months[-1].label, "district": district.number if district else None,
                        "organization": str(organization.code) if organization else None,
                        "scenario": scenario.code if scenario else None})
        access_record(actor=request.user, source=Source.WEB, action="dashboard.exported", obj=district,
                      organization_codes=[organization.code] if organization else [], role=scope.role or "")
        return figures_export(rows, export_format=export_format,
                              filename=f"dashboard-{table_months[0].label}-{table_months[-1].label}")

    district_rows, organisation_rows, _pilot = _table_rows(figures_by_month, table_months, viewer, organization,
                                                           exact=viewer.exact)
    tables = {}
    if viewer.organization is None:
        tables["districts"] = DistrictFiguresTable(district_rows, prefix="d-")
    tables["organizations"] = OrganizationFiguresTable(organisation_rows, prefix="o-")
    for table in tables.values():
        RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    return render(request, "reviews/dashboard.html", {
        **context, "month": month, "month_name": month_name(month), "notice": notice,
        "district": district, "organization": organization, "scenario": scenario,
        "scenario_rows": _scenario_rows(figures_by_month[month.label], month, viewer, district),
        "simulated": includes_simulated(figures_by_month.values()),
        "headline": _headline(figures_by_month, month, viewer, district),
        # CPD's record against the portal's: a district's, or every pilot district's (not for an organisation).
        "reconciliation": None if viewer.organization is not None else reconciliation_rows(
            month, districts or list(District.objects.defer("boundary").filter(is_pilot=True).order_by("number"))),
        "charts": _charts(figures_by_month, trend_months, viewer, district),
        "district_table": tables.get("districts"), "organization_table": tables["organizations"],
        "table_from": month_name(table_months[0]), "table_to": month_name(table_months[-1]),
        "range": len(table_months) > 1,
        "previous_month": shifted(month, -1),
        "next_month": shifted(month, 1) if _months_apart(month, this_month()) > 0 else None,
    })
