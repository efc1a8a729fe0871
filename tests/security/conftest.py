"""One world for the security tests: the cast, two incidents in two districts, each organisation's
records, a shooting review per district, a published report, channels, follow-ups.

- Incident A: Halsted & 63rd (7th District, Englewood), entered by the 7th District's desk;
  Public Equity (the cast's covering organisation) is notified.
- Incident B: Division & Pulaski (11th District, Humboldt Park), entered by an administrator;
  ALSO (the other worker's organisation) and READI are notified, not Public Equity.

A is in the scope of the 7th District's staff and Public Equity's members, B in the other
worker's; analysts and administrators are citywide. Each cell of the access matrix says what each
role gets for A and for B.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from districts.models import Channel, District, IntegrationToken, OnCall, Organization
from districts.services import integration_token_create
from notifications.acknowledgements import ack_token
from notifications.models import Delivery, Incident, Notification
from notifications.services import incident_create
from responses.services import response_log
from reviews.models import (
    ActionItem,
    CpdIncident,
    CpdVictim,
    MonthlyReport,
    Review,
    ReviewAttendance,
    ReviewDistrict,
    ReviewTheme,
)
from tests.conftest import ENGLEWOOD_POINT, OTHER_ORG

HUMBOLDT_PARK_POINT = (41.8995, -87.7205)  # W Division St & N Pulaski Rd: 11th District, Humboldt Park
ROLES = ("anonymous", "cpd_staff", "cpd_commander", "outreach_worker", "outreach_supervisor", "other_worker",
         "analyst", "admin")


@dataclass
class World:
    users: dict
    incident_a: Incident
    incident_b: Incident
    notification_a: Notification
    notification_b: Notification
    channel_a: Channel
    channel_b: Channel
    review_a: Review
    review_b: Review
    item_a: ActionItem
    item_b: ActionItem
    report_a: MonthlyReport
    report_b: MonthlyReport
    ack_token_a: str
    organization_a: Organization
    organization_b: Organization
    extra: dict = field(default_factory=dict)


def incident_payload(**overrides) -> dict:
    payload = {
        "occurred_at": timezone.now() - timedelta(minutes=20),
        "block": "6300 S HALSTED ST",
        "latitude": ENGLEWOOD_POINT[0], "longitude": ENGLEWOOD_POINT[1],
        "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}],
        "scene_status": "active",
        "note": "Crowd gathering at the corner.",
    }
    payload.update(overrides)
    return payload


def _review(district: str, month: date, actor) -> tuple[Review, ActionItem]:
    review = Review.objects.create(month=month, created_by=actor)
    ReviewDistrict.objects.create(review=review, district=District.objects.get(number=district), month=month)
    item = ActionItem.objects.create(review=review, text="Check the phone tree", owner_name="CSCC", created_by=actor)
    return review, item


def organization_records(users: dict, notification: Notification, *, notes: str = "Met the family at home.",
                         task: str = "Call back on Friday", people_engaged=None, retaliation_risk="low"):
    """Public Equity's own record of its response to A, through the service its workers use."""
    return response_log(
        notification=notification, actor=users["outreach_worker"], source="web", client_key=uuid.uuid4(),
        arrived_at=timezone.now() - timedelta(minutes=5), response_types=["scene", "family"],
        retaliation_risk=retaliation_risk, referrals=[{"kind": "trauma", "count": 1}],
        people_engaged=people_engaged or {"family": 2}, follow_up_on=timezone.localdate() + timedelta(days=3),
        follow_up_task=task, notes=notes,
    )[0]


def cpd_record(incident: Incident) -> None:
    """CPD's own record of A (the reconciliation's other side) and the admin's other rows."""
    now = timezone.now()
    CpdIncident.objects.create(rd_number=incident.rd_number, occurred_at=incident.occurred_at, block=incident.block,
                               district=incident.district, victim_count=1, fatal_count=0, gunshot_count=1,
                               changed_at=now)
    CpdVictim.objects.create(unique_id=f"SHOOT-{incident.rd_number}-#1", rd_number=incident.rd_number,
                             occurred_at=incident.occurred_at, block=incident.block, district=incident.district,
                             victimization="BATTERY", changed_at=now)


