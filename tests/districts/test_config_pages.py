"""The administrators' configuration pages: the hub, organisations and coverage, districts.

Each as the administrator, as other roles (refused), anonymously (to the login page), with bad
input (400, the messages beside the fields, everything typed kept, nothing saved) and with a
tampered code or place.
"""

import pytest
from django.urls import reverse

from audit.models import Event
from districts.models import Coverage, District, Organization
from tests.conftest import COVERING_ORG

pytestmark = pytest.mark.django_db


def form(**overrides) -> dict:
    data = {"name": "Southside Peacekeepers", "short_name": "SSP", "partner_type": "street_outreach",
            "active": "on", "signed_understanding": "on", "signed_on": "2026-03-01", "phone": "+13125550111",
            "email": "desk@ssp.example.org", "liaison_name": "Rosa Diaz", "liaison_title": "Director",
            "liaison_phone": "+13125550112", "liaison_email": "rosa@ssp.example.org", "ack_window_minutes": "15"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_nav_leads_administrators_to_the_hub_and_the_hub_to_every_page(admin_client):
    home = admin_client.get("/").content.decode()
    assert reverse("districts:administration") in home
    hub = admin_client.get(reverse("districts:administration"))
    assert hub.status_code == 200
    for name in ("districts:organizations", "districts:district_list", "protocols:documents", "playbooks:list",
                 "playbooks:places", "admin:index", "admin:audit_event_changelist"):
        assert f'href="{reverse(name)}"' in hub.content.decode(), name


@pytest.mark.parametrize("name", ["districts:administration", "districts:organizations", "districts:organization_new",
                                  "districts:district_list"])
def test_other_roles_are_refused_and_anonymous_visitors_sent_to_log_in(client, cpd_user, worker, analyst, name):
    for user in (cpd_user, worker, analyst):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 403
    client.logout()
    assert "/login/" in client.get(reverse(name))["Location"]


def test_non_admins_cannot_write_either(client, commander, covering_org):
    pilot = District.objects.get(number="007").is_pilot
    client.force_login(commander)
    assert client.post(reverse("districts:organization_new"), form()).status_code == 403
    assert client.post(reverse("districts:organization_coverage_add", args=[covering_org.code]),
                       {"place": "beat:0723"}).status_code == 403
    assert client.post(reverse("districts:district_pilot", args=["007"]),
                       {"is_pilot": "no" if pilot else "yes", "confirm": "yes"}).status_code == 403
    assert not Organization.objects.filter(name="Southside Peacekeepers").exists()
    assert District.objects.get(number="007").is_pilot is pilot
    assert not covering_org.coverage.filter(beat__number="0723").exists()
    writes = ["organization.created", "coverage.added", "district.pilot_set"]
    assert not Event.objects.filter(action__in=writes).exists()


def test_the_list_filters_by_type_and_signature_and_refuses_an_unknown_type(admin_client, covering_org):
    Organization.objects.create(name="Survivors Test", partner_type="victim_services")
    page = admin_client.get(reverse("districts:organizations"), {"partner_type": "victim_services"})
    assert page.status_code == 200
    assert [row.record.name for row in page.context["table"].rows] == ["Survivors Test"]
    signed = "yes" if covering_org.signed_understanding else "no"
    found = admin_client.get(reverse("districts:organizations"), {"search": "equity", "signed": signed})
    assert [row.record.name for row in found.context["table"].rows] == [COVERING_ORG]
    bad = admin_client.get(reverse("districts:organizations"), {"partner_type": "police"})
    assert bad.context["filter_invalid"] and not list(bad.context["table"].rows)


def test_creating_an_organisation_audits_it_and_opens_its_page(admin_client):
    response = admin_client.post(reverse("districts:organization_new"), form())
    organization = Organization.objects.get(name="Southside Peacekeepers")
    assert response["Location"] == reverse("districts:organization_edit", args=[organization.code])
    assert organization.signed_understanding and organization.ack_window_minutes == 15
    assert Event.objects.filter(action="organization.created", object_code=str(organization.code)).exists()
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "PUBLIC EQUITY"}, "name"),
    ({"signed_understanding": None}, "signed_on"),
    ({"email": "nope"}, "email"),
    ({"ack_window_minutes": "0"}, "ack_window_minutes"),
    ({"partner_type": "police"}, "partner_type"),
    ({"signed_on": "2026-02-31"}, "signed_on"),
])
def test_bad_input_comes_back_with_its_message_and_everything_typed(admin_client, overrides, field):
    count = Organization.objects.count()
    response = admin_client.post(reverse("districts:organization_new"), form(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    body = response.content.decode()
    assert 'value="Rosa Diaz"' in body and 'value="rosa@ssp.example.org"' in body
    assert Organization.objects.count() == count


def test_editing_keeps_the_stored_name_on_a_refused_edit(admin_client, covering_org, other_org):
    url = reverse("districts:organization_edit", args=[covering_org.code])
    response = admin_client.post(url, form(name=other_org.name))
    assert response.status_code == 400
    assert f"<h1>{COVERING_ORG}</h1>" in response.content.decode()
    covering_org.refresh_from_db()
    assert covering_org.short_name != "SSP"
    assert admin_client.post(url, form(name=COVERING_ORG)).status_code == 302
    covering_org.refresh_from_db()
    assert covering_org.short_name == "SSP"
    assert Event.objects.filter(action="organization.updated", object_code=str(covering_org.code)).exists()


def test_the_page_shows_the_coverage_and_its_map(admin_client, covering_org):
    response = admin_client.get(reverse("districts:organization_edit", args=[covering_org.code]))
    body = response.content.decode()
    assert "Englewood (68)" in body and "West Englewood (67)" in body
    assert response.context["maps"] and '<path class="mine"' in body


def test_coverage_is_added_from_the_list_and_removed_by_place(admin_client, covering_org):
    add = reverse("districts:organization_coverage_add", args=[covering_org.code])
    assert admin_client.post(add, {"place": "beat:1011"}).status_code == 302
    assert covering_org.coverage.filter(beat__number="1011").exists()
    assert Event.objects.filter(action="coverage.added", data={"kind": "beat", "place": "1011"}).exists()
    remove = reverse("districts:organization_coverage_remove", args=[covering_org.code])
    assert admin_client.post(remove, {"kind": "beat", "number": "1011"}).status_code == 302
    assert not covering_org.coverage.filter(beat__number="1011").exists()
    assert Event.objects.filter(action="coverage.removed", data={"kind": "beat", "place": "1011"}).exists()


@pytest.mark.parametrize("place", ["community_area:68", "beat:9999", "community_area:99", "", "district:007;drop"])
def test_a_duplicate_or_unknown_place_is_refused_on_the_page(admin_client, covering_org, place):
    count = Coverage.objects.count()
    response = admin_client.post(reverse("districts:organization_coverage_add", args=[covering_org.code]),
                                 {"place": place})
    assert response.status_code == 400
    assert response.context["coverage_form"].errors["place"]
    assert Coverage.objects.count() == count


def test_a_tampered_code_or_place_is_not_found(admin_client, covering_org, other_org):
    assert admin_client.get("/administration/organisations/00000000-0000-4000-8000-000000000000/").status_code == 404
    remove = reverse("districts:organization_coverage_remove", args=[covering_org.code])
    count = Coverage.objects.count()
    for data in ({"kind": "beat", "number": "0723"}, {"kind": "community_area", "number": "x"}, {"kind": "pk"}, {}):
        assert admin_client.post(remove, data).status_code == 404
    # Another organisation's coverage is not this one's to remove.
    other_area = other_org.coverage.filter(community_area__isnull=False).first().community_area.number
    assert admin_client.post(remove, {"kind": "community_area", "number": str(other_area)}).status_code == 404
    assert Coverage.objects.count() == count


def test_turning_a_pilot_district_off_asks_first_and_says_routing_goes_on(admin_client, admin_user):
    district = District.objects.get(number="007")
    district.is_pilot = True
    district.save(update_fields=["is_pilot"])
    url = reverse("districts:district_pilot", args=["7"])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert "still notifies every organisation covering its place" in confirm.content.decode()
    unconfirmed = admin_client.post(url, {"is_pilot": "no"})
    assert unconfirmed.status_code == 200 and "Take this district out of the pilot?" in unconfirmed.content.decode()
    assert District.objects.get(number="007").is_pilot
    assert admin_client.post(url, {"is_pilot": "no", "confirm": "yes"}).status_code == 302
    assert not District.objects.get(number="007").is_pilot
    assert Event.objects.filter(action="district.pilot_set", actor=admin_user, data__is_pilot=[True, False]).exists()
    assert admin_client.post(url, {"is_pilot": "yes"}).status_code == 302
    assert District.objects.get(number="007").is_pilot


def test_the_pilot_toggle_refuses_an_unknown_district_or_value(admin_client):
    assert admin_client.post(reverse("districts:district_pilot", args=["99"]), {"is_pilot": "yes"}).status_code == 404
    pilot = reverse("districts:district_pilot", args=["007"])
    assert admin_client.post(pilot, {"is_pilot": "maybe"}).status_code == 400
    assert not Event.objects.filter(action="district.pilot_set").exists()


def test_the_pages_speak_spanish(admin_client, covering_org):
    headers = {"accept-language": "es"}
    assert "Organizaciones" in admin_client.get(reverse("districts:administration"), headers=headers).content.decode()
    page = admin_client.get(reverse("districts:organization_edit", args=[covering_org.code]), headers=headers)
    assert "Lugares cubiertos" in page.content.decode()
    confirm = admin_client.get(reverse("districts:district_pilot", args=["007"]), headers=headers)
    assert "Distritos" in confirm.content.decode()
