"""Saving a new ticket: its number, the ticket row and its first event, all or nothing.

On PostgreSQL the three writes are one statement (data-modifying CTEs) run in autocommit:
one round trip and one WAL flush, where the ORM needed five round trips (BEGIN, the counter,
the ticket, the event, COMMIT) and compiled two INSERTs per submission. The statement is
composed once per process from the models' metadata (every concrete column: a new field is
written without touching this file) and runs prepared (weihai/prepared.py). Elsewhere
(SQLite, the embedded default) the same three writes go through the ORM in one transaction.
Either way a failure — the (enterprise, Idempotency-Key) constraint on a retry — leaves
nothing behind, the counter included, so a rolled-back submission leaves no gap in the
numbers.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache, lru_cache

from django.db import connections, transaction
from django.utils import timezone

from tickets.models import Ticket, TicketEvent, TicketNumberCounter
from weihai import prepared


def number(year: int, last: int) -> str:
    return f"WH-{year}-{last:06d}"


def insert_new_ticket(ticket: Ticket, event: TicketEvent, using: str = "default") -> None:
    """Give `ticket` the next number of its year and save it with `event` (its first event).
    Both come back saved (pk set, `event.ticket` is `ticket`). Raises IntegrityError, with
    nothing written, if a constraint refuses either row."""
    year = timezone.localdate(ticket.created_at).year
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            ticket.number = _next_number_orm(year, using)
            ticket.save(force_insert=True, using=using)
            event.ticket = ticket
            event.save(force_insert=True, using=using)
        return

    ticket_fields, event_fields = _fields()
    ticket_values = _values(ticket, ticket_fields, connection)
    event_values = _values(event, event_fields, connection)
    # NULLs are written into the SQL rather than sent: a new ticket has many empty columns,
    # and with 50 parameters or fewer psycopg caches the parsing of the statement it sends.
    # Each NULL pattern is its own statement, composed and prepared once (a handful occur:
    # amount, chain, submitting user).
    sql = _statement(using, _nulls(ticket_values), _nulls(event_values))
    params = [year, f"WH-{year}-"]  # the statement appends the digits as number() does
    params += [v for v in ticket_values if v is not None]
    params += [v for v in event_values if v is not None]
    # Inside a caller's transaction a savepoint keeps it usable after an IntegrityError;
    # otherwise the single statement is its own transaction.
    savepoint = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
    with savepoint, connection.cursor() as cursor:
        prepared.execute(cursor, sql, params, using)
        ticket.pk, ticket.number, event.pk = cursor.fetchone()
    for instance in (ticket, event):
        instance._state.adding = False
        instance._state.db = using
    event.ticket = ticket


def _values(instance, fields, connection) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def _nulls(values: list) -> tuple[bool, ...]:
    return tuple(v is None for v in values)


@cache
def _fields() -> tuple[list, list]:
    """The columns written besides the ones the statement fills itself (the ids, the number,
    the event's ticket): every concrete, non-generated field."""

    def inserted(model, skip: str) -> list:
        return [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and not getattr(f, "generated", False) and f.name != skip
        ]

    return inserted(Ticket, "number"), inserted(TicketEvent, "ticket")


@lru_cache(maxsize=64)
def _statement(using: str, ticket_nulls: tuple[bool, ...], event_nulls: tuple[bool, ...]) -> str:
    quote = connections[using].ops.quote_name
    ticket_fields, event_fields = _fields()
    counter = quote(TicketNumberCounter._meta.db_table)

    def columns(fields) -> str:
        return ", ".join(quote(f.column) for f in fields)

    def placeholders(nulls) -> str:
        return ", ".join("NULL" if null else "%s" for null in nulls)

    ticket_pk, event_pk = quote(Ticket._meta.pk.column), quote(TicketEvent._meta.pk.column)
    number_column = quote(Ticket._meta.get_field("number").column)
    return (
        f"WITH n AS (INSERT INTO {counter} (year, last) VALUES (%s, 1)"
        f" ON CONFLICT (year) DO UPDATE SET last = {counter}.last + 1 RETURNING last),"
        # WH-<year>-<at least six digits>, as number() writes it.
        f" t AS (INSERT INTO {quote(Ticket._meta.db_table)}"
        f" ({number_column}, {columns(ticket_fields)})"
        f" VALUES ((SELECT %s || CASE WHEN n.last < 1000000 THEN lpad(n.last::text, 6, '0')"
        f" ELSE n.last::text END FROM n), {placeholders(ticket_nulls)})"
        f" RETURNING {ticket_pk}, {number_column}),"
        f" e AS (INSERT INTO {quote(TicketEvent._meta.db_table)}"
        f" ({quote(TicketEvent._meta.get_field('ticket').column)}, {columns(event_fields)})"
        f" VALUES ((SELECT {ticket_pk} FROM t), {placeholders(event_nulls)})"
        f" RETURNING {event_pk})"
        " SELECT t.*, e.* FROM t CROSS JOIN e"
    )


def _next_number_orm(year: int, using: str) -> str:
    # The counter row is locked until this transaction ends. INSERT … ON CONFLICT DO UPDATE
    # … RETURNING (SQLite 3.35+) also creates a new year's row without a race.
    table = TicketNumberCounter._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [year],
        )
        (last,) = cursor.fetchone()
    return number(year, last)
