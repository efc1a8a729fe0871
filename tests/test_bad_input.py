"""Bad input anywhere is a 4xx, never a 500: every URL pattern of the site and of API v1 is sent
NUL characters, unpaired surrogates, Unicode digits (`²` passes `str.isdigit()`, `١٢` passes
`int()`), numbers too large for any column, far-future dates, 1 MB strings and 10,000-deep
JSON, in every field name any form, filter or serializer declares, as query strings, form
posts and JSON bodies, by the roles that can open each page.

URLs, field names and API operations are enumerated from the code (urlconf, forms modules,
the API views' nested serializers), so a new page or field is covered without a new line here.
"""

import inspect
import json
import re
import uuid

import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters import FilterSet
from rest_framework import serializers
from rest_framework.test import APIClient

from notifications import forms as notification_forms
from responses import forms as response_forms
from reviews import filters as review_filters
from reviews import filters_dashboard
from reviews import forms as review_forms
from reviews.selectors import Month
from reviews.services import review_create
from tests.api.conftest import client_for_user
from tests.workers import incident_notify

pytestmark = pytest.mark.django_db

DEEP = "[" * 10_000 + "]" * 10_000
LONG = "x" * (1024 * 1024)
VALUES = {
    "nul": "7\x00",
    "superscript two": "²",
    "arabic-indic digits": "١٢",
    "forty nines": "9" * 40,
    "far future": "9999-12-31T23:59:59",
}
SKIPPED_PREFIXES = ("admin/", "api/schema/", "api/docs/", "sw.js", "healthz", "readyz", "static/")


def _patterns(patterns=None, prefix="", namespace=""):
    """Every (route, name, converters) of the urlconf, outside the Django admin."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}:{entry.namespace}" if entry.namespace and namespace else (entry.namespace or namespace)
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if not route.startswith(SKIPPED_PREFIXES) and "(?" not in route and route != "api/":
                yield route, entry


def _form_field_names() -> set[str]:
    names = {"next", "page", "page_size", "lat", "lon", "district", "beat", "community_area", "month", "since",
             "until", "followup", "entry", "code", "prefix", "sort", "q", "_export", "victims-TOTAL_FORMS",
             "victims-INITIAL_FORMS", "victims-0-age_band", "victims-0-sex", "victims-0-fatal"}
    for module in (notification_forms, response_forms, review_forms, review_filters, filters_dashboard):
        for _, klass in inspect.getmembers(module, inspect.isclass):
            if issubclass(klass, forms.BaseForm) and klass.__module__ == module.__name__:
                names |= set(klass.base_fields)
            if issubclass(klass, FilterSet) and klass.__module__ == module.__name__:
                names |= set(klass.base_filters)
    return names


def _serializer_field_names() -> set[str]:
    names = set()
    for _, entry in _patterns():
        view = getattr(entry.callback, "cls", None)
        for klass in inspect.getmro(view) if view else ():
            for attribute in vars(klass).values():
                if inspect.isclass(attribute) and issubclass(attribute, serializers.Serializer):
                    names |= {name for name, f in attribute().fields.items() if not f.read_only}
    return names


@pytest.fixture
def world(englewood, covering_org, cpd_user, commander, supervisor, worker, analyst, admin_user):
    """A real incident routed to the supervisor's organisation, a channel, a review:
    so paths carry codes that exist in the caller's scope and the forms behind them are reached."""
    notification = incident_notify(district=englewood, organization=covering_org)
    channel = covering_org.channels.create(kind="email", target="desk@pe.example.org")
    review = review_create(actor=commander, month=Month(2026, 3), districts=[englewood])
    codes = {"channel": channel.code, "review": review.code}
    return {"notification": notification, "codes": codes,
            "users": [supervisor, commander, analyst, admin_user, worker, cpd_user]}


def _path(route: str, entry: URLPattern, world) -> str:
    """The route with real codes where the page has one, a fresh UUID or a month otherwise."""
    codes = world["codes"]
    path = route
    for param, converter in entry.pattern.converters.items():
        if param == "code":
            if route.startswith(("n/", "api/v1/notifications/")):
                value = world["notification"].code
            elif route.startswith(("incidents/", "api/v1/incidents/")):
                value = world["notification"].incident.code
            elif route.startswith("team/channels/"):
                value = codes["channel"]
            elif route.startswith("reviews/"):
                value = codes["review"]
            elif route.startswith("api/v1/organizations/"):
                value = world["notification"].organization.code
            else:
                value = uuid.uuid4()
        elif param == "month":
            value = "2026-03"
        elif param == "number":
            value = "007"
        else:
            value = uuid.uuid4() if type(converter).__name__ == "UUIDConverter" else "x"
        path = re.sub(rf"<(\w+:)?{param}>", str(value), path)
    return "/" + path


def _assert_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"


