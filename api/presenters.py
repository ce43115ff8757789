"""Tickets as JSON, written out by hand.

DRF's ModelSerializer rebuilds its fields from the model on every instantiation and walks
them per row; for a ticket with its nested department, enterprise, chain and timeline that
was 10–13 ms of CPU per response — more than the submission's own database work
(bench/README.md). These functions produce exactly what api.serializers documents (the
OpenAPI schema is generated from those classes), and tests/api/test_presenters.py holds
the two to the same output, so neither can drift.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from tickets.models import Ticket, TicketEvent

CENT = Decimal("0.01")


def instant(value: dt.datetime | None) -> str | None:
    """As DRF renders a DateTimeField: in the current time zone, ISO 8601."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(CENT):f}"


def _ref(obj) -> dict | None:
    return None if obj is None else {"id": obj.pk, "name": obj.name}


# What ticket_row reads (Ticket.is_overdue included), for QuerySet.only().
ROW_COLUMNS = (
    "number",
    "kind",
    "title",
    "description",
    "category",
    "amount",
    "status",
    "level",
    "created_at",
    "updated_at",
    "accept_due_at",
    "resolve_due_at",
    "outcome",
    "satisfaction",
    "supervised",
    "deadlines_provisional",
    "department__name",
    "enterprise__name",
    "enterprise__uscc",
)


def ticket_row(ticket: Ticket, now: dt.datetime) -> dict:
    """The list shape (api.serializers.TicketSerializer). Needs department and enterprise
    selected with the ticket."""
    enterprise = ticket.enterprise
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "kind": ticket.kind,
        "title": ticket.title,
        "description": ticket.description,
        "category": ticket.category,
        "amount": _amount(ticket.amount),
        "status": ticket.status,
        "level": ticket.level,
        "department": _ref(ticket.department),
        "enterprise": {"id": enterprise.pk, "name": enterprise.name, "uscc": enterprise.uscc},
        "created_at": instant(ticket.created_at),
        "updated_at": instant(ticket.updated_at),
        "accept_due_at": instant(ticket.accept_due_at),
        "resolve_due_at": instant(ticket.resolve_due_at),
        "outcome": ticket.outcome or None,
        "satisfaction": ticket.satisfaction,
        "supervised": ticket.supervised,
        "overdue": ticket.is_overdue(now),
        "deadlines_provisional": ticket.deadlines_provisional,
    }


def event_row(event: TicketEvent) -> dict:
    actor = event.actor
    return {
        "action": event.action,
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
        "from_department": _ref(event.from_department),
        "to_department": _ref(event.to_department),
        "level": event.level,
        "actor": None if actor is None else (actor.get_full_name() or actor.get_username()),
        "note": event.note,
        "created_at": instant(event.created_at),
    }


def ticket_detail(ticket: Ticket, now: dt.datetime) -> dict:
    """The detail shape (api.serializers.TicketDetailSerializer). Needs chain selected and
    the events prefetched with their actors and departments."""
    return {
        **ticket_row(ticket, now),
        "chain": _ref(ticket.chain),
        "assigned_at": instant(ticket.assigned_at),
        "accepted_at": instant(ticket.accepted_at),
        "resolved_at": instant(ticket.resolved_at),
        "closed_at": instant(ticket.closed_at),
        "outcome_note": ticket.outcome_note,
        "satisfaction_note": ticket.satisfaction_note,
        "extension_requested_days": ticket.extension_requested_days,
        "extension_days": ticket.extension_days,
        "return_count": ticket.return_count,
        "reopen_count": ticket.reopen_count,
        "escalation_count": ticket.escalation_count,
        "events": [event_row(event) for event in ticket.events.all()],
    }
