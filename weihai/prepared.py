"""Server-side prepared statements for the statements every API request or submission runs.

Django binds parameters on the client and never prepares, so PostgreSQL parses and plans
each statement every time. For the token lookup (four tables) planning took ~0.3 ms of the
server's CPU against ~0.05 ms to run it, and ~0.3 ms for the submission's INSERT statement
(bench/README.md). Prepared once per database session, both are planned once: PostgreSQL
keeps a generic plan for them (measured: planning 0.005 ms). Statements are named after a
hash of their text, so a changed statement is prepared anew under another name.

Prepared statements live in the server session: behind a PgBouncer in transaction pooling
mode (older than 1.21) they would be lost between transactions. Set DB_PREPARED_STATEMENTS=0
there; the statements then run unprepared, with the same results.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from functools import lru_cache

from django.conf import settings
from django.db import connections

# Per live driver connection (a reconnect starts a new session, with nothing prepared).
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%[s%]")


def execute(cursor, sql: str, params, using: str = "default") -> None:
    """cursor.execute(sql, params) — as a prepared statement on PostgreSQL (prepared on this
    session first if needed), as is elsewhere. `sql` uses %s placeholders."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    name, numbered, count = _numbered(sql)
    if len(params) != count:
        raise ValueError(f"{name}: {count} placeholders, {len(params)} parameters")
    driver = connection.connection
    done = _prepared.setdefault(driver, set())
    if name not in done:
        # Session set-up, like Django's own connection initialisation: on the driver
        # connection, so it is not one of the request's queries (query logs and counts stay
        # per request). Not undone by a rollback; refused (and not recorded) in an aborted
        # transaction.
        with connection.wrap_database_errors:
            driver.execute(f"PREPARE {name} AS {numbered}")
        done.add(name)
    arguments = f"({', '.join(['%s'] * count)})" if count else ""
    cursor.execute(f"EXECUTE {name}{arguments}", params)


@lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, str, int]:
    """The statement's name and its text with $1, $2 … for %s (and % for %%)."""
    count = 0

    def replace(match) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    numbered = _PLACEHOLDER.sub(replace, sql)
    name = "weihai_" + hashlib.sha1(numbered.encode()).hexdigest()[:20]
    return name, numbered, count
