"""The districts app's writes: rosters, policy, consent, channels, push, language and tokens.

Each refuses bad input with a field and a message and writes nothing; each write is audited.
"""

from datetime import time

import pytest
from django.core.exceptions import ValidationError

from audit.models import Event
from districts.models import Channel, IntegrationToken, Membership, OnCall, Organization
from districts.services import (
    channel_add,
    channel_fallback_set,
    integration_token_create,
    integration_token_revoke,
    member_language_set,
    oncall_add,
    oncall_remove,
    organization_consent_set,
    organization_policy_set,
    push_subscription_save,
    token_digest,
)
from tests.conftest import OTHER_ORG

pytestmark = pytest.mark.django_db


def _fields(error: ValidationError) -> set[str]:
    return set(error.value.message_dict)


def test_oncall_add_puts_a_colleague_on_the_roster_and_audits_it(supervisor, worker, covering_org):
    entry = oncall_add(organization=covering_org, actor=supervisor, source="web", user=worker, tier=2, weekday=4,
                       starts=time(18), ends=time(2))
    assert (entry.user, entry.tier, entry.weekday) == (worker, 2, 4)
    assert Event.objects.filter(action="oncall.added", data__user=worker.pk).exists()


def test_oncall_add_refuses_outsiders_half_shifts_and_unknown_tiers(supervisor, other_worker, worker, covering_org):
    with pytest.raises(ValidationError) as error:
        oncall_add(organization=covering_org, actor=supervisor, source="web", user=other_worker, tier=1)
    assert _fields(error) == {"user"}
    with pytest.raises(ValidationError) as error:
        oncall_add(organization=covering_org, actor=supervisor, source="web", user=worker, tier=9, weekday=7,
                   starts=time(18))
    assert _fields(error) == {"tier", "weekday", "ends"}
    with pytest.raises(ValidationError, match="same time"):
        oncall_add(organization=covering_org, actor=supervisor, source="web", user=worker, tier=1,
                   starts=time(18), ends=time(18))
    assert not OnCall.objects.filter(organization=covering_org).exists()


def test_oncall_remove_deletes_the_entry_and_audits_who_it_was(supervisor, worker, covering_org):
    entry = oncall_add(organization=covering_org, actor=supervisor, source="web", user=worker, tier=1)
    oncall_remove(entry=entry, actor=supervisor, source="web")
    assert not OnCall.objects.filter(pk=entry.pk).exists()
    assert Event.objects.get(action="oncall.removed").data["user"] == worker.pk


def test_the_escalation_window_is_between_one_and_120_minutes(supervisor, covering_org):
    for minutes in (0, 121):
        with pytest.raises(ValidationError, match="Between 1 and 120 minutes"):
            organization_policy_set(organization=covering_org, actor=supervisor, source="web",
                                    ack_window_minutes=minutes)
    organization_policy_set(organization=covering_org, actor=supervisor, source="web", ack_window_minutes=7)
    covering_org.refresh_from_db()
    assert covering_org.ack_window_minutes == 7
    assert Event.objects.get(action="organization.policy_set").data["ack_window_minutes"] == [10, 7]


def test_consent_records_what_was_shared_before_and_after(supervisor, covering_org):
    organization_consent_set(organization=covering_org, actor=supervisor, source="web", share_arrival=True,
                             share_response_category=False)
    covering_org.refresh_from_db()
    assert (covering_org.share_arrival, covering_org.share_response_category) == (True, False)
    event = Event.objects.get(action="organization.consent_set")
    assert event.data["before"]["share_response_category"] is True
    assert event.data["after"]["share_response_category"] is False


@pytest.mark.parametrize(("kind", "target", "field", "message"), [
    ("push", "https://push.example.net/x", "kind", "Choose email, SMS or webhook."),
    ("email", "not-an-address", "target", "Enter an email address."),
    ("sms", "312-555-0100", "target", "country code"),
    ("webhook", "http://127.0.0.1:8000/hook", "target", ""),
])
def test_channel_add_refuses_bad_targets_and_writes_nothing(supervisor, covering_org, kind, target, field,
                                                            message):
    before = Channel.objects.count()
    with pytest.raises(ValidationError) as error:
        channel_add(organization=covering_org, actor=supervisor, source="web", kind=kind, target=target)
    assert field in error.value.message_dict and message in " ".join(error.value.message_dict[field])
    assert Channel.objects.count() == before


