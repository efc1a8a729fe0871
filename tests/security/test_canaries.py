"""Canaries: a unique string planted in every organisation-only field and in the victims' details,
then everything CPD, analysts, administrators and another organisation can read is searched
for it: every page of the access matrix (the Django admin's included), every export, every API
response; and everything the portal sends or writes down: email, SMS, web push and webhook
bodies, every log line (DEBUG and up) and every Celery task's arguments.

Organisation-only (ARCHITECTURE.md, the trust boundary): a response log's notes, people engaged,
response types, retaliation risk and referrals, and follow-up tasks. The string fields get the
canary through the services the workers use; the fields the services keep to known values
(people engaged and referral kinds, response types, the risk) get it written straight into the
row, as a record stored before a validation change would hold it. The victims' details and
CPD's note are CPD's to read, but never go out in a message, a log line or a task argument
(messages carry district, block, time and victim count only).

Not searchable as strings: counts, dates and the follow-up date; `test_contract.py` checks that
no CPD-facing API schema has those fields at all.
"""

import base64
import io
import logging
import random
from contextlib import contextmanager
from uuid import uuid4
from datetime import timedelta
from unittest import mock

import openpyxl
import pytest
import pywebpush
from celery.signals import before_task_publish, task_prerun
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import mail
from django.test import Client
from django.utils import timezone

from districts.models import Channel, OnCall
from notifications import sms
from notifications.escalation import escalation_sweep
from notifications.models import Victim
from notifications.relay import relay_once
from notifications.services import incident_correct
from responses.models import Referral, ResponseLog
from responses.services import followup_create, followup_reminders_send
from reviews.selectors import Month
from reviews.services import monthly_report_publish
from tests.security.conftest import ROLES, build_world, incident_payload, organization_records
from tests.security.test_access_matrix import every_cell, request

pytestmark = pytest.mark.django_db

# Letters that are not hexadecimal digits, so a canary never matches part of a UUID or a token.
ALPHABET = "ghjkmnpqrstvwxyz"


def canary(length: int = 16) -> str:
    return "".join(random.choice(ALPHABET) for _ in range(length))  # noqa: S311 (a marker, not a secret)


def organisation_canaries() -> dict[str, str]:
    return {field: canary(n) for field, n in (
        ("notes", 24), ("follow-up task", 24), ("follow-up task (own)", 24), ("people engaged", 16),
        ("response type", 16), ("retaliation risk", 8), ("referral kind", 12))}


NOTE = "CPD's note"


def victim_canaries() -> dict[str, str]:
    return {NOTE: canary(24), "victim age band": canary(8), "victim sex": canary(8)}


def plant_stored_fields(log: ResponseLog, canaries: dict[str, str]) -> None:
    """The fields the services keep to known values, written straight into the row."""
    ResponseLog.objects.filter(pk=log.pk).update(
        people_engaged={"family": 2, canaries["people engaged"]: 1},
        response_types=["scene", canaries["response type"]], retaliation_risk=canaries["retaliation risk"])
    Referral.objects.create(response=log, kind=canaries["referral kind"], count=2)


def plant_own_followup(users, notification, canaries: dict[str, str]) -> None:
    followup_create(organization=notification.organization, actor=users["outreach_supervisor"], source="web",
                    task=f"Check in {canaries['follow-up task (own)']}", due_on=timezone.localdate() + timedelta(days=1),
                    assigned_to=users["outreach_worker"], notification=notification)


def plant_organisation_records(users, notification, canaries: dict[str, str]) -> None:
    """Every organisation-only field of Public Equity's response to A, holding its canary."""
    log = organization_records(users, notification, notes=f"Met the family. {canaries['notes']}",
                               task=f"Call back {canaries['follow-up task']}")
    plant_stored_fields(log, canaries)
    plant_own_followup(users, notification, canaries)


def found(text: str, canaries: dict[str, str]) -> list[str]:
    lowered = text.lower()
    return [field for field, value in canaries.items() if value in lowered]


def response_text(response) -> str:
    """Everything a response carries that a person could read: the body, streamed or not, and the
    cells of an XLSX export."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    if "spreadsheetml" in response.get("Content-Type", ""):
        book = openpyxl.load_workbook(io.BytesIO(body))
        text += " ".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row)
    return text + " " + " ".join(f"{k}: {v}" for k, v in response.items())


# The exports a CPD, analyst or administrator can pull, besides the pages of the matrix.
EXPORTS = ["/history/?_export=csv", "/history/?_export=xlsx", "/dashboard/?_export=csv", "/dashboard/?_export=xlsx",
           "/api/v1/incidents/?page_size=200", "/api/v1/responses/"]


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("outreach_worker", "outreach_supervisor")])
def test_no_organisation_record_reaches_any_page_export_or_api_response_outside_the_organisation(
        role, cast, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "100000/min", "user": "100000/min"}
    world = build_world(cast, records=False)  # the canaries' records are the only ones: the admin's pages show them
    canaries = organisation_canaries()
    plant_organisation_records(cast, world.notification_a, canaries)
    client, user = Client(), cast[role]
    leaks = []
    targets = [(label, row, obj) for label, row in every_cell() for obj in (("a", "b") if row.scoped else (None,))]
    for label, row, obj in targets:
        if user is not None:
            client.force_login(user)
        response = request(client, row, world, obj)
        leaks += [f"{label}{f' (object {obj.upper()})' if obj else ''} → {response.status_code}: the {field}"
                  for field in found(response_text(response), canaries)]
    for url in EXPORTS:
        if user is not None:
            client.force_login(user)
        leaks += [f"{url}: the {field}" for field in found(response_text(client.get(url)), canaries)]
    assert not leaks, f"an organisation's private record reached {role}:\n  " + "\n  ".join(leaks)


def test_the_organisation_itself_still_reads_its_records(client, cast):
    """The canaries are findable where they belong: the search above can fail."""
    world = build_world(cast, records=False)
    canaries = organisation_canaries()
    plant_organisation_records(cast, world.notification_a, canaries)
    client.force_login(cast["outreach_worker"])
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
                           target="https://push.example.net/send/abc",
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

    def hook(url, data=None, **kwargs):  # the receiver's end of the network call
        webhook_bodies.append(data.decode() if isinstance(data, bytes) else str(data))
        return mock.Mock(status_code=200, text="")

    push_service = mock.Mock(status_code=201, headers={"Location": "msg-1"}, text="")
    with celery_messages() as tasks, \
            mock.patch("notifications.transports._http.post", side_effect=hook), \
            mock.patch("pywebpush.requests.post", return_value=push_service), \
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
    leaks = [f"{kind}: the {field}" for kind, bodies in sent.items() for body in bodies for field in found(body, canaries)]
    leaks += [f"Celery task: the {field}" for task in tasks for field in found(task, canaries)]
    for record in caplog.records:
        line = f"{record.getMessage()} {record.exc_text or ''} {record.__dict__}"
        leaks += [f"log line ({record.name}): the {field}" for field in found(line, canaries)]
    assert not leaks, "canaries left the portal:\n  " + "\n  ".join(sorted(set(leaks)))
