"""The contract with integrations (API.md), checked against the generated schema and real responses.

Fails when a field API.md names disappears or changes type, when an enumeration loses a value,
or when an organisation-only field (notes, people engaged, referrals, retaliation risk) shows
up anywhere a CPD caller, an analyst or an administrator can read.
"""

import ast
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from tests.api.conftest import incident_payload
from tests.api.fuzzing import load_schema
from tests.api.test_responses import response_payload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

# --- API.md, transcribed: field → JSON type(s) -------------------------------------------
VICTIM = {"age_band": "string", "sex": "string", "fatal": "boolean", "gunshot": "boolean"}
INCIDENT_IN = {
    "rd_number": "string", "occurred_at": "string", "block": "string", "latitude": "number", "longitude": "number",
    "district": {"string", "integer"}, "beat": "string", "community_area": "integer", "victims": "array",
    "hospital": "string", "scene_status": "string", "note": "string",
}
INCIDENT_OUT = {
    **INCIDENT_IN, "district": "string", "code": "string", "entered_at": "string", "entered_by": "string",
    "scenarios": "array", "notifications": "array",
}
INCIDENT_NOTIFICATION = {
    "code": "string", "organization": "object", "status": "string", "first_sent_at": "string",
    "acknowledged_at": "string", "arrived_at": "string", "summary": "object",
}
STATUS_IN = {"status": "string", "at": "string", "reason": "string"}
RESPONSE_IN = {
    "notification": "string", "client_key": "string", "arrived_at": "string", "response_types": "array",
    "retaliation_risk": "string", "referrals": "array", "follow_up_on": "string", "notes": "string",
}
REFERRAL = {"kind": "string", "count": "integer"}
PAGE = {"count": "integer", "next": "string", "previous": "string", "results": "array"}
ENUMS = {
    ("incidents_create", "scene_status"): {"active", "secured", "cleared"},
    ("incidents_create", "victims.age_band"): {"0-19", "20-29", "unknown"},
    ("incidents_create", "victims.sex"): {"M", "F", "X", "unknown"},
    ("notifications_status", "status"): {"en_route", "on_scene", "at_hospital", "unable"},
    ("responses_create", "response_types"): {"scene", "hospital", "family", "mediation", "vigil", "canvass"},
    ("responses_create", "retaliation_risk"): {"none", "low", "medium", "high", "unknown"},
    ("responses_create", "referrals.kind"): {"trauma", "housing", "relocation", "legal", "funeral", "employment",
                                             "medical", "other"},
}
OPERATIONS = {
    ("post", "/api/v1/auth/token/"), ("post", "/api/v1/incidents/"), ("get", "/api/v1/incidents/"),
    ("get", "/api/v1/incidents/{code}/"), ("patch", "/api/v1/incidents/{code}/"), ("get", "/api/v1/notifications/"),
    ("post", "/api/v1/notifications/{code}/acknowledge/"), ("post", "/api/v1/notifications/{code}/status/"),
    ("post", "/api/v1/responses/"), ("get", "/api/v1/responses/"), ("get", "/api/v1/districts/"),
    ("get", "/api/v1/districts/{number}/"), ("get", "/api/v1/organizations/"), ("get", "/api/v1/hospitals/"),
    ("post", "/api/v1/organizations/{code}/webhook-test/"), ("get", "/api/v1/organizations/{code}/deliveries/"),
}
ORG_ONLY = {"notes", "people_engaged", "referrals", "retaliation_risk"}
# The only operations that show the organisation-only record, and only to its own organisation.
ORGANISATION_OWN = {"responses_create", "responses_list"}


# --- reading the generated schema ---------------------------------------------------------

@pytest.fixture(scope="module")
def schema() -> dict:
    return load_schema()[1]


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def types_of(schema: dict, node: dict) -> set[str]:
    node = resolve(schema, node)
    found = {node["type"]} if "type" in node else set()
    if "properties" in node:
        found.add("object")
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            found |= types_of(schema, part)
    return found


