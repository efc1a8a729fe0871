"""People administration in the portal: the administrator invites, changes roles and scopes,
deactivates and reactivates; the invited person sets a password through the mailed link; everyone
picks their language.

Through the pages, with the real database, sessions and mail (Django's locmem outbox); the
invitation mail is sent after the commit, so the tests run the commit's callbacks.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from audit.models import Event
from districts.access import scope_of
from districts.models import Invitation, Membership, OnCall, Organization, Role
from districts.services import user_token_create
from tests.conftest import COVERING_ORG

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-harbour-lantern-9"  # noqa: S105
LINK = re.compile(r"https?://\S+/invitation/[^/\s]+/")


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    """Login counters live in Redis: each test its own key space."""
    settings.CACHES = {name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
                       for name, config in settings.CACHES.items()}
    cache.clear()


@pytest.fixture(autouse=True)
def english_afterwards():
    """Django's LocaleMiddleware leaves a Spanish request's language active on the thread; the
    next test's direct calls must not inherit it."""
    yield
    translation.deactivate()


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def invite(admin_client, capture, **fields):
    data = {"email": "rosa.ortiz@example.org", "first_name": "Rosa", "last_name": "Ortiz", "role": "cpd_staff",
            "district": "007", "organization": "", "language": "en", **fields}
    with capture(execute=True):
        return admin_client.post("/users/invite/", data)


def link_in(message) -> str:
    """The invitation link's path, from the mail."""
    return "/invitation/" + LINK.search(message.body).group(0).split("/invitation/", 1)[1]


def accept(link: str, password: str = NEW_PASSWORD):
    return Client().post(link, {"new_password1": password, "new_password2": password})


# --- inviting and accepting ---------------------------------------------------------------

def test_an_invited_person_signs_in_with_exactly_the_role_and_scope_given(
        admin_client, django_capture_on_commit_callbacks):
    response = invite(admin_client, django_capture_on_commit_callbacks, email="Rosa.Ortiz@Example.org",
                      language="es")
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["rosa.ortiz@example.org"]
    assert message.subject == "Su invitación al Portal CVI"  # the language the administrator chose
    assert "Su usuario es rosa.ortiz@example.org" in message.body
    token = link_in(message)
    user = get_user_model().objects.get(username="rosa.ortiz@example.org")
    assert not user.has_usable_password() and Invitation.objects.get(user=user).token_hash not in token

    page = Client().get(token)
    assert page.status_code == 200 and "Establezca su contraseña" in page.content.decode()
    welcomed = accept(token)
    assert welcomed.status_code == 302 and welcomed["Location"] == "/"

    client = Client()
    signed_in = client.post("/accounts/login/", {"username": "rosa.ortiz@example.org", "password": NEW_PASSWORD},
                            REMOTE_ADDR="198.51.100.9")
    assert signed_in.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and "Distrito 7 (Englewood)" in home.content.decode()  # in her language
    scope = scope_of(get_user_model().objects.get(pk=user.pk))
    assert (scope.role, scope.district_id, scope.organization_id) == (Role.CPD_STAFF, Membership.objects.get(
        user=user).district_id, None)
    assert Membership.objects.get(user=user).district.number == "007"
    assert Event.objects.filter(action="user.invited", data__user=user.pk).exists()
    assert Event.objects.filter(action="user.invitation_accepted", actor=user).exists()


def test_the_link_works_once(admin_client, django_capture_on_commit_callbacks):
    invite(admin_client, django_capture_on_commit_callbacks)
    token = link_in(mail.outbox[0])
    assert accept(token).status_code == 302
    again = accept(token, password="another-long-password-7")
    assert again.status_code == 404 and "This link does not work" in again.content.decode()
    user = get_user_model().objects.get(username="rosa.ortiz@example.org")
    assert user.check_password(NEW_PASSWORD)


