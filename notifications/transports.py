"""Transports: one small class per channel kind, picked from TRANSPORTS by `Delivery.kind`.

Each has `prepare(delivery)`, which does everything that reads the database (the message in
the recipient's language, the channel's secret, the address checks that need no DNS) and
returns a `send()` callable that only talks to the network and returns the provider's id
("" when there is none). The sending engine (notifications/sending.py) prepares in the task's
thread and runs the sends on its thread pool, so sending threads never hold a database
connection. `notify(delivery)` does both in one go. Both raise TransportError(message,
permanent=...) on failure; the outbox decides about retries. A class with `confirms = True`
reports receipt in its answer (a webhook receiver's 2xx), so the delivery counts as delivered,
not only sent. Error messages name the failure, never the body.
"""

import base64
import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core.http_limits import BodyTooLarge, read_capped
from core.mail import MailPool
from core.outbound import OutboundRefused, outbound_session, push_policy, webhook_policy

from . import sms
from .exceptions import TransportError
from .messages import message_for, webhook_body
from .models import Delivery

WEBHOOK_TIMEOUT = (3, 10)  # connect, read: below the broker's visibility timeout (settings.py)
WEBHOOK_BODY_CAP = 64 * 1024  # a receiver's answer is read this far at most (its body is not used)

Send = Callable[[], str]


class Transport:
    confirms = False

    def prepare(self, delivery: Delivery) -> Send:
        raise NotImplementedError

    def notify(self, delivery: Delivery) -> str:
        return self.prepare(delivery)()


class InApp(Transport):
    """The Delivery row is the feed entry: committed with the incident, nothing to send."""

    def prepare(self, delivery: Delivery) -> Send:
        return lambda: ""


# The worker's SMTP connections, kept open between sends (core.mail.MailPool).
mail_pool = MailPool()


class Email(Transport):
    def prepare(self, delivery: Delivery) -> Send:
        message = message_for(delivery)
        email = EmailMultiAlternatives(message.subject, message.text, settings.DEFAULT_FROM_EMAIL, [delivery.target],
                                       headers={"X-CVI-Delivery": str(delivery.code)})
        email.attach_alternative(message.html, "text/html")

        def send() -> str:
            try:
                mail_pool.send(email)
            except smtplib.SMTPRecipientsRefused:
                raise TransportError("the mail server refused the address", permanent=True) from None
            except TimeoutError:
                raise TransportError("the mail server did not answer in time", timed_out=True) from None
            except (smtplib.SMTPException, OSError) as exc:
                raise TransportError(f"mail not sent: {exc.__class__.__name__}") from None
            return email.extra_headers.get("Message-ID", "")
        return send


class Sms(Transport):
    def prepare(self, delivery: Delivery) -> Send:
        message = message_for(delivery)
        callback = settings.SITE_URL + reverse("notifications:sms_status")
        backend, to = sms.get_backend(), delivery.target
        return lambda: backend.send(to=to, body=message.short, status_callback=callback)


class WebPush(Transport):
    """A browser subscription: `Channel.target` is the push endpoint, `config["keys"]` holds
    p256dh and auth. 404/410 from the push service means the subscription is gone for good.

    The endpoint must be one of the browsers' push services (PUSH_SERVICE_HOSTS) at a public
    address, checked here again and pinned (core.outbound). Errors are reasons, never what an
    arbitrary host answered."""

    def prepare(self, delivery: Delivery) -> Send:
        if not settings.VAPID_PRIVATE_KEY:
            raise TransportError("web push is not configured (VAPID keys; see manage.py vapid_keys)", permanent=True)
        keys = (delivery.channel.config if delivery.channel else {}).get("keys")
        if not keys:
            raise TransportError("the push subscription has no keys", permanent=True)
        policy = push_policy()
        try:
            policy.url_check(delivery.target)
        except OutboundRefused as exc:
            raise _address_refused(exc) from None
        message = message_for(delivery)
        body = json.dumps({"title": message.subject, "body": message.short, "url": message.url})
        endpoint = delivery.target
        return lambda: self._send(policy, endpoint, keys, body)

    @staticmethod
    def _send(policy, endpoint: str, keys: dict, body: str) -> str:
        from pywebpush import WebPushException, webpush

        try:
            response = webpush(
                subscription_info={"endpoint": endpoint, "keys": keys}, data=body,
                vapid_private_key=settings.VAPID_PRIVATE_KEY,
                vapid_claims={"sub": f"mailto:{settings.VAPID_CLAIMS_EMAIL}"}, timeout=WEBHOOK_TIMEOUT, ttl=3600,
                requests_session=outbound_session(policy),
            )
        except OutboundRefused as exc:
            raise _address_refused(exc) from None
        except WebPushException as exc:
            raise _push_refusal(getattr(exc.response, "status_code", None)) from None
        except requests.RequestException as exc:
            raise _request_failure(exc, "the push service") from None
        return getattr(response, "headers", {}).get("Location", "")


