"""Acknowledging a notification: the one service every path calls (one-tap link, SMS reply,
in-app button, API), and the signed link itself.

The link carries the delivery's code signed with a TimestampSigner (salted, 24 hours), so it
names the notification and the recipient it was sent to and nothing else; no password is needed
to acknowledge, and the full incident still needs a login.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import Source
from audit.services import audit_log

from .exceptions import InvalidAcknowledgement
from .models import Delivery, Incident, Notification, TimelineEntry

ACK_LINK_MAX_AGE = timedelta(hours=24)
_SALT = "notifications.ack"

VIA_SOURCES = {"link": Source.WEB, "sms": Source.PHONE, "app": Source.PHONE, "api": Source.API, "web": Source.WEB}


def ack_token(delivery: Delivery) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(delivery.code.hex)


def ack_url(delivery: Delivery) -> str:
    return settings.SITE_URL + reverse("notifications:ack_link", kwargs={"token": ack_token(delivery)})


def ack_token_read(token: str) -> Delivery:
    """The delivery a link was made for. Raises InvalidAcknowledgement when the token is forged,
    expired, malformed, or names a delivery that no longer exists."""
    try:
        code = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=ACK_LINK_MAX_AGE)
        return Delivery.objects.select_related("notification__incident", "notification__organization").get(
            code=code, notification__isnull=False
        )
    except signing.SignatureExpired:
        raise InvalidAcknowledgement("expired") from None
    except (signing.BadSignature, Delivery.DoesNotExist, ValueError):
        raise InvalidAcknowledgement("invalid") from None


ACKNOWLEDGEABLE = {Notification.Status.PENDING, Notification.Status.SENT, Notification.Status.DELIVERED,
                   Notification.Status.FAILED}


def notification_acknowledge(*, notification: Notification, actor, via: str, at: datetime | None = None
                             ) -> Notification:
    """Record the first acknowledgement and stop escalation. Returns the notification.

    Idempotent: a second call (another link, an SMS reply after the tap) changes nothing and
    returns the notification with the first acknowledgement's who, when and via. `actor` may be
    None or anonymous (a link sent to a shared channel).
    """
    at = at or timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        # The row lock serialises two acknowledgements arriving together: the second sees the first.
        current = Notification.objects.select_for_update().get(pk=notification.pk)
        if current.acknowledged_at is not None:
            return current
        current.acknowledged_at = at
        current.acknowledged_by = user
        current.acknowledged_via = via
        current.next_escalation_at = None
        if current.status in ACKNOWLEDGEABLE:
            current.status, current.status_at = Notification.Status.ACKNOWLEDGED, at
        current.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_via",
                                    "next_escalation_at", "status", "status_at"])
        # Escalation messages not yet sent are pointless now.
        Delivery.objects.filter(
            notification=current, purpose=Delivery.Purpose.ESCALATION,
            status__in=[Delivery.Status.QUEUED, Delivery.Status.FAILED],
        ).update(status=Delivery.Status.CANCELLED)
        if current.incident_id:
            Incident.objects.filter(pk=current.incident_id, acknowledged_at__isnull=True).update(acknowledged_at=at)
            TimelineEntry.objects.create(
                incident_id=current.incident_id, notification=current, at=at, kind="notification.acknowledged",
                text=f"{current.organization} acknowledged ({via})",
            )
        audit_log(actor=user, source=VIA_SOURCES.get(via, Source.WEB), action="notification.acknowledged",
                  obj=current, data={"via": via, "incident": str(current.incident.code) if current.incident else None})
    return current
