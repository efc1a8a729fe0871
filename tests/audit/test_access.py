"""The access log, the refusal counter and the sign-in events."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_login_failed
from django.test import RequestFactory

from audit.models import Access, Event, Refusal
from audit.services import access_record, api_rejection_log, refusal_count
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]  # sqlite: the demo records the same way


def test_a_page_polled_all_hour_is_one_row_with_its_count(cpd_user, englewood, covering_org):
    for _ in range(40):
        access_record(actor=cpd_user, source="web", action="board.viewed", obj=englewood,
                      organization_codes=[covering_org.code], role="cpd_staff")
    row = Access.objects.get()
    assert (row.actor, row.action, row.object_type, row.object_code) == (
        cpd_user, "board.viewed", "districts.district", str(englewood.pk))
    assert (row.organization_code, row.count, row.role) == (str(covering_org.code), 40, "cpd_staff")
    assert row.first_at <= row.last_at


def test_each_organisation_shown_gets_its_own_row(cpd_user, englewood, covering_org, other_org):
    for _ in range(2):
        access_record(actor=cpd_user, source="web", action="board.viewed", obj=englewood,
                      organization_codes=[covering_org.code, other_org.code])
    assert sorted(Access.objects.values_list("organization_code", "count")) == sorted(
        [(str(covering_org.code), 2), (str(other_org.code), 2)])


def test_a_view_of_nothing_organisational_is_one_row_without_an_organisation(analyst, englewood):
    access_record(actor=analyst, source="web", action="export.downloaded", obj=englewood)
    assert list(Access.objects.values_list("organization_code", "count")) == [("", 1)]


def test_anonymous_views_are_not_written_to_the_access_log(englewood):
    assert access_record(actor=AnonymousUser(), source="web", action="board.viewed", obj=englewood) == 0
    assert not Access.objects.exists()


def test_anonymous_refusals_are_counted_not_written_one_row_each(reference_data):
    for _ in range(25):
        refusal_count(action="ack_link.refused", source="web", reason="bad_token")
    refusal_count(action="ack_link.refused", source="web", reason="expired")
    assert sorted(Refusal.objects.values_list("reason", "count")) == [("bad_token", 25), ("expired", 1)]
    assert not Event.objects.exists()


def test_an_anonymous_api_rejection_is_counted_and_a_users_is_an_event(worker):
    for _ in range(3):
        assert api_rejection_log(actor=AnonymousUser(), data={"status": 401, "operation": "x"}) is None
    assert Refusal.objects.get(action="api.rejected").count == 3
    event = api_rejection_log(actor=worker, data={"status": 400, "operation": "responses.create", "fields": ["x"]})
    assert (event.actor, event.action) == (worker, "api.rejected")


WRONG = "wrong-password-1"  # noqa: S105


def _failed_login(username: str, password: str = WRONG):
    request = RequestFactory().post("/accounts/login/")
    request.user = AnonymousUser()
    assert authenticate(request, username=username, password=password) is None


def test_failed_logins_are_counted_and_the_account_gets_one_event_an_hour(worker):
    for _ in range(5):
        _failed_login(worker.username)
    assert Refusal.objects.get(action="login.failed", reason="known_account").count == 5
    assert list(Event.objects.filter(action="login.failed").values_list("actor", flat=True)) == [worker.pk]


def test_failed_logins_for_unknown_or_malformed_names_are_only_counted(reference_data):
    for name in ["nobody", "nobody"]:
        _failed_login(name)
    # Names the database cannot look up (the login form refuses them before authenticating;
    # the recorder must not fail on them either, whichever view sent the signal).
    for name in ["bad\x00name", "surrogate\ud800", "x" * 500]:
        user_login_failed.send(sender=__name__, credentials={"username": name}, request=None)
    assert Refusal.objects.get(action="login.failed", reason="unknown_account").count == 5
    assert not Event.objects.filter(action="login.failed").exists()
    # The name typed is kept nowhere in the trail.
    assert "nobody" not in str(list(Refusal.objects.values()))


def test_signing_in_and_out_are_recorded(client, worker):
    assert client.login(username=worker.username, password=PASSWORD)
    client.logout()
    assert list(Event.objects.filter(actor=worker).order_by("id").values_list("action", flat=True)) == [
        "login.succeeded", "logout"]
