"""Schema-driven fuzzing of the API (schemathesis), calling every operation as each role.

Used by `tests/api/test_fuzz.py` (a bounded run inside `make test`) and `scripts/fuzz-api`
(`make fuzz`, a longer run). The callers (each role, each kind of integration token, nobody)
take turns; each case is sent once as generated and, for operations addressed by a `code` or
`number`, once with a real object's, so bodies are fuzzed against objects that exist and are
in or out of the caller's scope.

Positive cases (data the schema allows) must get no 5xx, a documented status code, the
documented content type and a body matching the schema. Negative cases (data the schema
forbids) must in addition be rejected with a 4xx.
"""

import json
import time
from collections.abc import Mapping

import hypothesis
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_schema_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_schema_conformance, negative_data_rejection],
}


def load_schema():
    """The schema exactly as `/api/schema/` serves it, bound to the Django WSGI app."""
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    return schema, raw


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[:3])[:300]


def fuzz(*, callers: Mapping[str, str | None], codes: Mapping[str, list[str]], max_examples: int,
         seed: int = 0) -> dict:
    """Run the fuzz; return {"operations", "examples", "calls", "failures": [...]} (never raises on a finding).

    `seed` fixes Hypothesis's choices: the same seed and data replay the same run (it is in the report).
    `callers`: name → Authorization header (None for anonymous). `codes`: resource (`incidents`,
    `notifications`, `organizations`, `districts`) → real path values to try besides the generated one.
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    schema, _ = load_schema()
    report = {"operations": 0, "examples": 0, "calls": 0, "seed": seed, "failures": []}
    seen: set[tuple[str, str, str]] = set()
    # As Django's test client does: the WSGI handler would otherwise close the connection that
    # holds the test's transaction at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if not operation.path.startswith("/api/v1/"):
                continue  # the SMS provider's callbacks: signed form posts, tested with their views
            report["operations"] += 1
            started = time.monotonic()
            for mode, checks in CHECKS.items():
                _fuzz_operation(operation, mode, checks, callers, codes, max_examples, seed, report, seen)
            report.setdefault("seconds", {})[operation.label] = round(time.monotonic() - started, 1)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    report["failures_found"] = len(report["failures"])
    return report


def _resource(path: str) -> str:
    """`/api/v1/incidents/{code}/` → `incidents`."""
    parts = [part for part in path.split("/") if part]
    return parts[2] if len(parts) > 2 else ""


def _fuzz_operation(operation, mode, checks, callers, codes, max_examples, seed, report, seen) -> None:
    names = list(callers)
    real = codes.get(_resource(operation.path), [])

    @hypothesis.seed(seed)
    @settings(max_examples=max_examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
              print_blob=False)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        # Callers take turns (every role sees every operation over a run), and each case is also
        # sent to a real object of the operation's kind, so bodies reach the services.
        index = report["examples"]
        report["examples"] += 1
        generated = dict(case.path_parameters or {})
        variants = [generated]
        if generated and real:
            variants.append({name: real[index % len(real)] for name in generated})
        caller = names[index % len(names)]
        for path_parameters in variants:
            case.path_parameters = path_parameters
            _call(case, operation, mode, checks, caller, callers[caller], path_parameters, report, seen)
        case.path_parameters = generated

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be negated (no parameters, no body)
        report["unsatisfiable"] = report.get("unsatisfiable", 0) + 1


def _call(case, operation, mode, checks, caller, authorization, path_parameters, report, seen) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    report["calls"] += 1
    # Each call in its own savepoint, as each request is its own transaction in production.
    savepoint = transaction.savepoint_create()
    try:
        case.call_and_validate(headers=headers, checks=checks)
    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - every finding is recorded, none stops the run
        message = _first_line(error)
        key = (operation.label, mode.value, message)
        if key not in seen:
            seen.add(key)
            report["failures"].append({
                "operation": operation.label, "mode": mode.value, "caller": caller,
                "path_parameters": {k: str(v) for k, v in path_parameters.items()},
                "query": case.query, "body": repr(case.body)[:300], "error": message,
            })
    finally:
        transaction.savepoint_rollback(savepoint)
