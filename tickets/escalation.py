"""The escalation sweep: yellow card, reminder, escalation, supervision and auto-close, each
breach acted on exactly once.

Each open ticket carries `escalate_at`, the next instant the sweep must look at it
(`Sla.next_look`; partial index `ticket_escalate_due`). A sweep takes the due tickets in
batches locked with SELECT … FOR UPDATE SKIP LOCKED in (escalate_at, id) order, decides one
step per ticket, writes the batch's events with one bulk_create and applies the changes with
one UPDATE per group of tickets that get the same new values, and loops until nothing is due.

The steps, one event each, each allowed by workflow.TRANSITIONS:
- in_progress, one working day before the resolve deadline → warn (预警, yellow card);
- assigned past the accept deadline → remind (催办);
- assigned REMINDER_GRACE_DAYS after the accept deadline, or in_progress past the resolve
  deadline → escalate one tier up (district → city → leader; at the step to the leader tier a
  chain-linked ticket goes to its chain chief's office): the new department must accept, with
  new deadlines for its tier;
- the same at the leader tier → supervise (督办): the ticket stays on the supervision list;
- resolved without the enterprise's reply for the policy's days → auto_close.

Exactly once: each step's event carries a breach key ("escalate@<escalate_at>"), unique per
ticket in the database, so a step is recorded at most once even when two sweeps race, beat
fires twice, or a worker dies and its task is redelivered. The row locks and the moved
escalate_at make a second sweep at the same instant find nothing to do.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Department, IndustryChain, Tier
from tickets import calendar_store, effects, workflow
from tickets.calendar import CalendarMissing
from tickets.errors import WorkflowError
from tickets.models import SlaStage, Status, Ticket, TicketEvent
from tickets.sla import Sla, load_sla

logger = logging.getLogger(__name__)
Action = TicketEvent.Action

# Rows locked per transaction: a handler acting on one of them waits for one batch at most
# (about 0.1 s for 500 escalations on PostgreSQL), while the few statements per batch are
# shared by enough tickets (see bench/escalation.py).
BATCH_SIZE = 500
# A ticket the sweep cannot process (bad data, a calendar year missing, a step the database
# refuses) is looked at again after this long instead of crash-looping every sweep.
RETRY_BAD_ROW_AFTER = dt.timedelta(hours=1)


class Row(NamedTuple):
    """What the sweep reads of a due ticket (the fields Sla.next_look needs, and the step)."""

    id: int
    status: str
    kind: str
    level: str
    department_id: int | None
    chain_id: int | None
    sla_stage: int
    escalate_at: dt.datetime
    accept_due_at: dt.datetime | None
    resolve_due_at: dt.datetime | None
    resolved_at: dt.datetime | None
    supervised: bool
    supervised_at: dt.datetime | None
    escalation_count: int


@dataclass
class Step:
    row: Row
    action: str | None  # None: the schedule was stale, only escalate_at moves
    changes: dict  # field → new value; tickets with equal changes share one UPDATE
    note: str = ""

    @property
    def breach_key(self) -> str:
        return breach_key(self.action, self.row.escalate_at)

    def event(self, now: dt.datetime) -> TicketEvent:
        row = self.row
        return TicketEvent(
            ticket_id=row.id,
            action=self.action,
            from_status=row.status,
            to_status=self.changes.get("status", row.status),
            from_department_id=row.department_id,
            to_department_id=self.changes.get("department_id", row.department_id),
            level=self.changes.get("level", row.level),
            note=self.note,
            breach_key=self.breach_key,
            created_at=now,
        )


def breach_key(action: str, instant: dt.datetime) -> str:
    """The identity of one step: the action and the instant it was due, in UTC."""
    return f"{action}@{instant.astimezone(dt.UTC).isoformat(timespec='microseconds')}"


@dataclass(frozen=True)
class Notes:
    """The events' notes, translated once per sweep rather than per ticket (gettext costs
    about 13 µs a call: a quarter of the planning time of a large sweep)."""

    auto_close: str
    warn: str
    remind: str
    late: dict[str, str]  # by status: why the ticket is overdue
    escalated: str
    supervised: str

    @classmethod
    def load(cls) -> Notes:
        return cls(
            auto_close=_("办结后企业未在规定时间内反馈，自动关闭"),
            warn=_("距办结时限不足1个工作日（时限 %(due)s）"),
            remind=_("超过签收时限仍未签收，催办"),
            late={Status.IN_PROGRESS: _("超过办结时限"), Status.ASSIGNED: _("催办后仍未签收")},
            escalated=_("，升级至%(department)s"),
            supervised=_("，已在市领导层级，列入督办"),
        )


@dataclass
class Context:
    """What one sweep loads once: the instant, the SLA, the departments and chain chiefs."""

    now: dt.datetime
    sla: Sla
    departments: dict[int, tuple[str, int | None, str]]  # id → (tier, escalates_to, name)
    chain_chiefs: dict[int, int]
    notes: Notes
    _assignments: dict[tuple, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, now: dt.datetime, sla: Sla | None = None) -> Context:
        return cls(
            now=now,
            sla=sla or load_sla(fresh=True),
            notes=Notes.load(),
            departments={
                pk: (tier, up, name)
                for pk, tier, up, name in Department.objects.values_list(
                    "id", "tier", "escalates_to_id", "name"
                )
            },
            chain_chiefs=dict(
                IndustryChain.objects.exclude(chief_office=None).values_list(
                    "id", "chief_office_id"
                )
            ),
        )

    def assignment(self, kind: str, department_id: int, level: str) -> dict:
        """workflow.assignment_fields at `now`, computed once per kind and department."""
        key = (kind, department_id, level)
        if key not in self._assignments:
            self._assignments[key] = workflow.assignment_fields(
                self.sla, kind=kind, department_id=department_id, level=level, now=self.now
            )
        return self._assignments[key]


@dataclass
class SweepResult:
    sweep_id: str
    counts: Counter = field(default_factory=Counter)
    event_ids: list[int] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- deciding one step ------------------------------------------------------------------------


def _allows(action: str, row: Row) -> bool:
    return row.status in workflow.TRANSITIONS[action][0]


def _ladder(row: Row, ctx: Context) -> str:
    """The step a due ticket takes: the first sweep action that the transition table allows
    from its status and that its stage on the current deadline calls for."""
    if _allows(Action.AUTO_CLOSE, row):
        return Action.AUTO_CLOSE
    if row.sla_stage == SlaStage.FRESH:
        if _allows(Action.WARN, row) and ctx.now < row.resolve_due_at:
            return Action.WARN
        if _allows(Action.REMIND, row):
            return Action.REMIND
    tier = ctx.departments[row.department_id][0]
    up = Action.ESCALATE if Tier.above(tier) else Action.SUPERVISE
    if _allows(up, row):
        return up
    raise WorkflowError(f"no sweep step for a due {row.status} ticket at stage {row.sla_stage}")


def _escalation_target(row: Row, ctx: Context) -> tuple[int, str]:
    tier, escalates_to, _name = ctx.departments[row.department_id]
    level = Tier.above(tier)
    target = escalates_to
    if level == Tier.LEADER and row.chain_id in ctx.chain_chiefs:
        target = ctx.chain_chiefs[row.chain_id]
    if target is None:
        raise WorkflowError(f"department {row.department_id} has no escalation target")
    return target, level


def _after_this_sweep(instant: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    """One step per ticket per sweep: a next look that is due already (a reminder whose grace
    ran out while the sweep was down) waits for the next sweep, so the department hears of
    the reminder before the escalation, and the sweep's loop always ends."""
    if instant is not None and instant <= now:
        return now + dt.timedelta(microseconds=1)
    return instant


