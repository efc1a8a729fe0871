"""Reads for outreach pages. Every function takes the organisation (or user) it is scoped to."""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Access, Event
from districts.models import District, Organization
from notifications.models import Incident, Notification, TimelineEntry, Victim

from .models import FollowUp, ResponseLog

FEED_SIZE = 50
UNACKNOWLEDGED = (Notification.Status.PENDING, Notification.Status.SENT, Notification.Status.DELIVERED,
                  Notification.Status.FAILED)


def feed_for_organization(organization_id: int, *, limit: int = FEED_SIZE) -> list[Notification]:
    """The organisation's incident notifications: unacknowledged first, then newest first."""
    return list(
        Notification.objects.filter(organization_id=organization_id, kind=Notification.Kind.INCIDENT)
        .select_related("incident__community_area", "incident__hospital", "incident__district", "assigned_to")
        .defer("incident__community_area__boundary", "incident__district__boundary")
        .annotate(waiting=Case(When(acknowledged_at__isnull=True, then=Value(0)), default=Value(1),
                               output_field=IntegerField()))
        .prefetch_related("incident__scenarios")
        .order_by("waiting", "-incident__occurred_at", "-created_at")[:limit]
    )


def victims_summary(incident) -> list[dict]:
    """Victims as outreach may see them: age band, sex and whether fatal, nothing else."""
    return [{"age_band": _("Age unknown") if v.age_band == Victim.AgeBand.UNKNOWN else v.get_age_band_display(),
             "sex": v.get_sex_display(), "fatal": v.fatal}
            for v in Victim.objects.filter(incident=incident).only("age_band", "sex", "fatal")]


def taps_for_notification(notification: Notification) -> list[TimelineEntry]:
    """The organisation's own status taps, oldest first (a correctable list)."""
    return list(TimelineEntry.objects.filter(notification=notification, kind__startswith="notification.")
                .order_by("at", "id"))


def responses_for_notification(notification: Notification) -> QuerySet[ResponseLog]:
    return (ResponseLog.objects.filter(notification=notification).select_related("created_by")
            .prefetch_related("referrals").order_by("created_at"))


def followups_for_user(user, *, include_done: bool = False) -> QuerySet[FollowUp]:
    followups = FollowUp.objects.filter(assigned_to=user).select_related("notification__incident")
    if not include_done:
        followups = followups.filter(done_at__isnull=True)
    return followups.order_by("due_on", "id")


def followups_due_count(user) -> int:
    return FollowUp.objects.filter(assigned_to=user, done_at__isnull=True, due_on__lte=timezone.localdate()).count()


def team_members(organization: Organization):
    return (get_user_model().objects.filter(membership__organization=organization)
            .select_related("membership").order_by("first_name", "username"))


def team_activity(organization: Organization, *, days: int = 30) -> list[dict]:
    """Per member over the last `days`: acknowledgements, responses logged, open follow-ups."""
    since = timezone.now() - timedelta(days=days)
    users = team_members(organization)
    acks = dict(Notification.objects.filter(organization=organization, acknowledged_at__gte=since)
                .values("acknowledged_by").annotate(n=Count("id")).values_list("acknowledged_by", "n"))
    logs = dict(ResponseLog.objects.filter(organization=organization, created_at__gte=since)
                .values("created_by").annotate(n=Count("id")).values_list("created_by", "n"))
    open_followups = dict(FollowUp.objects.filter(organization=organization, done_at__isnull=True)
                          .values("assigned_to").annotate(n=Count("id")).values_list("assigned_to", "n"))
    return [{"user": u, "role": u.membership.get_role_display(), "acks": acks.get(u.pk, 0),
             "responses": logs.get(u.pk, 0), "open_followups": open_followups.get(u.pk, 0)} for u in users]


def organization_numbers(organization: Organization, *, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    notifications = Notification.objects.filter(organization=organization, kind=Notification.Kind.INCIDENT,
                                                created_at__gte=since)
    figures = notifications.aggregate(
        n_notified=Count("id"),
        n_acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
        n_responded=Count("id", filter=Q(responded=True)),
        n_unassigned=Count("id", filter=Q(assigned_to__isnull=True, responded=False)),
    )
    return {key.removeprefix("n_"): value for key, value in figures.items()}


def recent_notifications(organization: Organization, *, limit: int = 30) -> list[Notification]:
    return list(Notification.objects.filter(organization=organization, kind=Notification.Kind.INCIDENT)
                .select_related("incident__community_area", "assigned_to")
                .defer("incident__community_area__boundary").order_by("-created_at")[:limit])


def summary_views(organization: Organization, *, limit: int = 100) -> list[Event]:
    """Who at CPD or the CSCC looked at the organisation's response summaries, newest first."""
    return list(Event.objects.filter(action="summary.viewed", data__organization=str(organization.code))
                .select_related("actor__membership__district").order_by("-at")[:limit])


ACCESS_LOG_SIZE = 300


def access_log(organization: Organization, *, limit: int = ACCESS_LOG_SIZE) -> list[dict]:
    """Who viewed the organisation's records, newest first: one entry per person, page, object and hour.

    Each entry is {"access", "place"}: `place` is what the object was, said as the organisation
    knows it (an incident's block and time, a district), looked up among the organisation's own
    notifications only.
    """
    rows = list(Access.objects.filter(organization_code=str(organization.code))
                .select_related("actor__membership__district").order_by("-last_at", "-id")[:limit])
    codes = {row.object_code for row in rows}
    incidents = {str(i.code): i for i in Incident.objects.filter(
        code__in=[c for c in codes if _is_uuid(c)], notifications__organization=organization).only(
        "code", "block", "occurred_at")}
    by_notification = {str(n.code): n.incident for n in Notification.objects.filter(
        organization=organization, code__in=[c for c in codes if _is_uuid(c)]).select_related("incident").only(
        "code", "incident__code", "incident__block", "incident__occurred_at")}
    districts = {str(d.pk): d for d in District.objects.filter(
        pk__in=[c for c in codes if c.isdigit()]).only("number", "name")}
    entries = []
    for row in rows:
        place = None
        if row.object_type == "notifications.incident":
            place = incidents.get(row.object_code)
        elif row.object_type == "notifications.notification":
            place = by_notification.get(row.object_code)
        elif row.object_type == "districts.district":
            place = districts.get(row.object_code)
        entries.append({"access": row, "place": place})
    return entries


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def organization_records(organization: Organization):
    """Every incident notification of the organisation with its response logs, oldest first:
    the organisation's own export. Yields (notification, response log or None) pairs."""
    notifications = (Notification.objects.filter(organization=organization, kind=Notification.Kind.INCIDENT)
                     .select_related("incident__district", "incident__community_area", "acknowledged_by")
                     .defer("incident__district__boundary", "incident__community_area__boundary")
                     .prefetch_related(Prefetch("response_logs", queryset=ResponseLog.objects.select_related(
                         "created_by").prefetch_related("referrals").order_by("created_at", "id")))
                     .order_by("created_at", "id"))
    for notification in notifications.iterator(chunk_size=500):
        logs = list(notification.response_logs.all())
        for log in logs or [None]:
            yield notification, log
