"""A PostgreSQL read replica for heavy read-only work (the monthly review's figures), used only
when one is configured (DATABASE_REPLICA_URL gives the `replica` database alias and sets
DATABASE_REPLICA_ALIAS).

Reads go to the replica only inside `replica_reads()` (or a function decorated with it) and only
outside a transaction on the primary: a read inside a transaction must see that transaction's
own writes, which the replica does not have. Every write goes to the primary, also for an object
read from the replica, and the replica is never migrated (it copies the primary).

A replica lags the primary by a moment: use it for figures of closed months, never for a page
that must show what was just written.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_reading: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_alias() -> str | None:
    """The configured replica alias, or None."""
    alias = getattr(settings, "DATABASE_REPLICA_ALIAS", None)
    return alias if alias and alias in settings.DATABASES else None


@contextmanager
def replica_reads():
    """Inside this block the router sends reads to the replica, when one is configured."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def reads_from_replica(function):
    """Decorate a read-only selector: its queries go to the replica when one is configured."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return function(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """settings.DATABASE_ROUTERS: the replica for reads inside `replica_reads()`, the primary for
    everything else."""

    def db_for_read(self, model, **hints):
        alias = replica_alias()
        if alias and _reading.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return alias
        return None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        aliases = {DEFAULT_DB_ALIAS, replica_alias()}
        return True if {obj1._state.db, obj2._state.db} <= aliases else None

    def allow_migrate(self, db, app_label, **hints):
        return False if db == replica_alias() else None