def test_every_page_answers_bad_query_strings_and_form_posts_without_a_server_error(world):
    fields = sorted(_form_field_names())
    checked = 0
    for route, entry in _patterns():
        if route.startswith("api/") or route == "accounts/logout/":
            continue
        path = _path(route, entry, world)
        for user in world["users"]:
            client, username = Client(raise_request_exception=False), user.username
            client.force_login(user)
            if client.get(path).status_code in (302, 403):
                continue  # this role does not reach the page: its refusal is the access tests' business
            for label, value in VALUES.items():
                data = {name: value for name in fields}
                what = f"{username} {path} {label}"
                _assert_no_server_error(client.get(path, data), f"GET {what}")
                _assert_no_server_error(client.post(path, data), f"POST {what}")
                checked += 1
            # An unpaired surrogate and invalid UTF-8 can only arrive percent-encoded.
            raw = "&".join(f"{name}=%ED%A0%80%FF" for name in fields)
            _assert_no_server_error(client.post(path, raw, content_type="application/x-www-form-urlencoded"),
                                    f"POST {username} {path} raw bytes")
            _assert_no_server_error(client.post(path, {fields[0]: LONG}), f"POST {username} {path} 1 MB")
            _assert_no_server_error(client.post(path, DEEP, content_type="application/json"),
                                    f"POST {username} {path} deep JSON")
            break  # the first role (most privileged on its side) that reaches the page
    assert checked > 100  # the enumeration found the pages


def test_every_json_endpoint_of_the_site_refuses_bad_json_values_without_a_server_error(world):
    client = Client(raise_request_exception=False)
    client.force_login(world["users"][0])
    code = str(world["notification"].code)
    bodies = []
    for value in [*VALUES.values(), "\ud800", ["\x00"], {"a": "\udfff"}, json.loads("[" * 15 + "]" * 15)]:
        bodies += [
            {"type": "response", "notification": code, "fields": {n: value for n in _form_field_names()}},
            {"type": "status", "notification": code, "fields": {"status": value, "reason": value}, "at": value},
            {"type": value, "notification": value, "fields": value},
            {"endpoint": value, "keys": {"p256dh": value, "auth": value}},
            {"endpoint": "https://fcm.googleapis.com/x", "keys": value},
        ]
    for path in ("/outreach/sync/", "/outreach/push/"):
        for body in bodies:
            response = client.post(path, json.dumps(body), content_type="application/json")
            assert response.status_code in (400, 404), (path, body, response.status_code)
        for raw in (DEEP, '{"type": "\\ud800"}', '{"\\u0000": 1}', "\xff", '{"a": 1e999}', '{"a": NaN}'):
            response = client.post(path, raw, content_type="application/json")
            assert response.status_code == 400, (path, raw[:30], response.status_code)
            assert response.json()  # a message, not an empty page


def test_every_api_operation_refuses_bad_values_in_every_field_without_a_server_error(world, settings):
    # Thousands of calls: rate limits would answer 429 before any field was read.
    settings.API_THROTTLE_RATES = {scope: "100000/min" for scope in settings.API_THROTTLE_RATES}
    fields = sorted(_serializer_field_names() | {"page", "page_size"})
    # The worker and CPD staff reach a subset of what the supervisor and commander reach.
    users = [u for u in world["users"] if u.username not in ("tasha_worker", "dana_cpd")]
    callers = [("anonymous", APIClient()), *((u.username, client_for_user(u)) for u in users)]
    answered: dict[int, int] = {}
    for route, entry in _patterns():
        if not route.startswith("api/v1/"):
            continue
        path = _path(route, entry, world)
        for username, client in callers:
            for label, value in [*((k, v) for k, v in VALUES.items() if k != "arabic-indic digits"),
                                 ("surrogate", "\ud800"), ("deep", json.loads("[" * 50 + "]" * 50)),
                                 ("list", [value for value in VALUES.values()]), ("object", {"\x00": 1})]:
                body = json.dumps({name: value for name in fields})
                what = f"{username} {path} {label}"
                # A surrogate cannot be put in a URL (percent-encoded, Django reads it as U+FFFD).
                query = {name: value for name in fields} if isinstance(value, str) and label != "surrogate" else {}
                _assert_no_server_error(client.get(path, query), f"GET {what}")
                for method in ("post", "patch") if entry.pattern.converters else ("post",):
                    response = getattr(client, method)(path, body, content_type="application/json")
                    _assert_no_server_error(response, f"{method.upper()} {what}")
                    answered[response.status_code] = answered.get(response.status_code, 0) + 1
            for raw in (DEEP, '{"\\ud800": 1}', LONG):
                # An operation that takes no body (a drill) may ignore it; none may fail on it.
                _assert_no_server_error(client.post(path, raw, content_type="application/json"),
                                        f"POST {username} {path} raw")
    # The bodies reached the parsers and serializers (400), not only the doors (401, 403, 405).
    assert answered.get(400, 0) > 50, answered
