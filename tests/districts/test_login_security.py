"""Signing in: lockouts that cannot lock a real user out, the real client address, password
reset and password rules, two-factor authentication, re-authentication before exports, and
people's API tokens (hashed, expiring, ended by a password change, deactivation and log out
everywhere).

Most of the suite signs in with `client.force_login`, which passes no second factor; the test
settings turn `MFA_ENFORCED` and `EXPORT_REAUTHENTICATION` off for it, and the tests here turn
them on (`enforced`).
"""

import re
import uuid
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from core.client_ip import client_ip
from districts.models import UserToken
from districts.services import token_digest, user_token_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    """Rate-limit counters and used TOTP codes live in Redis: give each test its own key space."""
    settings.CACHES = {name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
                       for name, config in settings.CACHES.items()}
    cache.clear()


@pytest.fixture
def enforced(settings):
    settings.MFA_ENFORCED = True
    settings.EXPORT_REAUTHENTICATION = True
    return settings


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def with_totp(user) -> str:
    """Give `user` an authenticator app (and recovery codes); return the TOTP secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


def login(client: Client, username: str, password: str = PASSWORD, address: str = "198.51.100.7", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


# --- the client address -------------------------------------------------------------------

def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_a_forwarded_header_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []

    assert client_ip(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    # The client forged "1.2.3.4"; the proxy appended the address it really saw.
    assert client_ip(request_from("10.0.0.2", "1.2.3.4, 198.51.100.20")) == "198.51.100.20"
    assert client_ip(request_from("10.0.0.2", "198.51.100.20, 10.0.0.3")) == "198.51.100.20"
    assert client_ip(request_from("203.0.113.9", "1.2.3.4")) == "203.0.113.9"  # not from the proxy
    assert client_ip(request_from("10.0.0.2", "garbage")) == "10.0.0.2"


# --- lockouts -----------------------------------------------------------------------------

def test_five_wrong_passwords_lock_that_username_from_that_address_only(cpd_user, worker, settings):
    settings.AXES_FAILURE_LIMIT = 5
    attacker = Client()
    statuses = [login(attacker, "dana_cpd", f"guess-{i}").status_code for i in range(5)]

    assert statuses == [200, 200, 200, 200, 429]
    locked = login(attacker, "dana_cpd")  # even the right password, from there
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in attacker.session
    # The real user, elsewhere, still gets in; so does another user from the attacker's address.
    assert login(Client(), "dana_cpd", address="203.0.113.50").status_code == 302
    assert login(Client(), "tasha_worker", address="198.51.100.7").status_code == 302


def test_a_forged_forwarded_header_does_not_buy_more_guesses(cpd_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [login(Client(), "dana_cpd", f"guess-{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code
                for i in range(4)]

    assert statuses == [200, 200, 429, 429]


def test_behind_a_trusted_proxy_lockouts_follow_the_real_client(cpd_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for _ in range(2):
        login(Client(), "dana_cpd", "guess", address="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.30")

    assert login(Client(), "dana_cpd", address="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.30").status_code == 429
    # Another client behind the same proxy is not the attacker.
    assert login(Client(), "dana_cpd", address="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.31").status_code == 302


def test_an_address_guessing_many_usernames_is_locked_on_its_own(cpd_user, worker, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 4
    for name in ["a", "b", "c", "d"]:
        login(Client(), f"nobody-{name}", "guess")

    assert login(Client(), "tasha_worker").status_code == 429
    assert login(Client(), "tasha_worker", address="203.0.113.50").status_code == 302


def test_the_api_token_endpoint_shares_the_lockout_and_answers_json(cpd_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient(REMOTE_ADDR="198.51.100.8")
    statuses = [client.post(TOKEN_URL, {"username": "dana_cpd", "password": f"g{i}"}, format="json").status_code
                for i in range(3)]
    locked = client.post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD}, format="json")

    assert statuses == [400, 400, 429]
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.json()["detail"]
    elsewhere = APIClient(REMOTE_ADDR="203.0.113.51")
    assert elsewhere.post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD}, format="json").status_code == 200


def test_administrators_see_failed_logins(cpd_user, admin_user, client):
    login(Client(), "dana_cpd", "guess")
    client.force_login(admin_user)

    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "dana_cpd" in page.content.decode()
    assert AccessAttempt.objects.get(username="dana_cpd").ip_address == "198.51.100.7"
    assert "guess" not in str(AccessAttempt.objects.values_list("post_data", flat=True))


def test_the_admin_login_page_sends_people_to_the_portals_login(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- password reset and password rules ----------------------------------------------------

def test_password_reset_gives_the_same_answer_for_known_and_unknown_addresses(client, worker):
    known = client.post("/accounts/password_reset/", {"email": "tasha_worker@example.org"})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["tasha_worker@example.org"], ["nobody@example.org"]]
    assert mail.outbox[0].subject == mail.outbox[1].subject
    assert "/accounts/reset/" in mail.outbox[0].body and "/accounts/reset/" not in mail.outbox[1].body


def test_password_reset_is_limited_per_email_address_whatever_the_address(client, worker, settings):
    settings.PASSWORD_RESET_LIMITS = (100, 2, 3600)
    for email in ["tasha_worker@example.org", "nobody@example.org"]:
        statuses = [client.post("/accounts/password_reset/", {"email": email},
                                REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(3)]
        assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 4  # two for each address, known or not


def test_password_reset_is_limited_per_address(client, worker, settings):
    settings.PASSWORD_RESET_LIMITS = (2, 100, 3600)
    statuses = [client.post("/accounts/password_reset/", {"email": f"x{i}@example.org"}).status_code
                for i in range(3)]

    assert statuses == [302, 302, 429]
    page = client.post("/accounts/password_reset/", {"email": "tasha_worker@example.org"})
    assert "Too many password reset requests" in page.content.decode()
    assert [m.to for m in mail.outbox] == [["x0@example.org"], ["x1@example.org"]]


@pytest.mark.parametrize("password", ["short-pass1", "123456789012345", "password1234", "tasha_worker12"])
def test_weak_passwords_are_refused(worker, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=worker)


def test_a_long_uncommon_password_is_accepted(worker):
    validate_password("englewood-halsted-63rd", user=worker)


# --- two-factor authentication ------------------------------------------------------------

def test_a_cpd_user_without_a_second_factor_is_sent_to_set_one_up(enforced, cpd_user, client):
    assert login(client, "dana_cpd")["Location"] == "/"

    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert client.get("/incidents/new/").status_code == 302
    assert client.get("/api/v1/incidents/").status_code == 403
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200 and "Your role needs two-factor authentication" in page.content.decode()


def test_setting_up_an_authenticator_app_opens_the_portal(enforced, cpd_user, client):
    login(client, "dana_cpd")
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # the password just typed counts as recent: no second prompt
    secret = page.context["form"].secret

    response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=cpd_user, type=Authenticator.Type.TOTP).exists()
    assert client.get("/").status_code == 200


def test_a_user_with_an_authenticator_is_asked_for_its_code_before_being_signed_in(enforced, cpd_user, client):
    secret = with_totp(cpd_user)

    response = login(client, "dana_cpd")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")

    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_recovery_code_signs_in_once(enforced, cpd_user):
    with_totp(cpd_user)
    code = RecoveryCodes(Authenticator.objects.get(user=cpd_user, type=Authenticator.Type.RECOVERY_CODES)
                         ).get_unused_codes()[0]
    first, second = Client(), Client()
    login(first, "dana_cpd")
    login(second, "dana_cpd")

    assert first.post("/accounts/2fa/authenticate/", {"code": code})["Location"] == "/"
    assert second.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200
    assert "_auth_user_id" not in second.session


def test_a_session_that_skipped_the_second_factor_is_signed_out(enforced, cpd_user, client):
    with_totp(cpd_user)
    client.force_login(cpd_user)  # as the admin's old login form or any other way round would

    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_outreach_is_offered_a_second_factor_but_not_made_to(enforced, worker, client):
    login(client, "tasha_worker")

    assert client.get("/", follow=True).status_code == 200
    page = client.get("/accounts/security/").content.decode()
    assert "Manage two-factor authentication" in page and "Recommended" in page


def test_everyone_finds_the_account_page_in_the_navigation(worker, client):
    client.force_login(worker)

    assert 'href="/accounts/security/"' in client.get("/", follow=True).content.decode()


@pytest.mark.parametrize("path", ["/accounts/2fa/", "/accounts/2fa/totp/activate/", "/accounts/2fa/webauthn/",
                                  "/accounts/2fa/webauthn/add/", "/accounts/reauthenticate/",
                                  "/accounts/security/", "/accounts/password_change/"])
def test_the_account_pages_exist_in_spanish(worker, client, path):
    login(client, "tasha_worker")
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="es")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="es"' in html and "CVI" in html  # the portal's own layout
    assert re.search(r"autenticación|Contraseña|contraseña|Cuenta", html), html[:2000]


def test_the_api_token_needs_the_second_factor_of_a_user_who_has_one(enforced, cpd_user):
    secret = with_totp(cpd_user)
    client = APIClient()

    missing = client.post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD}, format="json")
    assert missing.status_code == 400 and "code" in missing.json()
    ok = client.post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD, "code": totp_code(secret)},
                     format="json")
    assert ok.status_code == 200 and ok.json()["token"].startswith("cvu_")


def test_a_role_that_needs_a_second_factor_gets_no_api_token_without_one(enforced, cpd_user, worker):
    refused = APIClient().post(TOKEN_URL, {"username": "dana_cpd", "password": PASSWORD}, format="json")

    assert refused.status_code == 403 and "two-factor" in refused.json()["detail"]
    assert APIClient().post(TOKEN_URL, {"username": "tasha_worker", "password": PASSWORD},
                            format="json").status_code == 200


# --- re-authentication before exports -----------------------------------------------------

@pytest.mark.parametrize(("who", "url"), [("analyst", "/history/?_export=csv"),
                                          ("analyst", "/dashboard/?_export=csv"),
                                          ("supervisor", "/team/export/?format=csv")])
def test_an_export_asks_for_the_password_again_after_ten_minutes(enforced, request, client, who, url):
    user = request.getfixturevalue(who)
    with_totp(user)
    client.force_login(user)
    session = client.session
    session["cvi_mfa_enrolling"] = True  # stands for a passed second factor: this test is about the export
    session.save()

    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    confirmed = client.post(response["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302 and confirmed["Location"] == url
    export = client.get(confirmed["Location"])
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")


def test_an_export_right_after_logging_in_needs_no_second_prompt(enforced, analyst, client):
    secret = with_totp(analyst)
    login(client, "priya_analyst")
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})

    assert client.get("/history/?_export=csv")["Content-Type"].startswith("text/csv")


# --- people's API tokens ------------------------------------------------------------------

def issue(username: str, address: str = "198.51.100.9") -> dict:
    response = APIClient(REMOTE_ADDR=address).post(TOKEN_URL, {"username": username, "password": PASSWORD},
                                                   format="json")
    assert response.status_code == 200, response.content
    return response.json()


def calls(raw: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client.get("/api/v1/hospitals/").status_code


def test_a_user_token_is_stored_hashed_and_expires_after_the_configured_days(worker, settings):
    settings.USER_TOKEN_LIFETIME_DAYS = 30
    body = issue("tasha_worker")

    token = UserToken.objects.get(user=worker)
    assert token.key_hash == token_digest(body["token"])
    assert not UserToken.objects.filter(key_hash=body["token"]).exists()
    expires = timezone.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29, hours=23) < expires - timezone.now() <= timedelta(days=30)
    assert calls(body["token"]) == 200


def test_an_expired_user_token_is_refused(worker):
    _, raw = user_token_create(user=worker)
    UserToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert calls(raw) == 401


def test_a_password_change_ends_the_users_tokens(worker):
    _, raw = user_token_create(user=worker)
    worker.set_password("a-brand-new-passphrase")
    worker.save()

    assert calls(raw) == 401


def test_deactivating_a_user_ends_their_tokens(worker):
    _, raw = user_token_create(user=worker)
    worker.is_active = False
    worker.save()

    assert calls(raw) == 401


def test_log_out_everywhere_ends_every_session_and_token(worker):
    _, raw = user_token_create(user=worker)
    phone, laptop = Client(), Client()
    login(phone, "tasha_worker")
    login(laptop, "tasha_worker", address="203.0.113.60")

    response = laptop.post("/accounts/security/logout-everywhere/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert calls(raw) == 401
    assert phone.get("/")["Location"].startswith("/accounts/login/")
    assert laptop.get("/")["Location"].startswith("/accounts/login/")


def test_log_out_everywhere_needs_a_post_and_a_login(worker, client):
    assert client.post("/accounts/security/logout-everywhere/")["Location"].startswith("/accounts/login/")
    client.force_login(worker)
    assert client.get("/accounts/security/logout-everywhere/").status_code == 405


def test_administrators_never_see_a_second_factors_secret_or_a_tokens_key(admin_user, cpd_user, client):
    secret = with_totp(cpd_user)
    _, raw = user_token_create(user=cpd_user)
    client.force_login(admin_user)
    totp = Authenticator.objects.get(user=cpd_user, type=Authenticator.Type.TOTP)
    token = UserToken.objects.get(user=cpd_user)

    pages = [client.get(f"/admin/mfa/authenticator/{totp.pk}/change/"),
             client.get(f"/admin/districts/usertoken/{token.pk}/change/"),
             client.get("/admin/mfa/authenticator/"), client.get("/admin/districts/usertoken/")]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    for page in pages:
        assert secret not in page.content.decode() and raw not in page.content.decode()
        assert token.key_hash not in page.content.decode()


def test_an_outreach_worker_who_adds_an_authenticator_stays_signed_in_and_needs_it_next_time(enforced, worker,
                                                                                             client):
    login(client, "tasha_worker")
    secret = client.get("/accounts/2fa/totp/activate/").context["form"].secret
    client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})

    assert client.get("/")["Location"] == "/feed/"
    assert "_auth_user_id" in client.session
    assert login(Client(), "tasha_worker")["Location"] == "/accounts/2fa/authenticate/"


def account_paths() -> list[str]:
    """Every page under /accounts/ that takes no argument, from the URL configuration itself."""
    resolver = get_resolver()
    paths = set()
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        for possibility, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(name):
            for route, params in possibility:
                if not params and route.startswith("accounts/"):
                    paths.add("/" + route)
    return sorted(paths)


@pytest.mark.parametrize("has_totp", [False, True])
def test_no_account_page_is_a_server_error_with_or_without_a_second_factor(worker, client, has_totp):
    if has_totp:
        with_totp(worker)
    login(client, "tasha_worker")
    paths = account_paths()

    assert "/accounts/2fa/recovery-codes/" in paths and "/accounts/2fa/webauthn/" in paths
    statuses = {path: client.get(path).status_code for path in paths if "logout" not in path}
    assert all(status < 500 for status in statuses.values()), statuses


def test_signing_in_again_and_again_keeps_only_the_ten_newest_tokens_alive(worker):
    raws = [user_token_create(user=worker)[1] for _ in range(11)]

    assert calls(raws[0]) == 401
    assert calls(raws[1]) == 200 and calls(raws[-1]) == 200
    assert UserToken.objects.filter(user=worker, revoked_at__isnull=True).count() == 10
