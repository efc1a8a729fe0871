"""Who may call the API: user tokens, integration tokens, browser sessions, rate limits."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import Event, Refusal
from districts.models import IntegrationToken, Organization
from districts.services import integration_token_revoke, token_digest
from notifications.models import Incident
from tests.api.conftest import incident_payload, token_client
from tests.conftest import OTHER_ORG, PASSWORD

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def test_a_user_exchanges_their_password_for_a_token_that_works(cpd_user, englewood_incident):
    response = APIClient().post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/incidents/").json()["count"] == 1


def test_a_call_signed_by_a_token_leaves_no_session_behind(cpd_user):
    # An integration posts all day without cookies: a session a call would be a row a call.
    raw = APIClient().post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD}, format="json").json()["token"]
    sessions = Session.objects.count()

    posted = token_client(raw).post("/api/v1/incidents/", incident_payload(), format="json")
    listed = token_client(raw).get("/api/v1/incidents/")

    assert (posted.status_code, listed.status_code) == (201, 200)
    assert "sessionid" not in posted.cookies and "sessionid" not in listed.cookies
    assert Session.objects.count() == sessions


def test_a_wrong_password_is_a_400_and_is_audited(cpd_user):
    response = APIClient().post(TOKEN_URL, {"username": "dana_cpd", "password": "guess"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to sign in with these credentials."]}
    # An anonymous caller's rejection is counted, not written one row each; the account that
    # was guessed at gets one `login.failed` event an hour.
    assert Refusal.objects.get(action="api.rejected", source="api").reason == "400"
    assert not Event.objects.filter(action="api.rejected").exists()
    assert Event.objects.get(action="login.failed").actor == cpd_user
    assert "guess" not in str(list(Event.objects.values())) + str(list(Refusal.objects.values()))


@override_settings(API_THROTTLE_RATES={"login": "3/min"})
def test_password_guessing_is_rate_limited(cpd_user):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    statuses = [client.post(TOKEN_URL, {"username": "dana_cpd", "password": f"guess{i}"}, format="json").status_code
                for i in range(4)]

    assert statuses == [400, 400, 400, 429]


@override_settings(API_THROTTLE_RATES={"user": "2/min"})
def test_each_user_has_their_own_rate_limit(api_client, analyst, cpd_user):
    client = api_client(analyst)
    statuses = [client.get("/api/v1/hospitals/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert "Retry-After" in client.get("/api/v1/hospitals/")
    assert api_client(cpd_user).get("/api/v1/hospitals/").status_code == 200


@override_settings(API_THROTTLE_RATES={"integration": "1/min"})
def test_each_integration_token_has_its_own_rate_limit(district_token, org_token):
    _, feed = district_token
    _, case_tool = org_token

    assert token_client(feed).get("/api/v1/incidents/").status_code == 200
    assert token_client(feed).get("/api/v1/incidents/").status_code == 429
    assert token_client(case_tool).get("/api/v1/notifications/").status_code == 200


def test_an_integration_token_is_stored_hashed_and_records_when_it_was_used(district_token):
    token, raw = district_token

    assert raw.startswith("cvi_") and token.key_hash == token_digest(raw)
    assert not IntegrationToken.objects.filter(key_hash=raw).exists()
    assert raw not in str(Event.objects.filter(action="integration_token.created").values_list("data", flat=True))
    token_client(raw).get("/api/v1/incidents/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_outside_its_operations_gets_403_and_the_attempt_is_audited(org_token, englewood_incident):
    token, raw = org_token
    response = token_client(raw).post("/api/v1/incidents/", incident_payload(), format="json")

    assert response.status_code == 403
    assert "incidents:write" in response.json()["detail"]
    event = Event.objects.get(action="api.rejected")
    assert event.data["integration_token"] == str(token.code) and event.data["status"] == 403
    assert Incident.objects.count() == 1


def test_a_district_token_cannot_reach_another_districts_incidents(district_token, austin_incident):
    _, raw = district_token

    assert token_client(raw).get(f"/api/v1/incidents/{austin_incident.code}/").status_code == 404
    assert token_client(raw).get("/api/v1/incidents/").json()["count"] == 0


def test_a_revoked_token_is_refused_with_401_and_audited(district_token, admin_user):
    token, raw = district_token
    integration_token_revoke(token=token, actor=admin_user)

    response = token_client(raw).get("/api/v1/incidents/")

    assert response.status_code == 401
    assert response.json()["detail"] == "This integration token has been revoked."
    assert Refusal.objects.get(action="api.rejected", reason="401").count == 1


def test_an_expired_token_is_refused(district_token):
    token, raw = district_token
    IntegrationToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = token_client(raw).get("/api/v1/incidents/")

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Token cvi_not-a-real-one", "Token 1234", "Token", "Bearer cvi_x y"])
def test_a_bad_token_is_a_401(reference_data, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert client.get("/api/v1/districts/").status_code == 401


def test_an_organisation_token_cannot_sign_in_with_a_password(org_token):
    token, _ = org_token

    assert not token.user.has_usable_password()


def test_the_browser_session_works_and_needs_the_csrf_token_to_write(cpd_user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="dana_cpd", password=PASSWORD)

    assert client.get("/api/v1/incidents/").status_code == 200
    response = client.post("/api/v1/incidents/", incident_payload(), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_administrators_create_tokens_in_the_admin_and_see_them_once(admin_user, client, reference_data):
    client.force_login(admin_user)
    organization = Organization.objects.get(name=OTHER_ORG)
    response = client.post("/admin/districts/integrationtoken/add/", {
        "name": "ALSO case tool", "organization": organization.pk, "operations": ["notifications:read"],
    }, follow=True)

    token = IntegrationToken.objects.get(name="ALSO case tool")
    shown = [str(m) for m in response.context["messages"]]
    raw = shown[0].rsplit(" ", 1)[-1]
    assert token_digest(raw) == token.key_hash
    assert token_client(raw).get("/api/v1/notifications/").status_code == 200
    assert raw not in client.get(f"/admin/districts/integrationtoken/{token.pk}/change/").content.decode()


def test_the_admin_refuses_a_token_without_exactly_one_scope(admin_user, client, reference_data):
    client.force_login(admin_user)
    response = client.post("/admin/districts/integrationtoken/add/", {
        "name": "Nowhere", "operations": ["notifications:read"]})

    assert response.status_code == 200
    assert "exactly one organisation or one district" in response.content.decode()
    assert not IntegrationToken.objects.exists()


def test_an_incident_still_goes_through_when_the_rate_limit_cache_is_unreachable(api_client, cpd_user, settings,
                                                                                caplog):
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}

    response = api_client(cpd_user).post("/api/v1/incidents/", incident_payload(), format="json")

    assert response.status_code == 201
    assert "rate limit cache unavailable" in caplog.text


def test_an_organisations_token_is_not_a_member_who_gets_notified(org_token, cpd_user, worker):
    from districts.models import Membership
    from notifications.models import Delivery
    from notifications.services import incident_create

    token, _ = org_token
    incident_create(actor=cpd_user, source="web", **incident_payload())

    assert not Membership.objects.filter(user=token.user).exists()
    assert not Delivery.objects.filter(recipient=token.user).exists()
    assert Delivery.objects.filter(recipient=worker, notification__organization=token.organization).exists()
