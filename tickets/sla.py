"""SLA policies and deadlines: when a ticket must be accepted and resolved, and when the
escalation sweep must next look at it (`escalate_at`).

`Sla` bundles the working calendar with the policies so a caller (one transition, or one
sweep over thousands of tickets) loads both once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from tickets.calendar import DAY, WorkCalendar
from tickets.models import SlaPolicy, SlaStage, Status, Ticket, default_sla

# A reminder (催办) goes out when the accept deadline passes; the ticket is escalated if it is
# still not accepted this many working days after that deadline.
REMINDER_GRACE_DAYS = 1


@dataclass(frozen=True)
class Policy:
    accept_days: int
    resolve_days: int
    return_window_days: int
    max_extension_days: int
    auto_close_days: int

    @classmethod
    def default(cls, level: str) -> Policy:
        return cls(**default_sla(level))


@dataclass(frozen=True)
class Sla:
    calendar: WorkCalendar
    policies: dict[tuple[str, str], Policy]

    def policy(self, kind: str, level: str) -> Policy:
        return self.policies.get((kind, level)) or Policy.default(level)

    def add(self, moment: dt.datetime, days: int | float) -> dt.datetime:
        return self.calendar.add_working_days(moment, days)

    def assignment_deadlines(
        self, kind: str, level: str, start: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime]:
        policy = self.policy(kind, level)
        return self.add(start, policy.accept_days), self.add(start, policy.resolve_days)

    def next_look(self, ticket) -> dt.datetime | None:
        """When the escalation sweep must next look at the ticket: the one rule for
        `escalate_at`, from its status, its stage on the current deadline and its deadlines.

        `ticket` is a Ticket or anything with its fields (the sweep passes its rows).
        """
        status, stage = ticket.status, ticket.sla_stage
        if stage == SlaStage.SUPERVISED:
            return None
        if status == Status.ASSIGNED:
            if stage == SlaStage.REMINDED:
                return self.add(ticket.accept_due_at, REMINDER_GRACE_DAYS)
            return ticket.accept_due_at  # the reminder
        if status == Status.IN_PROGRESS:
            if stage == SlaStage.WARNED:
                return ticket.resolve_due_at  # the red card
            return self.add(ticket.resolve_due_at, -1)  # the yellow card
        if status == Status.RESOLVED:
            return self.add(
                ticket.resolved_at, self.policy(ticket.kind, ticket.level).auto_close_days
            )
        return None

    def schedule(self, ticket: Ticket) -> None:
        """A fresh stage on the ticket's (new) status and deadlines. Call after each change."""
        ticket.sla_stage = SlaStage.FRESH
        ticket.escalate_at = self.next_look(ticket)

    def recompute(self, ticket: Ticket) -> None:
        """The stored deadlines of an open ticket again, from its clock: accept_due_at =
        assigned_at + accept days; resolve_due_at = clock_started_at + (resolve days +
        approved extension days) working days + the working time spent on hold. The stage is
        kept; escalate_at follows the new deadlines."""
        policy = self.policy(ticket.kind, ticket.level)
        if ticket.assigned_at and ticket.status == Status.ASSIGNED:
            ticket.accept_due_at = self.add(ticket.assigned_at, policy.accept_days)
        start = ticket.clock_started_at or ticket.assigned_at
        if start and ticket.status != Status.RESOLVED:
            budget = (policy.resolve_days + ticket.extension_days) * DAY + ticket.paused_seconds
            ticket.resolve_due_at = self.calendar.add_working_seconds(start, budget)
        ticket.escalate_at = self.next_look(ticket)

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


# Tickets read and written per transaction by recompute_deadlines.
RECOMPUTE_BATCH = 2000


def recompute_deadlines(*, queryset=None, stdout=None) -> int:
    """Recompute the stored deadlines of open tickets after the calendar or a policy changed
    (Sla.recompute). Returns how many tickets changed."""
    sla = load_sla(fresh=True)
    queryset = queryset if queryset is not None else Ticket.objects.all()
    open_tickets = queryset.filter(
        status__in=[Status.ASSIGNED, Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED]
    ).order_by("pk")
    fields = ["accept_due_at", "resolve_due_at", "escalate_at", "deadlines_provisional"]
    changed = 0
    last_pk = 0
    while True:
        batch = list(open_tickets.filter(pk__gt=last_pk)[:RECOMPUTE_BATCH])
        if not batch:
            break
        last_pk = batch[-1].pk
        dirty = []
        for ticket in batch:
            before = tuple(getattr(ticket, name) for name in fields)
            sla.recompute(ticket)
            ticket.deadlines_provisional = sla.provisional(ticket)
            if tuple(getattr(ticket, name) for name in fields) != before:
                dirty.append(ticket)
        with transaction.atomic():
            Ticket.objects.bulk_update(dirty, fields)
        changed += len(dirty)
        if stdout is not None:
            stdout.write(f"  … {last_pk}: {changed} changed")
    return changed
