"""The agreed response summary on a Notification, as CPD and analysts read it.

The summary is written only by the state machine (state.py). This module is its read side:
`summary_fields` is exactly what a CPD- or analyst-facing page may show, and
`record_summary_view` writes a `summary.viewed` audit event whenever such a page shows
summaries, so each organisation can see who looked. `record_page_access` counts every view of
an incident page, the board or an export (polls included) in the access log, once per user,
page, organisation shown and hour (`audit.models.Access`).
"""

from audit.services import access_record, audit_log_many
from districts.access import scope_of
from districts.models import Organization

from .models import Notification


def summary_fields(notification: Notification) -> dict:
    """Exactly the agreed summary, as CPD and analysts may read it."""
    return {
        "acknowledged": notification.acknowledged_at is not None,
        "acknowledged_at": notification.acknowledged_at,
        "status": notification.status,
        "status_at": notification.status_at,
        "unable_reason": notification.unable_reason,
        "responded": notification.responded,
        "arrived_at": notification.arrived_at,
        "response_category": notification.response_category,
    }


def record_summary_view(*, user, notifications, source: str = "web") -> int:
    """Record that a CPD, analyst or admin page showed these notifications' summaries.

    One `summary.viewed` event per notification (the organisation's transparency page lists
    them). Outreach users reading their own organisation's summary are not recorded. Returns
    the number of events written. Written in one INSERT: a board shows dozens of rows.
    """
    scope = scope_of(user)
    if scope.role is None or scope.is_outreach:
        return 0
    notifications = list(notifications)
    if all(Notification.organization.is_cached(n) for n in notifications):  # loaded with the page's rows
        org_codes = {n.organization_id: n.organization.code for n in notifications}
    else:
        org_codes = dict(Organization.objects.filter(pk__in={n.organization_id for n in notifications})
                         .values_list("pk", "code"))
    events = audit_log_many(
        actor=user, source=source, action="summary.viewed",
        items=[(n, {"organization": str(org_codes[n.organization_id]), "role": scope.role}) for n in notifications],
    )
    return len(events)


def record_page_access(*, user, action: str, obj, notifications=(), source: str = "web") -> int:
    """Count one view of `obj` (an incident, a district's board, an export) in the access log.

    One counter row per organisation whose notifications the page showed, so each organisation
    reads who viewed its records (`/team/access-log/`); polls of the live views bump the same
    rows. Returns the number of rows touched.
    """
    notifications = list(notifications)
    if all(Notification.organization.is_cached(n) for n in notifications):
        codes = [n.organization.code for n in notifications]
    else:
        codes = Organization.objects.filter(pk__in={n.organization_id for n in notifications}).values_list(
            "code", flat=True)
    return access_record(actor=user, source=source, action=action, obj=obj, organization_codes=codes,
                         role=scope_of(user).role or "")
