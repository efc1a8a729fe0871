"""The monthly review's figures: per Chicago-local month, per district, per organisation and for
the whole pilot. Everything here reads; nothing writes.

Definitions (the review table's; the dashboards, the API and the report all use these):
- an incident belongs to the month its shooting occurred in, in Chicago time (core.dates);
- victims and fatal are victims, not incidents;
- notified: incidents with at least one delivery sent (the first-sent clock started); the
  coverage is notified over incidents;
- the four intervals, in minutes, each over the incidents (or, for an organisation, its
  notifications) that have both ends: occurred → entered, entered → first sent, first sent →
  acknowledged, acknowledged → arrived; median and 90th percentile (linear interpolation, as
  PostgreSQL's percentile_cont);
- acknowledged and responded rates are over incident notifications (drills never count);
- late: acknowledged more than the organisation's window after the first send; missed: never
  acknowledged (the month's figures are read after its windows have passed); escalated:
  somebody was paged (`escalation_paged_level`);
- responses by type, referrals by kind and retaliation risk flagged (medium or high) are
  counts from the organisations' logs: counts only, never a record;
- simulated: notifications of the demo history whose clocks were drawn, not recorded
  (notifications/history.py); a page showing figures with any says so.

Each figure set is computed from a handful of queries for the whole month, whatever the number
of districts or organisations, and grouped in Python.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet, Sum

from core.dates import month_boundaries
from core.replica import reads_from_replica
from core.suppression import suppress
from districts.models import District, Organization
from notifications.models import Incident, Notification
from protocols.models import Playbook
from responses.models import Referral, ResponseLog, ResponseType, RetaliationRisk

INTERVALS = ("minutes_occurred_to_entered", "minutes_entered_to_sent", "minutes_sent_to_acknowledged",
             "minutes_acknowledged_to_arrived")
# The counts that leave the review table with 1 to 3 shown as "≤3" (core.suppression).
COUNT_FIELDS = ("incidents", "victims", "fatal", "notified", "late", "missed", "escalated", "simulated",
                "retaliation_risk_flagged")
FLAGGED_RISKS = (RetaliationRisk.MEDIUM, RetaliationRisk.HIGH)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Month":
        """`YYYY-MM` → Month. Raises ValueError with a message a person can act on."""
        try:
            year, month = (int(part) for part in text.split("-"))
            if len(text) != 7 or not 1 <= month <= 12 or year < 2000:
                raise ValueError
        except ValueError:
            raise ValueError(f"{text!r} is not a month: use YYYY-MM, for example 2026-03.") from None
        return cls(year, month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return month_boundaries(self.year, self.month)


def percentile(values: list[float], q: float) -> float | None:
    """The q-th quantile (0..1) of the values by linear interpolation; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: list[float]) -> dict:
    """{"median", "p90"} in minutes, rounded to a tenth; both None for no values."""
    median, p90 = percentile(values, 0.5), percentile(values, 0.9)
    return {"median": None if median is None else round(median, 1), "p90": None if p90 is None else round(p90, 1)}


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def incidents_in_month(month: Month, *, districts=None) -> QuerySet[Incident]:
    """The month's incidents (by when the shooting occurred, Chicago time), optionally in districts."""
    start, end = month.bounds
    incidents = Incident.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    return incidents.filter(district__in=districts) if districts is not None else incidents


# --- the pieces ------------------------------------------------------------------------------

def _incident_rows(incidents: QuerySet[Incident]) -> list[tuple]:
    return list(incidents.values_list("district_id", "victim_count", "fatal_count", "occurred_at", "entered_at",
                                      "first_sent_at", "acknowledged_at", "arrived_at"))


def _notification_rows(notifications: QuerySet[Notification]) -> list[dict]:
    return list(notifications.values(
        "pk", "organization_id", "incident__district_id", "created_at", "incident__occurred_at",
        "incident__entered_at", "first_sent_at", "acknowledged_at", "arrived_at", "responded",
        "escalation_paged_level", "organization__ack_window_minutes", "simulated"))


def _incident_figures(rows: list[tuple]) -> dict:
    intervals = {name: [] for name in INTERVALS}
    for _district, _victims, _fatal, occurred, entered, sent, acknowledged, arrived in rows:
        for name, (start, end) in zip(INTERVALS, [(occurred, entered), (entered, sent), (sent, acknowledged),
                                                  (acknowledged, arrived)], strict=True):
            minutes = _minutes(start, end)
            if minutes is not None:
                intervals[name].append(minutes)
    notified = sum(1 for row in rows if row[5] is not None)
    return {
        "incidents": len(rows),
        "victims": sum(row[1] for row in rows),
        "fatal": sum(row[2] for row in rows),
        "notified": notified,
        "notification_coverage": _rate(notified, len(rows)),
        **{name: spread(values) for name, values in intervals.items()},
    }


def _notification_figures(rows: list[dict]) -> dict:
    acknowledged = [row for row in rows if row["acknowledged_at"] is not None]
    # The window runs from the first send (nobody can acknowledge before), as on the agenda and
    # in the incident history; from when the notification was written if nothing was sent.
    late = sum(1 for row in acknowledged
               if _minutes(row["first_sent_at"] or row["created_at"], row["acknowledged_at"])
               > row["organization__ack_window_minutes"])
    return {
        "notifications": len(rows),
        "acknowledged_rate": _rate(len(acknowledged), len(rows)),
        "responded_rate": _rate(sum(1 for row in rows if row["responded"]), len(rows)),
        "late": late,
        "missed": len(rows) - len(acknowledged),
        "escalated": sum(1 for row in rows if row["escalation_paged_level"] > 0),
        # Demo history: notifications whose clocks were simulated (notifications/history.py).
        "simulated": sum(1 for row in rows if row["simulated"]),
    }


