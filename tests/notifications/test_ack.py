"""Acknowledgement: the service, the one-tap signed link, and the SMS reply."""

import time
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from audit.models import Event, Refusal
from districts.models import Channel, Membership, OnCall
from notifications import sms
from notifications.acknowledgements import ack_token
from notifications.models import Delivery, Incident
from notifications.state import notification_acknowledge
from tests.workers import incident_notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def notified(englewood, covering_org, worker, django_capture_on_commit_callbacks):
    """A notification whose SMS to the on-call worker went out."""
    sms.outbox.clear()
    OnCall.objects.create(organization=covering_org, user=worker)
    Channel.objects.create(organization=covering_org, user=worker, kind=Channel.Kind.SMS, target="+13125550101")
    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    return notification


def _sms_delivery(notification) -> Delivery:
    return notification.deliveries.get(kind=Channel.Kind.SMS)


def test_acknowledging_stops_escalation_and_starts_the_incidents_clock(notified, worker):
    assert notified.next_escalation_at is not None
    notification = notification_acknowledge(notification=notified, actor=worker, via="app")
    assert notification.acknowledged_by == worker and notification.status == "acknowledged"
    assert notification.next_escalation_at is None
    incident = Incident.objects.get(pk=notified.incident_id)
    assert incident.acknowledged_at == notification.acknowledged_at
    assert incident.timeline.filter(kind="notification.acknowledged").count() == 1
    assert Event.objects.filter(action="notification.acknowledged", object_code=str(notified.code)).count() == 1


def test_a_second_acknowledgement_returns_the_first(notified, worker, supervisor):
    first = notification_acknowledge(notification=notified, actor=worker, via="sms")
    second = notification_acknowledge(notification=notified, actor=supervisor, via="api")
    assert (second.acknowledged_at, second.acknowledged_by, second.acknowledged_via) == (
        first.acknowledged_at, worker, "sms")
    assert Event.objects.filter(action="notification.acknowledged").count() == 1


def test_the_link_shows_a_confirm_page_and_only_the_button_acknowledges(client, notified):
    url = reverse("notifications:ack_link", kwargs={"token": ack_token(_sms_delivery(notified))})
    page = client.get(url)
    assert page.status_code == 200 and b"Acknowledge for" in page.content
    notified.refresh_from_db()
    assert notified.acknowledged_at is None  # a link preview must not acknowledge

    done = client.post(url)
    assert done.status_code == 200 and b"Already acknowledged" in done.content
    notified.refresh_from_db()
    assert notified.acknowledged_via == "link" and notified.acknowledged_by.username == "tasha_worker"


def test_the_link_in_the_text_message_is_the_one_that_works(client, notified):
    link = next(word for word in sms.outbox[0].body.split() if "/a/" in word)
    client.post(urlsplit(link).path)
    notified.refresh_from_db()
    assert notified.acknowledged_at is not None


def test_the_link_page_speaks_the_phones_language_and_leads_to_the_incident(client, notified):
    url = reverse("notifications:ack_link", kwargs={"token": ack_token(_sms_delivery(notified))})
    page = client.get(url, headers={"accept-language": "es"})
    assert "Confirmar por Public Equity" in page.content.decode()
    assert reverse("responses:incident", args=[notified.code]).encode() in page.content


def test_a_forged_link_is_refused_logged_and_changes_nothing(client, notified):
    token = ack_token(_sms_delivery(notified))
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = client.post(reverse("notifications:ack_link", kwargs={"token": forged}))
    assert response.status_code == 400 and b"not valid" in response.content
    notified.refresh_from_db()
    assert notified.acknowledged_at is None and notified.next_escalation_at is not None
    assert Refusal.objects.get(action="notification.ack_refused", reason="invalid").count == 1


