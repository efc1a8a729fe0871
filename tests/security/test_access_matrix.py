"""The access matrix: every URL pattern and every API operation, requested as every role (and
anonymously), in and out of the caller's scope, against ONE declared table of outcomes.

- `PAGES` has a row per URL pattern (its name, namespaced, or its route when it has none);
  `admin_row` declares the Django admin's patterns as one group. A pattern without a row fails
  `test_every_url_pattern_has_a_declared_row`, naming it: add its row to `PAGES`.
- `API` has a row per OpenAPI operation (method and path, as drf-spectacular generates them); a
  new operation without one fails `test_every_api_operation_has_a_declared_row`.
- `third_party_row` declares third-party apps' pages (django-allauth's) as one group.
- A cell is one outcome (`OK`, `LOGIN`, `DENIED`, …), a frozenset of acceptable ones (groups
  only), or, for a row about an object, a pair: what
  the role gets for incident/notification/organisation A (the 7th District's, Public Equity's)
  and for B (the 11th District's, the other worker's organisation's). See conftest.py for the world.

Requests that write are sent with an empty or invalid body, so a permitted caller gets a 400 (or
a harmless action) and the shared world stays as it was for the next row.

The same walk is the canary search of pages, exports and API responses: Public Equity's records
hold canaries (tests/security/canaries.py), and every response to a caller outside Public Equity
(CPD, analysts, administrators, another organisation, anonymous) must carry none of them; and
nothing an analyst gets may carry incident A's exact point or who entered it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from tests.security.canaries import (
    EXPORTS,
    analyst_unseen,
    found,
    organisation_canaries,
    plant_organisation_records,
    response_text,
)
from tests.security.conftest import ROLES, World, build_world, sign_in

pytestmark = pytest.mark.django_db

OK, LOGIN, REDIRECT, BAD, UNAUTHENTICATED, DENIED, MISSING, METHOD, UNAVAILABLE = (
    "ok", "login", "redirect", "bad", "unauthenticated", "denied", "missing", "method", "unavailable")
STATUS_OUTCOME = {200: OK, 201: OK, 202: OK, 204: OK, 400: BAD, 401: UNAUTHENTICATED, 403: DENIED, 404: MISSING,
                  405: METHOD, 503: UNAVAILABLE}


def outcome(response) -> str:
    """A response as one outcome class; a redirect to a login page is LOGIN, any other REDIRECT."""
    if response.status_code in (301, 302, 303, 307, 308):
        return LOGIN if "/login/" in response["Location"].split("?")[0] else REDIRECT
    return STATUS_OUTCOME.get(response.status_code, str(response.status_code))


@dataclass(frozen=True)
class Row:
    method: str
    url: Callable[[World, str | None], str]
    expect: dict
    data: dict | None = None

    @property
    def scoped(self) -> bool:
        return any(isinstance(cell, tuple) for cell in self.expect.values())


def row(method: str, url, *, data=None, anonymous=LOGIN, others=DENIED, **roles) -> Row:
    """A row: `roles` name the cells that differ from `others` (the default for signed-in roles)."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    expect = {role: roles.get(role, others) for role in ROLES}
    expect["anonymous"] = anonymous
    return Row(method=method, url=url if callable(url) else (lambda w, o, url=url: url), expect=expect, data=data)


def of(attr: str, template: str):
    """A URL about object A or B of the world: `of("incident", "/incidents/{}/")`."""
    return lambda w, o: template.format(getattr(w, f"{attr}_{o}").code)


def get(url, **kw) -> Row:
    return row("get", url, **kw)


def post(url, **kw) -> Row:
    return row("post", url, **kw)


CPD = ("cpd_staff", "cpd_commander")
OUTREACH = ("outreach_worker", "outreach_supervisor", "other_worker")
EVERYONE_SIGNED_IN = (*CPD, *OUTREACH, "analyst", "admin")


def each(roles, cell) -> dict:
    return dict.fromkeys(roles, cell)


NO_SUCH = "00000000-0000-4000-8000-000000000000"

