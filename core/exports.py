"""Spreadsheet exports that a spreadsheet cannot turn against its reader.

A CSV or XLSX cell whose text starts with `=`, `+`, `-` or `@` (or a tab or carriage return,
which some programs skip before looking for those) is read as a formula by Excel, LibreOffice
and Google Sheets: `=HYPERLINK("http://…", "click")` in a free-text note becomes a live link,
and older programs ran commands (OWASP "CSV Injection"). Every text cell an export writes goes
through `spreadsheet_cell`, which puts a leading apostrophe before such text: spreadsheets show
it as text, and the apostrophe is visible in a plain CSV reader, which is the price of safety.

Numbers, dates and booleans stay typed (a negative number is a number, not a formula).
Aware datetimes become naive wall-clock time in the given zone, because XLSX has no time zone
and openpyxl refuses aware values; `None` becomes an empty cell.

XLSX is written by openpyxl in write-only mode (rows go to a temporary file as they come, so
memory stays flat); characters XML cannot hold (control characters other than tab, newline and
carriage return) are dropped from XLSX text, where openpyxl would refuse the whole file.

This module imports no app: callers pass their own rows and zone.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo
from decimal import Decimal

from django.utils import timezone

from .imports import imported

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text`, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def spreadsheet_cell(value, *, zone: tzinfo):
    """One cell's value, safe and typed for CSV and XLSX (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, zone)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    return neutralise(str(value))


def spreadsheet_row(values: Iterable, *, zone: tzinfo) -> list:
    return [spreadsheet_cell(value, zone=zone) for value in values]


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable], *, zone: tzinfo) -> Iterator[str]:
    """CSV text, one line at a time (for a StreamingHttpResponse), every cell made safe.

    The first line carries a UTF-8 byte-order mark so Excel reads accents correctly.
    """
    writer = csv.writer(_Echo())
    first = True
    for row in rows:
        line = writer.writerow(spreadsheet_row(row, zone=zone))
        yield ("\ufeff" + line) if first else line
        first = False


def xlsx_bytes(rows: Iterable[Iterable], *, zone: tzinfo, title: str = "Export") -> bytes:
    """An XLSX workbook with one sheet (`title`, at most 31 characters), every cell made safe;
    the first row is frozen as the header."""
    workbook = imported("openpyxl").Workbook(write_only=True)
    illegal = imported("openpyxl.cell.cell").ILLEGAL_CHARACTERS_RE
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append([illegal.sub("", cell) if isinstance(cell, str) else cell
                      for cell in spreadsheet_row(row, zone=zone)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
