"""The one access helper, role by role, against an object inside and outside the role's scope.

Two incidents are written straight into the tables (no routing, no services), so only the
scoping is under test: one in the 7th District (Englewood) notified to Public Equity, one in
the 15th District (Austin) notified to ALSO.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from districts.access import organizations_for_user, require_role, scope_of
from districts.models import CPD_ROLES, OUTREACH_ROLES, CommunityArea, District, Organization, Role
from notifications.access import get_incident_for_user, get_notification_for_user, incidents_for_user
from notifications.models import Incident, Notification
from tests.conftest import COVERING_ORG, OTHER_ORG

pytestmark = pytest.mark.django_db


def _incident(district: str, area: int, organization: str, block: str) -> Incident:
    incident = Incident.objects.create(
        occurred_at=timezone.now(), block=block, district=District.objects.get(number=district),
        community_area=CommunityArea.objects.get(number=area), victim_count=1,
    )
    Notification.objects.create(incident=incident, organization=Organization.objects.get(name=organization))
    return incident


@pytest.fixture
def englewood_incident(reference_data):
    return _incident("007", 68, COVERING_ORG, "6300 S Halsted St")


@pytest.fixture
def austin_incident(reference_data):
    return _incident("015", 25, OTHER_ORG, "800 N Central Ave")


@pytest.fixture
def nobody(reference_data):
    """Logged in, but no district and no organisation."""
    return get_user_model().objects.create_user(username="no_role", password="test-password-123")


# user fixture, sees the Englewood incident, sees the Austin incident
SCOPES = [
    ("cpd_user", True, False),
    ("commander", True, False),
    ("other_district_user", False, True),
    ("worker", True, False),
    ("supervisor", True, False),
    ("other_worker", False, True),
    ("analyst", True, True),
    ("admin_user", True, True),
    ("nobody", False, False),
]


@pytest.mark.parametrize(("user_fixture", "sees_englewood", "sees_austin"), SCOPES)
def test_each_role_lists_exactly_the_incidents_in_its_scope(
    request, englewood_incident, austin_incident, user_fixture, sees_englewood, sees_austin
):
    user = request.getfixturevalue(user_fixture)
    visible = set(incidents_for_user(user))
    assert (englewood_incident in visible, austin_incident in visible) == (sees_englewood, sees_austin)


@pytest.mark.parametrize(("user_fixture", "sees_englewood", "sees_austin"), SCOPES)
def test_an_incident_outside_the_scope_is_not_found_rather_than_forbidden(
    request, englewood_incident, austin_incident, user_fixture, sees_englewood, sees_austin
):
    user = request.getfixturevalue(user_fixture)
    for incident, visible in [(englewood_incident, sees_englewood), (austin_incident, sees_austin)]:
        if visible:
            assert get_incident_for_user(user, incident.code) == incident
        else:
            with pytest.raises(Http404):
                get_incident_for_user(user, incident.code)


@pytest.mark.parametrize(("user_fixture", "sees_englewood", "sees_austin"), SCOPES)
def test_a_notification_is_reachable_only_inside_the_scope(
    request, englewood_incident, austin_incident, user_fixture, sees_englewood, sees_austin
):
    user = request.getfixturevalue(user_fixture)
    for incident, visible in [(englewood_incident, sees_englewood), (austin_incident, sees_austin)]:
        notification = incident.notifications.get()
        if visible:
            assert get_notification_for_user(user, notification.code) == notification
        else:
            with pytest.raises(Http404):
                get_notification_for_user(user, notification.code)


def test_an_outreach_worker_sees_an_incident_in_their_area_only_once_it_is_routed_to_them(worker, reference_data):
    unrouted = _incident("007", 68, "Target Area Development Corp (TADC)", "6400 S Halsted St")
    assert unrouted not in incidents_for_user(worker)
    Notification.objects.create(incident=unrouted, organization=Organization.objects.get(name=COVERING_ORG))
    assert list(incidents_for_user(worker).filter(pk=unrouted.pk)) == [unrouted]


def test_a_malformed_incident_code_is_not_found(cpd_user):
    with pytest.raises(Http404):
        get_incident_for_user(cpd_user, "not-a-uuid")


@pytest.mark.parametrize(
    ("user_fixture", "role", "district", "organization", "citywide"),
    [
        ("cpd_user", Role.CPD_STAFF, "007", None, False),
        ("commander", Role.CPD_COMMANDER, "007", None, False),
        ("worker", Role.OUTREACH_WORKER, None, COVERING_ORG, False),
        ("supervisor", Role.OUTREACH_SUPERVISOR, None, COVERING_ORG, False),
        ("analyst", Role.ANALYST, None, None, True),
        ("admin_user", Role.ADMIN, None, None, True),
        ("nobody", None, None, None, False),
    ],
)
def test_scope_of_gives_each_role_its_district_its_organisation_or_the_city(
    request, user_fixture, role, district, organization, citywide
):
    scope = scope_of(request.getfixturevalue(user_fixture))
    assert scope.role == role
    assert scope.district_id == (District.objects.get(number=district).pk if district else None)
    assert scope.organization_id == (Organization.objects.get(name=organization).pk if organization else None)
    assert scope.citywide is citywide


def test_a_superuser_without_a_membership_is_treated_as_an_administrator(reference_data):
    root = get_user_model().objects.create_superuser(username="root", password="test-password-123")
    assert scope_of(root).role == Role.ADMIN and scope_of(root).citywide


def test_an_anonymous_visitor_has_no_scope():
    from django.contrib.auth.models import AnonymousUser

    assert scope_of(AnonymousUser()).role is None
    assert not organizations_for_user(AnonymousUser()).exists()


@pytest.mark.parametrize(
    ("user_fixture", "may_enter_incidents", "may_respond", "may_supervise"),
    [
        ("cpd_user", True, False, False),
        ("commander", True, False, False),
        ("worker", False, True, False),
        ("supervisor", False, True, True),
        ("analyst", False, False, False),
        ("admin_user", False, False, False),
        ("nobody", False, False, False),
    ],
)
def test_require_role_lets_in_only_the_named_roles(
    request, user_fixture, may_enter_incidents, may_respond, may_supervise
):
    user = request.getfixturevalue(user_fixture)
    for roles, allowed in [(CPD_ROLES, may_enter_incidents), (OUTREACH_ROLES, may_respond),
                           ({Role.OUTREACH_SUPERVISOR}, may_supervise)]:
        if allowed:
            assert require_role(user, *roles).role in roles
        else:
            with pytest.raises(PermissionDenied):
                require_role(user, *roles)


@pytest.mark.parametrize(
    ("user_fixture", "sees_own_only"),
    [("worker", True), ("supervisor", True), ("other_worker", True),
     ("cpd_user", False), ("commander", False), ("analyst", False), ("admin_user", False)],
)
def test_outreach_members_see_only_their_own_organisation(request, user_fixture, sees_own_only):
    user = request.getfixturevalue(user_fixture)
    names = set(organizations_for_user(user).values_list("name", flat=True))
    if sees_own_only:
        assert names == {user.membership.organization.name}
    else:
        assert {COVERING_ORG, OTHER_ORG} <= names and len(names) == Organization.objects.count()


def test_someone_without_a_role_sees_no_organisation(nobody):
    assert not organizations_for_user(nobody).exists()