PAGES: dict[str, Row] = {
    # --- signing in and out, public pages ------------------------------------------------
    "home": get("/", others=OK, **each(OUTREACH, REDIRECT)),  # outreach: to the feed
    "healthz": get("/healthz", anonymous=OK, others=OK),
    "readyz": get("/readyz", anonymous=OK, others=OK),
    "login": get("/accounts/login/", anonymous=OK, others=REDIRECT),
    "account_login": get("/accounts/login/", anonymous=OK, others=REDIRECT),  # the same page, allauth's name
    "password_change": get("/accounts/password_change/", others=OK),
    "account_change_password": get("/accounts/password_change/", others=OK),  # the same page, allauth's name
    "account": get("/accounts/security/", others=OK),
    # A valid choice changes the caller's language: an invalid one sends back with a message.
    "account_language": post("/accounts/security/language/", data={"language": "xx"}, others=REDIRECT),
    # allauth's page, pinned: exports send a signed-in user here to confirm the password again.
    "account_reauthenticate": get("/accounts/reauthenticate/", others=OK),
    "password_change_done": get("/accounts/password_change/done/", others=OK),
    "password_reset": get("/accounts/password_reset/", anonymous=OK, others=OK),
    "password_reset_done": get("/accounts/password_reset/done/", anonymous=OK, others=OK),
    "password_reset_confirm": get("/accounts/reset/MQ/not-a-token/", anonymous=OK, others=OK),
    "password_reset_complete": get("/accounts/reset/done/", anonymous=OK, others=OK),
    "set_language": post("/i18n/setlang/", data={"language": "es", "next": "/"}, anonymous=REDIRECT,
                         others=REDIRECT),
    # --- coming back from a message: signed or checked, no login ------------------------
    # The invitation link: public, but only a valid token opens it (one plain page for any other).
    "districts:invitation_accept": get("/invitation/not-a-token/", anonymous=MISSING, others=MISSING),
    "notifications:ack_link": get(lambda w, o: f"/a/{w.ack_token_a}/", anonymous=OK, others=OK),
    "notifications:sms_inbound": post("/sms/inbound/", data={"From": "+13125550100", "Body": "1"},
                                      anonymous=DENIED),
    "notifications:sms_status": post("/sms/status/", data={"MessageSid": "SM1", "MessageStatus": "delivered"},
                                     anonymous=DENIED),
    # --- CPD: entry, incident page, board -----------------------------------------------
    "notifications:incident_new": get("/incidents/new/", cpd_staff=OK, cpd_commander=OK, admin=OK),
    "notifications:locate": get("/incidents/locate/", cpd_staff=OK, cpd_commander=OK, admin=OK),
    "notifications:incident_detail": get(of("incident", "/incidents/{}/"), **each(CPD, (OK, MISSING)),
                                         analyst=OK, admin=OK),
    "notifications:incident_live": get(of("incident", "/incidents/{}/live/"), **each(CPD, (OK, MISSING)),
                                       analyst=OK, admin=OK),
    "notifications:incident_correct": get(of("incident", "/incidents/{}/correct/"), **each(CPD, (OK, MISSING)),
                                          admin=OK),
    "notifications:board": get("/board/", **each(CPD, OK), analyst=OK, admin=OK),
    "notifications:board_live": get("/board/live/", **each(CPD, OK), analyst=OK, admin=OK),
    # --- outreach -------------------------------------------------------------------------
    "responses:feed": get("/feed/", **each(OUTREACH, OK)),
    "responses:incident": get(of("notification", "/n/{}/"), outreach_worker=(OK, MISSING),
                              outreach_supervisor=(OK, MISSING), other_worker=(MISSING, OK)),
    # The phone's forms: a refused tap goes back to the incident with a message (REDIRECT).
    "responses:status": post(of("notification", "/n/{}/status/"), outreach_worker=(REDIRECT, MISSING),
                             outreach_supervisor=(REDIRECT, MISSING), other_worker=(MISSING, REDIRECT)),
    "responses:correct": post(of("notification", "/n/{}/correct/"), outreach_worker=(REDIRECT, MISSING),
                              outreach_supervisor=(REDIRECT, MISSING), other_worker=(MISSING, REDIRECT)),
    "responses:respond": get(of("notification", "/n/{}/respond/"), outreach_worker=(OK, MISSING),
                             outreach_supervisor=(OK, MISSING), other_worker=(MISSING, OK)),
    "responses:assign": post(of("notification", "/n/{}/assign/"), outreach_supervisor=(REDIRECT, MISSING)),
    "responses:followups": get("/follow-ups/", **each(OUTREACH, OK)),
    "responses:language": post("/outreach/language/", data={"language": "xx"}, **each(OUTREACH, REDIRECT)),
    "responses:offline": get("/outreach/offline/", **each(OUTREACH, OK)),
    "responses:sync": post("/outreach/sync/", **each(OUTREACH, BAD)),
    "responses:push_subscribe": post("/outreach/push/", **each(OUTREACH, BAD)),
    "responses:service_worker": get("/sw.js", anonymous=OK, others=OK),
    # --- the organisation's supervisor ----------------------------------------------------
    # --- the Professional Understanding: protocols, the directory, onboarding ------------------
    "districts:directory": get("/directory/", others=OK, **each(CPD, REDIRECT)),  # CPD: their district's
    "districts:directory_district": get("/directory/007/", others=OK),
    "protocols:documents": get("/protocols/", others=OK),
    "protocols:document": get("/protocols/common-vision/", others=OK),
    "protocols:document_version": get("/protocols/common-vision/v1/", others=OK),
    "protocols:document_history": get("/protocols/common-vision/history/", others=OK),
    "protocols:document_diff": get("/protocols/common-vision/diff/", others=BAD),  # one version: nothing to compare
    "protocols:acknowledge": post("/protocols/common-vision/acknowledge/", others=BAD),
    "protocols:document_create": get("/protocols/new/", admin=OK),
    "protocols:version_create": get("/protocols/common-vision/publish/", admin=OK),
    "playbooks:list": get("/protocols/playbooks/", admin=OK),
    "playbooks:new": get("/protocols/playbooks/new/", admin=OK),
    "playbooks:edit": get("/protocols/playbooks/no-such-playbook/", admin=MISSING),
    "playbooks:places": get("/protocols/places/", admin=OK),
    "playbooks:place_remove": post("/protocols/places/00000000-0000-4000-8000-000000000000/remove/", admin=MISSING),
    # --- administrators' configuration pages (districts.views_config) -----------------------
    "districts:administration": get("/administration/", admin=OK),
    "districts:organizations": get("/administration/organisations/", admin=OK),
    "districts:organization_new": get("/administration/organisations/new/", admin=OK),
    "districts:organization_edit": get(lambda w, o: f"/administration/organisations/{w.organization_a.code}/",
                                       admin=OK),
    # Empty bodies: no place chosen (400); no such coverage (404).
    "districts:organization_coverage_add": post(
        lambda w, o: f"/administration/organisations/{w.organization_a.code}/coverage/add/", admin=BAD),
    "districts:organization_coverage_remove": post(
        lambda w, o: f"/administration/organisations/{w.organization_a.code}/coverage/remove/", admin=MISSING),
    "districts:district_list": get("/administration/districts/", admin=OK),
    # GET: the confirmation page; an empty POST is refused and changes nothing.
    "districts:district_pilot": get("/administration/districts/007/pilot/", admin=OK),
    "protocols:onboarding": get("/onboarding/", **each((*CPD, *OUTREACH), OK)),
    "protocols:onboarding_step_done": post("/onboarding/steps/00000000-0000-4000-8000-000000000000/done/",
                                           **each((*CPD, *OUTREACH), MISSING)),
    "protocols:onboarding_check": post("/onboarding/steps/00000000-0000-4000-8000-000000000000/check/",
                                       **each((*CPD, *OUTREACH), MISSING)),
    "protocols:onboarding_sign_off": post("/onboarding/sign-off/", **each((*CPD, *OUTREACH), BAD)),
    "protocols:onboarding_team": get("/onboarding/team/", admin=OK, cpd_commander=OK),
    "responses:team": get("/team/", outreach_supervisor=OK),
    "responses:access_log": get("/team/access-log/", outreach_supervisor=OK),
    # The organisation's own records, notes included: its supervisor only (canary search: nobody else).
    "responses:records_export": get("/team/export/?format=csv", outreach_supervisor=OK),
    "responses:oncall": get("/team/on-call/", outreach_supervisor=OK),
    "responses:oncall_add": post("/team/on-call/add/", outreach_supervisor=BAD),
    "responses:oncall_remove": post("/team/on-call/remove/", outreach_supervisor=MISSING),  # no such entry
    "responses:channels": get("/team/channels/", outreach_supervisor=OK),
    "responses:policy_set": post("/team/channels/policy/", outreach_supervisor=BAD),
    "responses:channel_add": post("/team/channels/add/", outreach_supervisor=BAD),
    "responses:channel_update": post(of("channel", "/team/channels/{}/"), outreach_supervisor=(REDIRECT, MISSING)),
    "responses:consent": get("/team/consent/", outreach_supervisor=OK),
    "responses:transparency": get("/team/transparency/", outreach_supervisor=OK),
    # --- the administrator's people pages (an unknown person: 404 for the administrator) -----
    "districts:users": get("/users/", admin=OK),
    "districts:user_invite": get("/users/invite/", admin=OK),
    "districts:user": get(lambda w, o: f"/users/{w.users['cpd_staff'].membership.code}/", admin=OK),
    "districts:user_deactivate": post(f"/users/{NO_SUCH}/deactivate/", admin=MISSING),
    "districts:user_reactivate": post(f"/users/{NO_SUCH}/reactivate/", admin=MISSING),
    "districts:invitation_resend": post(f"/users/{NO_SUCH}/invitation/resend/", admin=MISSING),
    "districts:invitation_cancel": post(f"/users/{NO_SUCH}/invitation/cancel/", admin=MISSING),
    # --- the monthly review ---------------------------------------------------------------
    "reviews:history": get("/history/", **each(CPD, OK), analyst=OK),
    "reviews:dashboard": get("/dashboard/", cpd_commander=OK, outreach_supervisor=OK, analyst=OK),
    "reviews:meetings": get("/reviews/", **each(CPD, OK), analyst=OK),
    "reviews:meeting_create": post("/reviews/new/", cpd_commander=BAD, analyst=BAD),
    "reviews:meeting": get(of("review", "/reviews/{}/"), **each(CPD, (OK, MISSING)), analyst=OK),
    "reviews:meeting_update": post(of("review", "/reviews/{}/details/"), cpd_staff=(DENIED, DENIED),
                                   cpd_commander=(BAD, MISSING), analyst=BAD),
    "reviews:meeting_theme_add": post(of("review", "/reviews/{}/themes/"), cpd_commander=(BAD, MISSING),
                                      analyst=BAD),
    "reviews:meeting_item_add": post(of("review", "/reviews/{}/items/"), cpd_commander=(BAD, MISSING),
                                     analyst=BAD),
    "reviews:meeting_item_status": post(lambda w, o: f"/reviews/{getattr(w, f'review_{o}').code}/items/"
                                        f"{getattr(w, f'item_{o}').code}/status/",
                                        cpd_commander=(REDIRECT, MISSING), analyst=REDIRECT),
    "reviews:meeting_attendee_add": post(of("review", "/reviews/{}/attendance/"), cpd_commander=(BAD, MISSING),
                                         analyst=BAD),
    "reviews:reports": get("/reports/", **each(CPD, OK), analyst=OK),
    "reviews:report_publish": post("/reports/publish/", data={"month": "not-a-month"}, cpd_commander=BAD,
                                   analyst=BAD),
    "reviews:report_version": get(of("report", "/reports/versions/{}.pdf"), **each(CPD, (OK, MISSING)),
                                  analyst=OK),
    "reviews:report": get(lambda w, o: f"/reports/{w.report_a.month:%Y-%m}/?district={'007' if o == 'a' else '015'}",
                          **each(CPD, (OK, DENIED)), analyst=OK),
    "reviews:report_pdf": get("/reports/not-a-month/report.pdf", **each(CPD, BAD), analyst=BAD),
    # --- the API's reference; the API's operations are the `API` table -------------------
    "api-schema": get("/api/schema/", anonymous=UNAUTHENTICATED, others=OK),
    "api-docs": get("/api/docs/", anonymous=LOGIN, others=OK),
    "api/": get("/api/no-such-thing/", anonymous=MISSING, others=MISSING),
    # --- last: they change the world for the rows after them --------------------------------
    "reviews:meeting_close": post(of("review", "/reviews/{}/close/"), cpd_commander=(REDIRECT, MISSING),
                                  analyst=REDIRECT),
    "responses:drill": post("/team/channels/drill/", outreach_supervisor=REDIRECT),
    "logout_everywhere": post("/accounts/security/logout-everywhere/", anonymous=LOGIN, others=LOGIN),
    "logout": post("/accounts/logout/", anonymous=LOGIN, others=LOGIN),
    "account_logout": post("/accounts/logout/", anonymous=LOGIN, others=LOGIN),  # the same, allauth's name
}

