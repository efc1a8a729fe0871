"""Change stamps of the monthly figures: one row per district and month (`FiguresStamp`), given
a new token whenever something the figures count changes in that month: an incident entered,
imported or corrected (both months when a correction moves it), a send or confirmation starting
a clock, an acknowledgement, a status tap, an arrival, a response, an escalation page.

The reviews app keeps each stored month's stamps as its fingerprint, so deciding whether a
stored month is still right is one indexed read of a few rows, not an aggregate over the
month's notifications. Called inside the writing transaction: a stamp lands with its change
or not at all. One upsert per call; a late write into an old month stamps that month.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from django.utils import timezone

from core.dates import month_of

from .models import FiguresStamp, Incident


def month_start(moment: datetime) -> date:
    """The first day of the moment's month in Chicago time."""
    return date(*month_of(moment), 1)


def figures_changed(pairs: Iterable[tuple[datetime, int]]) -> None:
    """Stamp the months of these (occurred_at, district id) pairs as changed."""
    keys = {(month_start(at), district_id) for at, district_id in pairs}
    if not keys:
        return
    now, token = timezone.now(), uuid.uuid4().hex
    FiguresStamp.objects.bulk_create(
        [FiguresStamp(month=month, district_id=district_id, token=token, changed_at=now)
         for month, district_id in sorted(keys)],
        update_conflicts=True, unique_fields=["month", "district"], update_fields=["token", "changed_at"])


def incident_figures_changed(incident_id: int | None) -> None:
    """Stamp the month of one incident (by id) as changed; nothing for a drill or a reminder."""
    if incident_id is not None:
        figures_changed(Incident.objects.filter(pk=incident_id).values_list("occurred_at", "district_id"))
