from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone

from .models import Event, RefusalCount, Source

# Keys that would put a person's details into the trail. Events carry codes, counts and
# choices; names, contact details and organisation-only narrative never go in.
PERSONAL_KEYS = frozenset({
    "name", "first_name", "last_name", "full_name", "username", "email", "phone", "address",
    "note", "notes", "narrative", "people", "people_engaged", "retaliation_risk", "victim_name",
})


def _personal_keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        found = {key for key in data if str(key).lower() in PERSONAL_KEYS}
        for value in data.values():
            found |= _personal_keys(value)
        return found
    if isinstance(data, list | tuple):
        return set().union(*(_personal_keys(item) for item in data)) if data else set()
    return set()


def _event(*, actor, source: str, action: str, obj: models.Model | None, data: dict[str, Any] | None) -> Event:
    """An unsaved event, after refusing an unknown source or personal details in `data`."""
    if source not in Source.values:
        raise ValueError(f"unknown audit source {source!r}")
    if personal := _personal_keys(data or {}):
        raise ValueError(f"audit data must not carry personal details: {', '.join(sorted(personal))}")
    object_type = object_code = ""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_code = str(getattr(obj, "code", None) or obj.pk)
    user = actor if getattr(actor, "is_authenticated", False) else None
    return Event(actor=user, source=source, action=action, object_type=object_type,
                 object_code=object_code, data=data or {})


def audit_log(
    *,
    actor,
    source: str,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one audit event. `obj` is addressed by its `code` when it has one.

    `actor` may be None (the system) or an anonymous user (an unauthenticated attempt).
    """
    event = _event(actor=actor, source=source, action=action, obj=obj, data=data)
    event.save()
    return event


def audit_log_many(
    *, actor, source: str, action: str, items: list[tuple[models.Model, dict[str, Any]]]
) -> list[Event]:
    """Append one event per (object, data) pair in a single INSERT, with audit_log's checks.

    For pages that record a view of dozens of rows at once (a district board).
    """
    events = [_event(actor=actor, source=source, action=action, obj=obj, data=data) for obj, data in items]
    return Event.objects.bulk_create(events)


def api_rejection_log(*, actor, data: dict[str, Any]) -> Event:
    """Record a rejected API request (`API_REJECTION_HOOK` in settings; `core.api` builds `data`:
    status, operation and the names of the fields at fault, never their values)."""
    return audit_log(actor=actor, source="api", action="api.rejected", data=data)


def refusal_count(*, action: str, reason: str = "") -> None:
    """Count one refused anonymous request in this hour's counter (audit.RefusalCount).

    The common case is one UPDATE; the hour's first refusal inserts the row (get_or_create
    absorbs a concurrent first insert through the unique constraint).
    """
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    key = {"hour": hour, "action": action, "reason": reason[:32]}
    if RefusalCount.objects.filter(**key).update(count=F("count") + 1):
        return
    counter, created = RefusalCount.objects.get_or_create(**key, defaults={"count": 1})
    if not created:
        RefusalCount.objects.filter(pk=counter.pk).update(count=F("count") + 1)
