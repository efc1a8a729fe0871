"""core.prepared: a hot statement is prepared once per database connection and then only run."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.prepared import prepared_run


def _kinds(capture) -> list[str]:
    return [q["sql"].split()[0] for q in capture]


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_a_connection_and_again_on_a_new_one():
    def sql() -> str:
        return "SELECT $1::int + 1, $2::text"

    # A fresh connection: another test on this worker may have prepared on the current one.
    connection.close()
    with CaptureQueriesContext(connection) as first:
        assert prepared_run("cvi_test_add", sql, [41, "a"]) == [(42, "a")]
    with CaptureQueriesContext(connection) as second:
        assert prepared_run("cvi_test_add", sql, [1, "b"]) == [(2, "b")]
    connection.close()
    with CaptureQueriesContext(connection) as after_reconnect:
        assert prepared_run("cvi_test_add", sql, [2, "c"]) == [(3, "c")]

    assert _kinds(first) == ["SET", "PREPARE", "EXECUTE"]
    assert _kinds(second) == ["EXECUTE"]
    assert _kinds(after_reconnect) == ["SET", "PREPARE", "EXECUTE"]
