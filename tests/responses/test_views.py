import json
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from districts.models import Channel, OnCall
from notifications.models import Notification, TimelineEntry
from notifications.scenarios import scenarios_match
from protocols.services_playbooks import load_playbooks
from responses.models import FollowUp, ResponseLog
from responses.services import response_log

from .factories import make_notification

pytestmark = pytest.mark.django_db
SECRET_NOTE = "Nephew said he knows who did it"


@pytest.fixture
def notification(covering_org):
    return make_notification(covering_org, minutes_ago=40, victims=(("0-19", "M", True), ("20-29", "F", False)))


@pytest.fixture
def logged(notification, worker):
    response_log(notification=notification, actor=worker, source="web", client_key=uuid.uuid4(),
                 arrived_at=timezone.now() - timedelta(minutes=10), response_types=["scene"],
                 referrals=[{"kind": "trauma", "count": 2}], retaliation_risk="high", notes=SECRET_NOTE)
    return notification


def outreach_urls(notification):
    code = notification.code
    return [reverse("responses:feed"), reverse("responses:incident", args=[code]),
            reverse("responses:respond", args=[code]), reverse("responses:followups"),
            reverse("responses:offline")]


def supervisor_urls():
    return [reverse(f"responses:{n}") for n in ("team", "oncall", "channels", "consent", "transparency")]


def test_the_feed_puts_unacknowledged_incidents_on_top(client, worker, covering_org):
    older = make_notification(covering_org, minutes_ago=90, block="6400 S HALSTED ST")
    newer = make_notification(covering_org, minutes_ago=10, block="6500 S HALSTED ST")
    acknowledged = make_notification(covering_org, minutes_ago=5, block="6600 S HALSTED ST")
    Notification.objects.filter(pk=acknowledged.pk).update(acknowledged_at=timezone.now(), status="acknowledged")
    client.force_login(worker)
    body = client.get(reverse("responses:feed")).content.decode()
    positions = [body.index(n.incident.block) for n in (newer, older, acknowledged)]
    assert positions == sorted(positions)
    assert "2 waiting for acknowledgement" in body


def test_the_outreach_home_is_the_feed(client, worker):
    client.force_login(worker)
    assert client.get("/").url == reverse("responses:feed")


def test_the_incident_page_shows_counts_age_bands_and_the_matched_playbooks_outreach_steps(
        client, worker, notification):
    load_playbooks()
    scenarios_match(notification.incident)
    client.force_login(worker)
    body = client.get(reverse("responses:incident", args=[notification.code])).content.decode()
    assert notification.incident.block in body and "0–19" in body
    assert "Fatal shooting" in body and "A young person was shot (0-19)" in body and "Several people were shot" in body
    assert "Find the family; offer presence and practical help first." in body  # the fatal playbook's outreach step
    assert "Record the age band" not in body  # the CPD desk's step is not outreach's
    assert "Vigil" not in body and "Repeat shooting" not in body


def test_without_a_matched_playbook_the_incident_page_says_so(client, worker, notification):
    client.force_login(worker)
    body = client.get(reverse("responses:incident", args=[notification.code])).content.decode()
    assert "No playbook matched this incident." in body


def test_a_status_tap_and_a_response_from_the_phone(client, worker, notification):
    client.force_login(worker)
    response = client.post(reverse("responses:status", args=[notification.code]), {"status": "on_scene"})
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == "on_scene" and notification.acknowledged_by == worker
    key = str(uuid.uuid4())
    form = {"client_key": key, "response_types": ["scene", "family"], "retaliation_risk": "low",
            "referral_trauma": "2", "engaged_family": "3", "notes": "Spoke with the grandmother"}
    assert client.post(reverse("responses:respond", args=[notification.code]), form).status_code == 302
    assert client.post(reverse("responses:respond", args=[notification.code]), form).status_code == 302
    log = ResponseLog.objects.get()
    assert log.people_engaged == {"family": 3} and log.referrals.get().count == 2


