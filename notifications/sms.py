"""SMS backends: one small interface, chosen by settings.SMS_BACKEND.

- `console`: prints the message (the embedded default).
- `locmem`: keeps messages in `sms.outbox` (tests), like Django's locmem mail backend.
- `twilio`: sends through Twilio's REST API and checks X-Twilio-Signature on the status and
  inbound callbacks.

A backend sends one text and returns the provider's message id; it raises TransportError
(permanent for a number the provider refuses) so the outbox decides about retries.
Inbound requests are checked by `verify_request`; the console and locmem backends accept a
shared secret header instead, since no provider signs for them.
"""

import hmac
import itertools
import logging
import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from core.http_limits import DeadlineAdapter

from .exceptions import TransportError

logger = logging.getLogger(__name__)

INBOUND_SECRET_HEADER = "X-CVI-Inbound-Secret"  # noqa: S105 (a header name)


@dataclass(frozen=True)
class SentText:
    to: str
    body: str
    provider_id: str


# Messages sent by the locmem backend, newest last (tests read and clear it).
outbox: list[SentText] = []
_ids = itertools.count(1)


def inbound_secret() -> str:
    """The shared secret for inbound requests to the console/locmem backends."""
    return settings.SMS_INBOUND_SECRET or salted_hmac("cvi.sms.inbound", "v1", algorithm="sha256").hexdigest()


class ConsoleBackend:
    def send(self, *, to: str, body: str, status_callback: str = "") -> str:
        provider_id = f"console-{next(_ids)}"
        sys.stdout.write(f"[sms to {to}] {body}\n")
        sys.stdout.flush()
        return provider_id

    def verify_request(self, request) -> bool:
        given = request.headers.get(INBOUND_SECRET_HEADER, "")
        return bool(given) and hmac.compare_digest(given, inbound_secret())


class LocmemBackend(ConsoleBackend):
    def send(self, *, to: str, body: str, status_callback: str = "") -> str:
        provider_id = f"locmem-{next(_ids)}"
        outbox.append(SentText(to=to, body=body, provider_id=provider_id))
        return provider_id


_twilio = threading.local()  # one client per sending thread: its session keeps the connection alive


def twilio_client():
    """This thread's Twilio client. Its HTTP session keeps one connection to the API alive
    (`pool_connections=True`) and obeys the sender's total deadline (core.http_limits); the
    per-operation timeout stays 10 s. TWILIO_API_BASE_URL, when set, points it at another root
    (a regional edge, or a stand-in). A changed account or root gives a new client."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    key = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL)
    if getattr(_twilio, "key", None) != key:
        http_client = TwilioHttpClient(pool_connections=True, timeout=10)
        for scheme in ("https://", "http://"):
            http_client.session.mount(scheme, DeadlineAdapter(pool_connections=1, pool_maxsize=1))
        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        if settings.TWILIO_API_BASE_URL:
            client.api.base_url = settings.TWILIO_API_BASE_URL
        _twilio.client, _twilio.key = client, key
    return _twilio.client


class TwilioBackend:
    # Twilio's error codes for a number that can never receive (invalid, landline, opted out).
    PERMANENT_CODES = {21211, 21214, 21408, 21610, 21612, 21614}

    def send(self, *, to: str, body: str, status_callback: str = "") -> str:
        import requests
        from twilio.base.exceptions import TwilioRestException

        client = twilio_client()
        try:
            message = client.messages.create(
                to=to, from_=settings.TWILIO_FROM_NUMBER, body=body, status_callback=status_callback or None
            )
        except TwilioRestException as exc:
            permanent = exc.code in self.PERMANENT_CODES or exc.status in (400, 404)
            raise TransportError(f"Twilio refused the message ({exc.code})", permanent=permanent) from None
        except requests.Timeout:
            raise TransportError("Twilio did not answer in time", timed_out=True) from None
        except (OSError, requests.RequestException) as exc:
            raise TransportError(f"Twilio unreachable: {exc.__class__.__name__}") from None
        return message.sid

    def verify_request(self, request) -> bool:
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
        url = request.build_absolute_uri()
        return validator.validate(url, request.POST.dict(), request.headers.get("X-Twilio-Signature", ""))


BACKENDS = {"console": ConsoleBackend, "locmem": LocmemBackend, "twilio": TwilioBackend}


def get_backend():
    try:
        return BACKENDS[settings.SMS_BACKEND]()
    except KeyError:
        raise ValueError(f"unknown SMS_BACKEND {settings.SMS_BACKEND!r}; use one of {sorted(BACKENDS)}") from None
