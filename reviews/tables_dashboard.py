"""The dashboard's tables (django-tables2) and its CSV and XLSX export.

A row is one month of one district or organisation, built by `figure_row` from a figure set
(reviews.selectors): the value shown (a count of 1 to 3 as "≤3" when the page suppresses) and,
beside it, a numeric sort key, so a column sorts on what it shows: the suppressed counts sort
together as one band and never by their hidden values, and a missing rate sorts first.

The export is one flat sheet (the pilot, each district and each organisation, month by month),
always suppressed, every cell through `core.exports` so no text can start a formula.
"""

import django_tables2 as tables
import tablib
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import CHICAGO
from core.exports import csv_lines, spreadsheet_row
from core.suppression import is_small, suppress

from .charts import format_value

COUNTS = ("incidents", "victims", "fatal", "notified", "notifications", "late", "missed", "escalated")
RATES = ("notification_coverage", "acknowledged_rate", "responded_rate")
MEDIANS = ("minutes_entered_to_sent", "minutes_sent_to_acknowledged", "minutes_acknowledged_to_arrived")
SMALL_BAND = 2  # where "≤3" sorts: above zero, below four


def percent(rate: float | None) -> float | None:
    """A rate (0..1) as a percentage to a tenth; None stays None."""
    return None if rate is None else round(rate * 100, 1)


def show_count(value: int | None, *, exact: bool) -> int | str | None:
    return value if exact else suppress(value)


def figure_row(entry: dict, *, month_label: str, month_name: str, exact: bool) -> dict:
    """One table row from a district's or an organisation's figure set (see the module docstring)."""
    row = {"month": month_label, "month_name": month_name, "name": entry.get("name", ""),
           "district": entry.get("district", ""), "sort_month": month_label}
    for key in COUNTS:
        if key in entry:
            value = entry[key]
            row[key] = show_count(value, exact=exact)
            row["sort_" + key] = SMALL_BAND if not exact and is_small(value) else value
    for key in RATES:
        if key in entry:
            row[key] = percent(entry[key])
            row["sort_" + key] = -1 if entry[key] is None else entry[key]
    for key in MEDIANS:
        if key in entry:
            row[key] = entry[key]["median"]
            row["sort_" + key] = -1 if entry[key]["median"] is None else entry[key]["median"]
    return row


def _num(verbose_name, key, *, hide_narrow=False):
    attrs = {"td": {"class": "num" + (" hide-narrow" if hide_narrow else "")},
             "th": {"class": "num" + (" hide-narrow" if hide_narrow else "")}}
    return tables.Column(verbose_name=verbose_name, accessor=key, order_by=("sort_" + key,), attrs=attrs,
                         empty_values=())


def cell_text(key: str, record: dict):
    """What one cell shows: the month's name, a rate as %, a median in minutes, "—" for none."""
    if key == "month":
        return record["month_name"]
    value = record.get(key)
    if key in RATES:
        return format_value(value, "%")
    if key in MEDIANS:
        return format_value(value, _("min"))
    return "—" if value is None else value


class FiguresTable(tables.Table):
    """Shared rendering: counts as given ("≤3" included), rates as %, medians in minutes.

    django-tables2 orders and paginates the rows; the page's cells come from `page_cells`
    (its template, reviews/_figures_table.html): a year of districts is hundreds of rows of plain
    figures, and rendering each cell through a bound column (its render signature and attributes
    worked out per cell) cost most of the page's time."""

    month = tables.Column(verbose_name=gettext_lazy("Month"), order_by=("sort_month",),
                          attrs={"td": {"class": "nowrap"}})

    class Meta:
        template_name = "reviews/_figures_table.html"
        attrs = {"class": "table figures-table"}
        orderable = True
        empty_text = gettext_lazy("No figures for these months.")

    def page_cells(self) -> list[list[tuple]]:
        """The page's rows as (header, class, text) cells, each column's header and class worked
        out once."""
        columns = [(column.name, str(column.header), column.attrs.get("td", {}).get("class", ""))
                   for column in self.columns]
        return [[(header, css, cell_text(name, row.record)) for name, header, css in columns]
                for row in self.paginated_rows]


