"""Canaries (planted by tests/security/canaries.py) in every organisation-only field and in the
victims' details must never leave the portal: not in an email, SMS, web push or webhook body,
not in a log line (DEBUG and up), not in a Celery task's arguments. The victims' details and
CPD's note are CPD's to read, but messages carry district, block, time and victim count only.

Pages, exports and API responses are searched for the organisation's canaries by the access
matrix's walk (test_access_matrix.py), which already requests every one of them as every role:
one walk, two checks, so the suite stays fast.
"""

import base64
import logging
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock
from uuid import uuid4

import pytest
import pywebpush
import requests
from celery.signals import before_task_publish, task_prerun
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.utils import timezone

from districts.models import Channel, OnCall
from notifications import sms
from notifications.escalation import escalation_sweep
from notifications.models import Victim
from notifications.relay import relay_once
from notifications.services import incident_correct
from responses.models import ResponseLog
from responses.services import followup_reminders_send
from reviews.selectors import Month
from reviews.services import monthly_report_publish
from tests.outbound_fakes import PUBLIC_ADDRESS, fake_dns
from tests.security.canaries import (
    NOTE,
    found,
    organisation_canaries,
    plant_organisation_records,
    plant_own_followup,
    plant_stored_fields,
    response_text,
    victim_canaries,
)
from tests.security.conftest import build_world, incident_payload, organization_records, sign_in

pytestmark = pytest.mark.django_db


def test_the_organisation_itself_still_reads_its_records(client, cast):
    """The canaries are findable where they belong, so the searches for them can fail."""
    world = build_world(cast, records=False)
    canaries = organisation_canaries()
    plant_organisation_records(cast, world.notification_a, canaries)
    sign_in(client, cast["outreach_worker"])
    assert "notes" in found(response_text(client.get(f"/n/{world.notification_a.code}/")), canaries)
    followups = response_text(client.get("/follow-ups/"))
    assert {"follow-up task", "follow-up task (own)"} <= set(found(followups, canaries))
    assert "notes" in found(response_text(client.get("/api/v1/responses/")), canaries)


# --- what the portal sends and writes down -------------------------------------------------