# The Django admin, as one group: the administrator reads configuration; nobody else gets past its
# login; organisation-only models are not in it at all (ARCHITECTURE.md: never an organisation's
# private records, in the portal or in the Django admin).
ORG_ONLY_APPS = {"responses"}
ADMIN_ONLY = dict.fromkeys((*CPD, *OUTREACH, "analyst"), LOGIN)  # everyone but the administrator


def _first(model):
    return model._default_manager.order_by("pk").first()


def _admin_object_url(model, suffix: str):
    def url(w, o):
        obj = _first(model)
        return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{obj.pk if obj else 0}/{suffix}"
    return url


def admin_row(name: str, route: str) -> Row | None:
    """The row for a Django admin pattern (named `admin:…`, or unnamed under `admin/`), or None."""
    if not (name or "").startswith("admin:") and not route.startswith("admin/"):
        return None
    fixed = {
        "admin:index": get("/admin/", anonymous=LOGIN, **ADMIN_ONLY, admin=OK),
        # The admin's own login sends everyone to the portal's (districts.auth: one sign-in, with MFA).
        "admin:login": get("/admin/login/", anonymous=LOGIN, others=DENIED, admin=REDIRECT),
        # Logging out is a POST: the administrator's GET is refused; anyone else is sent away first.
        "admin:logout": get("/admin/logout/", anonymous=REDIRECT, others=REDIRECT, admin=METHOD),
        "admin:password_change": get("/admin/password_change/", **ADMIN_ONLY, admin=OK),
        "admin:password_change_done": get("/admin/password_change/done/", **ADMIN_ONLY, admin=OK),
        "admin:autocomplete": get("/admin/autocomplete/", **ADMIN_ONLY, admin=DENIED),
        "admin:jsi18n": get("/admin/jsi18n/", **ADMIN_ONLY, admin=OK),
        "admin:view_on_site": get(lambda w, o: f"/admin/r/{ContentType.objects.get_for_model(w.incident_a).pk}/"
                                  f"{w.incident_a.pk}/", **ADMIN_ONLY, admin=MISSING),
        "admin:app_list": get("/admin/districts/", **ADMIN_ONLY, admin=OK),
    }
    if name in fixed:
        return fixed[name]
    if route == "admin/(?P<url>.*)$":
        return get("/admin/no-such-page/", **ADMIN_ONLY, admin=MISSING)
    for model in admin.site._registry:
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if not route.startswith(base):
            continue
        readable = model._meta.app_label not in ORG_ONLY_APPS
        suffix = route.removeprefix(base)
        model_admin = admin.site._registry[model]
        if suffix == "":
            url = f"/{base}"
        elif suffix == "add/":
            url = f"/{base}add/"
        elif suffix == "<path:object_id>/":  # the old change URL: redirects to the new one
            return get(_admin_object_url(model, ""), **ADMIN_ONLY, admin=REDIRECT if readable else MISSING)
        elif suffix.startswith("<path:object_id>/") or suffix == "<id>/password/":
            url = _admin_object_url(model, suffix.split("/", 1)[1])
            if readable and _first(model) is None:
                # A model the world has no row of (add one to conftest.build_world): the admin
                # sends the administrator back to its index saying so, unless a row appears during
                # the walk (allauth writes a user's email address when they sign in; an anonymous
                # forged link, an hourly refusal count, which its admin refuses to delete).
                refused = suffix.endswith("/delete/") and not _superuser_may(model_admin.has_delete_permission)
                return get(url, **ADMIN_ONLY, admin=frozenset({REDIRECT, DENIED if refused else OK}))
        else:
            return None
        expected = OK if readable else MISSING
        if readable and ((suffix == "add/" and not _superuser_may(model_admin.has_add_permission))
                         or (suffix.endswith("/delete/") and not _superuser_may(model_admin.has_delete_permission))):
            expected = DENIED  # append-only models (the audit trail) refuse even the administrator
        return get(url, **ADMIN_ONLY, admin=expected)
    return None