def plan(row: Row, ctx: Context) -> Step:
    """The step for one due ticket (raises on data the sweep cannot handle)."""
    now = ctx.now
    look = ctx.sla.next_look(row)
    if look is None or look > now:
        return Step(row, None, {"escalate_at": look})  # a stale schedule: nothing due yet
    action = _ladder(row, ctx)
    target_status = workflow.TRANSITIONS[action][1]
    changes = {} if target_status is None else {"status": target_status}
    notes = ctx.notes
    if action == Action.AUTO_CLOSE:
        changes |= {"closed_at": now, "sla_stage": SlaStage.FRESH}
        note = notes.auto_close
    elif action == Action.WARN:
        changes["sla_stage"] = SlaStage.WARNED
        due = timezone.localtime(row.resolve_due_at).strftime("%Y-%m-%d %H:%M")
        note = notes.warn % {"due": due}
    elif action == Action.REMIND:
        changes["sla_stage"] = SlaStage.REMINDED
        note = notes.remind
    elif action == Action.ESCALATE:
        department_id, level = _escalation_target(row, ctx)
        changes |= ctx.assignment(row.kind, department_id, level)
        changes |= {"sla_stage": SlaStage.FRESH, "escalation_count": row.escalation_count + 1}
        department = ctx.departments[department_id][2]
        note = notes.late[row.status] + notes.escalated % {"department": department}
    else:  # Action.SUPERVISE
        changes |= {
            "sla_stage": SlaStage.SUPERVISED,
            "supervised": True,
            "supervised_at": row.supervised_at or now,
        }
        note = notes.late[row.status] + notes.supervised
    after = row._replace(**{name: value for name, value in changes.items() if name in Row._fields})
    changes["escalate_at"] = _after_this_sweep(ctx.sla.next_look(after), now)
    # 暂定 when the new deadlines fall in a year whose calendar is not confirmed yet.
    changes["deadlines_provisional"] = ctx.sla.provisional(
        after._replace(escalate_at=changes["escalate_at"])
    )
    return Step(row, action, changes, note)


