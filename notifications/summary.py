"""The agreed response summary on a Notification: the only part of a response CPD sees.

Three ways write it, all here:
- a worker's one-tap status (`notification_status_set`) and its later correction
  (`notification_status_correct`);
- the organisation-only response log in `responses/`, which calls
  `notification_response_record` with the coarse facts only (responded, arrival, category).
  This module never imports `responses`: the record flows down, never up.

And one read-side duty: `record_summary_view` writes a `summary.viewed` audit event whenever a
CPD or analyst page shows summaries, so each organisation can see who looked.

Consent (`Organization.share_arrival`, `share_response_category`) is applied when writing: a
field the organisation does not share is never stored on the Notification, so no CPD-facing
page can leak it by forgetting to check.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from audit.services import audit_log, audit_log_many
from districts.access import scope_of
from districts.models import Organization

from .models import Incident, Notification, TimelineEntry

Status = Notification.Status
# The statuses a worker taps. Pending/sent/delivered/failed belong to delivery.
TAP_STATUSES = (Status.ACKNOWLEDGED, Status.EN_ROUTE, Status.ON_SCENE, Status.AT_HOSPITAL, Status.UNABLE)
ARRIVAL_STATUSES = (Status.ON_SCENE, Status.AT_HOSPITAL)
FUTURE_GRACE = timedelta(minutes=5)
_VIA_BY_SOURCE = {"web": "app", "phone": "app", "api": "api", "system": "app"}


def _locked(notification: Notification) -> Notification:
    """The notification re-read under a row lock: taps from two phones apply one after the other."""
    return (Notification.objects.select_for_update(of=("self",)).select_related("organization", "incident")
            .get(pk=notification.pk))


def _check_time(notification: Notification, at: datetime, field: str) -> None:
    """A tap or arrival time must fall between the shooting and now (5 minutes' grace)."""
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > timezone.now() + FUTURE_GRACE:
        raise ValidationError({field: ["This time is in the future."]})
    incident = notification.incident
    if incident is not None and at < incident.occurred_at:
        raise ValidationError({field: ["This time is before the shooting happened."]})


def _timeline(notification: Notification, *, kind: str, at: datetime, text: str) -> None:
    if notification.incident_id:
        TimelineEntry.objects.create(
            incident_id=notification.incident_id, notification=notification, at=at, kind=kind, text=text[:300]
        )


def _incident_clocks(incident_id: int | None) -> None:
    """The incident's acknowledged/arrived clocks are the earliest over its notifications."""
    if incident_id is None:
        return
    clocks = Notification.objects.filter(incident_id=incident_id).aggregate(
        ack=Min("acknowledged_at"), arrived=Min("arrived_at")
    )
    Incident.objects.filter(pk=incident_id).update(acknowledged_at=clocks["ack"], arrived_at=clocks["arrived"])


def _acknowledge(notification: Notification, *, actor, source: str, at: datetime) -> Notification:
    """Acknowledge through the delivery side's service when it exists (it stops escalation)."""
    try:
        from .acknowledgements import notification_acknowledge
    except ImportError:
        notification_acknowledge = None
    if notification_acknowledge is not None:
        notification_acknowledge(notification=notification, actor=actor, via=_VIA_BY_SOURCE.get(source, "app"), at=at)
        notification.refresh_from_db()
        return notification
    if notification.acknowledged_at is None:
        notification.acknowledged_at = at
        notification.acknowledged_by = actor
        notification.acknowledged_via = _VIA_BY_SOURCE.get(source, "app")
        notification.next_escalation_at = None
        if notification.status in (Status.PENDING, Status.SENT, Status.DELIVERED, Status.FAILED):
            notification.status, notification.status_at = Status.ACKNOWLEDGED, at
        notification.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_via",
                                         "next_escalation_at", "status", "status_at"])
        _timeline(notification, kind="notification.acknowledged", at=at,
                  text=f"{notification.organization} acknowledged")
        audit_log(actor=actor, source=source, action="notification.acknowledged", obj=notification,
                  data={"at": at.isoformat()})
        _incident_clocks(notification.incident_id)
    return notification