def _address_refused(exc: OutboundRefused) -> TransportError:
    return TransportError(f"the address is not allowed ({str(exc.reason).rstrip('.')})", permanent=True)


def _push_refusal(status: int | None) -> TransportError:
    """What a supervisor reads when a push service says no: a reason, not a status code."""
    if status in (404, 410):
        return TransportError("the push service refused the subscription (gone)", permanent=True)
    if status in (401, 403):
        return TransportError("the push service refused the portal's signature (VAPID keys)", permanent=True)
    if status == 413:
        return TransportError("the push service refused the message (too large)", permanent=True)
    if status == 429:
        return TransportError("the push service asked the portal to slow down")
    if status is not None and status >= 500:
        return TransportError("the push service failed; trying again")
    return TransportError("the push service refused the message", permanent=status is not None and status < 500)


def webhook_sign(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The Standard Webhooks signature header value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class Webhook(Transport):
    """The organisation's receiver. Its address is checked again when sent (DNS may have changed
    since it was saved), resolved once and called at the checked address (core.outbound)."""

    confirms = True

    def prepare(self, delivery: Delivery) -> Send:
        policy = webhook_policy()
        try:
            policy.url_check(delivery.target)
        except OutboundRefused as exc:
            raise _address_refused(exc) from None
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
        target = delivery.target
        return lambda: self._send(policy, target, body.encode(), headers)

    @staticmethod
    def _send(policy, target: str, body: bytes, headers: dict) -> str:
        try:
            # The session follows no redirect: a redirect could point inside the network.
            response = outbound_session(policy).post(target, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT,
                                                     stream=True)
            try:
                read_capped(response, WEBHOOK_BODY_CAP)  # read (to keep the connection alive), never used
            finally:
                response.close()
        except OutboundRefused as exc:
            raise _address_refused(exc) from None
        except BodyTooLarge:
            raise TransportError("the receiver answered with a body too large to read") from None
        except requests.RequestException as exc:
            raise _request_failure(exc, "the receiver") from None
        if 200 <= response.status_code < 300:
            return ""
        raise _webhook_refusal(response.status_code)


def _request_failure(exc: requests.RequestException, who: str) -> TransportError:
    """Why a call failed before any usable answer, as a reason (never the other side's words)."""
    if isinstance(exc, requests.Timeout):
        return TransportError(f"{who} did not answer in time", timed_out=True)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(f"{who} failed the secure (TLS) connection check")
    text = repr(exc)
    if "BadStatusLine" in text or "InvalidChunkLength" in text or isinstance(
            exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return TransportError(f"{who} answered with something that is not HTTP")
    return TransportError(f"{who} could not be reached")


def _webhook_refusal(status: int) -> TransportError:
    """The receiver's answer as a reason, by class of status (the organisation's own receiver, so
    the class helps them; the exact code of whatever answered is not repeated)."""
    if status == 410:  # Standard Webhooks: 410 Gone means the receiver wants no more messages.
        return TransportError("the receiver asked for no more messages (gone)", permanent=True)
    if 300 <= status < 400:
        return TransportError("the receiver answered with a redirect, which is not followed")
    if status == 429:
        return TransportError("the receiver asked the portal to slow down")
    if 400 <= status < 500:
        return TransportError("the receiver refused the message (client error)")
    return TransportError("the receiver failed (server error); trying again")


TRANSPORTS: dict[str, type[Transport]] = {
    "in_app": InApp,
    "email": Email,
    "sms": Sms,
    "push": WebPush,
    "webhook": Webhook,
}
