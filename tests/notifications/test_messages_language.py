"""Each message is written in its recipient's language (Membership.language); a shared channel
such as an organisation's dispatch list gets English. Eager Celery, the relay run on commit, the
locmem SMS backend and Django's mail outbox: the messages as a phone and an inbox receive them."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.dates import CHICAGO
from districts.models import Channel, Membership, OnCall, Role
from notifications import sms
from responses.services import followup_reminders_send, response_log
from tests.conftest import COVERING_ORG, make_member
from tests.responses.factories import make_notification
from tests.workers import incident_notify

pytestmark = pytest.mark.django_db
NOTE = "Victim Jamal Carter, 19, brother of a Black P Stones member"
TASK = "Visit Jamal Carter's mother on S Halsted"
MESES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"]


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    sms.outbox.clear()


def speaks(user, language: str) -> None:
    Membership.objects.filter(user=user).update(language=language)


@pytest.fixture
def on_call(covering_org, worker):
    """Public Equity's dispatch list (shared), and two workers on call, each with a phone and an
    email of their own: the worker reads Spanish, the colleague English."""
    colleague = make_member("ray_colleague", Role.OUTREACH_WORKER, organization=COVERING_ORG)
    speaks(worker, "es")
    Channel.objects.create(organization=covering_org, kind=Channel.Kind.EMAIL, target="dispatch@pe.example.org",
                           is_fallback=True)
    for user, phone in [(worker, "+13125550101"), (colleague, "+13125550102")]:
        OnCall.objects.create(organization=covering_org, user=user, tier=OnCall.Tier.PRIMARY)
        Channel.objects.create(organization=covering_org, user=user, kind=Channel.Kind.SMS, target=phone)
        Channel.objects.create(organization=covering_org, user=user, kind=Channel.Kind.EMAIL,
                               target=f"{user.username}@pe.example.org")
    return {"es": worker, "en": colleague}


def _texts_to(number: str) -> list[str]:
    return [t.body for t in sms.outbox if t.to == number]


def _email_to(address: str):
    [email] = [m for m in mail.outbox if m.to == [address]]
    return email


def _notify(capture, englewood, covering_org):
    with capture(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org, victims=2, note=NOTE)
    local = notification.incident.occurred_at.astimezone(CHICAGO)
    return f"{local.hour % 12 or 12}:{local:%M}"  # the clock time in Chicago, in every language


def test_a_spanish_speaking_worker_gets_the_new_incident_by_text_and_email_in_spanish(
        englewood, covering_org, on_call, django_capture_on_commit_callbacks):
    chicago_time = _notify(django_capture_on_commit_callbacks, englewood, covering_org)

    [text] = _texts_to("+13125550101")
    assert "Tiroteo reportado en su zona" in text and "2 víctimas" in text and "Responda 1" in text
    assert "Shooting reported" not in text and "victims" not in text
    assert "6300 S HALSTED ST" in text and chicago_time in text and "/a/" in text

    email = _email_to(f"{on_call['es'].username}@pe.example.org")
    html = email.alternatives[0].content
    assert email.subject == "Tiroteo en el Distrito 7: 6300 S HALSTED ST"
    assert "Distrito: Distrito 7 (Englewood)" in email.body and "Cuadra: 6300 S HALSTED ST" in email.body
    assert "Víctimas: 2" in email.body and chicago_time in email.body
    assert "Shooting reported" not in email.body and "Acknowledge" not in email.body
    assert '<html lang="es">' in html and ">Confirmar</a>" in html and "Shooting reported" not in html
    for body in [text, email.subject, email.body, html]:
        assert "Jamal" not in body and "Stones" not in body


def test_an_english_speaking_worker_and_the_shared_dispatch_list_get_english(
        englewood, covering_org, on_call, django_capture_on_commit_callbacks):
    _notify(django_capture_on_commit_callbacks, englewood, covering_org)

    [text] = _texts_to("+13125550102")
    assert "Shooting reported in your area" in text and "2 victims" in text and "Tiroteo" not in text
    for address in [f"{on_call['en'].username}@pe.example.org", "dispatch@pe.example.org"]:
        email = _email_to(address)
        assert email.subject == "Shooting in District 7: 6300 S HALSTED ST"
        assert "Block: 6300 S HALSTED ST" in email.body and "Victims: 2" in email.body
        assert "Tiroteo" not in email.body and "Cuadra" not in email.body
        assert '<html lang="en">' in email.alternatives[0].content


def test_a_follow_up_reminder_reaches_a_spanish_speaking_worker_in_spanish_without_the_task(
        covering_org, worker, django_capture_on_commit_callbacks):
    speaks(worker, "es")
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.EMAIL,
                           target="tasha@pe.example.org")
    due_on = timezone.localdate() + timedelta(days=1)
    response_log(notification=make_notification(covering_org, minutes_ago=40), actor=worker, source="phone",
                 client_key=uuid.uuid4(), follow_up_on=due_on, follow_up_task=TASK)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert followup_reminders_send(today=due_on) == 1

    [text] = _texts_to("+13125550101")
    email = _email_to("tasha@pe.example.org")
    assert "Tiene un seguimiento pendiente" in text and "Sus seguimientos" in text and "/follow-ups/" in text
    assert "Tiene un seguimiento pendiente" in email.subject
    assert "vence el" in email.body and f"{due_on.day} de {MESES[due_on.month - 1]} de {due_on.year}" in email.body
    for body in [text, email.subject, email.body, email.alternatives[0].content]:
        assert "A follow-up is due" not in body and "Jamal" not in body and "Halsted" not in body