@transaction.atomic
def notification_status_set(
    *, notification: Notification, actor, source: str, status: str, at: datetime | None = None, reason: str = ""
) -> Notification:
    """Record one status tap and return the notification as stored.

    Any tap acknowledges first when nobody has. Tapping the current status again is a no-op
    (an offline replay sends the same tap twice). On scene and at hospital set the arrival
    time when none is set and the organisation shares it. Raises ValidationError
    {"status"|"at"|"reason": [...]}.
    """
    if status not in TAP_STATUSES:
        raise ValidationError({"status": ["Choose acknowledge, en route, on scene, at hospital or unable."]})
    if status == Status.UNABLE and reason not in Notification.UnableReason.values:
        raise ValidationError({"reason": ["Say why you cannot respond."]})
    if status != Status.UNABLE:
        reason = ""
    at = at or timezone.now()
    notification = _locked(notification)
    _check_time(notification, at, "at")
    notification = _acknowledge(notification, actor=actor, source=source, at=at)
    if status == Status.ACKNOWLEDGED or (status == notification.status and reason == notification.unable_reason):
        return notification
    notification.status, notification.status_at, notification.unable_reason = status, at, reason
    fields = ["status", "status_at", "unable_reason"]
    if status in ARRIVAL_STATUSES and notification.arrived_at is None and notification.organization.share_arrival:
        notification.arrived_at = at
        fields.append("arrived_at")
    notification.save(update_fields=fields)
    label = Status(status).label + (f" ({Notification.UnableReason(reason).label})" if reason else "")
    _timeline(notification, kind=f"notification.{status}", at=at, text=f"{notification.organization}: {label}")
    audit_log(actor=actor, source=source, action="notification.status_set", obj=notification,
              data={"status": status, "at": at.isoformat(), "reason": reason})
    _incident_clocks(notification.incident_id)
    return notification


@transaction.atomic
def notification_status_correct(
    *, notification: Notification, actor, source: str, status: str, at: datetime
) -> Notification:
    """Correct the time of an earlier tap (the worker tapped late, or offline).

    Moves the tap's timeline entry and the summary clocks that came from it; the audit event
    keeps the time before and after. Raises ValidationError when there is no such tap or the
    time is impossible.
    """
    notification = _locked(notification)
    entry = (TimelineEntry.objects.filter(notification=notification, kind=f"notification.{status}")
             .order_by("-at", "-id").first())
    if status not in TAP_STATUSES or entry is None:
        raise ValidationError({"status": ["There is no such tap to correct."]})
    _check_time(notification, at, "at")
    before = entry.at
    TimelineEntry.objects.filter(pk=entry.pk).update(at=at)
    fields = []
    if status == Status.ACKNOWLEDGED:
        notification.acknowledged_at = at
        fields.append("acknowledged_at")
    if status == notification.status:
        notification.status_at = at
        fields.append("status_at")
    if status in ARRIVAL_STATUSES and notification.organization.share_arrival and (
        notification.arrived_at is None or notification.arrived_at == before or at < notification.arrived_at
    ):
        notification.arrived_at = at
        fields.append("arrived_at")
    if fields:
        notification.save(update_fields=fields)
    audit_log(actor=actor, source=source, action="notification.time_corrected", obj=notification,
              data={"status": status, "from": before.isoformat(), "to": at.isoformat()})
    _incident_clocks(notification.incident_id)
    return notification


@transaction.atomic
def notification_response_record(
    *, notification: Notification, actor, source: str, arrived_at: datetime | None = None, response_category: str = ""
) -> Notification:
    """A response was logged: mark the summary responded, with what the organisation consents to share.

    The earliest arrival wins; the category is the latest logged. The caller passes only
    these coarse facts: the record itself stays in the organisation's app.
    """
    if response_category and response_category not in Notification.ResponseCategory.values:
        raise ValueError(f"unknown response category {response_category!r}")
    notification = Notification.objects.select_for_update().select_related("organization").get(pk=notification.pk)
    organization = notification.organization
    notification.responded = True
    fields = ["responded"]
    if arrived_at and organization.share_arrival and (
        notification.arrived_at is None or arrived_at < notification.arrived_at
    ):
        notification.arrived_at = arrived_at
        fields.append("arrived_at")
    if response_category and organization.share_response_category:
        notification.response_category = response_category
        fields.append("response_category")
    notification.save(update_fields=fields)
    audit_log(actor=actor, source=source, action="notification.summary_updated", obj=notification,
              data={"fields": fields})
    _incident_clocks(notification.incident_id)
    return notification


def summary_fields(notification: Notification) -> dict:
    """Exactly the agreed summary, as CPD and analysts may read it."""
    return {
        "acknowledged": notification.acknowledged_at is not None,
        "acknowledged_at": notification.acknowledged_at,
        "status": notification.status,
        "status_at": notification.status_at,
        "unable_reason": notification.unable_reason,
        "responded": notification.responded,
        "arrived_at": notification.arrived_at,
        "response_category": notification.response_category,
    }


def record_summary_view(*, user, notifications, source: str = "web") -> int:
    """Record that a CPD, analyst or admin page showed these notifications' summaries.

    One `summary.viewed` event per notification (the organisation's transparency page lists
    them). Outreach users reading their own organisation's summary are not recorded. Returns
    the number of events written. Written in one INSERT: a board shows dozens of rows.
    """
    scope = scope_of(user)
    if scope.role is None or scope.is_outreach:
        return 0
    notifications = list(notifications)
    org_codes = dict(Organization.objects.filter(pk__in={n.organization_id for n in notifications})
                     .values_list("pk", "code"))
    events = audit_log_many(
        actor=user, source=source, action="summary.viewed",
        items=[(n, {"organization": str(org_codes[n.organization_id]), "role": scope.role}) for n in notifications],
    )
    return len(events)
