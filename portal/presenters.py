"""What the portal's pages show of a ticket, derived from the model's own definitions
(the overdue table, the selectors); no rule of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tickets.models import OVERDUE_DEADLINES, Lateness, Status, Ticket, TicketEvent, lateness
from tickets.selectors import public_actor, public_reply, timeline_for


@dataclass(frozen=True)
class Deadline:
    step: str  # 签收 / 办结
    due: dt.datetime


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    deadline: Deadline | None
    late: Lateness | None


def next_deadline(ticket: Ticket) -> Deadline | None:
    """The deadline of the step the ticket waits for now (the one "overdue" is judged by)."""
    entry = OVERDUE_DEADLINES.get(ticket.status)
    if entry is None:
        return None
    field, step = entry
    due = getattr(ticket, field)
    return Deadline(str(step), due) if due else None


def rows(tickets, now: dt.datetime) -> list[Row]:
    return [Row(t, next_deadline(t), lateness(t, now)) for t in tickets]


@dataclass(frozen=True)
class Step:
    action: str
    status: str
    department: str  # the department it went to, when this step moved it
    actor: str
    reply: str
    at: dt.datetime


def timeline(user, ticket: Ticket) -> list[Step]:
    """The timeline as the enterprise reads it: its steps, replies and departments, never an
    internal note or a staff member's name (tickets.selectors)."""
    steps = []
    for event in timeline_for(user, ticket):
        TicketEvent.ticket.field.set_cached_value(event, ticket)
        moved = event.to_department_id and event.to_department_id != event.from_department_id
        steps.append(
            Step(
                action=event.get_action_display(),
                status=Status(event.to_status).label if event.to_status else "",
                department=event.to_department.name if moved else "",
                actor=public_actor(event, ticket.enterprise_id),
                reply=public_reply(event),
                at=event.created_at,
            )
        )
    return steps