def _superuser_may(has_permission) -> bool:
    """Whether the admin lets a superuser do this to the model (append-only ones refuse)."""
    class Superuser:
        is_active = is_staff = is_superuser = True

        def has_perm(self, perm, obj=None):
            return True

    class Request:
        user = Superuser()

    return has_permission(Request())


# Third-party apps' own pages (django-allauth's sign-in and two-factor pages, under /accounts/),
# as one group: what each answers is the library's to decide, so a cell accepts any answer but a
# server error; the canary search still reads every one of them. Give a page its own row in
# PAGES (by name) to pin its outcome per role.
THIRD_PARTY = ("allauth.",)
ANY_ANSWER = frozenset({OK, LOGIN, REDIRECT, BAD, DENIED, MISSING, METHOD})


def url_for_route(route: str) -> str:
    """A concrete URL for a route: each converter or named group filled with a harmless value."""
    url = route.removeprefix("^").removesuffix("$").replace("\\", "")
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "x1", url)
    url = re.sub(r"<int:\w+>", "1", url)
    url = re.sub(r"<uuid:\w+>", "00000000-0000-4000-8000-000000000000", url)
    url = re.sub(r"<(?:\w+:)?\w+>", "x1", url)
    return "/" + url


def third_party_row(route: str, module: str) -> Row | None:
    if not module.startswith(THIRD_PARTY):
        return None
    return get(url_for_route(route), anonymous=ANY_ANSWER, others=ANY_ANSWER)


