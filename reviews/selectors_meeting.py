"""Reads for the shooting review meeting: which reviews a user sees, and the agenda built from
the data.

The agenda reads `notifications/` only (the incident, its timeline and each organisation's agreed
summary) and the month's figures as `reviews.selectors` computes them, through the summary
table's read-through (`services.monthly_reviews`): counts, never an organisation's own record.
This module never imports `responses`.

Who sees a review (`reviews_for_user`): analysts every one; CPD staff and commanders the reviews
of their own district alone (a joint review of several districts shows incidents outside a CPD
user's scope, so it is the analysts'); nobody else any.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from districts.access import scope_of
from districts.models import CPD_ROLES, District, Role
from notifications.models import Incident, Notification, TimelineEntry

from .models import ActionItem, Review, ReviewDistrict
from .reconciliation import Reconciliation, reconcile
from .selectors import Month, incidents_in_month
from .services import monthly_reviews

# The agenda's flags, worst first: an incident is placed by its worst flag. Nobody told is worse
# than nobody answering, which is worse than one organisation still to answer, than somebody
# having to be paged, than an answer after the window.
FLAGS = {
    "never_notified": _("Never notified"),
    "missed": _("Missed"),
    "unacknowledged": _("Unacknowledged"),
    "escalated": _("Escalated"),
    "late": _("Acknowledged late"),
}
FLAG_RANK = {code: rank for rank, code in enumerate(FLAGS)}

# Never loaded for the agenda: the exact point and who entered it (outside the analyst's view of
# an incident), and boundary polygons.
DEFERRED = ("latitude", "longitude", "entered_by", "district__boundary", "beat__boundary",
            "community_area__boundary")


def month_of_review(review: Review) -> Month:
    return Month(review.month.year, review.month.month)


# --- which reviews -------------------------------------------------------------------------------

def _with_districts(reviews: QuerySet[Review]) -> QuerySet[Review]:
    rows = ReviewDistrict.objects.select_related("district").defer("district__boundary").order_by("district__number")
    return reviews.prefetch_related(Prefetch("review_districts", queryset=rows))


def reviews_for_user(user) -> QuerySet[Review]:
    """The reviews the user may open, newest month first, with their districts prefetched."""
    scope = scope_of(user)
    reviews = _with_districts(Review.objects.order_by("-month", "-created_at"))
    if scope.is_analyst:
        return reviews
    if scope.is_cpd:
        elsewhere = ReviewDistrict.objects.filter(review=OuterRef("pk")).exclude(district_id=scope.district_id)
        return reviews.filter(review_districts__district_id=scope.district_id).exclude(Exists(elsewhere))
    return reviews.none()


def get_review_for_user(user, code) -> Review:
    """The review with this code if the user may open it; Http404 otherwise (never saying it exists)."""
    try:
        return reviews_for_user(user).get(code=code)
    except (Review.DoesNotExist, ValueError):
        raise Http404("No such review.") from None


def district_choices(user) -> QuerySet[District]:
    """Districts the user may start a review for: every one (analysts), their own (commanders)."""
    scope = scope_of(user)
    districts = District.objects.defer("boundary").order_by("number")
    if scope.is_analyst:
        return districts
    if scope.role == Role.CPD_COMMANDER:
        return districts.filter(pk=scope.district_id)
    return districts.none()


def review_districts(review: Review) -> list[District]:
    return [row.district for row in review.review_districts.all()]


def people_choices(review: Review):
    """Portal users who can own an action item or be listed by account: CPD staff of the review's
    districts and the analysts. Outreach staff are named with their organisation instead, so no
    CPD-facing page ever lists an organisation's workers."""
    ids = [row.district_id for row in review.review_districts.all()]
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(membership__role__in=CPD_ROLES, membership__district_id__in=ids)
                    | Q(membership__role=Role.ANALYST))
            .order_by("last_name", "first_name", "username"))


def review_themes(review: Review):
    return review.themes.order_by("created_at", "id")


def review_action_items(review: Review):
    """The items raised in this review, with their owners."""
    return review.action_items.select_related("owner_user").order_by("created_at", "id")


def review_attendance(review: Review):
    return review.attendance.select_related("user").order_by("-present", "organization", "name", "id")


def carried_items(review: Review) -> list[ActionItem]:
    """Action items still open (open or in progress) raised in an earlier month's review that
    shares a district with this one, oldest first. One query; an item leaves every later agenda
    once it is done or dropped."""
    ids = [row.district_id for row in review.review_districts.all()]
    overlapping = ReviewDistrict.objects.filter(review=OuterRef("review_id"), district_id__in=ids)
    return list(ActionItem.objects.filter(status__in=ActionItem.OPEN_STATUSES, review__month__lt=review.month)
                .filter(Exists(overlapping)).select_related("review", "owner_user")
                .order_by("review__month", "created_at", "id"))


