"""workflow.submit_ticket writes a new ticket's number, the ticket and its first event
together or not at all: a refused or failed insert gives its number back (no gap)."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from tests.tickets.conftest import T0
from tickets import workflow
from tickets.models import Ticket, TicketEvent, TicketNumberCounter

NEED = {"kind": "difficulty", "title": "用地", "description": "需要用地指标"}


def _submit(world, key: str = "", now: dt.datetime = T0, **fields):
    return workflow.submit_ticket(
        enterprise=world.enterprise, idempotency_key=key, now=now, **{**NEED, **fields}
    )


@pytest.mark.django_db
def test_numbers_continue_the_year_and_grow_past_six_digits(world):
    TicketNumberCounter.objects.create(year=2026, last=999_998)

    numbers = [_submit(world, title=f"诉求 {n}")[0].number for n in range(2)]

    assert numbers == ["WH-2026-999999", "WH-2026-1000000"]
    assert sorted(Ticket.objects.values_list("number", flat=True)) == sorted(numbers)
    assert TicketNumberCounter.objects.get(year=2026).last == 1_000_000


@pytest.mark.django_db
def test_the_year_is_weihais_and_a_new_year_starts_at_one(world):
    TicketNumberCounter.objects.create(year=2026, last=41)
    # 2026-12-31 16:30 UTC is already 2027-01-01 in Weihai.
    new_year = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)

    ticket, _ = _submit(world, now=new_year)

    assert ticket.number == "WH-2027-000001"
    assert dict(TicketNumberCounter.objects.values_list("year", "last")) == {2026: 41, 2027: 1}


@pytest.mark.django_db
def test_a_failed_event_insert_writes_nothing_and_uses_no_number(world, monkeypatch):
    _submit(world, title="第一件")
    refuse = IntegrityError("refused")

    def failing_save(self, *args, **kwargs):
        raise refuse

    with monkeypatch.context() as patched:
        patched.setattr(TicketEvent, "save", failing_save)
        with pytest.raises(IntegrityError) as raised:
            _submit(world, title="第二件")
    assert raised.value is refuse

    assert list(Ticket.objects.values_list("title", flat=True)) == ["第一件"]
    assert TicketEvent.objects.count() == 1
    assert TicketNumberCounter.objects.get(year=2026).last == 1
    assert _submit(world, title="第三件")[0].number == "WH-2026-000002"


@pytest.mark.django_db
def test_a_replay_inside_the_callers_transaction_leaves_it_usable_and_uses_no_number(world):
    with transaction.atomic():  # the caller's own transaction
        first, created = _submit(world, key="crm-1")
        again, created_again = _submit(world, key="crm-1")
        # Still usable: the refused insert was confined to its savepoint.
        assert Ticket.objects.count() == 1

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert TicketEvent.objects.count() == 1
    assert TicketNumberCounter.objects.get(year=2026).last == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_replay_writes_nothing_and_uses_no_number(world):
    assert not connection.in_atomic_block
    first, _ = _submit(world, key="crm-1")

    again, created = _submit(world, key="crm-1")

    assert not connection.in_atomic_block
    assert (created, again.pk) == (False, first.pk)
    assert list(Ticket.objects.values_list("number", flat=True)) == ["WH-2026-000001"]
    assert TicketEvent.objects.count() == 1
    assert TicketNumberCounter.objects.get(year=2026).last == 1
    assert _submit(world, key="crm-2")[0].number == "WH-2026-000002"
