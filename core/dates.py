"""Chicago time: the portal's one time zone for days, weeks and months.

Every day, week and month the portal shows or counts is a Chicago-local one, computed here,
so a shooting at 23:30 on the 31st belongs to that month however the server's clock is set,
and the two days a year with a DST change are 23 and 25 hours long, not 24.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

CHICAGO = ZoneInfo("America/Chicago")


def local(moment: datetime) -> datetime:
    """The aware moment in Chicago time."""
    return timezone.localtime(moment, CHICAGO)


def today_local(now: datetime | None = None) -> date:
    """Today's date in Chicago."""
    return local(now or timezone.now()).date()


def day_start(day: date) -> datetime:
    """Midnight at the start of a Chicago day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=CHICAGO)


def day_and_week_start(now: datetime) -> tuple[datetime, datetime]:
    """(start of today, start of this week, Monday) in Chicago time, as aware datetimes."""
    today = today_local(now)
    return day_start(today), day_start(today - timedelta(days=today.weekday()))


def month_boundaries(year: int, month: int) -> tuple[datetime, datetime]:
    """The Chicago-local calendar month as [start, end) aware datetimes.

    Both ends are local midnights, so March (DST starts) is 743 hours long and November
    (DST ends) 721. Raises ValueError for a month outside 1..12.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, not {month}")
    start = datetime(year, month, 1, tzinfo=CHICAGO)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=CHICAGO)
    return start, end


def month_of(moment: datetime) -> tuple[int, int]:
    """(year, month) of the Chicago-local month an aware moment falls in."""
    moment = local(moment)
    return moment.year, moment.month


def month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    """The (year, month) `months` later (earlier when negative)."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1