def build_world(users: dict, *, a_payload: dict | None = None, b_payload: dict | None = None,
                records: bool = True) -> World:
    """The world above; `records=False` leaves out Public Equity's response log (and the
    acknowledgement it brings), for a test that plants its own."""
    incident_a, _ = incident_create(actor=users["cpd_staff"], source="web", rd_number="JH900001",
                                    **(a_payload or incident_payload()))
    incident_b, _ = incident_create(actor=users["admin"], source="web", rd_number="JH900002",
                                    **(b_payload or incident_payload(block="4000 W DIVISION ST",
                                                                     latitude=HUMBOLDT_PARK_POINT[0],
                                                                     longitude=HUMBOLDT_PARK_POINT[1])))
    organization_a = users["outreach_worker"].membership.organization
    notification_a = Notification.objects.get(incident=incident_a, organization=organization_a)
    notification_b = Notification.objects.filter(incident=incident_b, organization__name=OTHER_ORG).first()
    assert notification_b is not None, "the Humboldt Park shooting must notify the other worker's organisation"
    assert not incident_b.notifications.filter(organization=organization_a).exists()
    organization_b = notification_b.organization
    channel_a = Channel.objects.create(organization=organization_a, kind=Channel.Kind.EMAIL,
                                       target="desk@public-equity.example.org")
    channel_b = Channel.objects.create(organization=organization_b, kind=Channel.Kind.EMAIL,
                                       target="desk@other.example.org")
    month = timezone.localdate().replace(day=1)
    review_a, item_a = _review("007", month, users["cpd_commander"])
    review_b, item_b = _review("015", month, users["analyst"])
    report_a, report_b = (MonthlyReport.objects.create(month=month, scope=f"district:{number}", version=1,
                                                       html="<p>report</p>", pdf=b"%PDF-1.4 test")
                          for number in ("007", "015"))
    ReviewTheme.objects.create(review=review_a, free_tag="phone tree", note="Late pages overnight")
    ReviewAttendance.objects.create(review=review_a, user=users["cpd_commander"], organization="CPD")
    OnCall.objects.create(organization=organization_a, user=users["outreach_worker"])
    integration_token_create(actor=users["admin"], name="CLEAR feed", district=incident_a.district,
                             operations=[IntegrationToken.Operation.INCIDENTS_READ])
    Group.objects.get_or_create(name="Desk")
    cpd_record(incident_a)
    if records:
        organization_records(users, notification_a)
    delivery = Delivery.objects.filter(notification=notification_a).order_by("id").first()
    return World(
        users=users, incident_a=incident_a, incident_b=incident_b, notification_a=notification_a,
        notification_b=notification_b, channel_a=channel_a, channel_b=channel_b, review_a=review_a,
        review_b=review_b, item_a=item_a, item_b=item_b, report_a=report_a, report_b=report_b,
        ack_token_a=ack_token(delivery), organization_a=organization_a, organization_b=organization_b,
    )


def sign_in(client, user) -> None:
    """The one place these tests sign a user in (a session, as the browser has after logging in).
    If signing in comes to need a second factor for some roles, satisfy it here."""
    client.force_login(user)


@pytest.fixture
def cast(cpd_user, commander, worker, supervisor, other_worker, analyst, admin_user) -> dict:
    """The matrix's roles by name (anonymous is None)."""
    return {"anonymous": None, "cpd_staff": cpd_user, "cpd_commander": commander, "outreach_worker": worker,
            "outreach_supervisor": supervisor, "other_worker": other_worker, "analyst": analyst,
            "admin": admin_user}


@pytest.fixture
def world(cast) -> World:
    return build_world(cast)


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Rate-limit counters live in Redis and outlast a run: give each test its own key space."""
    settings.CACHES = {name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
                       for name, config in settings.CACHES.items()}
