"""The database itself refuses impossible rows and edits of the history."""

import datetime as dt

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from tests.factories import CityDepartmentFactory, LeaderOfficeFactory, TicketFactory
from tests.tickets.conftest import T0, make_ticket
from tickets.models import Status, TicketEvent


def refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(**fields)


@pytest.mark.django_db
def test_an_outcome_needs_a_resolved_time():
    refused(outcome="basically_solved", resolved_at=None)


@pytest.mark.django_db
def test_resolved_and_closed_need_an_outcome_closed_needs_closed_at(world):
    refused(status="resolved", department=world.local, resolved_at=T0)
    refused(status="closed", department=world.local, outcome="solved", resolved_at=T0)


@pytest.mark.django_db
def test_other_impossible_rows(world):
    refused(status="assigned")  # no department
    refused(status="on_hold", department=world.local)  # no held_at
    refused(kind="difficulty", amount=100)
    refused(kind="funding", amount=-5)
    refused(satisfaction=6)
    refused(kind="complaint")
    refused(status="lost")
    refused(level="province")
    TicketFactory(enterprise=world.enterprise, idempotency_key="k")
    refused(enterprise=world.enterprise, idempotency_key="k")


@pytest.mark.django_db
def test_events_are_append_only_in_the_database(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    event = TicketEvent.objects.create(ticket=ticket, action="route", level="district")
    errors = (IntegrityError, InternalError)
    with pytest.raises(errors), transaction.atomic():
        TicketEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(errors), transaction.atomic():
        TicketEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(errors), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_ticketevent")
    assert TicketEvent.objects.get(pk=event.pk).note == ""


@pytest.mark.django_db
def test_a_department_must_escalate_exactly_one_tier_up():
    leader = LeaderOfficeFactory()
    city = CityDepartmentFactory(escalates_to=leader)
    with pytest.raises(IntegrityError, match="one tier up"), transaction.atomic():
        CityDepartmentFactory(escalates_to=city)  # city → city
    with pytest.raises(IntegrityError), transaction.atomic():
        CityDepartmentFactory(escalates_to=None)  # a dead end below the top
    with pytest.raises(IntegrityError), transaction.atomic():
        LeaderOfficeFactory(escalates_to=leader)  # above the top
    leader.tier = "city"
    leader.escalates_to = LeaderOfficeFactory()
    with pytest.raises(IntegrityError, match="cannot change tier"), transaction.atomic():
        leader.save()


@pytest.mark.django_db
def test_every_ticket_time_is_aware_shanghai_by_default():
    ticket = TicketFactory()
    assert ticket.created_at.tzinfo is not None
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - ticket.created_at < dt.timedelta(minutes=1)
