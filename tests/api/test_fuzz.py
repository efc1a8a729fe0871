"""The schema-driven fuzz, bounded: every operation, positive and negative data, as every role.

`make fuzz` runs the same with many more examples (scripts/fuzz-api).
"""

import json
import os

import pytest

from districts.services import user_token_create
from tests.api.fuzzing import fuzz

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))


def fuzz_callers_and_codes(*, users: dict, tokens: dict, incident, notifications, organizations) -> tuple[dict, dict]:
    callers = {name: f"Token {user_token_create(user=user)[1]}" for name, user in users.items()}
    callers.update({name: f"Token {raw}" for name, raw in tokens.items()})
    callers["anonymous"] = None
    codes = {
        "incidents": [str(incident.code)],
        "notifications": [str(n.code) for n in notifications],
        "organizations": [str(o.code) for o in organizations],
        "districts": ["007", "7", "015"],
    }
    return callers, codes


def test_fuzzing_the_schema_as_every_role_finds_no_server_error_and_no_schema_breach(
        settings, cpd_user, commander, other_district_user, worker, supervisor, other_worker, analyst, admin_user,
        district_token, org_token, covering_notification, other_notification, covering_org, other_org):
    settings.API_THROTTLE_RATES = {scope: "100000/min" for scope in ("anon", "login", "user", "integration")}
    callers, codes = fuzz_callers_and_codes(
        users={"cpd_staff": cpd_user, "cpd_commander": commander, "cpd_other_district": other_district_user,
               "outreach_worker": worker, "outreach_supervisor": supervisor, "outreach_other_org": other_worker,
               "analyst": analyst, "admin": admin_user},
        tokens={"district_token": district_token[1], "org_token": org_token[1]},
        incident=covering_notification.incident, notifications=[covering_notification, other_notification],
        organizations=[covering_org, other_org],
    )

    report = fuzz(callers=callers, codes=codes, max_examples=EXAMPLES)

    print(json.dumps({k: v for k, v in report.items() if k != "failures"}))
    assert report["operations"] >= 15
    assert report["failures"] == [], json.dumps(report["failures"], indent=1)
