"""Logging in and out, resetting a password, each role's home page and the admin."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from districts.models import District
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_logging_in_lands_on_the_home_page_and_logging_out_ends_the_session(client, cpd_user):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Forgot your password?" in page.content

    response = client.post("/accounts/login/", {"username": "dana_cpd", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200

    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused_with_a_message_on_the_form(client, cpd_user):
    response = client.post("/accounts/login/", {"username": "dana_cpd", "password": "not-the-password"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert b"Please enter a correct username and password" in response.content
    assert b'value="dana_cpd"' in response.content  # the username is kept
    assert "_auth_user_id" not in client.session


def test_logging_out_needs_a_post(client, cpd_user):
    client.force_login(cpd_user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200


def test_a_logged_in_user_who_opens_the_login_page_goes_home(client, cpd_user):
    client.force_login(cpd_user)
    assert client.get("/accounts/login/")["Location"] == "/"


def test_the_password_reset_flow_mails_a_link_that_sets_a_new_password(client, worker):
    response = client.post("/accounts/password_reset/", {"email": "tasha_worker@example.org"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tasha_worker@example.org"]
    assert message.subject == "CVI Portal: choose a new password"
    assert "tasha_worker" in message.body
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body)[1]

    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"Choose a new password" in form.content
    set_url = form.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "englewood-2026-new", "new_password2": "englewood-2026-new"})
    assert response["Location"] == "/accounts/reset/done/"

    assert client.login(username="tasha_worker", password="englewood-2026-new")
    assert not client.login(username="tasha_worker", password=PASSWORD)
    assert b"This link has expired" in client.get(link, follow=True).content  # the link works once


def test_a_password_reset_for_an_unknown_address_looks_the_same_and_mails_no_link(client, worker):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/accounts/password_reset/done/"
    # A mail goes out either way (the time taken tells nothing), without a link.
    [message] = mail.outbox
    assert message.to == ["nobody@example.org"] and message.subject == "CVI Portal: choose a new password"
    assert "no account uses it" in message.body and "/accounts/reset/" not in message.body


def test_a_weak_new_password_is_refused_on_the_field(client, worker):
    client.post("/accounts/password_reset/", {"email": "tasha_worker@example.org"})
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)[1]
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200
    assert b"This password is too short" in response.content
    assert client.login(username="tasha_worker", password=PASSWORD)


@pytest.mark.parametrize(
    ("user_fixture", "names"),
    [
        ("cpd_user", ["District 7 (Englewood)", "1438 W 63rd St", "Public Equity",
                      "Target Area Development Corp (TADC)", "READI Chicago (Heartland Alliance)"]),
        ("commander", ["District 7 (Englewood)", "Public Equity"]),
        ("analyst", ["District 7 (Englewood)", "District 15 (Austin)", "Public Equity",
                     "Institute for Nonviolence Chicago (INVC)"]),
        ("admin_user", ["District 7 (Englewood)", "Public Equity", "Configure"]),
    ],
)
def test_each_role_home_page_shows_real_districts_and_organisations(client, request, user_fixture, names):
    District.objects.filter(number__in=["007", "015"]).update(is_pilot=True)
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in names:
        assert name in page, name
    assert user.membership.get_role_display() in page


@pytest.mark.parametrize(("user_fixture", "name"), [("worker", "Public Equity"), ("supervisor", "Public Equity"),
                                                     ("other_worker", "ALSO")])
def test_an_outreach_member_lands_on_their_organisation_feed(client, request, user_fixture, name):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/feed/", 302)]
    assert response.status_code == 200
    assert name in response.content.decode()


def test_the_cpd_home_names_the_areas_each_organisation_covers_in_the_district(client, cpd_user):
    client.force_login(cpd_user)
    organizations = {org.name: [a.display_name for a in org.areas_here]
                     for org in client.get("/").context["organizations"]}
    assert organizations["Public Equity"] == ["Englewood", "Greater Grand Crossing", "West Englewood"]
    assert organizations["Target Area Development Corp (TADC)"] == ["Englewood", "West Englewood"]


def test_the_citywide_home_counts_organisations_and_covered_areas(client, analyst):
    client.force_login(analyst)
    stats = client.get("/").context["stats"]
    assert stats["organizations"] == 19 and stats["areas"] == 77
    assert 0 < stats["multiply_covered"] < stats["areas_covered"] < 77


def test_the_cpd_home_does_not_list_an_organisation_from_another_side_of_the_city(client, cpd_user):
    client.force_login(cpd_user)
    assert "ALSO (Alliance of Local Service Organizations)" not in client.get("/").content.decode()


def test_an_outreach_home_does_not_name_another_organisation(client, other_worker):
    client.force_login(other_worker)
    page = client.get("/", follow=True).content.decode()
    assert "Public Equity" not in page


def test_a_user_without_a_role_is_told_to_ask_the_administrator(client, reference_data):
    user = get_user_model().objects.create_user(username="new_hire", password=PASSWORD)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert b"Ask the portal administrator to add you" in response.content


@pytest.mark.parametrize("model", sorted(admin.site._registry, key=lambda m: m._meta.label),
                         ids=lambda m: m._meta.label)
def test_an_administrator_can_open_each_admin_list_search_it_and_open_the_add_form(admin_client_for, model):
    opts = model._meta
    model_admin = admin.site._registry[model]
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert admin_client_for.get(changelist).status_code == 200
    if model_admin.search_fields:
        assert admin_client_for.get(changelist, {"q": "Englewood"}).status_code == 200
    for name in model_admin.list_filter:
        if isinstance(name, str):
            assert admin_client_for.get(changelist, {f"{name}__isnull": "False"}).status_code in (200, 302)
    if model_admin.has_add_permission(_request_for(admin_client_for)):
        assert admin_client_for.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200


def test_an_administrator_can_open_an_organisation_with_its_coverage(admin_client_for, covering_org):
    response = admin_client_for.get(reverse("admin:districts_organization_change", args=[covering_org.pk]))
    assert response.status_code == 200
    assert b"Englewood" in response.content or b"ENGLEWOOD" in response.content


@pytest.mark.parametrize("user_fixture", ["cpd_user", "worker", "analyst"])
def test_other_roles_cannot_open_the_admin(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.fixture
def admin_client_for(client, admin_user):
    client.force_login(admin_user)
    client.user = admin_user
    return client


def _request_for(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = client.user
    return request
