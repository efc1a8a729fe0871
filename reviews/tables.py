"""The incident history's table (django-tables2) and its CSV and XLSX export.

The columns are what a notification carries (the analyst's scope): no latitude or longitude,
nobody's name. One table serves the page and the export; `value_*` methods give the export
typed values (times, counts) where the page shows formatted text.

The export reads the filtered, sorted queryset in chunks of EXPORT_CHUNK rows, each through
this same table, so memory stays flat: CSV streams as it is read; XLSX (a zip that cannot be
written as it goes) is bounded at XLSX_MAX_ROWS. Every cell passes through
`core.exports.spreadsheet_cell`: formula triggers neutralised, times naive Chicago local.
"""

from collections.abc import Iterator

import django_tables2 as tables
from django.http import StreamingHttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_tables2.export import TableExport

from core.dates import CHICAGO
from core.exports import csv_lines, xlsx_bytes

from .selectors_history import STATES

EXPORT_CHUNK = 500
XLSX_MAX_ROWS = 10_000  # about 10 s to build; CSV has no bound

# The sort orders offered beside the filter (the column headings offer every one; on a phone
# the headings are hidden, so this list is the way to sort there).
SORT_CHOICES = (
    ("-occurred_at", _("Newest first")),
    ("occurred_at", _("Oldest first")),
    ("-victim_count", _("Most victims")),
    ("-fatal_count", _("Most fatal")),
    ("district", _("District")),
    ("beat", _("Beat")),
    ("community_area", _("Community area")),
)

# Which badge each state wears on the page (text, never colour alone).
STATE_BADGES = {"unacknowledged": "warn", "acknowledged_late": "warn", "escalated": "alert",
                "never_notified": "alert", "responded": "ok"}


def row_states(record) -> list[str]:
    """The keys of STATES that hold for an annotated history incident."""
    states = [key for key in ("unacknowledged", "acknowledged_late", "escalated") if getattr(record, key)]
    if not record.notified:
        states.append("never_notified")
    if record.responded:
        states.append("responded")
    return states


