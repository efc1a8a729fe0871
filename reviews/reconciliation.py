"""Reconciliation: CPD's recorded shootings for a month and district against the incidents
entered in the portal. It answers the review's question "were we told about every shooting,
and how fast?".

Matching, in order:
1. the RD number, when both sides have it;
2. otherwise time and place: the same district, occurred within `TIME_WINDOW` of each other,
   and within `DISTANCE_M` metres (CPD jitters published coordinates by about a block), or on
   the same block when either side has no point. Each portal incident matches at most one of
   CPD's, the closest in time first.

Figures: CPD's shootings, matched, the coverage (matched over CPD's), the ones never entered,
the matched ones never notified (no delivery sent), and the entry lag (CPD's time of the
shooting to the portal's entry), median and 90th percentile in minutes.
"""

import math
from dataclasses import dataclass, field
from datetime import timedelta

from districts.models import District
from notifications.models import Incident

from .models import CpdIncident
from .selectors import Month, spread

TIME_WINDOW = timedelta(minutes=45)
DISTANCE_M = 250


@dataclass
class Reconciliation:
    month: str
    district: str
    cpd_shootings: int = 0
    matched: int = 0
    coverage: float | None = None
    entry_lag_minutes: dict = field(default_factory=lambda: {"median": None, "p90": None})
    never_entered: list[CpdIncident] = field(default_factory=list)
    never_notified: list[Incident] = field(default_factory=list)
    portal_only: list[Incident] = field(default_factory=list)


def _metres(a_lat, a_lon, b_lat, b_lon) -> float:
    """Distance on the ground (equirectangular: exact enough across a few blocks)."""
    x = math.radians(b_lon - a_lon) * math.cos(math.radians((a_lat + b_lat) / 2))
    y = math.radians(b_lat - a_lat)
    return 6_371_000 * math.hypot(x, y)


def _same_place(cpd: CpdIncident, incident: Incident) -> bool:
    if None not in (cpd.latitude, cpd.longitude, incident.latitude, incident.longitude):
        return _metres(cpd.latitude, cpd.longitude, incident.latitude, incident.longitude) <= DISTANCE_M
    return cpd.block.strip().upper() == incident.block.strip().upper()


def reconcile(*, month: Month, district: District) -> Reconciliation:
    """CPD's shootings of the month in the district against the portal's incidents."""
    start, end = month.bounds
    cpd = list(CpdIncident.objects.filter(district=district, occurred_at__gte=start, occurred_at__lt=end)
               .order_by("occurred_at"))
    # The portal's side reaches a window past the month's ends: a shooting at 23:50 on the 31st
    # may be entered with a time just past midnight.
    portal = list(Incident.objects.filter(district=district, occurred_at__gte=start - TIME_WINDOW,
                                          occurred_at__lt=end + TIME_WINDOW).order_by("occurred_at"))
    by_rd = {incident.rd_number: incident for incident in portal if incident.rd_number}
    taken: set[int] = set()
    result = Reconciliation(month=month.label, district=district.number, cpd_shootings=len(cpd))
    lags = []
    for shooting in cpd:
        match = by_rd.get(shooting.rd_number)
        if match is None or match.pk in taken:
            candidates = [i for i in portal if i.pk not in taken and i.rd_number in (None, "", shooting.rd_number)
                          and abs(i.occurred_at - shooting.occurred_at) <= TIME_WINDOW and _same_place(shooting, i)]
            match = min(candidates, key=lambda i: abs(i.occurred_at - shooting.occurred_at), default=None)
        if match is None:
            result.never_entered.append(shooting)
            continue
        taken.add(match.pk)
        result.matched += 1
        lags.append((match.entered_at - shooting.occurred_at).total_seconds() / 60)
        if match.first_sent_at is None:
            result.never_notified.append(match)
    result.portal_only = [i for i in portal if i.pk not in taken and start <= i.occurred_at < end]
    result.coverage = round(result.matched / len(cpd), 3) if cpd else None
    result.entry_lag_minutes = spread(lags)
    return result
