"""tickets.inserts: a new ticket, its number and its first event are written together or not
at all — by the one-statement path (PostgreSQL) and by the ORM path (SQLite, the embedded
default; here forced on PostgreSQL by making the connection report another vendor)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.tickets.conftest import T0
from tickets import inserts
from tickets.models import Status, Ticket, TicketEvent, TicketNumberCounter

PATHS = ["one_statement", "orm"]


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    if request.param == "orm":
        monkeypatch.setattr(connection, "vendor", "sqlite-like")
    return request.param


def _new(world, key: str = "", **fields) -> tuple[Ticket, TicketEvent]:
    ticket = Ticket(
        enterprise=world.enterprise,
        kind="funding",
        title="技改贷款",
        description="需要一笔技改贷款。",
        category="loan",
        amount=Decimal("500.00"),
        chain=world.chain,
        status=Status.SUBMITTED,
        created_at=T0,
        updated_at=T0,
        submitted_by=world.owner,
        idempotency_key=key,
        request_fingerprint="f" * 64 if key else "",
        **fields,
    )
    event = TicketEvent(
        ticket=ticket,
        actor=world.owner,
        action="submit",
        to_status=Status.SUBMITTED,
        level=ticket.level,
        created_at=T0,
    )
    return ticket, event


def _row(model, pk) -> dict:
    instance = model.objects.get(pk=pk)
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}


def _written(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.django_db
def test_the_ticket_and_its_event_are_saved_exactly_as_given(world, path):
    ticket, event = _new(world, key="crm-1")

    with CaptureQueriesContext(connection) as queries:
        inserts.insert_new_ticket(ticket, event)

    statements = [
        q["sql"].split()[0]
        for q in queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))  # the test's transaction
    ]
    # One prepared statement; or the counter, the ticket and the event.
    assert statements == (["EXECUTE"] if path == "one_statement" else ["INSERT"] * 3)
    assert ticket.number == "WH-2026-000001"
    assert ticket.pk is not None and event.pk is not None
    assert not ticket._state.adding and not event._state.adding
    assert event.ticket is ticket and event.ticket_id == ticket.pk
    assert _row(Ticket, ticket.pk) == _written(ticket)  # every column, as the instance has it
    assert _row(TicketEvent, event.pk) == _written(event)
    assert TicketNumberCounter.objects.get(year=2026).last == 1


@pytest.mark.django_db
def test_numbers_continue_the_year_and_grow_past_six_digits(world, path):
    TicketNumberCounter.objects.create(year=2026, last=999_998)
    numbers = []
    for _ in range(2):
        ticket, event = _new(world)
        inserts.insert_new_ticket(ticket, event)
        numbers.append(ticket.number)

    assert numbers == ["WH-2026-999999", "WH-2026-1000000"]
    assert numbers == [inserts.number(2026, 999_999), inserts.number(2026, 1_000_000)]
    assert sorted(Ticket.objects.values_list("number", flat=True)) == sorted(numbers)


@pytest.mark.django_db
def test_a_refused_row_writes_nothing_and_leaves_the_callers_transaction_usable(world, path):
    first, first_event = _new(world, key="crm-1")
    inserts.insert_new_ticket(first, first_event)

    with transaction.atomic():  # the caller's own transaction
        twin, twin_event = _new(world, key="crm-1")
        with pytest.raises(IntegrityError):
            inserts.insert_new_ticket(twin, twin_event)
        # Still usable: the failed insert was confined to its savepoint.
        assert Ticket.objects.count() == 1

    assert TicketEvent.objects.count() == 1
    assert TicketNumberCounter.objects.get(year=2026).last == 1  # no gap
    assert twin.pk is None and twin._state.adding


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_refused_row_writes_nothing(world, path):
    assert not connection.in_atomic_block
    first, first_event = _new(world, key="crm-1")
    inserts.insert_new_ticket(first, first_event)
    twin, twin_event = _new(world, key="crm-1")

    with pytest.raises(IntegrityError):
        inserts.insert_new_ticket(twin, twin_event)

    assert not connection.in_atomic_block
    assert list(Ticket.objects.values_list("number", flat=True)) == ["WH-2026-000001"]
    assert TicketEvent.objects.count() == 1
    assert TicketNumberCounter.objects.get(year=2026).last == 1
    third, third_event = _new(world, key="crm-2")
    inserts.insert_new_ticket(third, third_event)
    assert third.number == "WH-2026-000002"