def enum_of(schema: dict, node: dict) -> set:
    node = resolve(schema, node)
    values = set(node.get("enum", []))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            values |= enum_of(schema, part)
    if node.get("type") == "array":
        values |= enum_of(schema, node["items"])
    return values


def properties(schema: dict, node: dict) -> dict:
    node = resolve(schema, node)
    props = dict(node.get("properties", {}))
    for part in node.get("allOf", []):
        props.update(properties(schema, part))
    return props


def operation(schema: dict, operation_id: str) -> dict:
    for path in schema["paths"].values():
        for op in path.values():
            if op.get("operationId") == operation_id:
                return op
    raise AssertionError(f"operation {operation_id} is gone from the schema")


def request_schema(schema: dict, operation_id: str) -> dict:
    return operation(schema, operation_id)["requestBody"]["content"]["application/json"]["schema"]


def response_schema(schema: dict, operation_id: str, status: str = "200") -> dict:
    return operation(schema, operation_id)["responses"][status]["content"]["application/json"]["schema"]


def item(schema: dict, node: dict, field: str) -> dict:
    """The schema of a list field's items (`victims` → one victim)."""
    return resolve(schema, properties(schema, node)[field])["items"]


def assert_fields(schema: dict, node: dict, contract: dict, where: str) -> None:
    props = properties(schema, node)
    for field, expected in contract.items():
        assert field in props, f"{where}: API.md names `{field}` and the schema lost it"
        expected = {expected} if isinstance(expected, str) else expected
        actual = types_of(schema, props[field]) - {"null"}
        assert expected <= actual, f"{where}.{field}: API.md says {sorted(expected)}, the schema says {sorted(actual)}"


# --- the schema keeps API.md's names and types ---------------------------------------------

def test_every_operation_named_in_the_contract_is_in_the_schema(schema):
    present = {(method, path) for path, ops in schema["paths"].items() for method in ops}

    assert present >= OPERATIONS, sorted(OPERATIONS - present)


def test_incident_fields_keep_their_names_and_types(schema):
    request = request_schema(schema, "incidents_create")
    response = response_schema(schema, "incidents_create", "201")

    assert_fields(schema, request, INCIDENT_IN, "POST /incidents/ body")
    assert_fields(schema, item(schema, request, "victims"), VICTIM, "victim")
    assert_fields(schema, response, INCIDENT_OUT, "incident")
    assert_fields(schema, item(schema, response, "victims"), VICTIM, "incident.victims[]")
    assert_fields(schema, item(schema, response, "notifications"), INCIDENT_NOTIFICATION, "incident.notifications[]")
    for status in ("200", "201"):
        assert status in operation(schema, "incidents_create")["responses"]
    assert "409" in operation(schema, "incidents_create")["responses"]


def test_lists_are_paginated_with_count_next_previous_results(schema):
    for operation_id in ("incidents_list", "notifications_list", "responses_list", "districts_list",
                         "organizations_list", "hospitals_list"):
        assert_fields(schema, response_schema(schema, operation_id), PAGE, operation_id)


def test_outreach_request_fields_keep_their_names_and_types(schema):
    assert_fields(schema, request_schema(schema, "notifications_status"), STATUS_IN, "status body")
    response_request = request_schema(schema, "responses_create")
    assert_fields(schema, response_request, RESPONSE_IN, "response body")
    assert_fields(schema, item(schema, response_request, "referrals"), REFERRAL, "referral")
    assert_fields(schema, request_schema(schema, "auth_token_create"),
                  {"username": "string", "password": "string"}, "token body")
    assert_fields(schema, response_schema(schema, "auth_token_create"), {"token": "string"}, "token")


def test_enumerations_keep_every_value_api_md_names(schema):
    for (operation_id, dotted), expected in ENUMS.items():
        node = request_schema(schema, operation_id)
        *parents, field = dotted.split(".")
        for parent in parents:
            node = item(schema, node, parent)
        actual = enum_of(schema, properties(schema, node)[field])
        assert expected <= actual, f"{operation_id} {dotted}: lost {sorted(expected - actual)}"


