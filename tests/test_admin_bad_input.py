"""The Django admin with input its own code does not expect: a 400 or the form's error, never a 500
(both found by `make attack`)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["at__year=999999999999", "at__year=²", "at__year=2026&at__month=13"])
def test_a_date_drill_down_that_is_not_a_date_is_refused_with_a_sentence(client, admin_user, query):
    client.force_login(admin_user)
    response = client.get(f"/admin/audit/event/?{query}")
    assert response.status_code == 400
    assert "not a date" in response.content.decode()


def test_a_real_date_drill_down_still_works(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/audit/event/?at__year=2026&at__month=11").status_code == 200


def test_an_autocomplete_choice_that_is_not_an_id_comes_back_as_the_form_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/districts/membership/add/", {"user": "²", "role": "analyst"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
