"""The API's operations, read from its own OpenAPI schema, so a new operation is attacked too;
and valid bodies for the writes, so a payload reaches the field it targets."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .client import Client


@dataclass
class Operation:
    method: str
    template: str  # /api/v1/incidents/{code}/
    query: list = field(default_factory=list)
    strings: list = field(default_factory=list)  # top-level string fields of the JSON body
    has_body: bool = False  # the operation reads a JSON body (one that reads none ignores any)


def operations(client: Client) -> list[Operation]:
    answer = client.get("/api/schema/?format=json", headers={"Accept": "application/json"})
    schema = answer.json() or {}
    found = []
    for template, item in (schema.get("paths") or {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            query = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
            body = (((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get("schema")
            found.append(Operation(method.upper(), template, query, _string_fields(schema, body), body is not None))
    return found


def _string_fields(schema: dict, body: dict | None) -> list[str]:
    if not body:
        return []
    if "$ref" in body:
        body = schema["components"]["schemas"].get(body["$ref"].rsplit("/", 1)[-1], {})
    return [name for name, prop in (body.get("properties") or {}).items()
            if prop.get("type") == "string" and not prop.get("readOnly")]


def fill(template: str, world: dict, *, foreign: bool = False) -> str:
    """A concrete path: the caller's own objects, or (foreign) another scope's."""
    notes = world["notifications"]
    a_org, b_org = world["organizations"]["a"], world["organizations"]["b"]
    incident = world["incidents"][1 if foreign else 0]["code"]
    notification = next(n["code"] for n in notes if n["organization"] == (b_org if foreign else a_org)["name"])
    organization = (b_org if foreign else a_org)["code"]
    month = datetime.now(UTC).strftime("%Y-%m")
    if "/incidents/" in template:
        code = incident
    elif "/notifications/" in template:
        code = notification
    else:
        code = organization
    return (template.replace("{code}", code).replace("{number}", "015" if foreign else "007")
            .replace("{month}", month))


def valid_body(template: str, method: str, world: dict) -> dict | None:
    """A body the operation accepts from its own role; None when we know none."""
    now = datetime.now(UTC)
    if template.endswith("/incidents/") and method == "POST":
        return {"occurred_at": (now - timedelta(minutes=15)).isoformat(), "block": "6300 S HALSTED ST",
                "latitude": 41.7796, "longitude": -87.6446, "scene_status": "active", "note": "attack run",
                "victims": [{"age_band": "20-29", "sex": "M", "fatal": False, "gunshot": True}]}
    if "/incidents/{code}/" in template and method == "PATCH":
        return {"note": "attack run correction"}
    if template.endswith("/responses/") and method == "POST":
        return {"notification": fill("/notifications/{code}/", world).split("/")[2], "client_key": str(uuid.uuid4()),
                "response_types": ["scene"], "retaliation_risk": "low", "notes": "attack run"}
    if template.endswith("/status/"):
        return {"status": "en_route"}
    if template.endswith("/auth/token/"):
        return {"username": "nobody", "password": "nothing"}
    if method in ("POST", "PATCH", "PUT"):
        return {}
    return None