# --- the API's operations ------------------------------------------------------------------

def _api(template: str):
    """A path of the OpenAPI schema with its `{code}`/`{number}`/`{month}` for object A or B."""
    def url(w, o):
        o = o or "a"
        incident, notification, organization = (getattr(w, f"incident_{o}"), getattr(w, f"notification_{o}"),
                                                getattr(w, f"organization_{o}"))
        code = {"incidents": incident.code, "notifications": notification.code,
                "organizations": organization.code}.get(template.split("/")[3], "")
        return template.format(code=code, number=incident.district.number, month=f"{incident.occurred_at:%Y-%m}")
    return url


API_ANON = {"anonymous": UNAUTHENTICATED}
INCIDENT_READERS = {**each(CPD, (OK, MISSING)), "analyst": OK, "admin": OK}
INCIDENT_WRITERS = {**each(CPD, (BAD, MISSING)), "admin": BAD}
API: dict[tuple[str, str], Row] = {
    ("post", "/api/v1/auth/token/"): post(_api("/api/v1/auth/token/"), anonymous=BAD, others=BAD),
    ("get", "/api/v1/districts/"): get(_api("/api/v1/districts/"), anonymous=UNAUTHENTICATED, others=OK),
    ("get", "/api/v1/districts/{number}/"): get(_api("/api/v1/districts/{number}/"), anonymous=UNAUTHENTICATED,
                                                others=OK),
    ("get", "/api/v1/organizations/"): get(_api("/api/v1/organizations/"), anonymous=UNAUTHENTICATED, others=OK),
    ("get", "/api/v1/hospitals/"): get(_api("/api/v1/hospitals/"), anonymous=UNAUTHENTICATED, others=OK),
    ("get", "/api/v1/incidents/"): get(_api("/api/v1/incidents/"), **API_ANON, **each(CPD, OK), analyst=OK,
                                       admin=OK),
    ("post", "/api/v1/incidents/"): post(_api("/api/v1/incidents/"), **API_ANON, **each(CPD, BAD), admin=BAD),
    ("get", "/api/v1/incidents/{code}/"): get(_api("/api/v1/incidents/{code}/"), **API_ANON, **INCIDENT_READERS),
    ("patch", "/api/v1/incidents/{code}/"): row("patch", _api("/api/v1/incidents/{code}/"), **API_ANON,
                                                **INCIDENT_WRITERS),
    ("get", "/api/v1/notifications/"): get(_api("/api/v1/notifications/"), **API_ANON, **each(OUTREACH, OK)),
    ("post", "/api/v1/notifications/{code}/acknowledge/"): post(
        _api("/api/v1/notifications/{code}/acknowledge/"), data={"at": "never"}, **API_ANON,
        outreach_worker=(BAD, MISSING), outreach_supervisor=(BAD, MISSING), other_worker=(MISSING, BAD)),
    ("post", "/api/v1/notifications/{code}/status/"): post(
        _api("/api/v1/notifications/{code}/status/"), **API_ANON,
        outreach_worker=(BAD, MISSING), outreach_supervisor=(BAD, MISSING), other_worker=(MISSING, BAD)),
    ("post", "/api/v1/organizations/{code}/webhook-test/"): post(
        _api("/api/v1/organizations/{code}/webhook-test/"), **API_ANON, outreach_supervisor=(OK, MISSING)),
    ("get", "/api/v1/organizations/{code}/deliveries/"): get(
        _api("/api/v1/organizations/{code}/deliveries/"), **API_ANON,
        outreach_worker=(OK, MISSING), outreach_supervisor=(OK, MISSING), other_worker=(MISSING, OK)),
    ("post", "/api/v1/responses/"): post(_api("/api/v1/responses/"), **API_ANON, **each(OUTREACH, BAD)),
    ("get", "/api/v1/responses/"): get(_api("/api/v1/responses/"), **API_ANON, **each(OUTREACH, OK)),
    # Signed by the SMS provider, no login: the same rows as the pages'.
    ("post", "/sms/inbound/"): PAGES["notifications:sms_inbound"],
    ("post", "/sms/status/"): PAGES["notifications:sms_status"],
    ("get", "/api/v1/reviews/monthly/{month}/"): get(_api("/api/v1/reviews/monthly/{month}/"), **API_ANON,
                                                     cpd_commander=OK, analyst=OK),
}


