"""Has a polled fragment changed? The rows the board and the incident page's live part show,
read as plain values in one or two queries, so `core.conditional` can answer an unchanged poll
with 304 without loading models or rendering.

Each fingerprint holds what the fragment renders and nothing else: change a row it shows (an
incident entered or corrected, a status, an acknowledgement, a delivery's state, a timeline
line) and the fingerprint changes; change something it does not show and it stays. What the
fragment reads from the clock is in it too (the Chicago day, which timers are overdue).
The viewer (scope, language) is added by the view. `organization_codes` are the organisations
whose records the fragment shows, for the access log a 304 still counts.
"""

from dataclasses import dataclass
from datetime import datetime

from districts.models import District

from .models import Incident, Notification, TimelineEntry
from .selectors import board_shown, board_window

# What `_board_incident.html` and the summary strip read of each incident and notification.
BOARD_INCIDENT_FIELDS = ("pk", "code", "occurred_at", "block", "rd_number", "victim_count", "fatal_count",
                         "source", "beat__number", "community_area__name")
BOARD_NOTIFICATION_FIELDS = ("organization__code", "organization__name", "organization__short_name", "status",
                             "acknowledged_at", "escalation_level", "escalation_paged_level")
# What `_incident_live.html` reads of the incident (its clocks), each notification and delivery.
INCIDENT_CLOCK_FIELDS = ("source", "occurred_at", "entered_at", "first_sent_at", "first_confirmed_at",
                         "acknowledged_at", "arrived_at")
INCIDENT_NOTIFICATION_FIELDS = ("pk", "organization__code", "organization__name", "organization__short_name",
                                "reason", "status", "acknowledged_at", "escalation_level",
                                "escalation_paged_level", "arrived_at", "responded", "response_category",
                                "deliveries__id", "deliveries__kind", "deliveries__purpose", "deliveries__status")


@dataclass(frozen=True)
class Fingerprint:
    parts: tuple
    organization_codes: frozenset[str]


def board_fingerprint(*, district: District, now: datetime) -> Fingerprint:
    """The district board's live part at `now`: one query over its incidents and notifications."""
    today, since = board_window(now)
    shown = board_shown(district=district, since=since).values("pk")
    fields = BOARD_INCIDENT_FIELDS + tuple(f"notifications__{name}" for name in BOARD_NOTIFICATION_FIELDS)
    rows = list(
        Incident.objects.filter(pk__in=shown)
        .values_list(*fields, "notifications__next_escalation_at")
        .order_by("-occurred_at", "pk", "notifications__organization__name", "notifications__pk")
    )
    # A timer past due shows as overdue without any row changing: the tag carries which are.
    parts = tuple((*row[:-1], row[-1] is not None and row[-1] <= now) for row in rows)
    codes = frozenset(str(row[len(BOARD_INCIDENT_FIELDS)]) for row in rows if row[len(BOARD_INCIDENT_FIELDS)])
    return Fingerprint(parts=(district.number, today, parts), organization_codes=codes)


def incident_fingerprint(incident: Incident) -> Fingerprint:
    """The incident page's live part: its clocks (already loaded), its notifications with their
    deliveries (one query) and its timeline (one query)."""
    clocks = tuple(getattr(incident, name) for name in INCIDENT_CLOCK_FIELDS)
    notifications = tuple(
        Notification.objects.filter(incident=incident).values_list(*INCIDENT_NOTIFICATION_FIELDS)
        .order_by("organization__name", "pk", "deliveries__id")
    )
    timeline = tuple(TimelineEntry.objects.filter(incident=incident).values_list("id", "at", "kind", "text")
                     .order_by("at", "id"))
    codes = frozenset(str(row[1]) for row in notifications)
    return Fingerprint(parts=(incident.code, clocks, notifications, timeline), organization_codes=codes)
