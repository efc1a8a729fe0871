"""API fixtures: clients that sign in the way integrations do, and one real incident.

`api_client(user)` authenticates with a token issued to the user (`user_token_create`,
`Authorization: Token …`), so the real authentication classes run; `token_client(raw)` does
the same with an integration token.
The incident is entered through `incident_create`, so routing decides who is notified.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from districts.models import District, IntegrationToken, Organization
from districts.services import integration_token_create, user_token_create
from notifications.models import Incident, Notification
from notifications.services import incident_create
from tests.conftest import AUSTIN_POINT, COVERING_ORG, ENGLEWOOD_POINT


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Rate-limit counters live in Redis and outlast a test run; give each test its own key space."""
    settings.CACHES = {name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
                       for name, config in settings.CACHES.items()}


def client_for_user(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user_token_create(user=user)[1]}")
    return client


@pytest.fixture
def api_client():
    return client_for_user


@pytest.fixture
def anon_client():
    return APIClient()


def token_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def district_token(reference_data, admin_user) -> tuple[IntegrationToken, str]:
    """A CPD records feed for the 7th District that may read and write incidents."""
    return integration_token_create(
        actor=admin_user, name="CLEAR feed, 7th District", district=District.objects.get(number="007"),
        operations=[IntegrationToken.Operation.INCIDENTS_WRITE, IntegrationToken.Operation.INCIDENTS_READ],
    )


@pytest.fixture
def org_token(reference_data, admin_user) -> tuple[IntegrationToken, str]:
    """Public Equity's case tool: reads notifications and logs responses, nothing else."""
    return integration_token_create(
        actor=admin_user, name="Case tool", organization=Organization.objects.get(name=COVERING_ORG),
        operations=[IntegrationToken.Operation.NOTIFICATIONS_READ, IntegrationToken.Operation.NOTIFICATIONS_WRITE,
                    IntegrationToken.Operation.RESPONSES_WRITE, IntegrationToken.Operation.RESPONSES_READ],
    )


def incident_payload(**overrides) -> dict:
    payload = {
        "occurred_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "block": "6300 S HALSTED ST",
        "latitude": ENGLEWOOD_POINT[0], "longitude": ENGLEWOOD_POINT[1],
        "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}],
        "scene_status": "active",
        "note": "Crowd gathering at the corner.",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def englewood_incident(cpd_user) -> Incident:
    """A shooting at Halsted & 63rd, entered by the 7th District's desk; Public Equity is notified."""
    incident, _ = incident_create(actor=cpd_user, source="web", rd_number="JH100001", **incident_payload())
    return incident


@pytest.fixture
def austin_incident(other_district_user) -> Incident:
    incident, _ = incident_create(actor=other_district_user, source="web", rd_number="JH100002",
                                  **incident_payload(block="800 N CENTRAL AVE", latitude=AUSTIN_POINT[0],
                                                     longitude=AUSTIN_POINT[1]))
    return incident


@pytest.fixture
def covering_notification(englewood_incident, covering_org) -> Notification:
    return Notification.objects.get(incident=englewood_incident, organization=covering_org)


@pytest.fixture
def other_notification(austin_incident) -> Notification:
    """A notification on the Austin shooting, to an organisation that is not Public Equity."""
    return Notification.objects.filter(incident=austin_incident).exclude(organization__name=COVERING_ORG).first()