def test_channel_add_stores_a_shared_channel_once(supervisor, covering_org):
    channel = channel_add(organization=covering_org, actor=supervisor, source="web", kind="sms",
                          target=" +13125550142 ", is_fallback=True)
    assert (channel.user, channel.target, channel.is_fallback) == (None, "+13125550142", True)
    with pytest.raises(ValidationError, match="already on the list"):
        channel_add(organization=covering_org, actor=supervisor, source="web", kind="sms", target="+13125550142")
    assert Event.objects.filter(action="channel.added", data__kind="sms").count() == 1


def test_a_webhook_channel_gets_a_signing_secret(supervisor, covering_org, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org"]
    channel = channel_add(organization=covering_org, actor=supervisor, source="web", kind="webhook",
                          target="https://hooks.example.org/cvi")
    assert channel.secret.startswith("whsec_") and len(channel.secret) > 30


def test_channel_fallback_set_switches_a_channel(supervisor, covering_org):
    channel = channel_add(organization=covering_org, actor=supervisor, source="web", kind="email",
                          target="dispatch@example.org")
    channel_fallback_set(channel=channel, actor=supervisor, source="web", is_fallback=True, active=False)
    channel.refresh_from_db()
    assert (channel.is_fallback, channel.active) == (True, False)
    assert Event.objects.get(action="channel.updated").data == {"is_fallback": True, "active": False}


def test_a_push_subscription_is_one_channel_per_endpoint(worker, covering_org):
    first = push_subscription_save(actor=worker, source="web", endpoint="https://fcm.googleapis.com/fcm/send/a",
                                   p256dh="BNc", auth="tBH")
    again = push_subscription_save(actor=worker, source="web", endpoint="https://fcm.googleapis.com/fcm/send/a",
                                   p256dh="BNd", auth="tBI")
    assert first.pk == again.pk and again.config["keys"] == {"p256dh": "BNd", "auth": "tBI"}
    assert first.organization == covering_org
    assert [e.action for e in Event.objects.filter(action__startswith="channel.push").order_by("at", "id")] == [
        "channel.push_subscribed", "channel.push_renewed"]


def test_a_push_subscription_needs_an_outreach_member_https_and_keys(cpd_user, worker):
    with pytest.raises(ValidationError) as error:
        push_subscription_save(actor=cpd_user, source="web", endpoint="https://fcm.googleapis.com/fcm/send/a",
                               p256dh="k", auth="a")
    assert "outreach" in error.value.message_dict["endpoint"][0]
    with pytest.raises(ValidationError) as error:
        push_subscription_save(actor=worker, source="web", endpoint="http://fcm.googleapis.com/fcm/send/a", p256dh="",
                               auth="")
    assert _fields(error) == {"endpoint", "keys"}
    assert not Channel.objects.filter(kind="push").exists()


def test_a_member_chooses_english_or_spanish(worker):
    member_language_set(actor=worker, source="web", language="es")
    assert Membership.objects.get(user=worker).language == "es"
    with pytest.raises(ValidationError, match="English or Spanish"):
        member_language_set(actor=worker, source="web", language="fr")
    assert Membership.objects.get(user=worker).language == "es"


def test_an_integration_token_is_shown_once_and_stored_as_a_digest(admin_user, reference_data):
    organization = Organization.objects.get(name=OTHER_ORG)
    token, raw = integration_token_create(actor=admin_user, name="Case tool", operations=["responses:write"],
                                          organization=organization)
    assert raw.startswith("cvi_") and token.key_hash == token_digest(raw) and raw.startswith(token.key_prefix)
    assert not token.user.has_usable_password() and not hasattr(token.user, "membership")
    assert Event.objects.get(action="integration_token.created").data["scope"] == str(organization)


def test_a_token_is_scoped_to_exactly_one_organisation_or_district(admin_user, reference_data):
    with pytest.raises(ValidationError):
        integration_token_create(actor=admin_user, name="both", operations=["incidents:read"])
    with pytest.raises(ValidationError):
        integration_token_create(actor=admin_user, name="x", operations=["launch:missiles"],
                                 organization=Organization.objects.get(name=OTHER_ORG))
    with pytest.raises(ValidationError, match="at least one operation"):
        integration_token_create(actor=admin_user, name="x", operations=[],
                                 organization=Organization.objects.get(name=OTHER_ORG))
    assert not IntegrationToken.objects.exists()


def test_revoking_a_token_is_idempotent_and_disables_its_account(admin_user, reference_data):
    token, _ = integration_token_create(actor=admin_user, name="feed", operations=["incidents:read"],
                                        organization=Organization.objects.get(name=OTHER_ORG))
    integration_token_revoke(token=token, actor=admin_user)
    first = token.revoked_at
    integration_token_revoke(token=token, actor=admin_user)
    token.user.refresh_from_db()
    assert token.revoked_at == first and not token.user.is_active
    assert Event.objects.filter(action="integration_token.revoked").count() == 1
