"""The notification state machine: the one place a notification's agreed summary changes.

    pending → sent → delivered                    (delivery: timeline.send_clocks_start)
       └──────────┴────────┴→ acknowledged → en route → on scene / at hospital
                                   └────────────────→ unable (with a reason)

Every path goes through these services: the one-tap link, an SMS reply, the in-app button and
the API acknowledge (`notification_acknowledge`); the worker's status taps
(`notification_status_set`) and their corrections (`notification_status_correct`); and a
response logged in the organisation's own app (`notification_response_record`, which gets the
coarse facts only: this app never imports `responses`).

Rules, all here:
- Any sign that someone responded (a status tap past acknowledged, an arrival, a logged
  response) acknowledges first when nobody has, and so stops escalation: queued escalation
  messages are cancelled and the timer cleared.
- The status follows the arrival: a logged arrival (when the organisation shares arrival
  times) moves a notification not yet on scene or at hospital there (at hospital when the
  shared response category says so, else on scene).
- Times are checked once, here: between the shooting and now (five minutes' grace).
- Consent (`Organization.share_arrival`, `share_response_category`) is applied when writing: a
  field the organisation does not share is never stored, so no CPD page can leak it.
Each change appends to the incident's timeline and the audit trail; a row lock serialises two
phones tapping at once.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from audit.models import Source
from audit.services import audit_log

from .models import Delivery, Notification, TimelineEntry
from .timeline import response_clocks_refresh, timeline_add

Status = Notification.Status
# The statuses a worker taps; pending, sent, delivered and failed belong to delivery.
TAP_STATUSES = (Status.ACKNOWLEDGED, Status.EN_ROUTE, Status.ON_SCENE, Status.AT_HOSPITAL, Status.UNABLE)
ARRIVAL_STATUSES = (Status.ON_SCENE, Status.AT_HOSPITAL)
# Statuses an acknowledgement moves forward from (a tap or an arrival never moves back).
BEFORE_ACKNOWLEDGED = (Status.PENDING, Status.SENT, Status.DELIVERED, Status.FAILED)
BEFORE_ARRIVAL = (*BEFORE_ACKNOWLEDGED, Status.ACKNOWLEDGED, Status.EN_ROUTE, Status.UNABLE)
FUTURE_GRACE = timedelta(minutes=5)

VIA_SOURCES = {"link": Source.WEB, "sms": Source.PHONE, "app": Source.PHONE, "api": Source.API, "web": Source.WEB}
VIA_BY_SOURCE = {Source.WEB: "app", Source.PHONE: "app", Source.API: "api", Source.SYSTEM: "app"}


def time_problem(notification: Notification, at: datetime) -> str | None:
    """"future", "before_shooting", or None when `at` may be a moment of this notification's
    response (between the shooting and now, with five minutes' grace for phone clocks)."""
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > timezone.now() + FUTURE_GRACE:
        return "future"
    if notification.incident is not None and at < notification.incident.occurred_at:
        return "before_shooting"
    return None


TIME_MESSAGES = {"future": gettext_lazy("This time is in the future."),
                 "before_shooting": gettext_lazy("This time is before the shooting happened.")}


def _check_time(notification: Notification, at: datetime, field: str) -> None:
    problem = time_problem(notification, at)
    if problem:
        raise ValidationError({field: [TIME_MESSAGES[problem]]})


def _locked(notification: Notification) -> Notification:
    """The notification re-read under a row lock: taps from two phones apply one after the other."""
    return (Notification.objects.select_for_update(of=("self",)).select_related("organization", "incident")
            .get(pk=notification.pk))


def _acknowledge(current: Notification, *, user, via: str, at: datetime) -> bool:
    """Acknowledge a locked notification unless someone has. Returns whether it changed."""
    if current.acknowledged_at is not None:
        return False
    current.acknowledged_at, current.acknowledged_by, current.acknowledged_via = at, user, via
    current.next_escalation_at = None
    fields = ["acknowledged_at", "acknowledged_by", "acknowledged_via", "next_escalation_at"]
    if current.status in BEFORE_ACKNOWLEDGED:
        current.status, current.status_at = Status.ACKNOWLEDGED, at
        fields += ["status", "status_at"]
    current.save(update_fields=fields)
    # Escalation messages not yet sent are pointless now.
    Delivery.objects.filter(notification=current, purpose=Delivery.Purpose.ESCALATION,
                            status__in=[Delivery.Status.QUEUED, Delivery.Status.FAILED],
                            ).update(status=Delivery.Status.CANCELLED)
    timeline_add(notification=current, kind="notification.acknowledged", at=at,
                 text=f"{current.organization} acknowledged ({via})")
    audit_log(actor=user, source=VIA_SOURCES.get(via, Source.WEB), action="notification.acknowledged",
              obj=current, data={"via": via, "incident": str(current.incident.code) if current.incident else None})
    return True


def notification_acknowledge(*, notification: Notification, actor, via: str, at: datetime | None = None
                             ) -> Notification:
    """Record the first acknowledgement and stop escalation. Returns the notification.

    Idempotent: a second call (another link, an SMS reply after the tap) changes nothing and
    returns the notification with the first acknowledgement's who, when and via. `actor` may be
    None or anonymous (a link sent to a shared channel). Raises ValidationError {"at": [...]}
    for an impossible time.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        current = _locked(notification)
        if at is not None:
            _check_time(current, at, "at")
        if _acknowledge(current, user=user, via=via, at=at or timezone.now()):
            response_clocks_refresh(current.incident_id)
    return current


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
        raise ValidationError({"status": [_("Choose acknowledge, en route, on scene, at hospital or unable.")]})
    if status == Status.UNABLE and reason not in Notification.UnableReason.values:
        raise ValidationError({"reason": [_("Say why you cannot respond.")]})
    if status != Status.UNABLE:
        reason = ""
    at = at or timezone.now()
    current = _locked(notification)
    _check_time(current, at, "at")
    user = actor if getattr(actor, "is_authenticated", False) else None
    _acknowledge(current, user=user, via=VIA_BY_SOURCE.get(source, "app"), at=at)
    if status == Status.ACKNOWLEDGED or (status == current.status and reason == current.unable_reason):
        response_clocks_refresh(current.incident_id)
        return current
    current.status, current.status_at, current.unable_reason = status, at, reason
    fields = ["status", "status_at", "unable_reason"]
    if status in ARRIVAL_STATUSES and current.arrived_at is None and current.organization.share_arrival:
        current.arrived_at = at
        fields.append("arrived_at")
    current.save(update_fields=fields)
    with override("en"):  # the timeline is CPD's record, in English whatever the worker's language
        label = str(Status(status).label) + (f" ({Notification.UnableReason(reason).label})" if reason else "")
    timeline_add(notification=current, kind=f"notification.{status}", at=at, text=f"{current.organization}: {label}")
    audit_log(actor=actor, source=source, action="notification.status_set", obj=current,
              data={"status": status, "at": at.isoformat(), "reason": reason})
    response_clocks_refresh(current.incident_id)
    return current


@transaction.atomic
def notification_status_correct(
    *, notification: Notification, actor, source: str, status: str, at: datetime
) -> Notification:
    """Correct the time of an earlier tap (the worker tapped late, or offline).

    Moves the tap's timeline entry and the summary clocks that came from it; the audit event
    keeps the time before and after. Raises ValidationError when there is no such tap or the
    time is impossible.
    """
    current = _locked(notification)
    entry = (TimelineEntry.objects.filter(notification=current, kind=f"notification.{status}")
             .order_by("-at", "-id").first())
    if status not in TAP_STATUSES or entry is None:
        raise ValidationError({"status": [_("There is no such tap to correct.")]})
    _check_time(current, at, "at")
    before = entry.at
    TimelineEntry.objects.filter(pk=entry.pk).update(at=at)
    fields = []
    if status == Status.ACKNOWLEDGED:
        current.acknowledged_at = at
        fields.append("acknowledged_at")
    if status == current.status:
        current.status_at = at
        fields.append("status_at")
    if status in ARRIVAL_STATUSES and current.organization.share_arrival and (
        current.arrived_at is None or current.arrived_at == before or at < current.arrived_at
    ):
        current.arrived_at = at
        fields.append("arrived_at")
    if fields:
        current.save(update_fields=fields)
    audit_log(actor=actor, source=source, action="notification.time_corrected", obj=current,
              data={"status": status, "from": before.isoformat(), "to": at.isoformat()})
    response_clocks_refresh(current.incident_id)
    return current


@transaction.atomic
def notification_response_record(
    *, notification: Notification, actor, source: str, arrived_at: datetime | None = None, response_category: str = ""
) -> Notification:
    """A response was logged: mark the summary responded, with what the organisation consents to share.

    A logged response is a sign someone responded: it acknowledges when nobody has (at the
    arrival when the organisation shares arrival times, else now) and stops escalation. A shared
    arrival also moves the status to on scene when it was not yet there. The earliest arrival
    wins; the category is the latest logged. The caller passes only these coarse facts: the
    record itself stays in the organisation's app. Raises ValidationError {"arrived_at": [...]}
    for an impossible arrival time.
    """
    if response_category and response_category not in Notification.ResponseCategory.values:
        raise ValueError(f"unknown response category {response_category!r}")
    current = _locked(notification)
    if arrived_at is not None:
        _check_time(current, arrived_at, "arrived_at")
    organization = current.organization
    shared_arrival = arrived_at if arrived_at is not None and organization.share_arrival else None
    user = actor if getattr(actor, "is_authenticated", False) else None
    _acknowledge(current, user=user, via=VIA_BY_SOURCE.get(source, "app"), at=shared_arrival or timezone.now())
    current.responded = True
    fields = ["responded"]
    if shared_arrival and (current.arrived_at is None or shared_arrival < current.arrived_at):
        current.arrived_at = shared_arrival
        fields.append("arrived_at")
    if shared_arrival and current.status in BEFORE_ARRIVAL:
        # At hospital only when the organisation shares the category that says so.
        arrived = (Status.AT_HOSPITAL if organization.share_response_category
                   and response_category == Notification.ResponseCategory.HOSPITAL else Status.ON_SCENE)
        current.status, current.status_at, current.unable_reason = arrived, shared_arrival, ""
        fields += ["status", "status_at", "unable_reason"]
        with override("en"):
            label = str(arrived.label)
        timeline_add(notification=current, kind=f"notification.{arrived}", at=shared_arrival,
                     text=f"{organization}: {label} (arrival logged)")
    if response_category and organization.share_response_category:
        current.response_category = response_category
        fields.append("response_category")
    current.save(update_fields=fields)
    audit_log(actor=actor, source=source, action="notification.summary_updated", obj=current,
              data={"fields": fields})
    response_clocks_refresh(current.incident_id)
    return current
