"""Claiming a batch of deliveries for sending, loaded with what their messages need.

`deliveries_claim(delivery_ids=...)` moves the due rows among the ids from queued/failed to
`sending` (a conditional UPDATE, so a duplicate message or a second worker finds nothing to
claim) and returns them with their notification, organisation, incident, district (not its
boundary: tens of kilobytes of GeoJSON a row that no message carries), channel, recipient and
the recipient's membership, as `select_related` would give them, and the incident's playbooks.

On PostgreSQL the claim and the load are one prepared statement (core.prepared): an
`UPDATE … RETURNING` joined to the related rows, planned once per database connection, and the
instances are built from its rows with Django's own `from_db` and field converters. A batch of
one delivery spent 13 ms here as an UPDATE followed by the ORM's seven-table query: the ORM
compiling that query took about 8 ms and PostgreSQL planning it about 2 ms on every call
(Django binds parameters on the client, so nothing is prepared; docs/benchmarks.md has the
figures). The playbooks are one more query, and only for a batch whose incidents have any.

On SQLite (the embedded default, one writer at a time) the claim is a transaction and the
load the ORM query.
"""

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import F, Model
from django.utils import timezone

from core.prefetched import prefetched_set
from core.prepared import prepared_run
from districts.models import Channel, District, Membership, Organization
from protocols.models import Playbook

from .models import Delivery, Incident, Notification
from .outbox import DUE_STATUSES

# The ORM's form of the load: the SQLite path runs it, and the statement below gives the same.
_RELATED = ("notification__organization", "notification__incident__district", "channel", "recipient__membership")
_DEFERRED = ("notification__incident__district__boundary",)


@dataclass(frozen=True)
class _Joined:
    """One model of the load: its alias, the row it hangs on and through which relation."""

    alias: str
    model: type[Model]
    on: str  # the join condition
    parent: str  # the alias of the instance it is set on
    relation: str  # the name of that relation on the parent's model
    deferred: tuple[str, ...] = ()

    def fields(self) -> list:
        return [f for f in self.model._meta.concrete_fields if f.attname not in self.deferred]


def _joined() -> tuple[_Joined, ...]:
    return (
        _Joined("n", Notification, "n.id = d.notification_id", "d", "notification"),
        _Joined("o", Organization, "o.id = n.organization_id", "n", "organization"),
        _Joined("i", Incident, "i.id = n.incident_id", "n", "incident"),
        _Joined("di", District, "di.id = i.district_id", "i", "district", deferred=("boundary",)),
        _Joined("c", Channel, "c.id = d.channel_id", "d", "channel"),
        _Joined("u", get_user_model(), "u.id = d.recipient_id", "d", "recipient"),
        _Joined("m", Membership, "m.user_id = u.id", "u", "membership"),
    )


def _statement_sql() -> str:
    """The claim-and-load: $1 the ids, $2 the due statuses, $3 now.

    The rows are found by primary key. A generic plan cannot know how many ids $1 holds, and on
    a table not yet analysed it preferred the due index (status, next_attempt_at), reading every
    due row and every dead index entry of one (a row's each status change leaves one until
    vacuum) to keep the batch's: 0.8–1.3 ms against 0.55 ms for a batch of one, with 400 such
    entries, and a burst leaves thousands. `(status || '')` is an expression that index cannot
    serve, so it is never chosen. The record (delivery.py) had the same plan on an analysed one."""
    quote = connection.ops.quote_name
    columns = [f"d.{quote(f.column)}" for f in Delivery._meta.concrete_fields]
    joins = []
    for part in _joined():
        columns += [f"{part.alias}.{quote(f.column)}" for f in part.fields()]
        joins.append(f"LEFT JOIN {quote(part.model._meta.db_table)} {part.alias} ON {part.on}")
    through = Incident.scenarios.through._meta
    playbook, incident = (quote(through.get_field(name).column) for name in ("playbook", "incident"))
    playbooks = f"ARRAY(SELECT s.{playbook} FROM {quote(through.db_table)} s WHERE s.{incident} = i.id)"  # noqa: S608
    table = quote(Delivery._meta.db_table)
    return (f"WITH d AS (UPDATE {table} SET status = 'sending', claimed_at = $3::timestamptz, "  # noqa: S608
            f"attempts = attempts + 1 WHERE id = ANY($1::bigint[]) AND (status || '') = ANY($2::text[]) "
            f"AND next_attempt_at <= $3::timestamptz RETURNING *) "
            f"SELECT {', '.join(columns)}, {playbooks} FROM d {' '.join(joins)} ORDER BY d.id")


