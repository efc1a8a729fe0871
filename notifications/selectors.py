"""Reads for the CPD-facing incident pages and the district board.

Everything here reads `notifications/` and `districts/` only: the agreed summary on each
Notification, never the organisation-only record in `responses/`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import day_and_week_start
from districts.models import Channel, District, Membership
from districts.selectors import organizations_in_district

from .models import Delivery, Incident, Notification, TimelineEntry

# How far along an organisation is, for ordering and colour: later steps win.
STATUS_TONE = {
    Notification.Status.PENDING: "wait",
    Notification.Status.SENT: "wait",
    Notification.Status.DELIVERED: "info",
    Notification.Status.ACKNOWLEDGED: "ok",
    Notification.Status.EN_ROUTE: "ok",
    Notification.Status.ON_SCENE: "done",
    Notification.Status.AT_HOSPITAL: "done",
    Notification.Status.UNABLE: "warn",
    Notification.Status.FAILED: "alert",
}
# Best-first: the one shown for a channel kind when it has several deliveries.
DELIVERY_RANK = [Delivery.Status.DELIVERED, Delivery.Status.SENT, Delivery.Status.SENDING,
                 Delivery.Status.QUEUED, Delivery.Status.FAILED, Delivery.Status.DEAD, Delivery.Status.CANCELLED]


@dataclass(frozen=True)
class ChannelState:
    kind: str
    label: str
    status: str
    status_label: str
    count: int


@dataclass(frozen=True)
class OrgRow:
    notification: Notification
    tone: str
    channels: list[ChannelState]


@dataclass(frozen=True)
class Clock:
    label: str
    at: datetime | None
    minutes_after_previous: float | None


def _channel_states(deliveries: list[Delivery]) -> list[ChannelState]:
    """One line per channel kind (in-app, email, SMS…), showing the best delivery of that kind.

    Only first notices count here; corrections and escalations appear on the timeline.
    """
    by_kind: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        if delivery.purpose in (Delivery.Purpose.NOTIFY, Delivery.Purpose.ESCALATION, Delivery.Purpose.FALLBACK):
            by_kind.setdefault(delivery.kind, []).append(delivery)
    labels = dict(Channel.Kind.choices)
    status_labels = dict(Delivery.Status.choices)
    states = []
    for kind, rows in sorted(by_kind.items()):
        best = min(rows, key=lambda d: DELIVERY_RANK.index(d.status) if d.status in DELIVERY_RANK else 99)
        states.append(ChannelState(kind=kind, label=labels.get(kind, kind), status=best.status,
                                   status_label=status_labels.get(best.status, best.status), count=len(rows)))
    return states


def _with_notifications(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    notifications = Notification.objects.select_related("organization").prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.only(
            "id", "notification_id", "kind", "purpose", "status", "sent_at", "delivered_at"))
    ).order_by("organization__name")
    return incidents.prefetch_related(Prefetch("notifications", queryset=notifications))


# What an analyst's incident page never loads (ARCHITECTURE.md, the analyst's row: an incident as
# a notification carries it, no exact point, not who entered it).
NOT_FOR_ANALYSTS = ("latitude", "longitude", "entered_by")


def incident_for_page(incident: Incident, *, exact: bool = True) -> Incident:
    """The incident again, with victims and notifications (and their deliveries) prefetched.

    `exact=False` (analysts) leaves out the exact point and who entered it: the page then shows
    neither, and a template that asked would find them unloaded rather than leak them.
    """
    incidents = Incident.objects.select_related("district", "beat", "community_area", "hospital")
    incidents = incidents.select_related("entered_by") if exact else incidents.defer(*NOT_FOR_ANALYSTS)
    return _with_notifications(
        incidents.defer("district__boundary", "beat__boundary", "community_area__boundary")
        .prefetch_related("victims")
    ).get(pk=incident.pk)


def organization_rows(incident: Incident) -> list[OrgRow]:
    """Each notified organisation's agreed summary and its channels' delivery state."""
    return [
        OrgRow(notification=n, tone=STATUS_TONE.get(n.status, "wait"),
               channels=_channel_states(list(n.deliveries.all())))
        for n in incident.notifications.all()
    ]


def incident_clocks(incident: Incident) -> list[Clock]:
    """occurred → entered → first sent → first confirmed → acknowledged → arrived."""
    steps = [(_("Occurred"), incident.occurred_at), (_("Entered"), incident.entered_at),
             (_("First sent"), incident.first_sent_at), (_("First confirmed"), incident.first_confirmed_at),
             (_("Acknowledged"), incident.acknowledged_at), (_("Arrived"), incident.arrived_at)]
    clocks, previous = [], None
    for label, at in steps:
        minutes = (at - previous).total_seconds() / 60 if at and previous else None
        clocks.append(Clock(label=label, at=at, minutes_after_previous=minutes))
        previous = at or previous
    return clocks


def incident_timeline(incident: Incident) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.filter(incident=incident).order_by("at", "id")


BOARD_LIMIT = 200


def board_window(now: datetime) -> tuple[datetime, datetime]:
    """(start of today, start of what the board shows) in Chicago time.

    "This week" starts on Monday; on a Monday, earlier-this-week would be empty, so the board
    reaches back over the last seven days instead.
    """
    today, monday = day_and_week_start(now)
    return today, (min(monday, today - timedelta(days=6)) if monday == today else monday)


def board_shown(*, district: District, since: datetime) -> QuerySet[Incident]:
    """The district's incidents the board lists, newest first (at most BOARD_LIMIT)."""
    return Incident.objects.filter(district=district, occurred_at__gte=since).order_by("-occurred_at")[:BOARD_LIMIT]


