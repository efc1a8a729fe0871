"""Prepared statements on PostgreSQL, for the few statements a hot path runs on every call.

Django binds parameters on the client, so PostgreSQL parses and plans every statement it is
sent; for a many-table statement run per delivery that planning (about 2 ms) cost more than
running it. `prepared_run(name, sql, params)` prepares `sql` (written with $1, $2, … and the
parameters' types) once per database connection under `name`, with a generic plan made once,
and runs it with `EXECUTE`, through Django's cursor, so it is logged and counted as any other.

A prepared statement belongs to its connection and is not transactional: a rollback leaves it in
place, and a new connection (after `close_old_connections`) prepares it again. A statement is
built from the models' own table and column names only; values are always parameters. Behind a
pooler in transaction mode (PgBouncer's default) session state such as this does not hold: run
the workers on a direct connection or a session-mode pool.
"""

import weakref
from collections.abc import Callable

from django.db import connection

# For each psycopg connection of this process, the names prepared on it.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def prepared_run(name: str, sql: Callable[[], str], params: list) -> list[tuple]:
    """Run the prepared statement `name` (preparing it with `sql()` on this connection first)
    and return its rows."""
    with connection.cursor() as cursor:
        raw = connection.connection
        names = _prepared.setdefault(raw, set())
        if name not in names:
            if not names:
                # A generic plan, made once: a custom plan for each call costs the planning this
                # saves. It holds for prepared statements only, and Django prepares none. A
                # PREPARE outlives a rollback but a SET does not: on a connection whose first
                # prepare is rolled back, PostgreSQL's own choice (generic after five runs when
                # no worse) applies instead, which costs time, not correctness.
                cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE {name} AS {sql()}")
            names.add(name)
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        return cursor.fetchall()
