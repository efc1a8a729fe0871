"""The incident's timeline and clocks: what CPD's incident page shows happened, and when.

Every delivery module and the notification state machine write here; nothing here sends,
routes or decides. The clocks are the headline result (faster notification, faster response):
each one only ever starts once, and the incident's are the earliest over its notifications.
Every clock change stamps the incident's month (stamps.py), so stored monthly figures see it.
"""

from datetime import datetime

from django.db.models import Case, DateTimeField, F, Min, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import override

from .models import Delivery, Incident, Notification, TimelineEntry
from .stamps import figures_changed, incident_figures_changed


def timeline_entry(*, notification: Notification | None, delivery: Delivery | None = None, kind: str, text: str,
                   at: datetime) -> TimelineEntry | None:
    """An unsaved timeline line, or None for a drill or a reminder (no incident, no timeline)."""
    if notification is None or not notification.incident_id:
        return None
    return TimelineEntry(incident_id=notification.incident_id, notification=notification, delivery=delivery, at=at,
                         kind=kind, text=text[:300])


def timeline_add(*, notification: Notification | None, delivery: Delivery | None = None, kind: str, text: str,
                 at: datetime) -> None:
    """Append to the incident's timeline; a drill or a reminder has no incident and no timeline."""
    entry = timeline_entry(notification=notification, delivery=delivery, kind=kind, text=text, at=at)
    if entry is not None:
        entry.save()


def delivery_label(delivery: Delivery) -> str:
    """"SMS to Acme (escalation)": how a delivery is named on the timeline."""
    with override("en"):  # the timeline is CPD's record, in English whatever the session's language
        extra = f" ({delivery.get_purpose_display().lower()})" if delivery.purpose != Delivery.Purpose.NOTIFY else ""
        to = delivery.notification.organization if delivery.notification_id else "a member"
        return f"{delivery.get_kind_display()} to {to}{extra}"


def send_clocks_start(notification: Notification, at: datetime, *, confirmed: bool = False) -> None:
    """Start the notification's and the incident's "first sent" (and, when the send was
    confirmed, "first confirmed") clocks unless already started, and move a pending or sent
    notification's status forward. One UPDATE each; never moves a status backwards."""
    send_clocks_start_many([notification], at, confirmed=confirmed)


def send_clocks_start_many(notifications: list[Notification], at: datetime, *, confirmed: bool = False) -> None:
    """`send_clocks_start` for many notifications at once (a batch of sends): one UPDATE of the
    notifications, one of their incidents, one stamp of their months, whatever their number."""
    if not notifications:
        return
    moment = Value(at, output_field=DateTimeField())
    forward = {Notification.Status.PENDING: Notification.Status.DELIVERED if confirmed else Notification.Status.SENT}
    if confirmed:
        forward[Notification.Status.SENT] = Notification.Status.DELIVERED
    changes = {
        "first_sent_at": Coalesce(F("first_sent_at"), moment),
        "status": Case(*[When(status=old, then=Value(new)) for old, new in forward.items()], default=F("status")),
        "status_at": Case(*[When(status=old, then=moment) for old in forward], default=F("status_at")),
    }
    incident_changes = {"first_sent_at": Coalesce(F("first_sent_at"), moment)}
    if confirmed:
        changes["first_confirmed_at"] = Coalesce(F("first_confirmed_at"), moment)
        incident_changes["first_confirmed_at"] = Coalesce(F("first_confirmed_at"), moment)
    Notification.objects.filter(pk__in={n.pk for n in notifications}).update(**changes)
    incident_ids = {n.incident_id for n in notifications if n.incident_id}
    if incident_ids:
        Incident.objects.filter(pk__in=incident_ids).update(**incident_changes)
        figures_changed(incident_months(notifications).values())


def incident_months(notifications: list[Notification]) -> dict[int, tuple[datetime, int]]:
    """Incident id → (occurred_at, district id) of these notifications' incidents, for their
    figures' stamps: from the incidents already loaded (the sending path loads them), else one
    query."""
    with_incident = [n for n in notifications if n.incident_id]
    if all(Notification.incident.is_cached(n) for n in with_incident):
        return {n.incident_id: (n.incident.occurred_at, n.incident.district_id) for n in with_incident}
    return {pk: (at, district) for pk, at, district in Incident.objects.filter(
        pk__in={n.incident_id for n in with_incident}).values_list("pk", "occurred_at", "district_id")}


def response_clocks_refresh(incident_id: int | None) -> None:
    """The incident's acknowledged and arrived clocks: the earliest over its notifications."""
    if incident_id is None:
        return
    clocks = Notification.objects.filter(incident_id=incident_id).aggregate(
        ack=Min("acknowledged_at"), arrived=Min("arrived_at"))
    Incident.objects.filter(pk=incident_id).update(acknowledged_at=clocks["ack"], arrived_at=clocks["arrived"])
    incident_figures_changed(incident_id)