def deliveries_claim(*, delivery_ids: list[int]) -> list[Delivery]:
    """Claim the due rows among `delivery_ids` and return them loaded for sending."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        with transaction.atomic():
            due = Delivery.objects.filter(pk__in=delivery_ids, status__in=DUE_STATUSES, next_attempt_at__lte=now)
            claimed = list(due.values_list("id", flat=True))
            Delivery.objects.filter(pk__in=claimed).update(status=Delivery.Status.SENDING, claimed_at=now,
                                                           attempts=F("attempts") + 1)
        if not claimed:
            return []
        return list(Delivery.objects.select_related(*_RELATED).defer(*_DEFERRED)
                    .prefetch_related("notification__incident__scenarios").filter(pk__in=claimed).order_by("id"))
    return _built(prepared_run("cvi_deliveries_claim", _statement_sql,
                               [list(delivery_ids), [str(s) for s in DUE_STATUSES], now]))


@functools.cache
def _parts(alias: str) -> tuple:
    """The statement's columns as (join, model, fields, index of the primary key, converters):
    the delivery's first (no join), then each joined model's, as `_statement_sql` lists them.
    Each column's converters are the ones the ORM's compiler applies (JSON, decimals, …); they
    depend on the database's backend only, so they are found once a process."""
    backend = connections[alias]
    parts = []
    for part, model, fields in [(None, Delivery, Delivery._meta.concrete_fields),
                                *[(j, j.model, j.fields()) for j in _joined()]]:
        converters = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            converters.append((backend.ops.get_db_converters(column) + column.get_db_converters(backend), column))
        parts.append((part, model, [f.attname for f in fields], list(fields).index(model._meta.pk), converters))
    return tuple(parts)


def _built(rows: list[tuple]) -> list[Delivery]:
    """Deliveries with their related instances set as `select_related` sets them."""
    alias = connection.alias
    parts = _parts(alias)
    deliveries, incidents = [], []
    for row in rows:
        made: dict[str, Model | None] = {}
        at = 0
        for part, model, names, key, converting in parts:
            values = list(row[at:at + len(names)])
            at += len(names)
            parent = made.get(part.parent) if part else None
            if values[key] is None or (part is not None and parent is None):
                instance = None  # a null relation, or one hanging on a missing row
            else:
                for n, (found, column) in enumerate(converting):
                    for converter in found:
                        values[n] = converter(values[n], column, connection)
                instance = model.from_db(alias, names, values)
            made[part.alias if part else "d"] = instance
            if parent is not None:
                relation = parent._meta.get_field(part.relation)
                relation.set_cached_value(parent, instance)
                if instance is not None and relation.one_to_one and not relation.concrete:
                    relation.field.set_cached_value(instance, parent)  # the membership's user
        deliveries.append(made["d"])
        if made["i"] is not None:
            incidents.append((made["i"], row[at]))  # each row has its own instance, as with the ORM
    _playbooks_attach(incidents)
    return deliveries


def _playbooks_attach(incidents: list[tuple[Incident, list[int]]]) -> None:
    """Each incident's playbooks (their ids came with its row), left as `prefetch_related`
    leaves them: `incident.scenarios.all()` reads no more. One query for the batch, and none
    when no incident has any (most shootings match none)."""
    wanted = {pk for _incident, ids in incidents for pk in ids}
    found = list(Playbook.objects.filter(pk__in=wanted)) if wanted else []  # in the model's order
    for incident, ids in incidents:
        mine = set(ids)
        prefetched_set(incident, "scenarios", [p for p in found if p.pk in mine])
