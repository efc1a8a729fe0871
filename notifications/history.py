"""Simulated notification and response timelines for the demo's historical incidents.

The City's file says when and where each shooting happened, not how fast outreach heard of it.
So that the monthly review has two years to show, each imported incident is routed to the
organisations covering its place, as a live one would be, and each notification gets clocks
drawn from these stated distributions. Every such notification is marked `simulated`, its
incident's timeline says so, and the dashboards and report say so too. Live incidents are
never touched.

Distributions (minutes; lognormal with the median and spread given, so p90 ≈ median × e^(1.28 σ)):

| interval | median | σ | note |
|---|---:|---:|---|
| occurred → entered | 9.0 → 5.0 | 0.6 | falls linearly over the file: faster notification, the headline |
| entered → first sent | 0.4 | 0.5 | |
| first sent → acknowledged | 4.0 | 0.8 | 88 % acknowledged; of the rest, 70 % escalated with somebody paged |
| acknowledged → arrived | 14.0 | 0.6 | 70 % of the acknowledged arrive; 95 % of those log a response |

Deterministic: each draw is seeded by the RD number and the organisation, so a second run (or
another machine) produces the same history, and an incident already simulated is skipped.
"""

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction

from core.bulk import rows_update
from districts.models import Coverage

from .models import Incident, Notification, TimelineEntry
from .stamps import figures_changed

ENTRY_MEDIAN_START, ENTRY_MEDIAN_END = 9.0, 5.0
ACKNOWLEDGED, ESCALATED_IF_NOT, ARRIVED_IF_ACK, RESPONDED_IF_ARRIVED = 0.88, 0.70, 0.70, 0.95
SIMULATED_NOTE = "Demo history: notification and response times are simulated, not recorded."


def _minutes(rng: random.Random, median: float, sigma: float) -> timedelta:
    return timedelta(minutes=rng.lognormvariate(math.log(median), sigma))


def _coverage_map() -> dict[tuple[str, int], list[tuple[int, str]]]:
    """(kind, place id) → [(organisation id, reason)], from every active organisation's rules."""
    places: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    rules = Coverage.objects.filter(organization__active=True).select_related("community_area").defer(
        "community_area__boundary")
    for rule in rules:
        if rule.kind == Coverage.Kind.COMMUNITY_AREA:
            places[("area", rule.community_area_id)].append(
                (rule.organization_id, f"covers community area {rule.community_area.number}"))
        elif rule.kind == Coverage.Kind.BEAT:
            places[("beat", rule.beat_id)].append((rule.organization_id, "covers beat"))
        else:
            places[("district", rule.district_id)].append((rule.organization_id, "covers district"))
    return places


def _routes(incident: Incident, places) -> dict[int, str]:
    routes: dict[int, str] = {}
    for key in (("area", incident.community_area_id), ("beat", incident.beat_id), ("district", incident.district_id)):
        for organization_id, reason in places.get(key, ()):
            routes.setdefault(organization_id, reason)
    return routes


def _simulate(incident: Incident, organization_id: int, reason: str, entered: datetime) -> Notification:
    rng = random.Random(f"{incident.rd_number}|{organization_id}")
    sent = entered + _minutes(rng, 0.4, 0.5)
    notification = Notification(incident=incident, organization_id=organization_id, reason=f"{reason} (simulated)",
                                simulated=True, first_sent_at=sent, status=Notification.Status.SENT, status_at=sent)
    if rng.random() < ACKNOWLEDGED:
        acknowledged = sent + _minutes(rng, 4.0, 0.8)
        notification.acknowledged_at, notification.acknowledged_via = acknowledged, "app"
        notification.status, notification.status_at = Notification.Status.ACKNOWLEDGED, acknowledged
        if rng.random() < ARRIVED_IF_ACK:
            arrived = acknowledged + _minutes(rng, 14.0, 0.6)
            notification.arrived_at = arrived
            notification.status, notification.status_at = Notification.Status.ON_SCENE, arrived
            notification.responded = rng.random() < RESPONDED_IF_ARRIVED
            notification.response_category = Notification.ResponseCategory.SCENE if notification.responded else ""
    elif rng.random() < ESCALATED_IF_NOT:
        notification.escalation_level = notification.escalation_paged_level = 1
    return notification


@transaction.atomic
def history_simulate(*, batch_size: int = 500) -> int:
    """Give every imported incident without notifications its simulated timeline. Returns how many."""
    # Done once per incident, whether or not any organisation covers its place.
    incidents = list(Incident.objects.filter(source=Incident.Source.IMPORT, notifications__isnull=True)
                     .exclude(timeline__kind="incident.simulated").order_by("occurred_at"))
    if not incidents:
        return 0
    places = _coverage_map()
    first, last = incidents[0].occurred_at, incidents[-1].occurred_at
    span = max((last - first).total_seconds(), 1.0)
    notifications, timeline = [], []
    for incident in incidents:
        share = (incident.occurred_at - first).total_seconds() / span
        median = ENTRY_MEDIAN_START + (ENTRY_MEDIAN_END - ENTRY_MEDIAN_START) * share
        incident.entered_at = incident.occurred_at + _minutes(random.Random(incident.rd_number), median, 0.6)
        rows = [_simulate(incident, org, reason, incident.entered_at)
                for org, reason in sorted(_routes(incident, places).items())]
        incident.first_sent_at = min((n.first_sent_at for n in rows), default=None)
        incident.acknowledged_at = min((n.acknowledged_at for n in rows if n.acknowledged_at), default=None)
        incident.arrived_at = min((n.arrived_at for n in rows if n.arrived_at), default=None)
        notifications += rows
        timeline.append(TimelineEntry(incident=incident, at=incident.entered_at, kind="incident.simulated",
                                      text=SIMULATED_NOTE))
    rows_update(Incident, incidents, ["entered_at", "first_sent_at", "acknowledged_at", "arrived_at"],
                batch_size=batch_size)
    Notification.objects.bulk_create(notifications, batch_size=batch_size)
    # created_at is auto_now_add: the notification was created when the incident was entered.
    for notification in notifications:
        notification.created_at = notification.incident.entered_at
    rows_update(Notification, notifications, ["created_at"], batch_size=batch_size)
    TimelineEntry.objects.bulk_create(timeline, batch_size=batch_size)
    figures_changed((incident.occurred_at, incident.district_id) for incident in incidents)
    return len(incidents)
