"""The event table is append-only in the database itself, so the promise holds against the
admin, the shell and raw SQL. TRUNCATE stays possible for test teardown and demo resets;
`unlocked()` lifts the rule for one transaction (wiping the demo data with DELETE).

Installed by a migration and re-ensured after every ``migrate`` (SQLite drops a table's
triggers when a later migration rebuilds the table).
"""

from contextlib import contextmanager

from django.db import transaction

POSTGRESQL = [
    """
CREATE OR REPLACE FUNCTION tickets_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'tickets_ticketevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql
""",
    "DROP TRIGGER IF EXISTS tickets_ticketevent_append_only ON tickets_ticketevent",
    """
CREATE TRIGGER tickets_ticketevent_append_only
BEFORE UPDATE OR DELETE ON tickets_ticketevent
FOR EACH ROW EXECUTE FUNCTION tickets_event_append_only()
""",
]

SQLITE = [
    """
CREATE TRIGGER IF NOT EXISTS tickets_ticketevent_no_update
BEFORE UPDATE ON tickets_ticketevent
BEGIN SELECT RAISE(ABORT, 'tickets_ticketevent is append-only: UPDATE is not allowed'); END
""",
    """
CREATE TRIGGER IF NOT EXISTS tickets_ticketevent_no_delete
BEFORE DELETE ON tickets_ticketevent
BEGIN SELECT RAISE(ABORT, 'tickets_ticketevent is append-only: DELETE is not allowed'); END
""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tickets_ticketevent_no_update",
    "DROP TRIGGER IF EXISTS tickets_ticketevent_no_delete",
]

POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS tickets_ticketevent_append_only ON tickets_ticketevent"]


def _statements(connection) -> tuple[list[str], list[str]]:
    """(install, drop) for this database."""
    # Vendor branch 1 of 3 in app code: trigger syntax is not portable (PL/pgSQL vs SQLite's
    # RAISE(ABORT)), and Django has no API for triggers.
    statements = {
        "postgresql": (POSTGRESQL, POSTGRESQL_DROP),
        "sqlite": (SQLITE, SQLITE_DROP),
    }.get(connection.vendor)
    if statements is None:
        raise NotImplementedError(f"no append-only trigger for database {connection.vendor}")
    return statements


def _execute(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection) -> None:
    _execute(connection, _statements(connection)[0])


@contextmanager
def unlocked(connection):
    """Events may be deleted inside this block, which runs in one transaction: the triggers
    are dropped and installed again before it commits (both databases' DDL is
    transactional), so no other connection ever sees the table unprotected."""
    install_statements, drop_statements = _statements(connection)
    with transaction.atomic(using=connection.alias):
        _execute(connection, drop_statements)
        yield
        _execute(connection, install_statements)
