"""Drills: every channel gets a test message; one that fails is marked stale."""

import pytest

from districts.models import Channel, webhook_secret_new
from notifications.drills import notification_drill_send
from notifications.models import Delivery
from tests.workers import WebhookReceiver

pytestmark = pytest.mark.django_db


def test_a_drill_reaches_every_channel_and_marks_the_one_that_failed_stale(
        covering_org, worker, supervisor, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    email = Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="d@pe.example.org")
    phone = Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    with WebhookReceiver() as receiver:
        receiver.plan = [410]  # the receiver is gone
        hook = Channel.objects.create(organization=covering_org, kind=Channel.Kind.WEBHOOK, target=receiver.url,
                                      secret=webhook_secret_new())
        with django_capture_on_commit_callbacks(execute=True):
            drill = notification_drill_send(organization=covering_org, actor=supervisor)

    assert drill.kind == "drill" and drill.incident is None and drill.next_escalation_at is None
    assert {d.channel for d in drill.deliveries.all()} == {email, phone, hook}
    assert receiver.received[0]["json"]["type"] == "notification.drill"
    for channel in (email, phone, hook):
        channel.refresh_from_db()
    assert (email.last_drill_ok, phone.last_drill_ok, hook.last_drill_ok) == (True, True, False)
    assert [channel for channel in (email, phone, hook) if channel.is_stale] == [hook]
    # A drill exists to find dead channels: no fallback for it.
    assert not drill.deliveries.filter(purpose=Delivery.Purpose.FALLBACK).exists()


def test_a_channel_that_passes_its_next_drill_is_no_longer_stale(covering_org, supervisor,
                                                                 django_capture_on_commit_callbacks):
    email = Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="d@pe.example.org",
                                   last_drill_ok=False)
    with django_capture_on_commit_callbacks(execute=True):
        notification_drill_send(organization=covering_org, actor=supervisor)
    email.refresh_from_db()
    assert email.last_drill_ok is True and not email.is_stale
