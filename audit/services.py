from typing import Any

from django.db import models

from .models import Event, Source


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
    if source not in Source.values:
        raise ValueError(f"unknown audit source {source!r}")
    object_type = object_code = ""
    if obj is not None:
        object_type = obj._meta.label_lower
        object_code = str(getattr(obj, "code", None) or obj.pk)
    user = actor if getattr(actor, "is_authenticated", False) else None
    return Event.objects.create(
        actor=user,
        source=source,
        action=action,
        object_type=object_type,
        object_code=object_code,
        data=data or {},
    )
