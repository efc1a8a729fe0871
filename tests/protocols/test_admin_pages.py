"""Administrators edit playbooks and load places in the portal. Bad input (a rule naming an
unknown field or value, a playbook without a checklist, a places file with bad rows) gets a
clear message and nothing is saved; every write is an audit event."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import Event
from protocols.models import Place, Playbook
from protocols.services_playbooks import playbook_save

STEPS = {"outreach": [{"en": "Go to the school gate at dismissal.", "es": "Vaya a la puerta de la escuela."}]}


def form(**overrides):
    data = {"code": "school_day", "title": "School day", "title_es": "Día escolar", "position": "55", "active": "on",
            "rules": '[{"field": "age_band", "op": "any", "value": ["0-19"]}]',
            "steps_outreach": "Go to the school gate at dismissal.", "steps_outreach_es": "Vaya a la puerta."}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_rule_with_an_unknown_field_is_refused_with_a_clear_message(admin_user):
    with pytest.raises(ValidationError) as refused:
        playbook_save(actor=admin_user, code="x", title="X", checklists=STEPS,
                      rules=[{"field": "weather", "op": "is", "value": "rain"}])
    assert refused.value.message_dict["rules"] == [
        "Rule 1 names an unknown field “weather” (known: victim_count, fatal_count, age_band, hospital, place, "
        "repeat, gathering)."]
    assert not Playbook.objects.exists()


def test_a_rule_with_an_unknown_value_is_refused(admin_user):
    with pytest.raises(ValidationError) as refused:
        playbook_save(actor=admin_user, code="x", title="X", checklists=STEPS,
                      rules=[{"field": "age_band", "op": "any", "value": ["0-12"]}])
    assert "“0-12” is not a value of age_band" in refused.value.message_dict["rules"][0]


def test_a_playbook_without_a_checklist_is_refused(admin_user):
    with pytest.raises(ValidationError) as refused:
        playbook_save(actor=admin_user, code="x", title="X", rules=[], checklists={"outreach": []})
    assert refused.value.message_dict["checklists"] == ["A playbook needs a checklist for at least one role."]


def test_an_administrator_adds_a_playbook_in_the_portal(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("playbooks:new"), form())
    assert response.status_code == 302
    playbook = Playbook.objects.get(code="school_day")
    assert playbook.rules == [{"field": "age_band", "op": "any", "value": ["0-19"]}]
    assert playbook.checklist_for("outreach", "es") == ["Vaya a la puerta."]
    assert Event.objects.filter(action="playbook.created", object_code="school_day", actor=admin_user).exists()
    assert "School day" in client.get(reverse("playbooks:list")).content.decode()


def test_the_page_refuses_an_unknown_field_and_saves_nothing(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("playbooks:new"), form(rules='[{"field": "colour", "op": "in", "value": 1}]'))
    assert response.status_code == 400
    assert "Rule 1 names an unknown field “colour”" in response.content.decode()
    assert not Playbook.objects.exists()


def test_the_page_refuses_rules_that_are_not_json(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("playbooks:new"), form(rules="[{field: fatal}]"))
    assert response.status_code == 400 and "The rules are not valid JSON" in response.content.decode()


def test_a_refused_edit_leaves_the_stored_playbook_as_it_was(client, admin_user):
    playbook = playbook_save(actor=admin_user, code="school_day", title="School day", checklists=STEPS, rules=[])
    client.force_login(admin_user)
    response = client.post(reverse("playbooks:edit", args=["school_day"]),
                           form(title="Renamed", steps_outreach="", steps_outreach_es=""))
    assert response.status_code == 400
    assert "A playbook needs a checklist for at least one role." in response.content.decode()
    playbook.refresh_from_db()
    assert playbook.title == "School day" and playbook.checklists == STEPS


def test_an_edit_is_audited(client, admin_user):
    playbook_save(actor=admin_user, code="school_day", title="School day", checklists=STEPS, rules=[])
    client.force_login(admin_user)
    assert client.post(reverse("playbooks:edit", args=["school_day"]), form(active=None)).status_code == 302
    assert Playbook.objects.get().active is False
    assert Event.objects.filter(action="playbook.updated", data__active=False).exists()


def test_an_unknown_playbook_is_a_404(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("playbooks:edit", args=["nope"])).status_code == 404


PLACES = "kind,name,latitude,longitude,address\nschool,Test Academy,41.7791,-87.6297,6345 S Wentworth Ave\n"


def upload(client, text):
    return client.post(reverse("playbooks:places"), {"file": SimpleUploadedFile("places.csv", text.encode())})


def test_an_administrator_loads_a_places_file(client, admin_user):
    client.force_login(admin_user)
    assert upload(client, PLACES).status_code == 302
    assert Place.objects.get().name == "Test Academy"
    assert Event.objects.filter(action="places.imported", data__created=1).exists()
    assert "Test Academy" in client.get(reverse("playbooks:places")).content.decode()


def test_a_places_file_with_bad_rows_names_each_and_loads_nothing(client, admin_user):
    client.force_login(admin_user)
    bad = PLACES + "hospital,Somewhere,41.78,-87.63,\npark,Far Park,40.0,-87.6,\npark,,41.78,-87.63,\n"
    response = upload(client, bad)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Row 3: “hospital” is not a kind of place" in body
    assert "Row 4: the point (40.0, -87.6) is outside Chicago." in body
    assert "Row 5: give the place a name" in body
    assert not Place.objects.exists()


def test_a_places_file_without_the_columns_is_refused(client, admin_user):
    client.force_login(admin_user)
    response = upload(client, "name,lat\nX,1\n")
    assert response.status_code == 400 and "The file needs the columns kind, name, latitude and longitude" in (
        response.content.decode())


def test_an_administrator_removes_a_place(client, admin_user):
    client.force_login(admin_user)
    upload(client, PLACES)
    place = Place.objects.get()
    assert client.post(reverse("playbooks:place_remove", args=[place.code])).status_code == 302
    assert not Place.objects.exists() and Event.objects.filter(action="place.deleted").exists()


@pytest.mark.parametrize("name", ["list", "new", "places"])
def test_only_administrators_reach_the_pages(client, cpd_user, worker, analyst, name):
    url = reverse(f"playbooks:{name}")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (cpd_user, worker, analyst):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_removing_a_place_needs_a_post(client, admin_user):
    client.force_login(admin_user)
    upload(client, PLACES)
    assert client.get(reverse("playbooks:place_remove", args=[Place.objects.get().code])).status_code == 405


def test_a_checklist_step_that_is_not_text_is_refused(admin_user):
    with pytest.raises(ValidationError) as refused:
        playbook_save(actor=admin_user, code="x", title="X", rules=[],
                      checklists={"outreach": [{"en": "Go."}, "a bare string", {"en": ""}]})
    assert "Each checklist step is" in refused.value.message_dict["checklists"][0]


def test_the_code_new_is_reserved_for_the_page_that_adds_a_playbook(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("playbooks:new"), form(code="new"))
    assert response.status_code == 400 and "“new” is reserved" in response.content.decode()
