"""Follow-up reminders on the worker's own channels: the sweep writes the in-app row and queues
SMS, email and push rows that the outbox sends like any other delivery (eager Celery, the relay
run in-process on commit). A reminder says a follow-up is due and when, never the task."""

import base64
import json
import smtplib
import uuid
from datetime import timedelta
from unittest import mock

import pytest
import pywebpush
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from districts.models import Channel, Role
from notifications import sms
from notifications.models import Delivery, Notification, TimelineEntry
from responses.models import FollowUp
from responses.services import followup_reminders_send, response_log
from tests.conftest import COVERING_ORG, make_member
from tests.outbound_fakes import push_service

from .factories import make_notification

pytestmark = pytest.mark.django_db

TASK = "Visit Jamal Carter's mother on S Halsted"


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    sms.outbox.clear()


@pytest.fixture
def channels(covering_org, worker):
    """The worker's own phone and email, an old phone switched off, a colleague's phone, and the
    organisation's shared dispatch list (its fallback channel)."""
    colleague = make_member("ray_colleague", Role.OUTREACH_WORKER, organization=COVERING_ORG)
    return {
        "phone": Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS,
                                        target="+13125550101"),
        "email": Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.EMAIL,
                                        target="tasha@pe.example.org"),
        "old_phone": Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS,
                                            target="+13125550199", active=False),
        "colleague": Channel.objects.create(organization=covering_org, user=colleague, kind=Channel.Kind.SMS,
                                            target="+13125550102"),
        "dispatch": Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL,
                                           target="dispatch@pe.example.org", is_fallback=True),
    }