# --- the agenda ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flag:
    code: str
    organizations: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return str(FLAGS[self.code])


@dataclass
class AgendaIncident:
    incident: Incident
    flags: list[Flag]
    notifications: list[Notification]
    timeline: list[TimelineEntry]

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def rank(self) -> int:
        return min((FLAG_RANK[flag.code] for flag in self.flags), default=len(FLAG_RANK))


@dataclass
class Agenda:
    month: Month
    incidents: list[AgendaIncident]
    figures: list[dict]  # one figure set per district (reviews.selectors.monthly_review)
    total: dict  # the districts together
    reconciliations: list[Reconciliation]
    carried: list[ActionItem] = field(default_factory=list)

    @property
    def flagged(self) -> list[AgendaIncident]:
        return [row for row in self.incidents if row.flagged]

    @property
    def others(self) -> list[AgendaIncident]:
        return [row for row in self.incidents if not row.flagged]


def _window_end(notification: Notification) -> datetime:
    start = notification.first_sent_at or notification.created_at
    return start + timedelta(minutes=notification.organization.ack_window_minutes)


def incident_flags(incident: Incident, notifications: list[Notification], *, now: datetime) -> list[Flag]:
    """The incident's problems, worst first, each with the organisations it concerns:

    - never notified: no organisation was sent a message;
    - missed: an organisation was sent a message and its window ran out without an acknowledgement;
    - unacknowledged: an organisation was sent a message, has not acknowledged, and its window is
      still running;
    - escalated: somebody was actually paged (`escalation_paged_level > 0`);
    - late: an organisation acknowledged after its window (`ack_window_minutes` from when it was
      first sent a message, from when it was written if never sent), as the incident history says.
    """
    by_flag: dict[str, list[str]] = {code: [] for code in FLAGS}
    sent = [n for n in notifications if n.first_sent_at is not None]
    if not sent:
        by_flag["never_notified"] = [""]
    for notification in notifications:
        name = notification.organization.short_name or notification.organization.name
        if notification.first_sent_at is not None and notification.acknowledged_at is None:
            by_flag["missed" if now > _window_end(notification) else "unacknowledged"].append(name)
        if notification.escalation_paged_level > 0:
            by_flag["escalated"].append(name)
        if notification.acknowledged_at is not None and notification.acknowledged_at > _window_end(notification):
            by_flag["late"].append(name)
    return [Flag(code, tuple(name for name in names if name)) for code, names in by_flag.items() if names]


def agenda_incidents(month: Month, districts: list[District], *, now: datetime | None = None) -> list[AgendaIncident]:
    """Every incident of the month in the districts with its timeline and each organisation's
    agreed summary, the flagged ones first (worst flag, then time), then the rest by time.
    Three queries whatever the number of incidents."""
    now = now or timezone.now()
    told = (Notification.objects.filter(kind=Notification.Kind.INCIDENT).select_related("organization")
            .only("id", "incident", "organization__name", "organization__short_name",
                  "organization__ack_window_minutes", "created_at", "status", "first_sent_at", "acknowledged_at",
                  "arrived_at", "responded", "response_category", "escalation_paged_level")
            .order_by("organization__name"))
    incidents = (incidents_in_month(month, districts=districts).defer(*DEFERRED)
                 .select_related("district", "beat", "community_area")
                 .prefetch_related(Prefetch("notifications", queryset=told, to_attr="told"),
                                   Prefetch("timeline", queryset=TimelineEntry.objects.order_by("at", "id"),
                                            to_attr="entries"))
                 .order_by("occurred_at", "pk"))
    rows = [AgendaIncident(incident=i, flags=incident_flags(i, i.told, now=now), notifications=i.told,
                           timeline=i.entries) for i in incidents]
    return sorted(rows, key=lambda row: (row.rank, row.incident.occurred_at))


def agenda(review: Review, *, now: datetime | None = None) -> Agenda:
    """The review's agenda: the incidents (flagged first), the month's figures per district and
    for the districts together, reconciliation with CPD's record per district, and the action
    items carried over from earlier reviews."""
    month, districts = month_of_review(review), review_districts(review)
    figures = monthly_reviews([month], districts=districts)[0]
    return Agenda(
        month=month,
        incidents=agenda_incidents(month, districts, now=now),
        figures=figures["districts"],
        total=figures["pilot"],
        reconciliations=[reconcile(month=month, district=district) for district in districts],
        carried=carried_items(review),
    )
