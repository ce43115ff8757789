"""weihai.prepared: hot statements run as server-side prepared statements on PostgreSQL —
prepared once per database session, with the same results as running them directly."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from weihai import prepared

pytestmark = pytest.mark.django_db(transaction=True)  # tests close the connection

SQL = "SELECT %s::int + %s::int, '100%%'"


def _server_statements() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def _run(sql: str, params) -> list:
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, params)
        return cursor.fetchall()


def test_a_statement_is_prepared_once_per_session_and_gives_the_direct_result():
    name, numbered, count = prepared._numbered(SQL)
    assert (numbered, count) == ("SELECT $1::int + $2::int, '100%'", 2)
    connection.close()  # a new session: nothing prepared yet

    with CaptureQueriesContext(connection) as first:
        assert _run(SQL, [1, 2]) == [(3, "100%")]
    with CaptureQueriesContext(connection) as second:
        assert _run(SQL, [40, 2]) == [(42, "100%")]

    assert _server_statements()[name].endswith(numbered)
    # PREPARE is session set-up, not one of the caller's queries; each call is one EXECUTE.
    assert [q["sql"] for q in first] == [f"EXECUTE {name}(1, 2)"]
    assert [q["sql"] for q in second] == [f"EXECUTE {name}(40, 2)"]
    with connection.cursor() as cursor:
        cursor.execute(SQL, [40, 2])
        assert cursor.fetchall() == [(42, "100%")]


def test_a_new_session_prepares_again():
    name = prepared._numbered(SQL)[0]
    assert _run(SQL, [1, 1]) == [(2, "100%")]
    connection.close()

    assert name not in _server_statements()
    assert _run(SQL, [2, 2]) == [(4, "100%")]
    assert name in _server_statements()


def test_a_prepare_refused_in_an_aborted_transaction_is_tried_again():
    sql = "SELECT %s::int * 2"
    name = prepared._numbered(sql)[0]
    connection.close()
    with transaction.atomic():
        before_error = transaction.savepoint()
        with connection.cursor() as cursor:
            with pytest.raises(DatabaseError):
                cursor.execute("SELECT 1/0")
            with pytest.raises(DatabaseError, match="aborted"):
                prepared.execute(cursor, sql, [1])
        transaction.savepoint_rollback(before_error)
        assert name not in _server_statements()

        assert _run(sql, [21]) == [(42,)]  # recorded as not prepared: prepared now
        assert name in _server_statements()


def test_with_the_setting_off_statements_run_directly(settings):
    settings.DB_PREPARED_STATEMENTS = False
    with CaptureQueriesContext(connection) as captured:
        assert _run("SELECT %s::int", [7]) == [(7,)]
    assert [q["sql"] for q in captured] == ["SELECT 7::int"]


def test_a_parameter_count_that_does_not_match_is_refused_before_anything_runs():
    with pytest.raises(ValueError, match="2 placeholders, 1 parameters"):
        _run(SQL, [1])
