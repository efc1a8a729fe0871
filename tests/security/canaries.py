"""Canaries (tests/security/test_canaries.py, test_access_matrix.py): unique strings planted in every
organisation-only field and in the victims' details, and the search for them.

Organisation-only (ARCHITECTURE.md, the trust boundary): a response log's notes, people engaged,
response types, retaliation risk and referrals, and follow-up tasks. The string fields get the
canary through the services the workers use; the fields the services keep to known values
(people engaged and referral kinds, response types, the risk) get it written straight into the
row, as a record stored before a validation change would hold it. Not searchable as strings:
counts, dates and the follow-up date (`tests/api/test_contract.py` checks that no CPD-facing API
schema has those fields at all).
"""

import io
import random
from datetime import timedelta

import openpyxl
from django.utils import timezone

from responses.models import Referral, ResponseLog
from responses.services import followup_create
from tests.security.conftest import organization_records

# Letters that are not hexadecimal digits, so a canary never matches part of a UUID or a token.
ALPHABET = "ghjkmnpqrstvwxyz"


def canary(length: int = 16) -> str:
    return "".join(random.choice(ALPHABET) for _ in range(length))  # noqa: S311 (a marker, not a secret)


def organisation_canaries() -> dict[str, str]:
    return {field: canary(n) for field, n in (
        ("notes", 24), ("follow-up task", 24), ("follow-up task (own)", 24), ("people engaged", 16),
        ("response type", 16), ("retaliation risk", 8), ("referral kind", 12))}


NOTE = "CPD's note"


def victim_canaries() -> dict[str, str]:
    return {NOTE: canary(24), "victim age band": canary(8), "victim sex": canary(8)}


def plant_stored_fields(log: ResponseLog, canaries: dict[str, str]) -> None:
    """The fields the services keep to known values, written straight into the row."""
    ResponseLog.objects.filter(pk=log.pk).update(
        people_engaged={"family": 2, canaries["people engaged"]: 1},
        response_types=["scene", canaries["response type"]], retaliation_risk=canaries["retaliation risk"])
    Referral.objects.create(response=log, kind=canaries["referral kind"], count=2)


def plant_own_followup(users, notification, canaries: dict[str, str]) -> None:
    followup_create(organization=notification.organization, actor=users["outreach_supervisor"], source="web",
                    task=f"Check in {canaries['follow-up task (own)']}",
                    due_on=timezone.localdate() + timedelta(days=1), assigned_to=users["outreach_worker"],
                    notification=notification)


def plant_organisation_records(users, notification, canaries: dict[str, str]) -> None:
    """Every organisation-only field of Public Equity's response to A, holding its canary."""
    log = organization_records(users, notification, notes=f"Met the family. {canaries['notes']}",
                               task=f"Call back {canaries['follow-up task']}")
    plant_stored_fields(log, canaries)
    plant_own_followup(users, notification, canaries)


def found(text: str, canaries: dict[str, str]) -> list[str]:
    lowered = text.lower()
    return [field for field, value in canaries.items() if value in lowered]


def response_text(response) -> str:
    """Everything a response carries that a person could read: the body, streamed or not, and the
    cells of an XLSX export."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", "replace")
    if "spreadsheetml" in response.get("Content-Type", ""):
        book = openpyxl.load_workbook(io.BytesIO(body))
        text += " ".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row)
    return text + " " + " ".join(f"{k}: {v}" for k, v in response.items())


# The exports a CPD caller, analyst or administrator can pull, besides the matrix's own rows.
EXPORTS = ["/history/?_export=csv", "/history/?_export=xlsx", "/dashboard/?_export=csv", "/dashboard/?_export=xlsx",
           "/api/v1/incidents/?page_size=200", "/api/v1/responses/"]


def analyst_unseen(world) -> dict[str, str]:
    """What an analyst never sees of incident A (ARCHITECTURE.md): its exact point, who entered it."""
    incident = world.incident_a
    return {"exact point (latitude)": f"{incident.latitude}", "exact point (longitude)": f"{incident.longitude}",
            "who entered it": incident.entered_by.username.lower()}