def _organization_intervals(rows: list[dict]) -> dict:
    """An organisation's own clocks: its notifications' sends, acknowledgements and arrivals."""
    pairs = {name: [] for name in INTERVALS}
    for row in rows:
        ends = [(row["incident__occurred_at"], row["incident__entered_at"]),
                (row["incident__entered_at"], row["first_sent_at"]),
                (row["first_sent_at"], row["acknowledged_at"]), (row["acknowledged_at"], row["arrived_at"])]
        for name, (start, end) in zip(INTERVALS, ends, strict=True):
            minutes = _minutes(start, end)
            if minutes is not None:
                pairs[name].append(minutes)
    return {name: spread(values) for name, values in pairs.items()}


def _response_figures(notification_ids: list[int]) -> dict:
    """Counts from the organisations' own logs: types, referral kinds, flagged risk. Counts only."""
    logs = ResponseLog.objects.filter(notification_id__in=notification_ids)
    by_type = Counter()
    flagged = 0
    for types, risk in logs.values_list("response_types", "retaliation_risk"):
        by_type.update(kind for kind in types or () if kind in ResponseType.values)
        flagged += risk in FLAGGED_RISKS
    referrals = dict(Referral.objects.filter(response__notification_id__in=notification_ids)
                     .values_list("kind").annotate(total=Sum("count")).values_list("kind", "total"))
    return {
        "responses_by_type": {kind: by_type.get(kind, 0) for kind in ResponseType.values},
        "referrals_by_kind": {kind: referrals.get(kind, 0) or 0 for kind in Referral.Kind.values},
        "retaliation_risk_flagged": flagged,
    }


def _figures(incident_rows: list[tuple], notification_rows: list[dict], scenario_counts: Counter | None = None) -> dict:
    return {**_incident_figures(incident_rows), **_notification_figures(notification_rows),
            **_response_figures([row["pk"] for row in notification_rows]),
            "incidents_by_scenario": dict(sorted((scenario_counts or Counter()).items()))}


def _scenario_counts(incidents: QuerySet[Incident]) -> dict[int, Counter]:
    """{district id: Counter(playbook code: incidents)}: how many of the month's incidents
    matched each scenario playbook (an incident counts once under each playbook it matched)."""
    counts: dict[int, Counter] = defaultdict(Counter)
    rows = Incident.scenarios.through.objects.filter(incident__in=incidents).values_list(
        "incident__district_id", "playbook__code")
    for district_id, code in rows:
        counts[district_id][code] += 1
    return counts


# --- the month -------------------------------------------------------------------------------

@reads_from_replica
def monthly_review(*, month: Month, districts: QuerySet[District] | list[District] | None = None,
                   organization: Organization | None = None, scenario: Playbook | None = None) -> dict:
    """The month's figures: one entry per district (each district asked for, even an empty one,
    in district order), one per organisation notified in those districts, and the pilot total.

    `districts` None means every district that had an incident or is a pilot district;
    `organization` narrows the organisations (a supervisor's dashboard) and their figures;
    `scenario` narrows every figure to the incidents that matched that playbook. Each figure
    set counts its incidents by scenario (`incidents_by_scenario`, playbook code: count).
    """
    incidents = incidents_in_month(month, districts=districts)
    if scenario is not None:
        incidents = incidents.filter(scenarios=scenario)
    notifications = Notification.objects.filter(kind=Notification.Kind.INCIDENT, incident__in=incidents)
    if organization is not None:
        notifications = notifications.filter(organization=organization)
    incident_rows, notification_rows = _incident_rows(incidents), _notification_rows(notifications)

    if districts is None:
        ids = {row[0] for row in incident_rows}
        districts = District.objects.filter(Q(pk__in=ids) | Q(is_pilot=True)).defer("boundary")
    districts = sorted({d.pk: d for d in districts}.values(), key=lambda d: d.number)
    incidents_by_district, notifications_by_district = defaultdict(list), defaultdict(list)
    for row in incident_rows:
        incidents_by_district[row[0]].append(row)
    for row in notification_rows:
        notifications_by_district[row["incident__district_id"]].append(row)

    scenarios_by_district = _scenario_counts(incidents)
    notifications_by_org = defaultdict(list)
    for row in notification_rows:
        notifications_by_org[row["organization_id"]].append(row)
    organizations = Organization.objects.filter(pk__in=notifications_by_org).order_by("name")
    return {
        "month": month.label,
        "districts": [{"district": district.number, "name": district.name,
                       **_figures(incidents_by_district[district.pk], notifications_by_district[district.pk],
                                  scenarios_by_district.get(district.pk))}
                      for district in districts],
        "organizations": [_organization_entry(org, notifications_by_org[org.pk]) for org in organizations],
        "pilot": _figures(incident_rows, notification_rows, sum(scenarios_by_district.values(), Counter())),
    }


def _organization_entry(organization: Organization, rows: list[dict]) -> dict:
    return {"organization": str(organization.code), "name": organization.name,
            **_notification_figures(rows), **_organization_intervals(rows),
            **_response_figures([row["pk"] for row in rows])}


def suppressed(entry: dict) -> dict:
    """A copy of one figure set as it may leave the review table: counts of 1 to 3 as "≤3",
    in the by-type and by-kind breakdowns too. Rates and minutes are unchanged."""
    out = {}
    for key, value in entry.items():
        if key in COUNT_FIELDS or key == "notifications":
            out[key] = suppress(value)
        elif key in ("responses_by_type", "referrals_by_kind", "incidents_by_scenario"):
            out[key] = {kind: suppress(count) for kind, count in value.items()}
        else:
            out[key] = value
    return out
