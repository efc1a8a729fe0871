"""The signed one-tap acknowledgement link. Acknowledging itself is the state machine's
(`state.notification_acknowledge`), whichever way it arrives.

The link carries the delivery's code signed with a TimestampSigner (salted, 24 hours), so it
names the notification and the recipient it was sent to and nothing else; no password is needed
to acknowledge, and the full incident still needs a login.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .exceptions import InvalidAcknowledgement
from .models import Delivery

ACK_LINK_MAX_AGE = timedelta(hours=24)
_SALT = "notifications.ack"


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