# --- walking the resolver and the schema ----------------------------------------------------

def url_patterns(patterns=None, prefix: str = "", namespace: str | None = None):
    """(name, route, view module) of every URL pattern: namespaced names, routes joined from the root."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            view = getattr(pattern.callback, "view_class", pattern.callback)
            yield name, prefix + str(pattern.pattern), view.__module__


def is_api_operation(route: str) -> bool:
    return route.startswith("api/v1/")


def declared_row(name: str | None, route: str, module: str = "") -> Row | None:
    return PAGES.get(name) or PAGES.get(route) or admin_row(name, route) or third_party_row(route, module)


def api_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(method, path) for path, item in schema["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")}


def test_every_url_pattern_has_a_declared_row():
    missing = [f"{name or '(unnamed)'} at /{route}" for name, route, module in url_patterns()
               if not is_api_operation(route) and declared_row(name, route, module) is None]
    assert not missing, ("URL patterns without a row in the access matrix (add one to PAGES in tests/security/"
                         "test_access_matrix.py, keyed by the pattern's name):\n  " + "\n  ".join(missing))


def test_every_declared_page_row_is_a_url_pattern():
    known = {key for name, route, _ in url_patterns() for key in (name, route)}
    stale = sorted(set(PAGES) - known)
    assert not stale, f"rows in PAGES for URL patterns that no longer exist: {stale}"


def test_every_api_operation_has_a_declared_row():
    operations = api_operations()
    missing = sorted(operations - set(API))
    assert not missing, ("API operations without a row in the access matrix (add one to API in "
                         f"tests/security/test_access_matrix.py): {missing}")
    stale = sorted(set(API) - operations)
    assert not stale, f"rows in API for operations the schema no longer has: {stale}"


def test_every_api_url_pattern_is_in_the_schema():
    paths = {path for _, path in api_operations()}
    for name, route, _ in url_patterns():
        if is_api_operation(route):
            path = "/" + route.replace("<str:", "{").replace(">", "}")
            assert path in paths, f"{name} at /{route} is not in the OpenAPI schema, so the API table misses it"


def every_cell():
    """Every (label, row) of the matrix: PAGES in declaration order (`readyz` early, before queued
    deliveries age; the rows that change the world last), then the groups, then the API."""
    rows = {}
    for name, route, module in url_patterns():
        if is_api_operation(route):
            continue
        declared = declared_row(name, route, module)
        if declared is not None and declared not in rows.values():
            rows[name or route] = declared
    order = {key: i for i, key in enumerate(PAGES)}
    cells = sorted(rows.items(), key=lambda kv: order.get(kv[0], len(order)))  # sorted() keeps the groups' order
    cells += [(f"{method.upper()} {path}", declared) for (method, path), declared in API.items()]
    return cells


def request(client: Client, declared: Row, world: World, obj: str | None):
    url = declared.url(world, obj)
    if declared.method == "get":
        return client.get(url)
    if declared.method == "post":
        if url.startswith("/api/"):
            return client.post(url, declared.data or {}, content_type="application/json")
        return client.post(url, declared.data or {})
    return client.generic(declared.method.upper(), url, "{}", content_type="application/json")


# Public Equity's own members: the only callers who may read its records.
THE_ORGANISATION = ("outreach_worker", "outreach_supervisor")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_declared_outcome_and_no_canary_everywhere(role, cast, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "100000/min", "user": "100000/min"}
    world = build_world(cast, records=False)  # the canaries' records are the only ones: the admin's pages show them
    canaries = organisation_canaries()
    plant_organisation_records(cast, world.notification_a, canaries)
    if role == "analyst":  # nor, for an analyst, an incident's exact point or who entered it
        canaries.update(analyst_unseen(world))
    search = role not in THE_ORGANISATION
    client, user = Client(), world.users[role]
    wrong, leaks = [], []
    for label, declared in every_cell():
        expected = declared.expect[role]
        for index, obj in enumerate(("a", "b") if declared.scoped else (None,)):
            if user is not None:
                sign_in(client, user)
            want = expected[index] if isinstance(expected, tuple) else expected
            response = request(client, declared, world, obj)
            got, where = outcome(response), f" (object {obj.upper()})" if obj else ""
            if got not in (want if isinstance(want, frozenset) else {want}):
                wrong.append(f"{label}{where}: {role} expected {want}, got {got} "
                             f"({declared.method.upper()} {declared.url(world, obj)} → {response.status_code})")
            if search:
                leaks += [f"{label}{where} → {response.status_code}: the {field}"
                          for field in found(response_text(response), canaries)]
    for url in EXPORTS if search else ():
        if user is not None:
            sign_in(client, user)
        leaks += [f"{url}: the {field}" for field in found(response_text(client.get(url)), canaries)]
    problems = []
    if wrong:
        problems.append(f"{len(wrong)} cells differ from the table:\n  " + "\n  ".join(wrong))
    if leaks:
        problems.append(f"what {role} may not read reached them:\n  " + "\n  ".join(leaks))
    assert not problems, "\n".join(problems)