# --- applying steps --------------------------------------------------------------------------


def _apply(steps: list[Step], now: dt.datetime) -> list[TicketEvent]:
    """One event per step (one INSERT), then one UPDATE per group of equal changes."""
    events = TicketEvent.objects.bulk_create(step.event(now) for step in steps if step.action)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for step in steps:
        groups[tuple(sorted(step.changes.items()))].append(step.row.id)
    for changes, ids in groups.items():
        Ticket.objects.filter(pk__in=ids).update(**dict(changes), updated_at=now)
    return events


def _apply_one_by_one(steps: list[Step], now: dt.datetime, bad: list[int]) -> list[TicketEvent]:
    """Each step in its own savepoint. A step whose breach is already recorded (a replay of
    a step whose ticket change was lost) only moves the schedule on; a step the database
    refuses for another reason joins `bad`."""
    events = []
    for step in steps:
        try:
            with transaction.atomic():
                events += _apply([step], now)
        except IntegrityError:
            recorded = TicketEvent.objects.filter(
                ticket_id=step.row.id, breach_key=step.breach_key
            ).exists()
            if not recorded:
                logger.exception("escalation sweep: ticket %s refused %s", step.row.id, step.action)
                bad.append(step.row.id)
                continue
            logger.warning(
                "escalation sweep: ticket %s: %s already recorded; moving its schedule on",
                step.row.id,
                step.breach_key,
            )
            _apply([Step(step.row, None, {"escalate_at": step.changes["escalate_at"]})], now)
    return events


@dataclass
class _Batch:
    events: list[TicketEvent]
    bad: list[int]
    missing_years: set[int]


def _sweep_batch(ctx: Context, *, careful: bool) -> _Batch | None:
    """Lock the next due tickets and act on them; None when nothing is due. Run it in a
    transaction. `careful`: each step in its own savepoint (the retry of a batch that broke
    a constraint)."""
    rows = [
        Row(*values)
        for values in Ticket.objects.select_for_update(skip_locked=True)
        .filter(escalate_at__lte=ctx.now)
        .order_by("escalate_at", "id")
        .values_list(*Row._fields)[:BATCH_SIZE]
    ]
    if not rows:
        return None
    steps, bad, missing_years = [], [], set()
    for row in rows:
        try:
            steps.append(plan(row, ctx))
        except CalendarMissing as missing:
            missing_years.add(missing.year)
            bad.append(row.id)
        except Exception:
            logger.exception("escalation sweep: cannot plan ticket %s", row.id)
            bad.append(row.id)
    events = _apply_one_by_one(steps, ctx.now, bad) if careful else _apply(steps, ctx.now)
    if bad:
        Ticket.objects.filter(pk__in=bad).update(escalate_at=ctx.now + RETRY_BAD_ROW_AFTER)
    return _Batch(events, bad, missing_years)


def escalate_overdue(
    *, now: dt.datetime | None = None, notify: bool = True, sla: Sla | None = None
) -> SweepResult:
    """One escalation sweep at `now`: act on every ticket whose escalate_at has come, then
    send each department one digest of what this sweep did (notify). `sla`: the SLA and
    calendar to use, for a caller running many sweeps (the demo seeding: building the
    calendar afresh costs tens of milliseconds per sweep); by default loaded fresh."""
    started = time.perf_counter()
    now = now or timezone.now()
    result = SweepResult(sweep_id=uuid.uuid4().hex)
    # The common case is "nothing due": one probe of the partial index, nothing else loaded.
    if Ticket.objects.filter(escalate_at__lte=now).exists():
        ctx = Context.load(now, sla)
        alerted: set[int] = set()
        while True:
            try:
                with transaction.atomic():
                    batch = _sweep_batch(ctx, careful=False)
            except IntegrityError:
                # Rolled back whole: redo it step by step, so that one step the database
                # refuses cannot stop (or crash-loop) the sweep.
                logger.warning("escalation sweep: a batch broke a constraint; retrying it")
                with transaction.atomic():
                    batch = _sweep_batch(ctx, careful=True)
            if batch is None:
                break
            for event in batch.events:
                result.counts[str(event.action)] += 1
                result.event_ids.append(event.pk)
            result.skipped += len(batch.bad)
            for year in batch.missing_years - alerted:
                alerted.add(year)
                calendar_store.alert_calendar_missing(year, now=now)
    if notify and result.event_ids:
        effects.publish(effects.SEND_DIGEST, result.sweep_id, result.event_ids)
    result.seconds = time.perf_counter() - started
    if result.total or result.skipped:
        logger.info(
            "escalation sweep %s at %s: %s, %s skipped, %.2fs",
            result.sweep_id,
            now.isoformat(),
            dict(result.counts),
            result.skipped,
            result.seconds,
        )
    return result
