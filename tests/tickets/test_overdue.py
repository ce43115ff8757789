"""One definition of overdue (tickets.models.OVERDUE_DEADLINES): the query, the instance check
and the lateness shown in lists all follow it, at the same instant."""

import datetime as dt

import pytest

from tests.tickets.conftest import T0, make_ticket
from tickets.models import Status, Ticket, lateness

HOUR = dt.timedelta(hours=1)
PAST, FUTURE = T0 - 50 * HOUR, T0 + HOUR

# (status, accept_due_at, resolve_due_at, overdue at T0 as which step and how many days late)
CASES = [
    (Status.ASSIGNED, PAST, FUTURE, ("签收", 3)),  # 50 hours: two days and a started third
    (Status.ASSIGNED, FUTURE, PAST, None),  # the resolve clock does not run yet
    (Status.ASSIGNED, T0, PAST, None),  # due exactly now is not yet late
    (Status.ASSIGNED, None, None, None),
    (Status.IN_PROGRESS, FUTURE, PAST, ("办结", 3)),
    (Status.IN_PROGRESS, PAST, FUTURE, None),  # signed for: the accept deadline is history
    (Status.IN_PROGRESS, PAST, None, None),
    (Status.ON_HOLD, PAST, PAST, None),  # the clock is paused
    (Status.RETURNED, PAST, PAST, None),
    (Status.PENDING_REVIEW, PAST, PAST, None),
    (Status.RESOLVED, PAST, PAST, None),
    (Status.CLOSED, PAST, PAST, None),
]


@pytest.mark.parametrize(("status", "accept_due", "resolve_due", "late"), CASES)
def test_query_instance_check_and_lateness_agree(world, status, accept_due, resolve_due, late):
    ticket = make_ticket(world, status)
    Ticket.objects.filter(pk=ticket.pk).update(accept_due_at=accept_due, resolve_due_at=resolve_due)
    ticket.refresh_from_db()

    found = Ticket.objects.overdue(T0).filter(pk=ticket.pk).exists()
    kept = Ticket.objects.not_overdue(T0).filter(pk=ticket.pk).exists()
    how_late = lateness(ticket, T0)

    assert (found, kept) == (late is not None, late is None)
    assert ticket.is_overdue(T0) is (late is not None)
    if late is None:
        assert how_late is None
    else:
        due = accept_due if late[0] == "签收" else resolve_due
        assert (str(how_late.step), how_late.due, how_late.days) == (*late[:1], due, late[1])


def test_most_overdue_first_orders_by_the_current_steps_deadline(world):
    accept = make_ticket(world, Status.ASSIGNED, accept_due_at=T0 - 2 * HOUR)
    resolve = make_ticket(
        world, Status.IN_PROGRESS, accept_due_at=T0 - 9 * HOUR, resolve_due_at=T0 - 3 * HOUR
    )
    recent = make_ticket(world, Status.IN_PROGRESS, resolve_due_at=T0 - HOUR)

    ordered = Ticket.objects.overdue(T0).most_overdue_first()

    assert list(ordered) == [resolve, accept, recent]