def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _vapid(settings) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    settings.VAPID_PRIVATE_KEY = _b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = _b64url(key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def _channels(world) -> None:
    """Every kind of channel for Public Equity: shared email and webhook, the worker's SMS and push."""
    organization, worker = world.organization_a, world.users["outreach_worker"]
    browser_key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    Channel.objects.create(organization=organization, user=worker, kind=Channel.Kind.PUSH,
                           target="https://fcm.googleapis.com/fcm/send/abc",
                           config={"keys": {"p256dh": _b64url(browser_key), "auth": _b64url(b"0123456789abcdef")}})
    Channel.objects.create(organization=organization, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    Channel.objects.create(organization=organization, user=world.users["outreach_supervisor"],
                           kind=Channel.Kind.EMAIL, target="luis_supervisor@example.org")
    webhook = Channel(organization=organization, kind=Channel.Kind.WEBHOOK, target="https://hooks.example.org/cvi")
    webhook.clean()
    webhook.save()
    OnCall.objects.create(organization=organization, user=world.users["outreach_supervisor"],
                          tier=OnCall.Tier.SUPERVISOR)


@contextmanager
def celery_messages():
    """Every task's name, args and kwargs as sent (a broker's publish) or run (eager, in tests)."""
    seen = []

    def published(sender=None, body=None, headers=None, **kwargs):
        seen.append(f"{sender} {body!r} {headers!r}")

    def started(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra):
        seen.append(f"{getattr(task, 'name', sender)} {args!r} {kwargs!r}")

    before_task_publish.connect(published, weak=False)
    task_prerun.connect(started, weak=False)
    try:
        yield seen
    finally:
        before_task_publish.disconnect(published)
        task_prerun.disconnect(started)


def test_no_canary_goes_out_in_a_message_a_log_line_or_a_celery_task(
        cast, settings, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    _vapid(settings)
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org"]
    settings.DUTY_DESK_EMAIL = ""  # the duty desk is every analyst: their inboxes are searched too
    sms.outbox.clear()
    organisation, victims = organisation_canaries(), victim_canaries()
    canaries = {**organisation, **victims}
    webhook_bodies = []

    def network(adapter, request, **kwargs):  # the receivers' end of the network calls
        if "hooks.example.org" in request.url:
            body = request.body
            webhook_bodies.append(body.decode() if isinstance(body, bytes) else str(body))
        response = requests.Response()
        response.status_code, response.url, response.request = (
            200 if "hooks.example.org" in request.url else 201), request.url, request
        response.headers["Location"] = "msg-1"
        response._content = b""
        return response

    with celery_messages() as tasks, \
            fake_dns({"fcm.googleapis.com": [PUBLIC_ADDRESS], "hooks.example.org": [PUBLIC_ADDRESS]}), \
            mock.patch("requests.adapters.HTTPAdapter.send", autospec=True, side_effect=network), \
            mock.patch("pywebpush.webpush", wraps=pywebpush.webpush) as push:
        world = build_world(cast, records=False,
                            a_payload=incident_payload(note=f"Crowd gathering. {victims[NOTE]}"))
        _channels(world)
        # Stored before anyone acknowledged: the organisation's notes and follow-ups on A.
        log = ResponseLog.objects.create(
            notification=world.notification_a, organization=world.organization_a, client_key=uuid4(),
            created_by=cast["outreach_worker"], notes=f"Early notes {organisation['notes']}")
        plant_stored_fields(log, organisation)
        plant_own_followup(cast, world.notification_a, organisation)
        with django_capture_on_commit_callbacks(execute=True):
            # Corrected: the notified organisations get an update, over every channel.
            incident_correct(incident=world.incident_a, actor=cast["cpd_staff"], source="web",
                             scene_status="secured")
        # Victims' details as no form would take them (a correction re-checks them, so after it).
        Victim.objects.filter(incident=world.incident_a).update(age_band=victims["victim age band"],
                                                                  sex=victims["victim sex"])
        # Nobody acknowledged: A escalates to the supervisor, then the duty desk (the analysts).
        later = timezone.now() + timedelta(hours=2)
        for _ in range(3):
            escalation_sweep(now=later)
            relay_once()
        with django_capture_on_commit_callbacks(execute=True):
            organization_records(cast, world.notification_a, notes=f"Met the family. {organisation['notes']}",
                                 task=f"Call back {organisation['follow-up task']}")
        with django_capture_on_commit_callbacks(execute=True):
            followup_reminders_send(today=timezone.localdate() + timedelta(days=5))
        relay_once()
        with django_capture_on_commit_callbacks(execute=True):
            monthly_report_publish(month=Month(*timezone.localdate().timetuple()[:2]),
                                   districts=[world.incident_a.district], actor=cast["cpd_commander"])
        push_bodies = [str(call.kwargs.get("data")) for call in push.call_args_list]

    emails = [" ".join([m.subject, m.body, *(str(a[0]) for a in getattr(m, "alternatives", []))]) for m in mail.outbox]
    sent = {"email": emails, "SMS": [t.body for t in sms.outbox], "web push": push_bodies, "webhook": webhook_bodies}
    assert all(sent.values()), f"every channel must have carried something for the search to mean anything: {sent}"
    assert any("6300 S HALSTED ST" in body for body in sent["SMS"]), "the texts are about incident A"
    assert any(a.to == [cast["analyst"].email] for a in mail.outbox), "the duty desk (an analyst) was paged"
    assert tasks, "the deliveries must have gone through Celery"
    leaks = [f"{kind}: the {field}" for kind, bodies in sent.items() for body in bodies
             for field in found(body, canaries)]
    leaks += [f"Celery task: the {field}" for task in tasks for field in found(task, canaries)]
    for record in caplog.records:
        line = f"{record.getMessage()} {record.exc_text or ''} {record.__dict__}"
        leaks += [f"log line ({record.name}): the {field}" for field in found(line, canaries)]
    assert not leaks, "canaries left the portal:\n  " + "\n  ".join(sorted(set(leaks)))
