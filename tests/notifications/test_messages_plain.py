"""Texts, pushes, subjects and plain-text email bodies are plain text: a name with an
apostrophe arrives as written, never as an HTML entity; only the HTML body is escaped. And the
footer tells the truth about the acknowledgement link: it works for 24 hours."""

import pytest
from django.core import mail

from districts.models import Channel, OnCall
from notifications import sms
from notifications.drills import notification_drill_send
from tests.workers import incident_notify

pytestmark = pytest.mark.django_db
BLOCK = "6300 S O'BRIEN & HALSTED ST"


@pytest.fixture
def phone_and_inbox(covering_org, worker):
    sms.outbox.clear()
    OnCall.objects.create(organization=covering_org, user=worker)
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.EMAIL,
                           target="tasha@pe.example.org")
    return worker


def _entity_free(text: str) -> bool:
    return "&#x27;" not in text and "&#39;" not in text and "&amp;" not in text and "&quot;" not in text


def test_a_block_with_an_apostrophe_arrives_intact_in_the_text_and_the_email(
    englewood, covering_org, phone_and_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident_notify(district=englewood, organization=covering_org, block=BLOCK)

    [text] = [t.body for t in sms.outbox if t.to == "+13125550101"]
    assert BLOCK in text and _entity_free(text)
    [email] = [m for m in mail.outbox if m.to == ["tasha@pe.example.org"]]
    assert BLOCK in email.subject and _entity_free(email.subject)
    assert BLOCK in email.body and _entity_free(email.body)
    html = email.alternatives[0].content if hasattr(email.alternatives[0], "content") else email.alternatives[0][0]
    assert "O&#x27;BRIEN &amp; HALSTED" in html  # the HTML body is still escaped


def test_an_organisation_name_with_an_apostrophe_arrives_intact_in_a_drill(
    covering_org, phone_and_inbox, supervisor, django_capture_on_commit_callbacks
):
    covering_org.short_name = "Children's Home & Aid"
    covering_org.save(update_fields=["short_name"])
    with django_capture_on_commit_callbacks(execute=True):
        notification_drill_send(organization=covering_org, actor=supervisor)

    [email] = [m for m in mail.outbox if m.to == ["tasha@pe.example.org"]]
    assert "Children's Home & Aid" in email.subject and _entity_free(email.subject)
    assert "Children's Home & Aid" in email.body and _entity_free(email.body)
    [text] = [t.body for t in sms.outbox if t.to == "+13125550101"]
    assert _entity_free(text)


def test_the_email_says_the_link_works_for_24_hours_not_once(
    englewood, covering_org, phone_and_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident_notify(district=englewood, organization=covering_org)
    [email] = [m for m in mail.outbox if m.to == ["tasha@pe.example.org"]]
    html = email.alternatives[0].content if hasattr(email.alternatives[0], "content") else email.alternatives[0][0]
    assert "the acknowledgement link works for 24 hours" in html
    assert "works once" not in html and "works once" not in email.body
