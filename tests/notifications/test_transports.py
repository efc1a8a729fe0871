"""Transports at their edges: the webhook's Standard Webhooks signature and allow-list, the
email's two parts, web push against a stubbed push service, Twilio's signed status callbacks."""

import base64
import hashlib
import hmac
import json
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from audit.models import Refusal
from districts.models import Channel, webhook_secret_new
from notifications import sms
from notifications.models import Delivery
from notifications.sending import delivery_attempt
from tests.outbound_fakes import PUBLIC_ADDRESS, push_service
from tests.workers import WebhookReceiver, incident_notify

pytestmark = pytest.mark.django_db


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with WebhookReceiver() as r:
        yield r


def _webhook(organization, url, **kwargs):
    channel = Channel(organization=organization, kind=Channel.Kind.WEBHOOK, target=url, **kwargs)
    channel.full_clean()
    channel.save()
    return channel


def test_a_webhook_is_signed_per_standard_webhooks_with_the_delivery_code_as_id(
        englewood, covering_org, receiver, django_capture_on_commit_callbacks):
    channel = _webhook(covering_org, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org,
                                       note="Victim named Jolene Marquardt")
    delivery = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)

    (request,) = receiver.received
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"] == str(delivery.code) == request["json"]["id"]
    key = base64.b64decode(channel.secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request["body"]
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert request["json"]["type"] == "incident.notified"
    assert request["json"]["data"]["incident"]["block"] == "6300 S HALSTED ST"
    assert "Marquardt" not in request["body"].decode()  # long enough that no random token holds it
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED  # a 2xx is the receiver's receipt


@pytest.mark.parametrize("url", [
    "https://10.0.0.5/hook", "https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook", "https://localhost/hook", "https://192.168.1.20:8443/hook", "https://[::ffff:10.1.2.3]/x",
])
def test_a_webhook_pointing_inside_the_network_is_refused_when_saved(covering_org, url):
    with pytest.raises(ValidationError) as exc:
        _webhook(covering_org, url)
    assert "private or internal address" in exc.value.message_dict["target"][0]
    assert not Channel.objects.filter(kind=Channel.Kind.WEBHOOK).exists()


def test_a_webhook_must_use_https_unless_its_host_is_allow_listed(covering_org, settings):
    with pytest.raises(ValidationError) as exc:
        _webhook(covering_org, "http://93.184.216.34/hook")
    assert "https" in exc.value.message_dict["target"][0]
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    channel = _webhook(covering_org, "http://127.0.0.1:9/hook")
    assert channel.secret.startswith("whsec_")  # generated on save


def test_a_public_webhook_address_is_accepted(covering_org):
    channel = _webhook(covering_org, "https://93.184.216.34/hook", secret=webhook_secret_new())
    assert channel.pk


def test_a_webhook_that_points_inside_at_send_time_dies_at_once_and_the_fallback_is_tried(
        englewood, covering_org, django_capture_on_commit_callbacks):
    # Saved without clean() (as if DNS changed after it was saved): the send-time check refuses it.
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.WEBHOOK, target="https://127.0.0.1/x",
                           secret=webhook_secret_new())
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="desk@pe.example.org",
                           is_fallback=True)
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    webhook = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
    assert (webhook.status, webhook.attempts) == (Delivery.Status.DEAD, 1)
    assert "private or internal" in webhook.last_error
    fallback = notification.deliveries.get(purpose=Delivery.Purpose.FALLBACK)
    assert (fallback.kind, fallback.status) == (Channel.Kind.EMAIL, Delivery.Status.SENT)


def test_a_redirecting_webhook_is_not_followed(englewood, covering_org, receiver):
    _webhook(covering_org, receiver.url)
    receiver.plan = [302]
    notification = incident_notify(district=englewood, organization=covering_org)
    delivery = notification.deliveries.get(kind=Channel.Kind.WEBHOOK)
    assert delivery_attempt(delivery_id=delivery.pk) == "failed"
    assert len(receiver.received) == 1


def test_an_email_has_a_text_and_an_html_part_both_with_the_acknowledgement_link(
        englewood, covering_org, django_capture_on_commit_callbacks):
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="dispatch@pe.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        incident_notify(district=englewood, organization=covering_org)
    (email,) = mail.outbox
    html = email.alternatives[0]
    assert html.mimetype == "text/html"
    link = next(word for word in email.body.split() if "/a/" in word)
    assert link in html.content
    assert email.subject.startswith("Shooting in District 7")