def _property_names(schema: dict, node, seen: set[str] | None = None) -> set[str]:
    """Every property name reachable from `node`, through refs, compositions and items."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return names
            seen.add(name)
            return _property_names(schema, schema["components"]["schemas"][name], seen)
        names |= set(node.get("properties", {}))
        for value in node.values():
            names |= _property_names(schema, value, seen)
    elif isinstance(node, list):
        for value in node:
            names |= _property_names(schema, value, seen)
    return names


def test_no_organisation_only_field_appears_in_any_other_operations_responses(schema):
    checked = 0
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if op["operationId"] in ORGANISATION_OWN:
                continue
            leaked = _property_names(schema, op.get("responses", {})) & ORG_ONLY
            assert not leaked, f"{method.upper()} {path} shows organisation-only fields {sorted(leaked)}"
            checked += 1
    assert checked >= 14


# --- real responses keep the types and never carry the organisation's record -------------

def _json_type(value) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}[type(value)]


def assert_real(body: dict, contract: dict, where: str) -> None:
    for field, expected in contract.items():
        assert field in body, f"{where}: `{field}` is missing from the response"
        expected = {expected} if isinstance(expected, str) else expected
        actual = _json_type(body[field])
        if actual == "integer" and "number" in expected:  # JSON has one kind of number
            actual = "number"
        assert actual == "null" or actual in expected, f"{where}.{field}: {actual}, API.md says {sorted(expected)}"


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_real_incident_responses_match_the_contract(api_client, cpd_user):
    body = api_client(cpd_user).post("/api/v1/incidents/", incident_payload(rd_number="JH777001"),
                                     format="json").json()

    assert_real(body, INCIDENT_OUT, "incident")
    assert_real(body["victims"][0], VICTIM, "victim")
    assert_real(body["notifications"][0], INCIDENT_NOTIFICATION, "notification")
    assert body["occurred_at"].endswith("Z") and body["district"] == "007"
    assert_real(api_client(cpd_user).get("/api/v1/incidents/").json(), PAGE, "page")


def test_cpd_analysts_and_admins_never_receive_the_organisations_record(
        api_client, worker, cpd_user, commander, analyst, admin_user, covering_notification, covering_org):
    secret = f"ORG-ONLY-{uuid.uuid4().hex[:8]}"
    logged = api_client(worker).post("/api/v1/responses/", response_payload(
        covering_notification, notes=secret, retaliation_risk="high", follow_up_on=timezone.localdate().isoformat(),
        referrals=[{"kind": "relocation", "count": 1}]), format="json")
    assert logged.status_code == 201, logged.json()
    incident = covering_notification.incident
    urls = ["/api/v1/incidents/", f"/api/v1/incidents/{incident.code}/", "/api/v1/districts/007/",
            "/api/v1/organizations/", "/api/v1/districts/", "/api/v1/hospitals/", "/api/v1/notifications/",
            "/api/v1/responses/", f"/api/v1/organizations/{covering_org.code}/deliveries/"]

    for user in (cpd_user, commander, analyst, admin_user):
        for url in urls:
            response = api_client(user).get(url)
            assert response.status_code in (200, 403, 404), (user, url, response.status_code)
            assert secret not in response.content.decode(), f"{user} read the notes at {url}"
            assert not _keys(response.json()) & ORG_ONLY, f"{user} got organisation-only fields at {url}"
        summary = api_client(user).get(f"/api/v1/incidents/{incident.code}/").json()["notifications"]
        mine = next(n for n in summary if n["code"] == str(covering_notification.code))
        assert mine["summary"]["responded"] is True and mine["summary"]["response_category"] == "scene"

    own = api_client(worker).get("/api/v1/responses/").json()["results"][0]
    assert own["notes"] == secret and own["retaliation_risk"] == "high"


def test_no_cpd_facing_api_module_imports_responses():
    for module in ("notifications/api.py", "districts/api.py", "districts/api_fields.py", "districts/api_auth.py",
                   "core/api.py"):
        tree = ast.parse((ROOT / module).read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {name for name in imported if name.split(".")[0] == "responses"}, module
