"""Intake's statement budget: entering or correcting an incident costs a fixed number of
database statements, however many organisations hear of it and however many people they have.

The incident is the production shape: a point in Englewood (7th District, a pilot district)
covered by the three shipped organisations plus the partners the seeded playbooks bring in
(two victims, one killed, taken to a trauma centre), each organisation with a shared webhook
and email list and five members, two of them on call with SMS, email and web push. A
regression test of the count, not of time: a loop that queries once per organisation or
per person fails here with the statements listed.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from districts.access import scope_of
from districts.geo import locate
from districts.loaders import load_partners
from districts.models import Channel, CommunityArea, Coverage, Membership, OnCall, Organization, Role
from notifications.claim import deliveries_claim
from notifications.models import Delivery, Notification
from notifications.services import incident_correct, incident_create
from protocols.services_playbooks import load_playbooks
from tests.conftest import ENGLEWOOD_POINT

pytestmark = pytest.mark.sqlite

# Geography (beat with its district, community area, hospital), playbooks, places and nearby
# shootings, the incident, victims, month stamp, scenario links, partners, coverage, the
# notifications, the recipients (on-call, channels, members), deliveries, timeline, audit,
# and the savepoint pair of the transaction (inside the test's own).
CREATE_BUDGET = 21
CORRECT_BUDGET = 24
MEMBERS = 5
ON_CALL = 2
PERSONAL_KINDS = (Channel.Kind.SMS, Channel.Kind.EMAIL, Channel.Kind.PUSH)


def staff_organisation(organization: Organization) -> None:
    """A shared webhook and email list, five members, two of them on call on SMS, email and push."""
    Channel.objects.create(organization=organization, kind=Channel.Kind.WEBHOOK,
                           target=f"https://hooks.example.org/cvi/{organization.pk}", secret="whsec_test")
    Channel.objects.create(organization=organization, kind=Channel.Kind.EMAIL,
                           target=f"dispatch-{organization.pk}@example.org")
    for number in range(MEMBERS):
        user = get_user_model().objects.create_user(username=f"member_{organization.pk}_{number}",
                                                    email=f"member-{organization.pk}-{number}@example.org")
        Membership.objects.create(user=user, role=Role.OUTREACH_WORKER, organization=organization)
        if number < ON_CALL:
            OnCall.objects.create(organization=organization, user=user, tier=OnCall.Tier.PRIMARY)
            for kind, target in zip(PERSONAL_KINDS, (f"+1312555{organization.pk:02d}{number:02d}", user.email,
                                                     f"https://fcm.googleapis.com/fcm/send/{user.pk}"), strict=True):
                Channel.objects.create(organization=organization, user=user, kind=kind, target=target)


@pytest.fixture
def covered_englewood(reference_data):
    """Builds the cast: `extra` more organisations covering Englewood, every covering one staffed."""
    load_partners()
    load_playbooks()
    area = CommunityArea.objects.get(number=68)

    def build(extra: int) -> int:
        for _ in range(extra):
            organization = Organization.objects.create(name=f"Block Club Coalition {Organization.objects.count()}")
            Coverage.objects.create(organization=organization, kind=Coverage.Kind.COMMUNITY_AREA,
                                    community_area=area)
        covering = Organization.objects.filter(coverage__community_area=area, active=True).distinct()
        for organization in covering.exclude(channels__kind=Channel.Kind.WEBHOOK):
            staff_organisation(organization)
        return covering.count()

    return build


def shooting(**overrides) -> dict:
    return {"source": "api", "occurred_at": timezone.now() - timedelta(minutes=6), "block": "6300 S Halsted St",
            "latitude": ENGLEWOOD_POINT[0], "longitude": ENGLEWOOD_POINT[1],
            "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True},
                        {"age_band": "0-19", "sex": "F", "fatal": True, "gunshot": True}],
            "hospital": "UCM", "note": "Two shot outside the store.", **overrides}


def statements(capture) -> str:
    counts = Counter(" ".join(query["sql"].split())[:110] for query in capture.captured_queries)
    return "\n".join(f"{count} × {sql}" for sql, count in counts.most_common())


def boundaries_read(capture) -> list[str]:
    """The statements that read a district's, beat's or community area's boundary: tens of
    kilobytes of GeoJSON a row, which no intake answer and no message shows."""
    return [" ".join(query["sql"].split())[:200] for query in capture.captured_queries
            if '."boundary"' in query["sql"] and query["sql"].lstrip().upper().startswith("SELECT")]


def counted_create(actor, **overrides):
    locate(*ENGLEWOOD_POINT)  # the boundaries load once per process: not this incident's cost
    scope_of(actor)  # read once per request by the login middleware
    with CaptureQueriesContext(connection) as capture:
        incident, created = incident_create(actor=actor, **shooting(**overrides))
    assert created
    return incident, capture


def test_entering_a_realistic_incident_stays_within_its_statement_budget(cpd_user, covered_englewood):
    covering = covered_englewood(0)

    incident, capture = counted_create(cpd_user)

    assert len(capture) <= CREATE_BUDGET, (
        f"incident_create took {len(capture)} statements (budget {CREATE_BUDGET}):\n{statements(capture)}")
    # And it did the whole fan-out: the covering organisations and the playbooks' partners,
    # each staffed one with its shared channels, its on-call people's channels and its feed.
    notifications = Notification.objects.filter(incident=incident)
    staffed = notifications.filter(organization__channels__kind=Channel.Kind.WEBHOOK).distinct()
    assert staffed.count() == covering == 3 and notifications.count() > covering
    per_organisation = 2 + ON_CALL * len(PERSONAL_KINDS) + MEMBERS
    for notification in staffed:
        assert notification.deliveries.filter(purpose=Delivery.Purpose.NOTIFY).count() == per_organisation
    assert set(incident.scenarios.values_list("code", flat=True)) >= {"fatal"}


def test_twice_the_organisations_and_people_cost_no_more_statements(cpd_user, covered_englewood):
    covered_englewood(2)
    few, few_capture = counted_create(cpd_user, block="6300 S HALSTED ST")
    covering = covered_englewood(4)
    many, many_capture = counted_create(cpd_user, block="6301 S HALSTED ST")

    assert Notification.objects.filter(incident=many).count() == Notification.objects.filter(incident=few).count() + 4
    assert covering == 9
    assert len(many_capture) == len(few_capture), (
        f"{len(few_capture)} statements for 5 covering organisations but {len(many_capture)} for 9:\n"
        f"{statements(many_capture)}")


def correction_statements(actor, incident) -> CaptureQueriesContext:
    """A victim dies and the point moves a block: everyone is updated, the playbooks re-matched."""
    with CaptureQueriesContext(connection) as capture:
        incident_correct(incident=incident, actor=actor, source="api", latitude=ENGLEWOOD_POINT[0] + 0.0005,
                         longitude=ENGLEWOOD_POINT[1],
                         victims=[{"age_band": "20-29", "sex": "M", "fatal": True, "gunshot": True}])
    return capture


def test_a_correction_stays_within_its_budget_whatever_the_number_of_organisations(cpd_user, covered_englewood):
    covered_englewood(0)
    few, _ = counted_create(cpd_user, victims=[{"age_band": "20-29", "sex": "M", "fatal": False}])
    few_capture = correction_statements(cpd_user, few)
    covered_englewood(4)
    many, _ = counted_create(cpd_user, victims=[{"age_band": "20-29", "sex": "M", "fatal": False}])
    many_capture = correction_statements(cpd_user, many)

    assert len(few_capture) <= CORRECT_BUDGET, (
        f"incident_correct took {len(few_capture)} statements (budget {CORRECT_BUDGET}):\n{statements(few_capture)}")
    assert len(many_capture) == len(few_capture), (
        f"{len(few_capture)} statements to correct for 3 organisations but {len(many_capture)} for 7:\n"
        f"{statements(many_capture)}")
    updates = Delivery.objects.filter(notification__incident=many, purpose=Delivery.Purpose.UPDATE)
    assert updates.values("notification__organization").distinct().count() == 7
    assert "fatal" in many.scenarios.values_list("code", flat=True)


# The request around the service: the session, the user and their membership; the API's
# answer is built from what the service wrote (nothing read back) and records the summaries
# shown; the form's choices read the districts, beats, areas and hospitals it then hands to the
# service, and the redirect's message counts the notifications.
API_POST_BUDGET = 25
FORM_POST_BUDGET = 25


def signed_in(client, user) -> None:
    """A desk user in the middle of a shift: signed in, the session already settled."""
    client.force_login(user)
    assert client.get("/api/v1/hospitals/").status_code == 200
    locate(*ENGLEWOOD_POINT)


def test_an_api_post_of_the_incident_stays_within_its_budget(client, cpd_user, covered_englewood):
    covered_englewood(0)
    signed_in(client, cpd_user)
    body = {**shooting(), "occurred_at": shooting()["occurred_at"].isoformat()}
    body.pop("source")

    with CaptureQueriesContext(connection) as capture:
        answer = client.post("/api/v1/incidents/", body, content_type="application/json")

    assert answer.status_code == 201, answer.content
    assert len(answer.json()["notifications"]) > 3
    assert len(capture) <= API_POST_BUDGET, (
        f"POST /api/v1/incidents/ took {len(capture)} statements (budget {API_POST_BUDGET}):\n{statements(capture)}")
    assert not boundaries_read(capture)


def test_the_incident_form_stays_within_its_budget(client, cpd_user, covered_englewood):
    from tests.notifications.test_intake_views import form_data

    covered_englewood(0)
    signed_in(client, cpd_user)
    data = form_data(rd_number="", latitude=str(ENGLEWOOD_POINT[0]), longitude=str(ENGLEWOOD_POINT[1]))

    with CaptureQueriesContext(connection) as capture:
        answer = client.post(reverse("notifications:incident_new"), data)

    assert answer.status_code == 302
    assert Notification.objects.filter(incident__block="6300 S HALSTED ST").count() > 3
    assert len(capture) <= FORM_POST_BUDGET, (
        f"The incident form's POST took {len(capture)} statements (budget {FORM_POST_BUDGET}):\n{statements(capture)}")
    assert not boundaries_read(capture)


def test_the_worker_loads_a_fan_out_for_sending_without_any_boundary(cpd_user, covered_englewood):
    covered_englewood(0)
    incident, _ = counted_create(cpd_user)
    ids = list(Delivery.objects.filter(notification__incident=incident).exclude(kind=Channel.Kind.IN_APP)
               .values_list("id", flat=True))

    with CaptureQueriesContext(connection) as capture:
        claimed = deliveries_claim(delivery_ids=ids)

    assert len(claimed) == len(ids) > 10
    assert all(d.notification.incident.district.number == "007" for d in claimed)
    assert not boundaries_read(capture), boundaries_read(capture)
    # On PostgreSQL the load is a prepared statement, whose text the capture may not hold.
    assert all("boundary" in d.notification.incident.district.get_deferred_fields() for d in claimed)
