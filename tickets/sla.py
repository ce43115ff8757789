"""SLA policies and deadlines: when a ticket must be accepted, resolved, warned about, closed.

`Sla` bundles the working calendar with the policies so a caller (one transition, or one
sweep over thousands of tickets) loads both once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tickets.calendar import WorkCalendar
from tickets.models import SlaPolicy, SlaStage, Status, Ticket

# Used when a (kind, level) pair has no policy row: the Shandong 12345 defaults.
DEFAULT_RESOLVE_DAYS = {"district": 5, "city": 10, "leader": 15}


@dataclass(frozen=True)
class Policy:
    accept_days: int = 1
    resolve_days: int = 5
    return_window_days: int = 2
    max_extension_days: int = 10
    auto_close_days: int = 5


@dataclass(frozen=True)
class Sla:
    calendar: WorkCalendar
    policies: dict[tuple[str, str], Policy]

    def policy(self, kind: str, level: str) -> Policy:
        found = self.policies.get((kind, level))
        if found is None:
            return Policy(resolve_days=DEFAULT_RESOLVE_DAYS.get(level, 5))
        return found

    def add(self, moment: dt.datetime, days: int | float) -> dt.datetime:
        return self.calendar.add_working_days(moment, days)

    def assignment_deadlines(
        self, kind: str, level: str, start: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime]:
        policy = self.policy(kind, level)
        return self.add(start, policy.accept_days), self.add(start, policy.resolve_days)

    def yellow_card_at(self, resolve_due_at: dt.datetime) -> dt.datetime:
        """One working day before the resolve deadline."""
        return self.add(resolve_due_at, -1)

    def schedule(self, ticket: Ticket) -> None:
        """Set escalate_at / sla_stage for the ticket's (new) status. Call after each change."""
        ticket.sla_stage = SlaStage.FRESH
        if ticket.status == Status.ASSIGNED:
            ticket.escalate_at = ticket.accept_due_at
        elif ticket.status == Status.IN_PROGRESS:
            ticket.escalate_at = self.yellow_card_at(ticket.resolve_due_at)
        elif ticket.status == Status.RESOLVED:
            policy = self.policy(ticket.kind, ticket.level)
            ticket.escalate_at = self.add(ticket.resolved_at, policy.auto_close_days)
        else:
            ticket.escalate_at = None

    def provisional(self, ticket: Ticket) -> bool:
        """Do the ticket's live deadlines — those recompute_deadlines recomputes: accept and
        resolve while assigned, resolve while being handled, the auto-close once resolved —
        fall in a year whose calendar is only provisional? Then they are 暂定."""
        calendar = self.calendar
        if not calendar.provisional_years:
            return False
        status = ticket.status
        if status == Status.RESOLVED:
            return calendar.is_provisional(ticket.escalate_at)
        return (status == Status.ASSIGNED and calendar.is_provisional(ticket.accept_due_at)) or (
            status in LIVE_RESOLVE_DUE and calendar.is_provisional(ticket.resolve_due_at)
        )


SCHEDULE_FIELDS = ["escalate_at", "sla_stage"]
LIVE_RESOLVE_DUE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.ON_HOLD})


def load_sla(*, fresh: bool = False) -> Sla:
    from tickets.calendar_store import load_calendar

    policies = {
        (p.kind, p.level): Policy(
            accept_days=p.accept_days,
            resolve_days=p.resolve_days,
            return_window_days=p.return_window_days,
            max_extension_days=p.max_extension_days,
            auto_close_days=p.auto_close_days,
        )
        for p in SlaPolicy.objects.all()
    }
    return Sla(calendar=load_calendar(fresh=fresh), policies=policies)
