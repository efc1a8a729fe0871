"""core.exports: what a spreadsheet receives is text it will not run, and times it can read."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core.dates import CHICAGO
from core.exports import csv_lines, neutralise, spreadsheet_cell, spreadsheet_row


@pytest.mark.parametrize("text", [
    '=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "=",
])
def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert neutralise(text) == "'" + text
    assert spreadsheet_cell(text, zone=CHICAGO) == "'" + text


@pytest.mark.parametrize("text", ["6300 S HALSTED ST", "JH123456", "", " =1+1", "a=b", "O'Hare", "4 - 5"])
def test_ordinary_text_is_left_alone(text):
    assert spreadsheet_cell(text, zone=CHICAGO) == text


def test_numbers_and_booleans_stay_numbers_even_when_negative():
    assert spreadsheet_row([-3, 2.5, Decimal("-1.25"), True, 0], zone=CHICAGO) == [-3, 2.5, Decimal("-1.25"), True, 0]


def test_objects_are_turned_into_text_and_then_neutralised():
    class Label:
        def __str__(self):
            return "=cmd|' /C calc'!A0"

    assert spreadsheet_cell(Label(), zone=CHICAGO) == "'=cmd|' /C calc'!A0"


def test_an_empty_value_is_an_empty_cell():
    assert spreadsheet_cell(None, zone=CHICAGO) == ""


def test_an_aware_time_becomes_naive_chicago_wall_clock_time():
    # 04:30 UTC on 1 March 2026 is 22:30 on 28 February in Chicago (CST, UTC-6).
    cell = spreadsheet_cell(datetime(2026, 3, 1, 4, 30, 15, 999, tzinfo=UTC), zone=CHICAGO)
    assert cell == datetime(2026, 2, 28, 22, 30, 15)
    assert cell.tzinfo is None


def test_summer_time_is_five_hours_behind_utc():
    assert spreadsheet_cell(datetime(2026, 7, 4, 3, 0, tzinfo=UTC), zone=CHICAGO) == datetime(2026, 7, 3, 22, 0)


def test_a_date_stays_a_date():
    assert spreadsheet_cell(date(2026, 3, 8), zone=CHICAGO) == date(2026, 3, 8)


def test_csv_lines_start_with_a_byte_order_mark_and_quote_what_needs_quoting():
    lines = list(csv_lines([["Block", "Note"], ["6300 S HALSTED ST", 'said "=1+1", then left'],
                            ["=2+2", "-"]], zone=CHICAGO))
    assert lines[0].startswith("\ufeff")
    rows = list(csv.reader(io.StringIO("".join(lines).removeprefix("\ufeff"))))
    assert rows == [["Block", "Note"], ["6300 S HALSTED ST", 'said "=1+1", then left'], ["'=2+2", "'-"]]


def test_csv_lines_is_lazy_one_row_at_a_time():
    def rows():
        yield ["a"]
        yield ["b"]
        raise AssertionError("read past what was asked")

    lines = csv_lines(rows(), zone=CHICAGO)
    assert next(lines) == "\ufeffa\r\n"
    assert next(lines) == "b\r\n"


def test_xlsx_bytes_writes_safe_typed_cells_and_no_formula():
    import openpyxl

    from core.exports import xlsx_bytes

    data = xlsx_bytes([["Occurred", "Note", "Victims"],
                       [datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "=1+1", 2],
                       [datetime(2026, 11, 1, 7, 30, tzinfo=UTC), "bell\x07 and\ttab", -1]],
                      zone=CHICAGO, title="A title longer than thirty-one characters")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "A title longer than thirty-one c"[:31]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    # 1 November 2026, the night the clocks go back: 06:30 UTC is 01:30 CDT, 07:30 UTC is 01:30 CST.
    assert rows == [["Occurred", "Note", "Victims"],
                    [datetime(2026, 11, 1, 1, 30), "'=1+1", 2],
                    [datetime(2026, 11, 1, 1, 30), "bell and\ttab", -1]]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
