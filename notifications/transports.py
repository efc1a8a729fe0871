"""Transports: one small class per channel kind, picked from TRANSPORTS by `Delivery.kind`.

Each has `notify(delivery) -> str` returning the provider's id ("" when there is none), and
raises TransportError(message, permanent=...) on failure; the outbox decides about retries.
A class with `confirms = True` reports receipt in its answer (a webhook receiver's 2xx), so the
delivery counts as delivered, not only sent. Error messages name the failure, never the body.
"""

import base64
import hashlib
import hmac
import json
import smtplib
import time

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from districts.validators import webhook_url_validate

from . import sms
from .exceptions import TransportError
from .messages import message_for, webhook_body
from .models import Delivery

WEBHOOK_TIMEOUT = (3, 10)  # connect, read: below the broker's visibility timeout (settings.py)
_http = requests.Session()  # keep-alive across deliveries in one worker process


class Transport:
    confirms = False

    def notify(self, delivery: Delivery) -> str:
        raise NotImplementedError


class InApp(Transport):
    """The Delivery row is the feed entry: committed with the incident, nothing to send."""

    def notify(self, delivery: Delivery) -> str:
        return ""


class Email(Transport):
    def notify(self, delivery: Delivery) -> str:
        message = message_for(delivery)
        email = EmailMultiAlternatives(message.subject, message.text, settings.DEFAULT_FROM_EMAIL, [delivery.target],
                                       headers={"X-CVI-Delivery": str(delivery.code)})
        email.attach_alternative(message.html, "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused:
            raise TransportError("the mail server refused the address", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"mail not sent: {exc.__class__.__name__}") from None
        return email.extra_headers.get("Message-ID", "")


class Sms(Transport):
    def notify(self, delivery: Delivery) -> str:
        message = message_for(delivery)
        callback = settings.SITE_URL + reverse("notifications:sms_status")
        return sms.get_backend().send(to=delivery.target, body=message.short, status_callback=callback)


class WebPush(Transport):
    """A browser subscription: `Channel.target` is the push endpoint, `config["keys"]` holds
    p256dh and auth. 404/410 from the push service means the subscription is gone for good."""

    def notify(self, delivery: Delivery) -> str:
        from pywebpush import WebPushException, webpush

        if not settings.VAPID_PRIVATE_KEY:
            raise TransportError("web push is not configured (VAPID keys; see manage.py vapid_keys)", permanent=True)
        keys = (delivery.channel.config if delivery.channel else {}).get("keys")
        if not keys:
            raise TransportError("the push subscription has no keys", permanent=True)
        message = message_for(delivery)
        body = json.dumps({"title": message.subject, "body": message.short, "url": message.url})
        try:
            response = webpush(
                subscription_info={"endpoint": delivery.target, "keys": keys}, data=body,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": f"mailto:{settings.VAPID_CLAIMS_EMAIL}"}, timeout=10, ttl=3600,
            )
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            raise TransportError(f"push service answered {status}", permanent=status in (404, 410)) from None
        except requests.RequestException as exc:
            raise TransportError(f"push service unreachable: {exc.__class__.__name__}") from None
        return getattr(response, "headers", {}).get("Location", "")


def webhook_sign(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The Standard Webhooks signature header value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Webhook(Transport):
    confirms = True

    def notify(self, delivery: Delivery) -> str:
        try:
            # Checked again at send time: DNS may have changed since the channel was saved.
            webhook_url_validate(delivery.target)
        except ValidationError as exc:
            raise TransportError(f"webhook address refused: {exc.messages[0]}", permanent=True) from None
        secret = delivery.channel.secret if delivery.channel else ""
        if not secret.startswith("whsec_"):
            raise TransportError("the webhook channel has no signing secret", permanent=True)
        kind, data = webhook_body(delivery)
        msg_id, timestamp = str(delivery.code), int(time.time())
        body = json.dumps({"id": msg_id, "type": kind, "data": data}, separators=(",", ":"))
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
        }
        try:
            # No redirects: a redirect could point inside the network the allow-list protects.
            response = _http.post(delivery.target, data=body.encode(), headers=headers, timeout=WEBHOOK_TIMEOUT,
                                  allow_redirects=False)
        except requests.RequestException as exc:
            raise TransportError(f"webhook unreachable: {exc.__class__.__name__}") from None
        if 200 <= response.status_code < 300:
            return ""
        # Standard Webhooks: 410 Gone means the receiver wants no more messages.
        raise TransportError(f"webhook answered {response.status_code}", permanent=response.status_code == 410)


TRANSPORTS: dict[str, type[Transport]] = {
    "in_app": InApp,
    "email": Email,
    "sms": Sms,
    "push": WebPush,
    "webhook": Webhook,
}