@pytest.fixture
def followup(covering_org, worker):
    """A follow-up due tomorrow, logged with the incident's response (a past date is refused)."""
    notification = make_notification(covering_org, minutes_ago=40)
    response_log(notification=notification, actor=worker, source="phone", client_key=uuid.uuid4(),
                 follow_up_on=timezone.localdate() + timedelta(days=1), follow_up_task=TASK)
    mail.outbox.clear()
    return FollowUp.objects.get()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _public_key(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@pytest.fixture
def push_channel(settings, covering_org, worker):
    """The worker's browser subscribed to web push, with the portal's VAPID keys configured."""
    key = ec.generate_private_key(ec.SECP256R1())
    settings.VAPID_PRIVATE_KEY = _b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = _b64url(_public_key(key))
    browser = _public_key(ec.generate_private_key(ec.SECP256R1()))
    return Channel.objects.create(
        organization=covering_org, user=worker, kind=Channel.Kind.PUSH, target="https://fcm.googleapis.com/fcm/send/abc",
        config={"keys": {"p256dh": _b64url(browser), "auth": _b64url(b"0123456789abcdef")}})


def sweep(capture, *, day):
    with capture(execute=True):
        return followup_reminders_send(today=day)


def test_a_due_follow_up_reminds_the_worker_once_in_app_by_text_and_by_email(
        followup, worker, channels, django_capture_on_commit_callbacks):
    assert sweep(django_capture_on_commit_callbacks, day=followup.due_on) == 1

    reminders = Delivery.objects.filter(purpose=Delivery.Purpose.REMINDER)
    assert {(d.kind, d.target, d.status) for d in reminders} == {
        ("in_app", worker.username, "sent"), ("sms", "+13125550101", "sent"), ("email", "tasha@pe.example.org", "sent")}
    assert {d.recipient for d in reminders} == {worker}
    assert not reminders.filter(notification__isnull=False).exists()
    assert [t.to for t in sms.outbox] == ["+13125550101"]
    assert [m.to for m in mail.outbox] == [["tasha@pe.example.org"]]

    assert sweep(django_capture_on_commit_callbacks, day=followup.due_on) == 0
    assert reminders.count() == 3
    assert len(sms.outbox) == 1 and len(mail.outbox) == 1


def test_the_text_and_the_email_say_a_follow_up_is_due_and_where_never_the_task(
        followup, channels, django_capture_on_commit_callbacks):
    sweep(django_capture_on_commit_callbacks, day=followup.due_on)

    text, email = sms.outbox[0].body, mail.outbox[0]
    followups_url = "/follow-ups/"
    assert reverse("responses:followups").endswith(followups_url)
    assert "A follow-up is due" in text and followups_url in text
    assert "A follow-up is due" in email.subject
    assert followup.due_on.strftime("%B") in email.body and followups_url in email.body
    html = email.alternatives[0][0]
    for body in (text, email.subject, email.body, html):
        assert "Jamal" not in body and "Halsted" not in body and "mother" not in body
        assert "Acknowledge" not in body  # nothing to acknowledge: it is no notification


def test_a_reminder_reaches_the_workers_browser_by_web_push_with_a_tap_to_the_follow_ups(
        followup, push_channel, django_capture_on_commit_callbacks):
    # The push service's answer is the only thing replaced; the real webpush encrypts and signs
    # (watched to read the clear-text message it was given).
    with (push_service(201) as send,
          mock.patch("pywebpush.webpush", wraps=pywebpush.webpush) as webpush):
        sweep(django_capture_on_commit_callbacks, day=followup.due_on)
    push = Delivery.objects.get(purpose=Delivery.Purpose.REMINDER, kind=Channel.Kind.PUSH)
    assert push.status == Delivery.Status.SENT
    assert send.call_args.args[1].url == "https://fcm.googleapis.com/fcm/send/abc"
    shown = json.loads(webpush.call_args.kwargs["data"])
    assert shown["title"].startswith("CVI: A follow-up is due") and shown["url"].endswith("/follow-ups/")
    assert "Jamal" not in shown["body"] and "Halsted" not in shown["body"]


def test_nothing_is_sent_before_the_follow_up_is_due_or_once_it_is_done(
        followup, channels, django_capture_on_commit_callbacks):
    assert sweep(django_capture_on_commit_callbacks, day=followup.due_on - timedelta(days=1)) == 0
    FollowUp.objects.filter(pk=followup.pk).update(done_at=timezone.now())
    assert sweep(django_capture_on_commit_callbacks, day=followup.due_on) == 0
    assert not Delivery.objects.filter(purpose=Delivery.Purpose.REMINDER).exists()
    assert sms.outbox == [] and mail.outbox == []


def test_a_reminder_whose_email_is_refused_dies_without_touching_a_notification_or_the_fallback_channel(
        followup, channels, django_capture_on_commit_callbacks, caplog):
    before = Notification.objects.values("status", "status_at", "first_sent_at", "first_confirmed_at").get()
    timeline_before = TimelineEntry.objects.count()
    refused = smtplib.SMTPRecipientsRefused({"tasha@pe.example.org": (550, b"no such mailbox")})
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused):
        sweep(django_capture_on_commit_callbacks, day=followup.due_on)

    email = Delivery.objects.get(purpose=Delivery.Purpose.REMINDER, kind=Channel.Kind.EMAIL)
    assert (email.status, email.attempts) == (Delivery.Status.DEAD, 1)
    assert "refused the address" in email.last_error
    assert Delivery.objects.get(purpose=Delivery.Purpose.REMINDER, kind=Channel.Kind.SMS).status == "sent"
    assert not Delivery.objects.filter(purpose=Delivery.Purpose.FALLBACK).exists()
    assert not Delivery.objects.filter(target=channels["dispatch"].target).exists()
    assert Notification.objects.values("status", "status_at", "first_sent_at", "first_confirmed_at").get() == before
    assert TimelineEntry.objects.count() == timeline_before
    dead = Event.objects.get(action="delivery.dead")
    assert dead.data["purpose"] == "reminder" and dead.data["notification"] is None and dead.data["fallback"] is None
    assert f"Delivery {email.code} (email, reminder) is dead" in caplog.text