def test_an_expired_link_is_refused(client, notified):
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 25 * 3600):
        token = ack_token(_sms_delivery(notified))
    response = client.post(reverse("notifications:ack_link", kwargs={"token": token}))
    assert response.status_code == 400 and b"expired" in response.content
    notified.refresh_from_db()
    assert notified.acknowledged_at is None
    assert Refusal.objects.get(action="notification.ack_refused", reason="expired").count == 1


def test_anonymous_junk_links_are_counted_per_hour_not_written_one_event_each(client, notified):
    before = Event.objects.count()
    for attempt in range(25):
        method = client.get if attempt % 2 else client.post
        assert method(f"/a/junk-{attempt}/").status_code == 400
    assert Event.objects.count() == before  # the trail is not flooded
    [counter] = Refusal.objects.filter(action="notification.ack_refused")
    assert (counter.reason, counter.count) == ("invalid", 25)
    assert counter.hour.minute == counter.hour.second == 0


def test_a_signed_in_users_bad_link_is_still_an_event_of_its_own(client, notified, worker):
    client.force_login(worker)
    assert client.post("/a/junk/").status_code == 400
    event = Event.objects.get(action="notification.ack_refused")
    assert event.actor == worker and event.data["reason"] == "invalid"
    assert not Refusal.objects.exists()


def test_a_real_use_of_the_link_is_one_event_however_often_it_is_tapped(client, notified):
    url = reverse("notifications:ack_link", kwargs={"token": ack_token(_sms_delivery(notified))})
    for _ in range(3):
        assert client.post(url).status_code == 200
    assert Event.objects.filter(action="notification.acknowledged", object_code=str(notified.code)).count() == 1
    assert not Refusal.objects.exists()


def _reply(client, body, *, number="+13125550101", secret=True):
    headers = {"HTTP_X_CVI_INBOUND_SECRET": sms.inbound_secret()} if secret else {}
    return client.post(reverse("notifications:sms_inbound"), {"From": number, "Body": body}, **headers)


@pytest.mark.parametrize("word", ["1", "ACK", "ok", " Ok. "])
def test_replying_1_ack_or_ok_acknowledges_the_senders_latest_notification(client, notified, worker, word):
    response = _reply(client, word)
    assert response.status_code == 200 and b"Acknowledged" in response.content
    notified.refresh_from_db()
    assert (notified.acknowledged_via, notified.acknowledged_by) == ("sms", worker)


def test_another_reply_gets_help_and_acknowledges_nothing(client, notified):
    assert b"Reply 1" in _reply(client, "who is this").content
    notified.refresh_from_db()
    assert notified.acknowledged_at is None


def test_a_spanish_reading_member_is_answered_in_spanish(client, notified, worker):
    Membership.objects.filter(user=worker).update(language="es")
    assert "Responda 1 para confirmar" in _reply(client, "quién es").content.decode()
    assert "Confirmado por Public Equity. Gracias." in _reply(client, "1").content.decode()
    assert "No hay nada pendiente de confirmar" in _reply(client, "1").content.decode()


def test_an_unsigned_inbound_message_is_refused(client, notified):
    assert _reply(client, "1", secret=False).status_code == 403
    notified.refresh_from_db()
    assert notified.acknowledged_at is None


def test_unsigned_inbound_messages_are_counted_not_written_one_event_each(client, notified):
    before = Event.objects.count()
    for _ in range(5):
        assert _reply(client, "1", secret=False).status_code == 403
    assert Event.objects.count() == before
    assert Refusal.objects.get(action="sms.inbound.refused", reason="bad_signature").count == 5


def test_a_reply_from_an_unknown_number_acknowledges_nothing(client, notified):
    assert b"Nothing waiting" in _reply(client, "1", number="+17735550199").content
    notified.refresh_from_db()
    assert notified.acknowledged_at is None


def test_the_link_pages_refuse_other_methods(client, notified):
    url = reverse("notifications:ack_link", kwargs={"token": ack_token(_sms_delivery(notified))})
    assert client.put(url).status_code == 405
    assert client.get(reverse("notifications:sms_inbound")).status_code == 405
