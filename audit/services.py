from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from .models import Access, Event, Refusal, Source

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


def api_rejection_log(*, actor, data: dict[str, Any]) -> Event | None:
    """Record a rejected API request (`API_REJECTION_HOOK` in settings; `core.api` builds `data`:
    status, operation and the names of the fields at fault, never their values).

    A signed-in caller's rejection is one event; an anonymous caller's is counted
    (`refusal_count`), so nobody can fill the trail with free requests.
    """
    if not getattr(actor, "is_authenticated", False):
        refusal_count(action="api.rejected", source="api", reason=str(data.get("status", ""))[:64])
        return None
    return audit_log(actor=actor, source="api", action="api.rejected", data=data)


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _bump(model: type[models.Model], *, keys: dict[str, Any], now: datetime, create: dict[str, Any]) -> None:
    """Add one to the counter row `keys` names, creating it when it is the first of its hour.

    The UPDATE comes first: after the first view of the hour it is the only statement. Two
    first views at once both miss it; one INSERT wins, the other's unique constraint fails
    inside its savepoint and it bumps the winner's row instead.
    """
    if model.objects.filter(**keys).update(count=F("count") + 1, last_at=now):
        return
    try:
        with transaction.atomic():
            model.objects.create(**keys, **create, count=1, last_at=now)
    except IntegrityError:
        model.objects.filter(**keys).update(count=F("count") + 1, last_at=now)


def refusal_count(*, action: str, source: str, reason: str = "") -> None:
    """Count one refusal of an anonymous caller (per action, reason and hour; see `Refusal`).

    Use it wherever an unauthenticated request is refused (a bad acknowledgement link, a forged
    SMS callback, a failed login, a rejected anonymous API call) instead of `audit_log`.
    """
    if source not in Source.values:
        raise ValueError(f"unknown audit source {source!r}")
    now = timezone.now()
    _bump(Refusal, keys={"action": action, "reason": reason[:64], "source": source, "hour": _hour(now)},
          now=now, create={})


def access_record(
    *,
    actor,
    source: str,
    action: str,
    obj: models.Model | None = None,
    organization_codes: Iterable[str] = (),
    role: str = "",
) -> int:
    """Record that `actor` viewed `obj` (an incident, a board, a response, an export).

    One counter row per organisation whose records the page showed (`organization_codes`; one
    row without an organisation when none), per hour: a page polled every few seconds costs one
    UPDATE per poll, not a row. Anonymous callers are not recorded here (`refusal_count`).
    Returns the number of rows touched.
    """
    if not getattr(actor, "is_authenticated", False):
        return 0
    if source not in Source.values:
        raise ValueError(f"unknown audit source {source!r}")
    now = timezone.now()
    keys = {"actor": actor, "action": action, "hour": _hour(now),
            "object_type": obj._meta.label_lower if obj is not None else "",
            "object_code": str(getattr(obj, "code", None) or obj.pk) if obj is not None else ""}
    codes = sorted({str(code) for code in organization_codes}) or [""]
    rows = Access.objects.filter(**keys, organization_code__in=codes)
    if rows.update(count=F("count") + 1, last_at=now) < len(codes):
        found = set(rows.values_list("organization_code", flat=True))
        for code in codes:
            if code not in found:
                _bump(Access, keys={**keys, "organization_code": code}, now=now,
                      create={"first_at": now, "role": role[:24], "source": source})
    return len(codes)


# --- sign-in events (connected in AuditConfig.ready) ------------------------------------------


def _source_of(request) -> str:
    return Source.API if request is not None and request.path.startswith("/api/") else Source.WEB


def login_recorded(sender, request, user, **kwargs) -> None:
    audit_log(actor=user, source=_source_of(request), action="login.succeeded")


def logout_recorded(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_log(actor=user, source=_source_of(request), action="logout")


def _plain(text) -> bool:
    """A username the database can look up: text without NUL or unpaired surrogates."""
    if not isinstance(text, str) or not text or len(text) > 150 or "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def login_failure_recorded(sender, credentials, request=None, **kwargs) -> None:
    """Count every failed login; for an existing account, also one `login.failed` event an hour.

    The event goes on the account's own record (its owner and the administrators see that
    somebody tried it) at most once an hour, so a brute force cannot flood the trail; the
    counter keeps the number. The username typed is never stored (it may be a password typed
    in the wrong box).
    """
    source = _source_of(request)
    users = get_user_model()
    username = credentials.get(users.USERNAME_FIELD) or credentials.get("username") or ""
    account = users.objects.filter(**{users.USERNAME_FIELD: username}).first() if _plain(username) else None
    refusal_count(action="login.failed", source=source, reason="known_account" if account else "unknown_account")
    if account is None:
        return
    since = timezone.now() - timedelta(hours=1)
    if not Event.objects.filter(actor=account, action="login.failed", at__gte=since).exists():
        audit_log(actor=account, source=source, action="login.failed", data={"first_this_hour": True})