class IncidentHistoryTable(tables.Table):
    occurred_at = tables.DateTimeColumn(
        verbose_name=_("Occurred"), format="Y-m-d H:i",
        linkify=("notifications:incident_detail", {"code": tables.A("code")}),
        attrs={"td": {"class": "nowrap"}},
    )
    rd_number = tables.Column(
        verbose_name=_("RD number"), default="—",
        linkify=("notifications:incident_detail", {"code": tables.A("code")}),
    )
    block = tables.Column(verbose_name=_("Block"))
    district = tables.Column(verbose_name=_("District"), order_by=("district__number",))
    beat = tables.Column(verbose_name=_("Beat"), order_by=("beat__number",), default="—")
    community_area = tables.Column(verbose_name=_("Community area"), order_by=("community_area__number",),
                                   default="—")
    victim_count = tables.Column(verbose_name=_("Victims"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    fatal_count = tables.Column(verbose_name=_("Fatal"), attrs={"td": {"class": "num"}, "th": {"class": "num"}})
    hospital = tables.Column(verbose_name=_("Hospital"), order_by=("hospital__name",), default="—",
                             attrs={"td": {"class": "hospital hide-narrow"}, "th": {"class": "hide-narrow"}})
    scene_status = tables.Column(verbose_name=_("Scene"), attrs={"td": {"class": "hide-narrow"},
                                                                 "th": {"class": "hide-narrow"}})
    organizations = tables.Column(verbose_name=_("Organisations notified"), accessor="told", orderable=False,
                                  empty_values=())
    states = tables.Column(verbose_name=_("State"), accessor="pk", orderable=False, empty_values=())
    source = tables.Column(verbose_name=_("Entered"), attrs={"td": {"class": "hide-narrow"},
                                                             "th": {"class": "hide-narrow"}})
    # Export only: the page links to the incident instead.
    note = tables.Column(verbose_name=_("CPD note"), visible=False)
    code = tables.Column(verbose_name=_("Incident code"), visible=False)

    class Meta:
        template_name = "includes/table.html"
        attrs = {"class": "table history-table"}
        orderable = True
        empty_text = _("No incidents match this filter.")
        fields = ()

    # --- the page ---------------------------------------------------------------------------
    def render_district(self, value):
        return value.label

    def render_community_area(self, value):
        return value.display_name

    def render_scene_status(self, record):
        return record.get_scene_status_display()

    def render_source(self, record):
        return record.get_source_display()

    def render_organizations(self, value):
        if not value:
            return format_html('<span class="muted">{}</span>', _("None"))
        return format_html_join(", ", "{}", ((str(n.organization),) for n in value))

    def render_states(self, record):
        states = row_states(record)
        if not states:
            return format_html('<span class="muted">{}</span>', _("Acknowledged in time"))
        badges = format_html_join(" ", '<span class="badge {}">{}</span>',
                                  ((STATE_BADGES[key], STATES[key]) for key in states))
        return format_html('<span class="states">{}</span>', badges)

    # --- the export (typed values; text is neutralised by core.exports) ---------------------
    def value_occurred_at(self, value=None, record=None):
        return value

    def value_rd_number(self, value=None, record=None):
        return value or ""

    def value_district(self, value=None, record=None):
        return value.number

    def value_beat(self, value=None, record=None):
        return value.number if value else ""

    def value_community_area(self, value=None, record=None):
        return str(value) if value else ""

    def value_hospital(self, value=None, record=None):
        return str(value) if value else ""

    def value_scene_status(self, value=None, record=None):
        return self._label(record.SceneStatus, value)

    def value_source(self, value=None, record=None):
        return self._label(record.Source, value)

    def value_organizations(self, value=None, record=None):
        return "; ".join(str(n.organization) for n in value)

    def value_states(self, value=None, record=None):
        return "; ".join(self._label(STATES, key) for key in row_states(record))

    def _label(self, choices, value) -> str:
        """A choice's translated label, looked up once per export (translating a lazy string
        costs tens of microseconds, thousands of times over)."""
        memo = self.__dict__.setdefault("_labels", {})
        key = (id(choices), value)
        if key not in memo:
            memo[key] = str(choices[value] if isinstance(choices, dict) else choices(value).label)
        return memo[key]

    def value_code(self, value=None, record=None):
        return str(value)


def table_values(table: tables.Table, *, chunk: int = EXPORT_CHUNK) -> Iterator[list]:
    """The header, then every row of the table's (filtered, sorted) queryset as export values,
    read `chunk` rows at a time. The sort gets the primary key as a last key so the chunks
    neither repeat nor skip a row.

    Cells come from the table's own columns (header, accessor, `value_*` method, else the raw
    value) without django-tables2's per-cell signature inspection, which costs about 2 ms a
    row (6 s for the demo's 3,135 incidents); the header row is exactly the table's.
    """
    columns = [column for column in table.columns.iterall() if not column.column.exclude_from_export]
    yield [column.header for column in columns]
    getters = [(column.accessor, getattr(table, f"value_{column.name}", None)) for column in columns]
    queryset = table.data.data
    queryset = queryset.order_by(*queryset.query.order_by, "-pk")
    offset = 0
    while True:
        records = list(queryset[offset:offset + chunk])
        for record in records:
            row = []
            for accessor, value_of in getters:
                value = accessor.resolve(record, quiet=True)
                row.append(value_of(value=value, record=record) if value_of else value)
            yield row
        if len(records) < chunk:
            return
        offset += chunk


class HistoryExport(TableExport):
    """TableExport for the history: CSV streamed, XLSX bounded, every cell made safe."""

    def __init__(self, export_format, table, exclude_columns=None, dataset_kwargs=None):
        if export_format not in (self.CSV, self.XLSX):
            raise TypeError(f'Export format "{export_format}" is not supported.')
        self.format = export_format
        self.table = table
        self.dataset_kwargs = dataset_kwargs or {}

    def response(self, filename=None):
        if self.format == self.CSV:
            response = StreamingHttpResponse(csv_lines(table_values(self.table), zone=CHICAGO),
                                             content_type=self.content_type())
        else:
            response = super().response(filename=None)
        if filename is not None:
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def export(self):
        return xlsx_bytes(table_values(self.table), zone=CHICAGO, title=self.dataset_kwargs.get("title", "Export"))
