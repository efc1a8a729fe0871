"""The administrators' configuration writes: organisations, coverage and pilot districts.

Each refuses bad input with a field and a message and writes nothing; each change is audited
with what changed (an organisation's contact details only by field name, never their values).
"""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from audit.models import Event
from districts.models import Coverage, District, Organization
from districts.selectors import organizations_covering_place
from districts.services_config import (
    ORGANIZATION_FIELDS,
    coverage_add,
    coverage_remove,
    district_pilot_set,
    organization_create,
    organization_update,
)
from tests.conftest import COVERING_ORG

pytestmark = pytest.mark.django_db


def values(**overrides) -> dict:
    base = {"name": "Southside Peacekeepers", "short_name": "SSP", "partner_type": "street_outreach", "active": True,
            "signed_understanding": True, "signed_on": date(2026, 3, 1), "phone": "+13125550111",
            "email": "desk@ssp.example.org", "liaison_name": "Rosa Diaz", "liaison_title": "Director",
            "liaison_phone": "+13125550112", "liaison_email": "rosa@ssp.example.org", "ack_window_minutes": 15}
    return {**base, **overrides}


def fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


def test_organization_create_saves_every_field_and_audits_without_contact_values(admin_user, reference_data):
    organization = organization_create(actor=admin_user, source="web", **values())
    assert {field: getattr(organization, field) for field in ORGANIZATION_FIELDS} == values()
    event = Event.objects.get(action="organization.created", object_code=str(organization.code))
    assert event.actor == admin_user and event.source == "web"
    assert event.data["changed"]["organization_name"] == [None, "Southside Peacekeepers"]
    assert event.data["changed"]["signed_on"] == [None, "2026-03-01"]
    assert "liaison_phone" in event.data["contact_changed"]
    assert "Rosa" not in str(event.data) and "5550112" not in str(event.data)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "public equity"}, "name"),  # another organisation's name, whatever the case
    ({"name": "  "}, "name"),
    ({"signed_understanding": False}, "signed_on"),  # a date without "signed"
    ({"signed_on": date.today() + timedelta(days=3)}, "signed_on"),
    ({"email": "not-an-address"}, "email"),
    ({"liaison_email": "rosa@"}, "liaison_email"),
    ({"partner_type": "police"}, "partner_type"),
    ({"ack_window_minutes": 0}, "ack_window_minutes"),
    ({"ack_window_minutes": 500}, "ack_window_minutes"),
    ({"short_name": "x" * 41}, "short_name"),
])
def test_organization_create_refuses_bad_input_and_saves_nothing(admin_user, reference_data, overrides, field):
    count, events = Organization.objects.count(), Event.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        organization_create(actor=admin_user, source="web", **values(**overrides))
    assert field in fields(excinfo)
    assert Organization.objects.count() == count and Event.objects.count() == events


def test_organization_update_records_before_and_after_of_what_changed(admin_user, covering_org):
    current = {field: getattr(covering_org, field) for field in ORGANIZATION_FIELDS}
    updated = organization_update(organization=covering_org, actor=admin_user, source="web",
                                  **{**current, "ack_window_minutes": 20, "short_name": "PE",
                                     "liaison_phone": "+13125550199"})
    assert (updated.ack_window_minutes, updated.short_name) == (20, "PE")
    event = Event.objects.get(action="organization.updated")
    assert event.data["changed"] == {"ack_window_minutes": [current["ack_window_minutes"], 20],
                                     "short_name": [current["short_name"], "PE"]}
    assert event.data["contact_changed"] == ["liaison_phone"]


def test_an_update_that_changes_nothing_writes_no_event(admin_user, covering_org):
    current = {field: getattr(covering_org, field) for field in ORGANIZATION_FIELDS}
    organization_update(organization=covering_org, actor=admin_user, source="web", **current)
    assert not Event.objects.filter(action="organization.updated").exists()


def test_an_update_may_keep_its_own_name_but_not_take_another(admin_user, covering_org, other_org):
    current = {field: getattr(covering_org, field) for field in ORGANIZATION_FIELDS}
    organization_update(organization=covering_org, actor=admin_user, source="web",
                        **{**current, "name": COVERING_ORG.upper()})
    with pytest.raises(ValidationError) as excinfo:
        organization_update(organization=covering_org, actor=admin_user, source="web",
                            **{**current, "name": other_org.name, "short_name": "changed"})
    assert fields(excinfo) == {"name"}
    covering_org.refresh_from_db()
    assert covering_org.short_name != "changed"


def test_added_coverage_routes_the_next_incident_and_removed_coverage_stops_it(admin_user, reference_data):
    organization = organization_create(actor=admin_user, source="web", **values())
    assert organization not in organizations_covering_place(district="007", beat="0723", community_area="68")
    coverage = coverage_add(organization=organization, actor=admin_user, source="web", kind="beat", number="723")
    assert coverage.beat.number == "0723"
    assert organization in organizations_covering_place(district="007", beat="0723", community_area="68")
    assert Event.objects.filter(action="coverage.added", object_code=str(organization.code),
                                data={"kind": "beat", "place": "0723"}).exists()
    coverage_remove(coverage=coverage, actor=admin_user, source="web")
    assert organization not in organizations_covering_place(district="007", beat="0723", community_area="68")
    assert Event.objects.filter(action="coverage.removed", data={"kind": "beat", "place": "0723"}).exists()


@pytest.mark.parametrize(("kind", "number"), [
    ("community_area", "68"),  # Public Equity already covers Englewood
    ("community_area", "78"),  # there are 77
    ("beat", "9999"),
    ("district", "040"),
    ("district", "x"),
    ("beat", "²"),
    ("county", "1"),
])
def test_coverage_add_refuses_a_duplicate_or_a_place_that_does_not_exist(admin_user, covering_org, kind, number):
    count, events = Coverage.objects.count(), Event.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        coverage_add(organization=covering_org, actor=admin_user, source="web", kind=kind, number=number)
    assert fields(excinfo) == {"place"}
    assert Coverage.objects.count() == count and Event.objects.count() == events


def test_district_pilot_set_turns_the_flag_and_audits_only_a_change(admin_user, reference_data):
    district = District.objects.get(number="011")
    before = district.is_pilot
    district_pilot_set(district=district, actor=admin_user, source="web", is_pilot=not before)
    assert District.objects.get(number="011").is_pilot is (not before)
    assert Event.objects.filter(action="district.pilot_set", data__district="011",
                                data__is_pilot=[before, not before]).count() == 1
    district_pilot_set(district=district, actor=admin_user, source="web", is_pilot=not before)
    assert Event.objects.filter(action="district.pilot_set").count() == 1