def test_an_expired_or_forged_link_gets_one_plain_page(admin_client, django_capture_on_commit_callbacks):
    invite(admin_client, django_capture_on_commit_callbacks)
    token = link_in(mail.outbox[0])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    forged_token = "/invitation/" + ("A" if token[12] != "A" else "B") + token[13:]
    expired, forged = Client().get(token), Client().get(forged_token)
    assert expired.status_code == forged.status_code == 404
    assert expired.content == forged.content  # the same page: nothing tells the two apart
    assert "rosa" not in expired.content.decode().lower() and "Traceback" not in expired.content.decode()
    assert accept(token).status_code == 404
    assert not get_user_model().objects.get(username="rosa.ortiz@example.org").has_usable_password()


def test_a_weak_password_is_refused_and_the_invitation_stays(admin_client, django_capture_on_commit_callbacks):
    invite(admin_client, django_capture_on_commit_callbacks)
    token = link_in(mail.outbox[0])
    refused = accept(token, password="rosa")
    assert refused.status_code == 400 and "errorlist" in refused.content.decode()
    assert Invitation.objects.get().accepted_at is None
    assert accept(token).status_code == 302


def test_a_resend_replaces_the_link_and_a_cancel_removes_the_account(
        admin_client, django_capture_on_commit_callbacks):
    invite(admin_client, django_capture_on_commit_callbacks)
    first = link_in(mail.outbox[0])
    code = Membership.objects.get(user__username="rosa.ortiz@example.org").code
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(f"/users/{code}/invitation/resend/").status_code == 302
    second = link_in(mail.outbox[1])
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert admin_client.post(f"/users/{code}/invitation/cancel/").status_code == 302
    assert Client().get(second).status_code == 404
    assert not get_user_model().objects.filter(username="rosa.ortiz@example.org").exists()
    assert Event.objects.filter(action="user.invitation_cancelled").exists()
    # The address is free again.
    assert invite(admin_client, django_capture_on_commit_callbacks).status_code == 302


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"email": "DANA_CPD@example.org"}, "email", "Someone already uses this email address."),
    ({"district": ""}, "district", "A CPD role needs a district."),
    ({"role": "outreach_worker", "district": ""}, "organization", "An outreach role needs an organisation."),
    ({"role": "analyst"}, "district", "Analysts and administrators are citywide: leave the district empty."),
    ({"district": "999"}, "district", "There is no such district."),
    ({"role": "outreach_worker", "district": "", "organization": "inactive"}, "organization",
     "There is no such active organisation."),
    ({"email": "not an address"}, "email", "Enter a valid email address."),
])
def test_bad_invitations_say_why_keep_what_was_typed_and_save_nothing(
        admin_client, cpd_user, django_capture_on_commit_callbacks, fields, field, message):
    if fields.get("organization") == "inactive":
        organization = Organization.objects.get(name=COVERING_ORG)
        Organization.objects.filter(pk=organization.pk).update(active=False)
        fields = {**fields, "organization": str(organization.code)}
    people = get_user_model().objects.count()
    response = invite(admin_client, django_capture_on_commit_callbacks, first_name="Rosa-typed", **fields)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in form.errors[field]
    assert 'value="Rosa-typed"' in response.content.decode()
    assert get_user_model().objects.count() == people and not Invitation.objects.exists() and not mail.outbox


# --- role, scope, deactivation --------------------------------------------------------------

def test_a_role_change_takes_effect_on_the_next_request(admin_client, worker, covering_org):
    OnCall.objects.create(organization=covering_org, user=worker, tier=1)
    client = Client()
    client.force_login(worker)
    assert client.get("/")["Location"] == "/feed/"
    code = worker.membership.code
    response = admin_client.post(f"/users/{code}/", {"role": "cpd_staff", "district": "007", "organization": ""})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and "District 7" in home.content.decode()
    assert client.get("/feed/").status_code == 403
    assert not OnCall.objects.filter(user=worker).exists()  # left the organisation: off its roster
    event = Event.objects.get(action="membership.changed")
    assert event.data["before"]["role"] == "outreach_worker" and event.data["after"]["district"] == "007"


def test_a_scope_that_does_not_fit_the_role_is_refused_beside_the_field(admin_client, worker):
    response = admin_client.post(f"/users/{worker.membership.code}/", {"role": "cpd_staff", "district": "",
                                                                       "organization": ""})
    assert response.status_code == 400
    assert "A CPD role needs a district." in response.context["form"].errors["district"]
    assert Membership.objects.get(user=worker).role == Role.OUTREACH_WORKER