@pytest.fixture
def vapid(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    settings.VAPID_PRIVATE_KEY = _b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = _b64url(key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def _push_channel(organization, user):
    browser_key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return Channel.objects.create(
        organization=organization, user=user, kind=Channel.Kind.PUSH, target="https://fcm.googleapis.com/fcm/send/abc",
        config={"keys": {"p256dh": _b64url(browser_key), "auth": _b64url(b"0123456789abcdef")}})


@pytest.mark.parametrize("status, outcome", [(201, Delivery.Status.SENT), (410, Delivery.Status.DEAD)])
def test_web_push_is_sent_with_vapid_and_a_gone_subscription_dies(englewood, covering_org, worker, vapid,
                                                                  status, outcome):
    from districts.models import OnCall

    OnCall.objects.create(organization=covering_org, user=worker)
    _push_channel(covering_org, worker)
    notification = incident_notify(district=englewood, organization=covering_org)
    delivery = notification.deliveries.get(kind=Channel.Kind.PUSH)
    with push_service(status) as send:  # the push service's answer, below the portal's checks
        delivery_attempt(delivery_id=delivery.pk)
    (request,) = [call.args[1] for call in send.call_args_list]
    assert request.url == "https://fcm.googleapis.com/fcm/send/abc"
    assert request.headers["authorization"].startswith("vapid t=")
    assert (request.headers["Host"], request.cvi_pinned_address) == ("fcm.googleapis.com", PUBLIC_ADDRESS)
    delivery.refresh_from_db()
    assert delivery.status == outcome


def test_vapid_keys_prints_a_key_pair(capsys):
    call_command("vapid_keys")
    out = capsys.readouterr().out
    assert "VAPID_PUBLIC_KEY=" in out and "VAPID_PRIVATE_KEY=" in out


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_AUTH_TOKEN = "test-auth-token-0123456789"  # noqa: S105
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32


def _twilio_post(client, path, data, *, good=True):
    from twilio.request_validator import RequestValidator

    url = "http://testserver" + path
    signature = RequestValidator("test-auth-token-0123456789").compute_signature(url, data)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature if good else "forged")


def test_a_twilio_status_callback_with_a_valid_signature_marks_the_text_delivered(
        client, englewood, covering_org, worker, twilio):
    from districts.models import OnCall

    OnCall.objects.create(organization=covering_org, user=worker)
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    notification = incident_notify(district=englewood, organization=covering_org)
    delivery = notification.deliveries.get(kind=Channel.Kind.SMS)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, provider_id="SM123")
    path = reverse("notifications:sms_status")

    forged = _twilio_post(client, path, {"MessageSid": "SM123", "MessageStatus": "delivered"}, good=False)
    assert forged.status_code == 403
    assert _twilio_post(client, path, {"MessageSid": "SM123"}, good=False).status_code == 403
    # Anyone can post a forgery: counted per hour, not an audit row each.
    assert Refusal.objects.get(action="sms.status.refused").count == 2
    delivery.refresh_from_db()
    assert delivery.delivered_at is None

    response = _twilio_post(client, path, {"MessageSid": "SM123", "MessageStatus": "delivered"})
    assert response.status_code == 204
    delivery.refresh_from_db()
    notification.refresh_from_db()
    assert delivery.status == Delivery.Status.DELIVERED and notification.first_confirmed_at is not None
    assert notification.incident.timeline.filter(kind="delivery.delivered").count() == 1


def test_the_twilio_backend_sends_through_the_rest_api(englewood, covering_org, worker, twilio, settings):
    from twilio.http.response import Response

    from districts.models import OnCall

    settings.TWILIO_FROM_NUMBER = "+13125550000"
    OnCall.objects.create(organization=covering_org, user=worker)
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    notification = incident_notify(district=englewood, organization=covering_org)
    delivery = notification.deliveries.get(kind=Channel.Kind.SMS)
    answer = json.dumps({"sid": "SM0123", "status": "queued"})
    with mock.patch("twilio.http.http_client.TwilioHttpClient.request") as request:
        request.return_value = Response(201, answer, headers={})
        assert delivery_attempt(delivery_id=delivery.pk) == "sent"
    sent = request.call_args.kwargs["data"]
    assert sent["To"] == "+13125550101" and sent["From"] == "+13125550000" and "/a/" in sent["Body"]
    delivery.refresh_from_db()
    assert delivery.provider_id == "SM0123"


def test_the_twilio_backend_calls_the_api_root_settings_give(twilio, settings):
    """TWILIO_API_BASE_URL points the real Twilio client somewhere else (a stand-in); the
    message resource it answers is read as Twilio's."""
    import http.server
    import threading

    seen = []

    class TwilioShaped(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            seen.append((self.path, self.rfile.read(int(self.headers["content-length"])).decode()))
            body = json.dumps({"sid": "SM" + "1" * 32, "status": "queued"}).encode()
            self.send_response(201)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TwilioShaped)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
        settings.TWILIO_FROM_NUMBER = "+13125550000"
        assert sms.get_backend().send(to="+13125550101", body="Shooting 6300 S Halsted") == "SM" + "1" * 32
    finally:
        server.shutdown()
        server.server_close()
    assert seen[0][0] == f"/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"
    assert "To=%2B13125550101" in seen[0][1]
