"""What every page sends and shows with production settings (DEBUG off, as under the test
runner): the content security policy and Permissions-Policy, error pages that name nothing
internal, the API reference behind login, `next` parameters that stay on the site, and
sessions that end when left idle."""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from districts.middleware import SEEN_KEY, SINCE_KEY
from districts.models import District
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent
# A script element without src that a browser would run (json_script data is not run).
INLINE_SCRIPT = re.compile(r'<script(?![^>]*\b(?:src=|type="application/json"))[^>]*>', re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
# Rendered for WeasyPrint (the PDF) and for mail, never served as a page.
NOT_WEB_PAGES = {"report_document.html", "report_email.html", "report_email_subject.html"}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


# --- Content security policy and Permissions-Policy ----------------------------------------

def test_settings_run_with_debug_off_under_the_test_runner():
    assert settings.DEBUG is False  # what the tests below see is what production serves


@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/no-such-page/", "/a/junk/"])
def test_every_response_carries_a_csp_without_inline_script_and_a_permissions_policy(client, path):
    response = client.get(path)
    csp = policy(response)
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_or_event_handler():
    """Email bodies aside (mail clients, not the CSP), every template loads its JS from a file."""
    offenders = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        if "messages" in template.parts or template.name in NOT_WEB_PAGES:
            continue
        source = template.read_text()
        if INLINE_SCRIPT.search(source) or INLINE_HANDLER.search(source) or "javascript:" in source:
            offenders.append(str(template.relative_to(BASE_DIR)))
    assert offenders == []


@pytest.fixture
def pilots(reference_data):
    District.objects.filter(number__in=["007"]).update(is_pilot=True)


@pytest.mark.parametrize(("user_fixture", "paths"), [
    ("cpd_user", ["/", "/board/", "/incidents/new/"]),
    ("worker", ["/feed/"]),
    ("supervisor", ["/team/", "/team/channels/", "/team/on-call/"]),
    ("analyst", ["/", "/history/"]),
    ("admin_user", ["/", "/admin/", "/api/docs/", "/administration/", "/administration/organisations/",
                    "/administration/organisations/new/", "/administration/districts/",
                    "/administration/districts/007/pilot/"]),
])
def test_each_roles_pages_render_with_no_inline_script(client, request, pilots, user_fixture, paths):
    client.force_login(request.getfixturevalue(user_fixture))
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        assert not INLINE_SCRIPT.search(page), path
        assert not INLINE_HANDLER.search(page), path
        assert "Content-Security-Policy" in response


# --- Error pages -------------------------------------------------------------------------

def test_a_404_names_no_url_pattern_and_reads_like_the_site(client, cpd_user):
    client.force_login(cpd_user)
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and 'class="topbar"' in page and "css/base.css" in page
    for internal in ("URLconf", "urlpatterns", "cvi_portal", "accounts/login", "admin/", "Traceback"):
        assert internal not in page.replace('href="/accounts/login', ""), internal


def test_a_404_is_in_spanish_for_a_spanish_browser(client):
    page = client.get("/no-such-page/", headers={"accept-language": "es"}).content.decode()
    assert "Página no encontrada" in page


@pytest.mark.urls("tests.error_urls")
def test_a_server_error_shows_nothing_internal(cpd_user):
    client = Client(raise_request_exception=False)
    client.force_login(cpd_user)
    response = client.get("/fails/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page and "css/base.css" in page
    for internal in ("hunter2", "DATABASE_URL", "RuntimeError", "Traceback", "SECRET_KEY", settings.SECRET_KEY):
        assert internal not in page


@pytest.mark.urls("tests.error_urls")
def test_a_server_error_is_in_spanish_for_a_spanish_browser(reference_data):
    client = Client(raise_request_exception=False)
    page = client.get("/fails/", headers={"accept-language": "es"}).content.decode()
    assert "Algo salió mal" in page


def test_a_403_explains_in_the_sites_page_without_the_exceptions_text(client, worker):
    client.force_login(worker)
    response = client.get("/board/")  # the district board is CPD's
    page = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in page and 'class="topbar"' in page
    assert "Your role cannot do this." not in page and "PermissionDenied" not in page


def test_a_request_for_an_unknown_host_gets_the_400_page(client):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Bad request" in page and "evil.example" not in page and "ALLOWED_HOSTS" not in page


def test_a_form_without_its_csrf_token_is_refused_with_the_sites_page(cpd_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cpd_user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "The form has expired" in page and "CSRF" not in page


# --- The API reference -------------------------------------------------------------------

def test_the_api_docs_send_an_anonymous_visitor_to_the_login_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/api/docs/")
    assert client.get("/api/schema/").status_code in (401, 403)


def test_the_api_docs_load_their_script_from_a_file_for_a_signed_in_user(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(page) and "<style" not in page
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', page)[1].replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert client.get("/api/schema/", {"format": "json"}).status_code == 200


@pytest.mark.parametrize(("user_fixture", "linked"), [
    ("admin_user", True), ("cpd_user", False), ("analyst", False), ("commander", False),
])
def test_the_api_reference_is_linked_only_for_administrators(client, request, pilots, user_fixture, linked):
    client.force_login(request.getfixturevalue(user_fixture))
    page = client.get("/").content.decode()
    assert ('href="/api/docs/"' in page) is linked


# --- next parameters ---------------------------------------------------------------------

OFF_SITE = ["//other.host/", "https://other.host/", "/\\other.host/", "http:///other.host/", "javascript:alert(1)",
            "\\\\other.host"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(client, worker, target):
    client.force_login(worker)
    response = client.post("/outreach/language/", {"language": "es", "next": target})
    assert response.status_code == 302 and response["Location"] == "/feed/"


def test_the_language_switch_returns_to_the_page_it_was_on(client, worker):
    client.force_login(worker)
    response = client.post("/outreach/language/", {"language": "en", "next": "/follow-ups/"})
    assert response["Location"] == "/follow-ups/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_assigning_never_redirects_off_site(client, supervisor, englewood, covering_org, target,
                                            django_capture_on_commit_callbacks):
    from tests.workers import incident_notify

    with django_capture_on_commit_callbacks(execute=True):
        notification = incident_notify(district=englewood, organization=covering_org)
    client.force_login(supervisor)
    response = client.post(reverse("responses:assign", args=[notification.code]),
                           {"assignee": "", "next": target})
    assert response.status_code == 302 and response["Location"] == "/team/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_logging_in_never_redirects_off_site(client, cpd_user, target):
    response = client.post(f"/accounts/login/?next={target}",
                           {"username": cpd_user.username, "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


# --- Idle sessions -----------------------------------------------------------------------

def _age(client, *, idle_minutes: float = 0, signed_in_hours: float = 0) -> None:
    session = client.session
    now = int(time.time())
    session[SEEN_KEY] = now - int(idle_minutes * 60)
    session[SINCE_KEY] = now - int(signed_in_hours * 3600) - int(idle_minutes * 60)
    session.save()


@pytest.mark.parametrize("user_fixture", ["cpd_user", "commander", "analyst", "admin_user"])
def test_staff_are_signed_out_after_30_idle_minutes(client, request, pilots, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    assert client.get("/").status_code == 200
    _age(client, idle_minutes=31)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "signed out after 30 minutes without activity" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_within_the_idle_window_stay_signed_in(client, pilots, cpd_user):
    client.force_login(cpd_user)
    client.get("/")
    _age(client, idle_minutes=29)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("user_fixture", ["worker", "supervisor"])
def test_an_outreach_phone_stays_signed_in_for_hours_not_minutes(client, request, user_fixture):
    client.force_login(request.getfixturevalue(user_fixture))
    _age(client, idle_minutes=3 * 60)
    assert client.get("/feed/").status_code == 200
    _age(client, idle_minutes=13 * 60)
    assert client.get("/feed/").status_code == 302


def test_a_sign_in_ends_after_the_absolute_cap_however_active(client, pilots, cpd_user):
    client.force_login(cpd_user)
    client.get("/")
    _age(client, idle_minutes=1, signed_in_hours=12)
    response = client.get("/", follow=True)
    assert "a sign-in lasts at most 12 hours" in response.content.decode()


def test_activity_moves_the_idle_deadline_but_a_background_poll_does_not(client, pilots, cpd_user):
    client.force_login(cpd_user)
    client.get("/")
    _age(client, idle_minutes=20)
    stale = client.session[SEEN_KEY]
    client.get(reverse("notifications:board_live"), {"district": "007"}, headers={"x-requested-with": "fetch"})
    assert client.session[SEEN_KEY] == stale
    client.get("/")
    assert client.session[SEEN_KEY] > stale


def test_logging_in_starts_both_clocks(client, cpd_user):
    client.post("/accounts/login/", {"username": cpd_user.username, "password": PASSWORD})
    session = client.session
    assert abs(session[SINCE_KEY] - time.time()) < 60 and session[SEEN_KEY] == session[SINCE_KEY]


def test_no_session_lasts_14_days():
    assert settings.SESSION_COOKIE_AGE <= 7 * 24 * 3600


def test_every_form_that_posts_carries_the_csrf_token():
    missing = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        for form in re.finditer(r'<form[^>]*method="post"[^>]*>(.*?)</form>', template.read_text(), re.S | re.I):
            if "{% csrf_token %}" not in form.group(1):
                missing.append(f"{template.relative_to(BASE_DIR)}: {form.group(0)[:80]}")
    assert missing == []