def test_a_deactivated_persons_token_stops_working_and_their_session_ends(admin_client, cpd_user):
    _token, raw = user_token_create(user=cpd_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/incidents/").status_code == 200
    browser = Client()
    browser.force_login(cpd_user)
    assert browser.get("/").status_code == 200

    response = admin_client.post(f"/users/{cpd_user.membership.code}/deactivate/")
    assert response.status_code == 302
    assert api.get("/api/v1/incidents/").status_code == 401
    assert browser.get("/")["Location"].startswith("/accounts/login/")
    cpd_user.refresh_from_db()
    assert not cpd_user.is_active
    assert Client().post("/accounts/login/", {"username": cpd_user.username, "password": "test-password-123"},
                         REMOTE_ADDR="198.51.100.9").status_code == 200  # refused: the form again
    assert Event.objects.filter(action="user.deactivated", data__user=cpd_user.pk, data__sessions=1).exists()

    admin_client.post(f"/users/{cpd_user.membership.code}/reactivate/")
    cpd_user.refresh_from_db()
    assert cpd_user.is_active


def test_an_administrator_cannot_deactivate_or_demote_themselves(admin_client, admin_user):
    code = admin_user.membership.code
    page = admin_client.post(f"/users/{code}/deactivate/", follow=True)
    assert "You cannot deactivate your own account" in page.content.decode()
    demoted = admin_client.post(f"/users/{code}/", {"role": "analyst", "district": "", "organization": ""})
    assert demoted.status_code == 400
    assert "You cannot take away your own administrator role" in demoted.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.membership.role == Role.ADMIN


def test_the_users_page_lists_and_filters_people(admin_client, cpd_user, worker, analyst):
    page = admin_client.get("/users/")
    text = page.content.decode()
    assert page.status_code == 200 and cpd_user.email in text and worker.email in text
    assert 'href="/users/"' in admin_client.get("/").content.decode()  # in the administrator's navigation
    only_cpd = admin_client.get("/users/", {"role": "cpd_staff"}).content.decode()
    assert cpd_user.email in only_cpd and worker.email not in only_cpd
    by_org = admin_client.get("/users/", {"organization": str(worker.membership.organization.code)}).content.decode()
    assert worker.email in by_org and cpd_user.email not in by_org
    unknown = admin_client.get("/users/", {"district": "999"})
    assert "There is no such district." in unknown.content.decode()
    assert Client().get("/users/").status_code == 302
    other = Client()
    other.force_login(analyst)
    assert other.get("/users/").status_code == 403


# --- language -----------------------------------------------------------------------------

def test_a_cpd_member_who_chooses_spanish_gets_the_board_in_spanish(cpd_user):
    client = Client()
    client.force_login(cpd_user)
    assert "District board" in client.get("/board/").content.decode()
    assert client.post("/accounts/security/language/", {"language": "es"}).status_code == 302
    board = client.get("/board/").content.decode()
    assert '<html lang="es">' in board and "Tablero del distrito" in board and "Hoy" in board
    assert Membership.objects.get(user=cpd_user).language == "es"


def test_a_member_who_never_chose_follows_the_browser_and_a_choice_beats_it(cpd_user):
    client = Client()
    client.force_login(cpd_user)
    assert "Tablero del distrito" in client.get("/board/", headers={"accept-language": "es"}).content.decode()
    client.post("/accounts/security/language/", {"language": "en"})
    client.cookies.pop("django_language")  # another device: only the membership knows
    assert "District board" in client.get("/board/", headers={"accept-language": "es"}).content.decode()


def test_someone_without_a_membership_keeps_the_language_they_choose(db):
    superuser = get_user_model().objects.create_superuser(username="root", password="x-long-password-1")
    client = Client()
    client.force_login(superuser)
    client.post("/accounts/security/language/", {"language": "es"})
    assert '<html lang="es">' in client.get("/accounts/security/").content.decode()