class DistrictFiguresTable(FiguresTable):
    district = tables.Column(verbose_name=gettext_lazy("District"), accessor="district", order_by=("district",))
    name = tables.Column(verbose_name=gettext_lazy("Name"), attrs={"td": {"class": "hide-narrow"},
                                                                   "th": {"class": "hide-narrow"}})
    incidents = _num(gettext_lazy("Incidents"), "incidents")
    victims = _num(gettext_lazy("Victims"), "victims")
    fatal = _num(gettext_lazy("Fatal"), "fatal")
    notification_coverage = _num(gettext_lazy("Notified"), "notification_coverage")
    minutes_entered_to_sent = _num(gettext_lazy("Median entered → sent"), "minutes_entered_to_sent")
    minutes_sent_to_acknowledged = _num(gettext_lazy("Median sent → acknowledged"), "minutes_sent_to_acknowledged")
    acknowledged_rate = _num(gettext_lazy("Acknowledged"), "acknowledged_rate")
    responded_rate = _num(gettext_lazy("Responded"), "responded_rate")
    late = _num(gettext_lazy("Late"), "late", hide_narrow=True)
    missed = _num(gettext_lazy("Missed"), "missed", hide_narrow=True)
    escalated = _num(gettext_lazy("Escalated"), "escalated", hide_narrow=True)

    class Meta(FiguresTable.Meta):
        pass


class OrganizationFiguresTable(FiguresTable):
    name = tables.Column(verbose_name=gettext_lazy("Organisation"))
    notifications = _num(gettext_lazy("Notifications"), "notifications")
    minutes_entered_to_sent = _num(gettext_lazy("Median entered → sent"), "minutes_entered_to_sent")
    minutes_sent_to_acknowledged = _num(gettext_lazy("Median sent → acknowledged"), "minutes_sent_to_acknowledged")
    minutes_acknowledged_to_arrived = _num(gettext_lazy("Median acknowledged → arrived"),
                                           "minutes_acknowledged_to_arrived")
    acknowledged_rate = _num(gettext_lazy("Acknowledged"), "acknowledged_rate")
    responded_rate = _num(gettext_lazy("Responded"), "responded_rate")
    late = _num(gettext_lazy("Late"), "late", hide_narrow=True)
    missed = _num(gettext_lazy("Missed"), "missed", hide_narrow=True)
    escalated = _num(gettext_lazy("Escalated"), "escalated", hide_narrow=True)

    class Meta(FiguresTable.Meta):
        pass


# --- the export ------------------------------------------------------------------------------

def export_columns() -> list[tuple[str, str]]:
    """(header, key) for each export column, headers in the user's language."""
    return [
        (_("Month"), "month"), (_("Level"), "level"), (_("District"), "district"), (_("Name"), "name"),
        (_("Incidents"), "incidents"), (_("Victims"), "victims"), (_("Fatal"), "fatal"),
        (_("Incidents notified"), "notified"), (_("Notification coverage (%)"), "notification_coverage"),
        (_("Notifications"), "notifications"),
        (_("Median minutes entered → sent"), "minutes_entered_to_sent"),
        (_("Median minutes sent → acknowledged"), "minutes_sent_to_acknowledged"),
        (_("Median minutes acknowledged → arrived"), "minutes_acknowledged_to_arrived"),
        (_("Acknowledged (%)"), "acknowledged_rate"), (_("Responded (%)"), "responded_rate"),
        (_("Late"), "late"), (_("Missed"), "missed"), (_("Escalated"), "escalated"),
    ]


def export_rows(rows: list[dict]) -> list[list]:
    """The header and one list of values per row (rows from `figure_row`, with a "level")."""
    columns = export_columns()
    return [[header for header, _key in columns]] + [[row.get(key) for _header, key in columns] for row in rows]


def export_response(rows: list[dict], *, export_format: str, filename: str) -> HttpResponse:
    """CSV (streamed) or XLSX of the rows, every cell made safe by core.exports."""
    values = export_rows(rows)
    if export_format == "csv":
        response = StreamingHttpResponse(csv_lines(values, zone=CHICAGO), content_type="text/csv; charset=utf-8")
    else:
        dataset = tablib.Dataset(headers=spreadsheet_row(values[0], zone=CHICAGO), title=_("Dashboard")[:31])
        for row in values[1:]:
            dataset.append(spreadsheet_row(row, zone=CHICAGO))
        response = HttpResponse(
            dataset.export("xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
    return response