@pytest.mark.parametrize(("field", "value", "message"), [
    ("notes", "x" * 2001, "limited to 2000"),
    ("follow_up_on", "2020-01-01", "in the past"),
    ("arrived_at", "2020-01-01T10:00", "before the shooting"),
    ("referral_housing", "-1", "greater than or equal to 0"),
])
def test_bad_input_on_the_form_is_shown_on_the_field(client, worker, notification, field, value, message):
    client.force_login(worker)
    form = {"client_key": str(uuid.uuid4()), "retaliation_risk": "unknown", field: value}
    if field == "follow_up_on":
        form["follow_up_task"] = "call"
    response = client.post(reverse("responses:respond", args=[notification.code]), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ResponseLog.objects.exists()


def test_the_sync_endpoint_replays_a_queued_response_exactly_once(client, worker, notification):
    client.force_login(worker)
    body = {"type": "response", "notification": str(notification.code),
            "fields": {"client_key": str(uuid.uuid4()), "retaliation_risk": "none", "response_types": ["hospital"],
                       "referral_medical": "1"}}
    first = client.post(reverse("responses:sync"), json.dumps(body), content_type="application/json")
    again = client.post(reverse("responses:sync"), json.dumps(body), content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["code"] == again.json()["code"]
    assert ResponseLog.objects.count() == 1


def test_the_sync_endpoint_replays_a_status_tap_at_the_time_it_was_tapped(client, worker, notification):
    client.force_login(worker)
    tapped = timezone.now() - timedelta(minutes=7)
    body = {"type": "status", "notification": str(notification.code), "fields": {"status": "en_route"},
            "at": tapped.isoformat()}
    for _ in range(2):
        response = client.post(reverse("responses:sync"), json.dumps(body), content_type="application/json")
        assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.status == "en_route" and notification.status_at == tapped


def test_the_sync_endpoint_gives_field_errors_and_404_for_another_organisation(client, worker, other_worker,
                                                                             notification):
    client.force_login(worker)
    bad = {"type": "response", "notification": str(notification.code),
           "fields": {"client_key": str(uuid.uuid4()), "retaliation_risk": "none", "notes": "x" * 2001}}
    response = client.post(reverse("responses:sync"), json.dumps(bad), content_type="application/json")
    assert response.status_code == 400 and "notes" in response.json()
    client.force_login(other_worker)
    bad["fields"]["notes"] = "fine"
    response = client.post(reverse("responses:sync"), json.dumps(bad), content_type="application/json")
    assert response.status_code == 404
    assert not ResponseLog.objects.exists()


def test_the_sync_endpoint_checks_a_response_with_api_v1s_serializer_and_gives_its_messages(client, worker,
                                                                                            notification):
    client.force_login(worker)
    fields = {"client_key": str(uuid.uuid4()), "retaliation_risk": "sky_high", "response_types": ["scene"],
              "engaged_family": "2"}
    synced = client.post(reverse("responses:sync"), json.dumps({"type": "response", "notification":
                         str(notification.code), "fields": fields}), content_type="application/json")
    api_body = {"notification": str(notification.code), "client_key": fields["client_key"],
                "retaliation_risk": "sky_high", "response_types": ["scene"], "people_engaged": {"family": 2}}
    api = client.post("/api/v1/responses/", api_body, content_type="application/json")
    assert synced.status_code == 400 and api.status_code == 400
    assert synced.json()["retaliation_risk"] == ['"sky_high" is not a valid choice.']
    assert synced.json()["retaliation_risk"] == api.json()["retaliation_risk"]
    assert not ResponseLog.objects.exists()

    fields["retaliation_risk"] = "low"
    synced = client.post(reverse("responses:sync"), json.dumps({"type": "response", "notification":
                         str(notification.code), "fields": fields}), content_type="application/json")
    assert synced.status_code == 201
    log = ResponseLog.objects.get()
    assert (log.retaliation_risk, log.response_types, log.people_engaged) == ("low", ["scene"], {"family": 2})


def test_the_sync_endpoint_acknowledges_and_refuses_a_tap_api_v1_refuses(client, worker, notification):
    client.force_login(worker)
    ack = {"type": "status", "notification": str(notification.code), "fields": {"status": "acknowledged"}}
    assert client.post(reverse("responses:sync"), json.dumps(ack), content_type="application/json").status_code == 200
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None
    bad = {"type": "status", "notification": str(notification.code), "fields": {"status": "on_scene"},
           "at": "not a time"}
    response = client.post(reverse("responses:sync"), json.dumps(bad), content_type="application/json")
    assert response.status_code == 400 and list(response.json()) == ["at"]


def test_another_organisations_worker_gets_404_on_every_incident_page(client, other_worker, notification):
    client.force_login(other_worker)
    for url in outreach_urls(notification)[1:3]:
        assert client.get(url).status_code == 404
    assert client.post(reverse("responses:status", args=[notification.code]), {"status": "on_scene"}).status_code == 404


@pytest.mark.parametrize("who", ["cpd_user", "commander", "analyst"])
def test_cpd_and_analysts_get_nothing_from_outreach_pages(client, request, who, logged):
    client.force_login(request.getfixturevalue(who))
    for url in outreach_urls(logged) + supervisor_urls():
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert SECRET_NOTE not in response.content.decode()
    body = {"type": "response", "notification": str(logged.code), "fields": {}}
    assert client.post(reverse("responses:sync"), json.dumps(body), content_type="application/json").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, notification):
    for url in outreach_urls(notification) + supervisor_urls():
        assert client.get(url).url.startswith(reverse("login"))


def test_the_wrong_method_is_refused(client, worker, notification):
    client.force_login(worker)
    assert client.get(reverse("responses:status", args=[notification.code])).status_code == 405
    assert client.get(reverse("responses:sync")).status_code == 405
    assert client.post(reverse("responses:feed")).status_code == 405


def test_a_supervisor_opens_every_supervisor_page(client, supervisor, logged):
    client.force_login(supervisor)
    for url in supervisor_urls():
        assert client.get(url).status_code == 200, url
    assert "Tasha" in client.get(reverse("responses:team")).content.decode()


def test_workers_cannot_open_supervisor_pages(client, worker):
    client.force_login(worker)
    for url in supervisor_urls():
        assert client.get(url).status_code == 403


def test_the_transparency_page_shows_the_summary_and_who_viewed_it(client, supervisor, cpd_user, logged):
    from notifications.summary import record_summary_view

    record_summary_view(user=cpd_user, notifications=[logged])
    client.force_login(supervisor)
    body = client.get(reverse("responses:transparency")).content.decode()
    assert logged.incident.block in body and "Dana" in body and "CPD district staff" in body
    assert SECRET_NOTE not in body and "High" not in body


def test_a_supervisor_assigns_edits_the_roster_policy_and_consent(client, supervisor, worker, notification,
                                                                  covering_org):
    client.force_login(supervisor)
    client.post(reverse("responses:assign", args=[notification.code]), {"assignee": worker.pk})
    notification.refresh_from_db()
    assert notification.assigned_to == worker
    client.post(reverse("responses:oncall_add"), {"user": worker.pk, "tier": 2, "weekday": "4", "starts": "18:00",
                                                  "ends": "02:00"})
    assert OnCall.objects.get(organization=covering_org, user=worker).tier == 2
    response = client.post(reverse("responses:oncall_add"), {"user": worker.pk, "tier": 1, "starts": "18:00"})
    assert response.status_code == 400 and "both a start and an end" in response.content.decode()
    assert client.post(reverse("responses:policy_set"), {"ack_window_minutes": "0"}).status_code == 400
    client.post(reverse("responses:policy_set"), {"ack_window_minutes": "7"})
    client.post(reverse("responses:consent"), {"share_arrival": "on"})
    covering_org.refresh_from_db()
    assert (covering_org.ack_window_minutes, covering_org.share_arrival, covering_org.share_response_category) == (
        7, True, False)


def supervisor_action_urls(channel_code) -> list[str]:
    return [reverse(f"responses:{n}") for n in ("oncall_add", "oncall_remove", "policy_set", "drill", "channel_add")
            ] + [reverse("responses:channel_update", args=[channel_code])]


def test_each_supervisor_action_takes_only_a_post_from_the_supervisor(client, supervisor, worker, other_worker,
                                                                      covering_org):
    channel = Channel.objects.create(organization=covering_org, kind="email", target="desk@example.org")
    for url in supervisor_action_urls(channel.code):
        assert client.post(url).url.startswith(reverse("login")), url
    client.force_login(worker)
    for url in supervisor_action_urls(channel.code):
        assert client.post(url).status_code == 403, url
    client.force_login(supervisor)
    for url in supervisor_action_urls(channel.code):
        assert client.get(url).status_code == 405, url
    assert client.post(reverse("responses:oncall")).status_code == 405
    assert client.post(reverse("responses:channels")).status_code == 405


def test_each_channels_form_posts_to_its_own_action(client, supervisor, covering_org):
    channel = Channel.objects.create(organization=covering_org, kind="email", target="desk@example.org")
    client.force_login(supervisor)
    body = client.get(reverse("responses:channels")).content.decode()
    for url in supervisor_action_urls(channel.code)[2:]:
        assert f'action="{url}"' in body, url


def test_a_supervisor_removes_someone_from_the_roster(client, supervisor, worker, covering_org, other_org):
    entry = OnCall.objects.create(organization=covering_org, user=worker, tier=1)
    elsewhere = OnCall.objects.create(organization=other_org, user=supervisor, tier=1)
    client.force_login(supervisor)
    assert f'action="{reverse("responses:oncall_remove")}"' in client.get(reverse("responses:oncall")).content.decode()
    for bad in (elsewhere.pk, "not-a-number", ""):
        assert client.post(reverse("responses:oncall_remove"), {"entry": bad}).status_code == 404
    response = client.post(reverse("responses:oncall_remove"), {"entry": entry.pk}, follow=True)
    assert "Removed from the roster." in response.content.decode()
    assert not OnCall.objects.filter(pk=entry.pk).exists() and OnCall.objects.filter(pk=elsewhere.pk).exists()


def test_a_refused_roster_entry_keeps_what_was_typed(client, supervisor, worker, covering_org):
    client.force_login(supervisor)
    response = client.post(reverse("responses:oncall_add"), {"user": worker.pk, "tier": 2, "starts": "18:00"})
    body = response.content.decode()
    assert response.status_code == 400 and "both a start and an end" in body and 'value="18:00' in body
    assert not OnCall.objects.filter(organization=covering_org).exists()
    response = client.post(reverse("responses:oncall_add"), {"user": worker.pk, "tier": 1}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("responses:oncall")
    assert "Added to the roster." in response.content.decode()


def test_a_supervisor_switches_a_channel_and_sends_a_drill(client, supervisor, covering_org, other_org):
    channel = Channel.objects.create(organization=covering_org, kind="email", target="desk@example.org")
    theirs = Channel.objects.create(organization=other_org, kind="email", target="them@example.org")
    client.force_login(supervisor)
    assert client.post(reverse("responses:channel_update", args=[theirs.code]), {"active": "on"}).status_code == 404
    response = client.post(reverse("responses:channel_update", args=[channel.code]), {"is_fallback": "on"},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("responses:channels")
    assert "Channel updated." in response.content.decode()
    channel.refresh_from_db()
    assert (channel.is_fallback, channel.active) == (True, False)
    response = client.post(reverse("responses:drill"), follow=True)
    assert "Drill sent to every channel." in response.content.decode()
    assert Notification.objects.filter(organization=covering_org, kind="drill").count() == 1


def test_a_refused_policy_shows_its_error_and_changes_nothing(client, supervisor, covering_org):
    client.force_login(supervisor)
    for value in ("0", "121", "ten"):
        response = client.post(reverse("responses:policy_set"), {"ack_window_minutes": value})
        assert response.status_code == 400 and "ack_window_minutes-error" in response.content.decode(), value
    covering_org.refresh_from_db()
    assert covering_org.ack_window_minutes == 10
    response = client.post(reverse("responses:policy_set"), {"ack_window_minutes": "12"}, follow=True)
    assert "Escalation policy saved." in response.content.decode()


def test_my_follow_ups_lists_mine_and_marks_done(client, worker, notification):
    task = FollowUp.objects.create(organization=notification.organization, notification=notification,
                                   task="Check on the family", due_on=timezone.localdate(), assigned_to=worker)
    client.force_login(worker)
    assert "Check on the family" in client.get(reverse("responses:followups")).content.decode()
    client.post(reverse("responses:followups"), {"followup": str(task.code)})
    task.refresh_from_db()
    assert task.done_at is not None


def test_a_push_subscription_is_stored_as_the_workers_push_channel(client, worker):
    client.force_login(worker)
    sub = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": {"p256dh": "BNc...", "auth": "tBH..."}}
    assert client.post(reverse("responses:push_subscribe"), json.dumps(sub),
                       content_type="application/json").status_code == 201
    channel = Channel.objects.get(user=worker, kind="push")
    assert channel.config["keys"]["auth"] == "tBH..."
    sub["endpoint"] = "http://insecure.example.net/"
    assert client.post(reverse("responses:push_subscribe"), json.dumps(sub),
                       content_type="application/json").status_code == 400


def test_pages_speak_the_members_language(client, worker, notification):
    client.force_login(worker)
    client.post(reverse("responses:language"), {"language": "es"})
    body = client.get(reverse("responses:incident", args=[notification.code])).content.decode()
    assert 'lang="es"' in body and "Confirmar" in body


def test_a_spanish_workers_tap_reaches_cpds_timeline_in_english(client, worker, notification):
    client.force_login(worker)
    client.post(reverse("responses:language"), {"language": "es"})
    client.post(reverse("responses:status", args=[notification.code]), {"status": "on_scene"})
    entry = TimelineEntry.objects.get(notification=notification, kind="notification.on_scene")
    assert entry.text == f"{notification.organization}: On scene"


def test_the_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response["Service-Worker-Allowed"] == "/" and "javascript" in response["Content-Type"]


@pytest.mark.parametrize(("kind", "target", "message"), [
    ("email", "not-an-address", "Enter an email address"),
    ("sms", "312-555-0100", "country code"),
    ("webhook", "http://127.0.0.1:8000/hook", ""),
])
def test_a_supervisor_adds_a_shared_channel_and_bad_targets_are_refused(client, supervisor, covering_org, kind,
                                                                        target, message):
    client.force_login(supervisor)
    before = Channel.objects.filter(organization=covering_org).count()
    response = client.post(reverse("responses:channel_add"), {"kind": kind, "target": target})
    assert response.status_code == 400 and message in response.content.decode()
    assert Channel.objects.filter(organization=covering_org).count() == before
    client.post(reverse("responses:channel_add"), {"kind": "sms", "target": "+13125550142", "is_fallback": "on"})
    channel = Channel.objects.get(organization=covering_org, user=None, target="+13125550142")
    assert channel.kind == "sms" and channel.is_fallback


def test_the_manifest_names_icons_that_exist_and_starts_at_the_feed():
    from pathlib import Path

    from django.conf import settings

    static = Path(settings.BASE_DIR) / "static"
    manifest = json.loads((static / "manifest.webmanifest").read_text())
    assert manifest["start_url"] == reverse("responses:feed") and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert (static / icon["src"].removeprefix("/static/")).is_file()
