"""Chicago time: month boundaries are local midnights (DST-correct), days and weeks start at
Chicago midnight, and a late-night moment belongs to its local month."""

from datetime import UTC, datetime, timedelta

import pytest

from core.dates import CHICAGO, day_and_week_start, month_boundaries, month_of, month_shift, today_local


def hours(start: datetime, end: datetime) -> float:
    """Elapsed hours. In UTC: Python subtracts two times in the same zone by their wall clocks."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600


def test_march_is_an_hour_short_because_dst_starts():
    start, end = month_boundaries(2026, 3)

    assert (start, end) == (datetime(2026, 3, 1, tzinfo=CHICAGO), datetime(2026, 4, 1, tzinfo=CHICAGO))
    assert hours(start, end) == 31 * 24 - 1


def test_november_is_an_hour_long_because_dst_ends():
    start, end = month_boundaries(2026, 11)

    assert hours(start, end) == 30 * 24 + 1


def test_a_month_without_a_dst_change_is_whole_days():
    assert hours(*month_boundaries(2026, 6)) == 30 * 24


def test_december_ends_at_the_start_of_january_next_year():
    start, end = month_boundaries(2026, 12)

    assert start == datetime(2026, 12, 1, tzinfo=CHICAGO)
    assert end == datetime(2027, 1, 1, tzinfo=CHICAGO)
    assert end == month_boundaries(2027, 1)[0]


@pytest.mark.parametrize("month", [0, 13])
def test_a_month_outside_the_year_is_refused(month):
    with pytest.raises(ValueError):
        month_boundaries(2026, month)


def test_half_past_eleven_on_the_31st_belongs_to_that_month():
    late = datetime(2026, 8, 31, 23, 30, tzinfo=CHICAGO)  # already September 1st in UTC
    start, end = month_boundaries(2026, 8)

    assert late.astimezone(UTC).month == 9
    assert start <= late < end
    assert month_of(late) == month_of(late.astimezone(UTC)) == (2026, 8)


def test_day_and_week_start_on_a_monday_is_that_same_midnight():
    monday_morning = datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO)

    today, monday = day_and_week_start(monday_morning)

    assert today == monday == datetime(2026, 11, 23, tzinfo=CHICAGO)


def test_day_and_week_start_on_a_sunday_goes_back_to_monday():
    sunday_night = datetime(2026, 11, 29, 23, 30, tzinfo=CHICAGO)

    today, monday = day_and_week_start(sunday_night.astimezone(UTC))  # Monday 05:30 in UTC

    assert today == datetime(2026, 11, 29, tzinfo=CHICAGO)
    assert monday == datetime(2026, 11, 23, tzinfo=CHICAGO)


def test_the_day_dst_ends_starts_at_its_own_midnight_offset():
    noon = datetime(2026, 11, 1, 12, 0, tzinfo=CHICAGO)  # DST ended at 02:00 this Sunday

    today, monday = day_and_week_start(noon)

    assert today.astimezone(UTC) == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # midnight was still CDT
    assert monday == datetime(2026, 10, 26, tzinfo=CHICAGO)
    assert hours(today, noon) == 13  # 01:00 to 02:00 came twice


def test_today_is_the_chicago_date():
    assert today_local(datetime(2026, 9, 1, 3, 0, tzinfo=UTC)) == datetime(2026, 8, 31).date()


def test_month_shift_crosses_years_both_ways():
    assert month_shift(2026, 12, 1) == (2027, 1)
    assert month_shift(2026, 1, -1) == (2025, 12)
    assert month_shift(2026, 3, -15) == (2024, 12)
    assert month_shift(2026, 3, 0) == (2026, 3)


def test_month_boundaries_chain_without_gaps():
    year, month = 2026, 1
    for _ in range(13):
        _, end = month_boundaries(year, month)
        year, month = month_shift(year, month, 1)
        assert month_boundaries(year, month)[0] == end
    assert end - month_boundaries(2026, 1)[0] > timedelta(days=365)
