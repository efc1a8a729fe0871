"""Requests that come back from a message: the one-tap acknowledgement link, SMS replies, and
the SMS provider's status callbacks.

None of them needs a login: the link is signed and expires, SMS requests are checked by the
backend (Twilio's X-Twilio-Signature, or a shared secret header for the console and locmem
backends). A refused request changes nothing; it is counted per hour (audit.Refusal) when
the caller is anonymous, and is an audit event when a signed-in user sent it.
"""

import logging
from xml.sax.saxutils import escape

from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import Source
from audit.services import audit_log, refusal_count

from . import selectors, sms
from .acknowledgements import ack_token_read
from .delivery import delivery_confirm, delivery_undelivered_record
from .exceptions import InvalidAcknowledgement
from .models import Delivery
from .state import notification_acknowledge

logger = logging.getLogger(__name__)

ACK_WORDS = {"1", "ACK", "OK", "YES", "Y"}


@require_http_methods(["GET", "POST"])
def ack_link(request, token: str):
    """GET: a confirm page with one big button (a link preview or a mail scanner fetching the
    URL must not acknowledge). POST: acknowledge. Forged or expired: 400, nothing changed; the
    refusal is an audit event for a signed-in caller and an hourly count for anyone else."""
    try:
        delivery = ack_token_read(token)
    except InvalidAcknowledgement as exc:
        if request.user.is_authenticated:
            audit_log(actor=request.user, source=Source.WEB, action="notification.ack_refused",
                      data={"reason": str(exc), "method": request.method})
        else:  # anyone can send junk here as fast as they like: counted per hour, not one event each
            refusal_count(action="notification.ack_refused", source=Source.WEB, reason=str(exc))
        return render(request, "notifications/ack_refused.html", {"reason": str(exc)}, status=400)
    notification = delivery.notification
    if request.method == "POST":
        actor = request.user if request.user.is_authenticated else delivery.recipient
        notification = notification_acknowledge(notification=notification, actor=actor, via="link")
    return render(request, "notifications/ack_confirm.html",
                  {"notification": notification, "incident": notification.incident})


def _twiml(text: str) -> HttpResponse:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(text)}</Message></Response>'
    return HttpResponse(body, content_type="text/xml")


def _refuse(request, what: str) -> HttpResponse:
    # Anyone can post here: counted per hour, never a row per forged request.
    refusal_count(action=f"{what}.refused", source=Source.PHONE, reason="bad_signature")
    return HttpResponseForbidden("signature check failed")


@csrf_exempt
@require_POST
def sms_inbound(request):
    """A reply to a notification text. `1`, `ACK` or `OK` acknowledges the sender's newest
    unacknowledged notification; anything else gets a short help reply."""
    if not sms.get_backend().verify_request(request):
        return _refuse(request, "sms.inbound")
    number, word = request.POST.get("From", "").strip(), request.POST.get("Body", "").strip().upper().rstrip(".!")
    if not number:
        return HttpResponseBadRequest("From is required")
    if word not in ACK_WORDS:
        with override(selectors.sms_sender_language(number)):
            return _twiml(_("Reply 1 to acknowledge the latest CVI notification."))
    notification, user = selectors.awaiting_sms_acknowledgement(number)
    if notification is None:
        with override(selectors.sms_sender_language(number)):
            return _twiml(_("Nothing waiting to acknowledge. Thank you."))
    notification_acknowledge(notification=notification, actor=user, via="sms")
    # The answer is in the sender's language (English for a shared phone tree).
    with override(selectors.sms_sender_language(number, user)):
        return _twiml(_("Acknowledged for %(organization)s. Thank you.") % {"organization": notification.organization})


@csrf_exempt
@require_POST
def sms_status(request):
    """The provider's delivery report for one message (Twilio: MessageSid, MessageStatus)."""
    if not sms.get_backend().verify_request(request):
        return _refuse(request, "sms.status")
    provider_id, status = request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", "")
    delivery = (Delivery.objects.select_related("notification__organization", "channel")
                .filter(~Q(provider_id=""), provider_id=provider_id).first())
    if delivery is None:
        return HttpResponse(status=204)
    if status == "delivered":
        delivery_confirm(delivery=delivery, at=timezone.now())
    elif status in ("failed", "undelivered"):
        # Sent but never reached the phone: back into the outbox's retry schedule.
        delivery_undelivered_record(delivery=delivery, status=status, error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)