def board_incidents(*, district: District, now: datetime | None = None) -> dict[str, list[Incident]]:
    """The district's incidents today and earlier this week (`board_window`), newest first,
    with notifications."""
    today, since = board_window(now or timezone.now())
    # The board shows each organisation's agreed status only: no deliveries to prefetch.
    notifications = Notification.objects.select_related("organization").order_by("organization__name")
    incidents = list(
        board_shown(district=district, since=since)
        .select_related("beat", "community_area").defer("beat__boundary", "community_area__boundary")
        .prefetch_related(Prefetch("notifications", queryset=notifications))
    )
    return {
        "today": [i for i in incidents if i.occurred_at >= today],
        "week": [i for i in incidents if i.occurred_at < today],
    }


def stale_channels(*, district: District) -> QuerySet[Channel]:
    """Active channels of organisations covering the district that failed their last drill."""
    return (Channel.objects.filter(organization__in=organizations_in_district(district), active=True,
                                   last_drill_ok=False)
            .select_related("organization", "user").order_by("organization__name", "kind"))


def board_summary(board: dict[str, list[Incident]], *, now: datetime | None = None) -> dict[str, int]:
    """Today's totals for the strip above the board, from the already loaded incidents."""
    now = now or timezone.now()
    today = board["today"]
    notifications = [n for incident in today + board["week"] for n in incident.notifications.all()]
    waiting = [n for n in notifications if n.acknowledged_at is None and n.status != Notification.Status.UNABLE]
    return {
        "incidents": len(today),
        "victims": sum(i.victim_count for i in today),
        "fatal": sum(i.fatal_count for i in today),
        "waiting": len(waiting),
        "overdue": sum(1 for n in waiting if n.next_escalation_at and n.next_escalation_at <= now),
    }


def awaiting_sms_acknowledgement(number: str) -> tuple[Notification | None, object]:
    """The newest unacknowledged notification sent by SMS to this number, and the user the number
    belongs to (None for a shared phone tree)."""
    delivery = (Delivery.objects.filter(kind=Channel.Kind.SMS, target=number, notification__isnull=False,
                                        notification__acknowledged_at__isnull=True)
                .exclude(status__in=[Delivery.Status.CANCELLED, Delivery.Status.QUEUED])
                .select_related("notification", "recipient").order_by("-created_at", "-id").first())
    if delivery is None:
        return None, None
    user = delivery.recipient
    if user is None:
        member = Membership.objects.filter(phone=number, organization_id=delivery.notification.organization_id).first()
        user = member.user if member else None
    return delivery.notification, user


def sms_sender_language(number: str, user=None) -> str:
    """The language to answer a text message in: its sender's own (the member the number or its
    SMS channel belongs to), English for a shared phone tree or an unknown number."""
    if user is None:
        channel = (Channel.objects.filter(kind=Channel.Kind.SMS, target=number, user__isnull=False)
                   .select_related("user").first())
        user = channel.user if channel else None
    membership = (Membership.objects.filter(user=user).first() if user is not None
                  else Membership.objects.filter(phone=number).first())
    language = membership.language if membership is not None else ""
    return language if language in dict(settings.LANGUAGES) else "en"
