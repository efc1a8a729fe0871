"""Writes for the organisation-only response record, follow-ups and assignments.

Each service checks the actor's organisation itself (views and the API also scope their
lookups), validates everything before writing, and writes in one transaction, so bad input
leaves nothing half-saved. Bad input raises ValidationError({field: [message]}).
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_log
from core.dates import today_local
from districts.access import scope_of
from districts.models import Channel, Organization
from notifications.models import Delivery, Notification
from notifications.outbox import deliveries_save
from notifications.recipients import in_app_delivery, personal_deliveries
from notifications.relay import outbox_wake
from notifications.state import notification_response_record, time_problem

from .models import NOTES_MAX, EngagedRole, FollowUp, Referral, ResponseLog, ResponseType, RetaliationRisk

# The coarse category CPD may see, from the organisation's own response types: the first of
# these present wins. Vigils and canvasses happen at or around the scene.
_CATEGORY_BY_TYPE = {
    ResponseType.SCENE: Notification.ResponseCategory.SCENE,
    ResponseType.HOSPITAL: Notification.ResponseCategory.HOSPITAL,
    ResponseType.FAMILY: Notification.ResponseCategory.FAMILY,
    ResponseType.MEDIATION: Notification.ResponseCategory.MEDIATION,
    ResponseType.VIGIL: Notification.ResponseCategory.SCENE,
    ResponseType.CANVASS: Notification.ResponseCategory.SCENE,
}
MAX_COUNT = 500


def coarse_category(response_types: Iterable[str]) -> str:
    for kind in ResponseType.values:
        if kind in response_types:
            return _CATEGORY_BY_TYPE[kind]
    return ""


def _check_member(actor, organization_id: int) -> None:
    scope = scope_of(actor)
    if not scope.is_outreach or scope.organization_id != organization_id:
        raise ValidationError({"notification": [_("This notification is not for your organisation.")]})


def _counts(values: Mapping[str, object] | None, allowed: list[str], field: str) -> dict[str, int]:
    """{kind: count} with known kinds and whole numbers 0..MAX_COUNT; zeros dropped."""
    result = {}
    for kind, raw in (values or {}).items():
        if kind not in allowed:
            raise ValidationError({field: [_("Unknown kind: %(kind)s.") % {"kind": kind}]})
        try:
            count = int(raw) if str(raw).strip() != "" else 0
        except (TypeError, ValueError):
            raise ValidationError({field: [_("Counts must be whole numbers.")]}) from None
        if count < 0:
            raise ValidationError({field: [_("Counts cannot be negative.")]})
        if count > MAX_COUNT:
            raise ValidationError({field: [_("Counts above %(max)s are not believable.") % {"max": MAX_COUNT}]})
        if count:
            result[kind] = count
    return result


def _referral_counts(referrals) -> dict[str, int]:
    """Referrals come as [{"kind", "count"}] (API, offline queue) or {kind: count} (the form)."""
    if isinstance(referrals, Mapping):
        return _counts(referrals, Referral.Kind.values, "referrals")
    merged: dict[str, object] = {}
    for item in referrals or ():
        if not isinstance(item, Mapping) or "kind" not in item:
            raise ValidationError({"referrals": [_("Each referral needs a kind and a count.")]})
        if item["kind"] in merged:
            raise ValidationError({"referrals": [_("Each kind of referral appears once.")]})
        merged[item["kind"]] = item.get("count", 1)
    return _counts(merged, Referral.Kind.values, "referrals")


def _validate(*, notification, arrived_at, response_types, retaliation_risk, follow_up_on, follow_up_task,
              notes) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if notification.kind != Notification.Kind.INCIDENT or notification.incident is None:
        errors["notification"] = [_("A drill takes no response.")]
    problem = time_problem(notification, arrived_at) if arrived_at is not None else None
    if problem == "before_shooting":
        errors["arrived_at"] = [_("Arrival cannot be before the shooting happened.")]
    elif problem == "future":
        errors["arrived_at"] = [_("Arrival cannot be in the future.")]
    unknown = [t for t in response_types if t not in ResponseType.values]
    if unknown:
        errors["response_types"] = [_("Unknown response type: %(kind)s.") % {"kind": unknown[0]}]
    if retaliation_risk not in RetaliationRisk.values:
        errors["retaliation_risk"] = [_("Choose none, low, medium, high or unknown.")]
    if follow_up_on is not None and follow_up_on < today_local():
        errors["follow_up_on"] = [_("The follow-up date is in the past.")]
    if follow_up_task and follow_up_on is None:
        errors["follow_up_on"] = [_("Give the follow-up a date.")]
    if len(follow_up_task) > 200:
        errors["follow_up_task"] = [_("Keep the follow-up task under 200 characters.")]
    if len(notes) > NOTES_MAX:
        errors["notes"] = [_("Notes are limited to %(max)s characters (this has %(n)s).")
                           % {"max": NOTES_MAX, "n": len(notes)}]
    return errors


def response_log(
    *,
    notification: Notification,
    actor,
    source: str,
    client_key: uuid.UUID | str,
    arrived_at: datetime | None = None,
    response_types: Iterable[str] = (),
    retaliation_risk: str = RetaliationRisk.UNKNOWN,
    referrals=(),
    people_engaged: Mapping[str, int] | None = None,
    follow_up_on: date | None = None,
    follow_up_task: str = "",
    notes: str = "",
) -> tuple[ResponseLog, bool]:
    """Log one response and update the agreed summary. Returns (log, created).

    The same `client_key` returns the log already stored with created False, whatever else
    is sent (an offline replay); a key used by another organisation is refused. Raises
    ValidationError({field: [message]}) and writes nothing when any field is wrong.
    """
    try:
        client_key = uuid.UUID(str(client_key))
    except ValueError:
        raise ValidationError({"client_key": [_("The submission key is malformed.")]}) from None
    existing = ResponseLog.objects.filter(client_key=client_key).first()
    if existing is not None:
        return _replayed(existing, actor), False
    _check_member(actor, notification.organization_id)
    response_types = list(dict.fromkeys(response_types or ()))
    notes, follow_up_task = (notes or "").strip(), (follow_up_task or "").strip()
    errors = _validate(notification=notification, arrived_at=arrived_at, response_types=response_types,
                       retaliation_risk=retaliation_risk, follow_up_on=follow_up_on,
                       follow_up_task=follow_up_task, notes=notes)
    for field, check in (("referrals", lambda: _referral_counts(referrals)),
                         ("people_engaged", lambda: _counts(people_engaged, EngagedRole.values, "people_engaged"))):
        try:
            check()
        except ValidationError as error:
            errors.setdefault(field, []).extend(error.message_dict[field])
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            log = _create(notification=notification, actor=actor, source=source, client_key=client_key,
                          arrived_at=arrived_at, response_types=response_types, retaliation_risk=retaliation_risk,
                          referrals=_referral_counts(referrals),
                          people_engaged=_counts(people_engaged, EngagedRole.values, "people_engaged"),
                          follow_up_on=follow_up_on, follow_up_task=follow_up_task, notes=notes)
    except IntegrityError:
        # Two copies of one offline submission raced; the other one won.
        existing = ResponseLog.objects.filter(client_key=client_key).first()
        if existing is None:
            raise
        return _replayed(existing, actor), False
    return log, True


def _replayed(existing: ResponseLog, actor) -> ResponseLog:
    scope = scope_of(actor)
    if not scope.is_outreach or scope.organization_id != existing.organization_id:
        raise ValidationError({"client_key": [_("This submission key is already used.")]})
    return existing


def _create(*, notification, actor, source, client_key, arrived_at, response_types, retaliation_risk, referrals,
            people_engaged, follow_up_on, follow_up_task, notes) -> ResponseLog:
    log = ResponseLog.objects.create(
        notification=notification, organization_id=notification.organization_id, client_key=client_key,
        created_by=actor, source=source, arrived_at=arrived_at, response_types=response_types,
        people_engaged=people_engaged, retaliation_risk=retaliation_risk, follow_up_on=follow_up_on, notes=notes,
    )
    Referral.objects.bulk_create([Referral(response=log, kind=k, count=n) for k, n in referrals.items()])
    if follow_up_on is not None:
        FollowUp.objects.create(
            organization_id=notification.organization_id, notification=notification, response=log,
            task=follow_up_task or _("Follow up"), due_on=follow_up_on,
            assigned_to=notification.assigned_to or actor, created_by=actor,
        )
    # The audit event carries codes and counts only: never notes, never the risk.
    audit_log(actor=actor, source=source, action="response.logged", obj=log,
              data={"notification": str(notification.code), "referrals": sum(referrals.values())})
    notification_response_record(notification=notification, actor=actor, source=source, arrived_at=arrived_at,
                                 response_category=coarse_category(response_types))
    return log


# --- follow-ups -------------------------------------------------------------------------

def followup_create(*, organization: Organization, actor, source: str, task: str, due_on: date, assigned_to,
                    notification: Notification | None = None) -> FollowUp:
    task = (task or "").strip()
    errors = {}
    if not task:
        errors["task"] = [_("Say what needs doing.")]
    elif len(task) > 200:
        errors["task"] = [_("Keep the follow-up task under 200 characters.")]
    if due_on is None:
        errors["due_on"] = [_("Give the follow-up a date.")]
    elif due_on < today_local():
        errors["due_on"] = [_("The follow-up date is in the past.")]
    if scope_of(assigned_to).organization_id != organization.pk:
        errors["assigned_to"] = [_("Assign it to someone in your organisation.")]
    if errors:
        raise ValidationError(errors)
    followup = FollowUp.objects.create(organization=organization, notification=notification, task=task,
                                       due_on=due_on, assigned_to=assigned_to, created_by=actor)
    audit_log(actor=actor, source=source, action="followup.created", obj=followup,
              data={"assigned_to": assigned_to.pk, "due_on": due_on.isoformat()})
    return followup


def followup_complete(*, followup: FollowUp, actor, source: str) -> FollowUp:
    """Mark done; a second call keeps the first time."""
    if FollowUp.objects.filter(pk=followup.pk, done_at__isnull=True).update(done_at=timezone.now()):
        audit_log(actor=actor, source=source, action="followup.done", obj=followup)
    followup.refresh_from_db()
    return followup


# A worker's own channels a follow-up reminder goes out on (besides the in-app row).
REMINDER_KINDS = (Channel.Kind.SMS, Channel.Kind.EMAIL, Channel.Kind.PUSH)


def followup_reminders_send(*, today: date | None = None) -> int:
    """Remind each worker once of every open follow-up due today or earlier. Returns how many.

    Claims each row by setting `reminded_at` with a conditional update, so two sweeps (or a
    task run twice) remind once. The reminder is an in-app Delivery to the worker, written as
    sent (like every in-app delivery the row is the feed entry), plus one queued Delivery per
    active personal SMS, email and push channel of the worker, which the outbox relay hands to
    the `deliver` task after commit like any other (message "followup.reminder" in
    `notifications.messages`). Payloads carry codes and the due date, never the task text; the
    rows name no notification, so they stay out of the incident's delivery record, clocks and
    timeline, which CPD reads, and a dead one falls back to no organisation channel.
    """
    today = today or today_local()
    reminded = queued = 0
    due = FollowUp.objects.filter(done_at__isnull=True, reminded_at__isnull=True, due_on__lte=today)
    for followup in due.select_related("assigned_to").iterator():
        with transaction.atomic():
            now = timezone.now()
            if not FollowUp.objects.filter(pk=followup.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            payload = {"message": "followup.reminder", "followup": str(followup.code),
                       "due_on": followup.due_on.isoformat()}
            worker = followup.assigned_to
            in_app = Channel.objects.filter(user=worker, organization_id=followup.organization_id, active=True,
                                            kind=Channel.Kind.IN_APP).order_by("id").first()
            rows = deliveries_save(
                [in_app_delivery(worker, notification=None, purpose=Delivery.Purpose.REMINDER, payload=payload,
                                 channel=in_app)]
                + personal_deliveries([worker], organization_id=followup.organization_id, notification=None,
                                      purpose=Delivery.Purpose.REMINDER, payload=payload, kinds=REMINDER_KINDS,
                                      in_app=False))
            queued += len(rows) - 1
            audit_log(actor=None, source="system", action="followup.reminded", obj=followup,
                      data={"channels": sorted({row.kind for row in rows})})
        reminded += 1
    if queued:
        transaction.on_commit(outbox_wake, robust=True)
    return reminded


# --- supervisors ------------------------------------------------------------------------

def notification_assign(*, notification: Notification, actor, source: str, assignee) -> Notification:
    """A supervisor gives an incident to one worker of the organisation (None to clear)."""
    if not scope_of(actor).is_supervisor or scope_of(actor).organization_id != notification.organization_id:
        raise ValidationError({"assignee": [_("Only your organisation's supervisor can assign.")]})
    if assignee is not None and scope_of(assignee).organization_id != notification.organization_id:
        raise ValidationError({"assignee": [_("Assign it to someone in your organisation.")]})
    Notification.objects.filter(pk=notification.pk).update(assigned_to=assignee)
    notification.assigned_to = assignee
    audit_log(actor=actor, source=source, action="notification.assigned", obj=notification,
              data={"assigned_to": assignee.pk if assignee else None})
    return notification
