"""The periodic sweeps: the escalation ladder and the re-routing of stranded submissions.

Escalation is set-based. Each open ticket carries `escalate_at`, the next instant someone
must look at it (partial index `ticket_escalate_due`). A sweep takes small batches of due
tickets with SELECT … FOR UPDATE SKIP LOCKED (ordered by escalate_at, id), decides one step
per ticket, writes the events with one bulk INSERT and applies the changes with one UPDATE
per group of tickets receiving the same new values — never a save() per ticket. On
PostgreSQL the INSERT and the group UPDATEs travel as one statement (data-modifying CTEs), so
a batch is four round trips: BEGIN, the locking SELECT, that statement, COMMIT.

Steps (one event each, acting on the ticket's current deadline):
- in_progress, one working day before the resolve deadline → yellow card (warn)
- assigned past the accept deadline → reminder (remind, 催办), a working day's grace
- assigned after the reminder, or in_progress past the resolve deadline → escalate one tier
  up (district → city → leader; at the top, chain-linked tickets go to the chain chief's
  office), new department must accept, new deadlines
- at the leader tier, overdue again → supervised (督办); it stays on the supervision list
- resolved without reply for the policy's days → auto-close

Each step's event carries a breach key ("escalate@<escalate_at>") that is unique per
ticket, so a step is acted on at most once even when two sweeps race, beat fires twice, or
a worker dies and its task is redelivered; the row lock and the moved escalate_at make a
second sweep at the same instant find nothing to do.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Department, IndustryChain, Tier
from tickets import calendar_store, effects
from tickets.calendar import CalendarMissing
from tickets.errors import WorkflowError
from tickets.models import SlaStage, Status, Ticket, TicketEvent
from tickets.sla import Sla, load_sla

logger = logging.getLogger(__name__)

# Rows locked per transaction. Small enough that a handler acting on one of them waits
# only a fraction of a second (a batch of 500 escalations takes ~40 ms on PostgreSQL), large
# enough that the four round trips per batch are amortised (see bench/escalation.py).
BATCH_SIZE = 500
# A ticket the sweep cannot process (bad data, missing calendar year) is looked at again
# after this long instead of crash-looping every sweep.
RETRY_BAD_ROW_AFTER = dt.timedelta(hours=1)
# After a reminder (催办) the department gets this many working days before escalation.
REMINDER_GRACE_DAYS = 1

Action = TicketEvent.Action
ROW_FIELDS = (
    "id",
    "status",
    "kind",
    "level",
    "department_id",
    "chain_id",
    "sla_stage",
    "escalate_at",
    "resolve_due_at",
    "supervised",
)


class Row(NamedTuple):
    # A NamedTuple, not a frozen dataclass: built 10,000 times in a large sweep, and a frozen
    # dataclass's __init__ costs several times more.
    id: int
    status: str
    kind: str
    level: str
    department_id: int | None
    chain_id: int | None
    sla_stage: int
    escalate_at: dt.datetime
    resolve_due_at: dt.datetime | None
    supervised: bool


@dataclass
class Step:
    row: Row
    action: str | None  # None: only reschedule (no event), e.g. a stale escalate_at
    updates: dict
    to_status: str
    to_department_id: int | None
    level: str
    note: str = ""

    @property
    def group(self) -> int:
        # Steps making the same change share one updates dict (Context.shared): one UPDATE
        # per dict, with no need to compare dicts.
        return id(self.updates)

    @property
    def breach_key(self) -> str:
        return breach_key(self.action, self.row.escalate_at)


def breach_key(action: str, instant: dt.datetime) -> str:
    """The identity of one step: the action and the instant it was due, in UTC."""
    return f"{action}@{instant.astimezone(dt.UTC).isoformat(timespec='microseconds')}"


@dataclass
class Context:
    now: dt.datetime
    sla: Sla
    departments: dict[int, tuple[str, int | None, str]]  # id -> (tier, escalates_to, name)
    chain_chiefs: dict[int, int]
    alerted_years: set[int] = field(default_factory=set)
    _texts: dict[str, str] = field(default_factory=dict)
    _shared: dict[tuple, dict] = field(default_factory=dict)
    _deadlines: dict[tuple[str, str], tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)
    _compiled: dict[int, tuple[dict, str, tuple]] = field(default_factory=dict)  # _update_sql
    _lock_sql: tuple[str, tuple] | None = None  # _lock_batch

    def shared(self, key: tuple, build) -> dict:
        """The one updates dict for a distinct change, built once per sweep."""
        found = self._shared.get(key)
        if found is None:
            found = self._shared[key] = build()
        return found

    def text(self, message: str) -> str:
        """gettext, looked up once per sweep (it costs ~50 µs a call)."""
        if message not in self._texts:
            self._texts[message] = _(message)
        return self._texts[message]

    def deadlines(self, kind: str, tier: str) -> tuple[dt.datetime, dt.datetime]:
        """New (accept, resolve) deadlines from `now`, computed once per kind and tier."""
        key = (kind, tier)
        if key not in self._deadlines:
            self._deadlines[key] = self.sla.assignment_deadlines(kind, tier, self.now)
        return self._deadlines[key]

    @classmethod
    def load(cls, now: dt.datetime) -> Context:
        return cls(
            now=now,
            sla=load_sla(fresh=True),
            departments={
                pk: (tier, up, name)
                for pk, tier, up, name in Department.objects.values_list(
                    "id", "tier", "escalates_to_id", "name"
                )
            },
            chain_chiefs=dict(IndustryChain.objects.values_list("id", "chief_office_id")),
        )


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


def plan(row: Row, ctx: Context) -> Step:
    now = ctx.now
    if row.status == Status.RESOLVED:
        return Step(
            row,
            Action.AUTO_CLOSE,
            ctx.shared(
                ("auto_close",),
                lambda: {
                    "status": Status.CLOSED,
                    "closed_at": now,
                    "escalate_at": None,
                    "sla_stage": 0,
                    "deadlines_provisional": False,
                },
            ),
            Status.CLOSED,
            row.department_id,
            row.level,
            ctx.text("办结后企业未在规定时间内反馈，自动关闭"),
        )
    if row.status == Status.IN_PROGRESS:
        if now >= row.resolve_due_at:
            return _escalate(row, ctx, ctx.text("超过办结时限"))
        if row.sla_stage == SlaStage.FRESH:
            return Step(
                row,
                Action.WARN,
                ctx.shared(
                    ("warn",),
                    lambda: {"sla_stage": SlaStage.WARNED, "escalate_at": F("resolve_due_at")},
                ),
                row.status,
                row.department_id,
                row.level,
                ctx.text("距办结时限不足1个工作日（时限 %(due)s）")
                % {"due": timezone.localtime(row.resolve_due_at).strftime("%Y-%m-%d %H:%M")},
            )
        return _reschedule(row, F("resolve_due_at"))
    if row.status == Status.ASSIGNED:
        if row.sla_stage != SlaStage.REMINDED:
            return Step(
                row,
                Action.REMIND,
                ctx.shared(
                    ("remind",),
                    lambda: {
                        "sla_stage": SlaStage.REMINDED,
                        "escalate_at": ctx.sla.add(now, REMINDER_GRACE_DAYS),
                    },
                ),
                row.status,
                row.department_id,
                row.level,
                ctx.text("超过签收时限仍未签收，催办"),
            )
        return _escalate(row, ctx, ctx.text("催办后仍未签收"))
    return _reschedule(row, None)


def _reschedule(row: Row, escalate_at) -> Step:
    return Step(row, None, {"escalate_at": escalate_at}, row.status, row.department_id, row.level)


def _escalate(row: Row, ctx: Context, reason: str) -> Step:
    tier, escalates_to, _name = ctx.departments[row.department_id]
    next_tier = Tier.above(tier)
    if next_tier is None:

        def build():
            updates = {"escalate_at": None, "sla_stage": 0, "supervised": True}
            if not row.supervised:
                updates["supervised_at"] = ctx.now
            return updates

        updates = ctx.shared(("supervise", row.supervised), build)
        return Step(
            row,
            Action.SUPERVISE,
            updates,
            row.status,
            row.department_id,
            row.level,
            reason + ctx.text("，已在市领导层级，列入督办"),
        )
    target = escalates_to
    if next_tier == Tier.LEADER and row.chain_id in ctx.chain_chiefs:
        target = ctx.chain_chiefs[row.chain_id]
    if target is None:
        raise WorkflowError(f"department {row.department_id} has no escalation target")
    accept_due, resolve_due = ctx.deadlines(row.kind, next_tier)
    updates = ctx.shared(
        ("escalate", target, next_tier, accept_due, resolve_due),
        lambda: {
            "status": Status.ASSIGNED,
            "department_id": target,
            "level": next_tier,
            "assigned_at": ctx.now,
            "accepted_at": None,
            "clock_started_at": ctx.now,
            "paused_seconds": 0,
            "extension_days": 0,
            "accept_due_at": accept_due,
            "resolve_due_at": resolve_due,
            "escalate_at": accept_due,
            "sla_stage": 0,
            "extension_requested_days": None,
            "escalation_count": F("escalation_count") + 1,
            "deadlines_provisional": ctx.sla.calendar.is_provisional(accept_due)
            or ctx.sla.calendar.is_provisional(resolve_due),
        },
    )
    return Step(
        row,
        Action.ESCALATE,
        updates,
        Status.ASSIGNED,
        target,
        next_tier,
        reason + ctx.text("，升级至%(department)s") % {"department": ctx.departments[target][2]},
    )


# --- applying steps --------------------------------------------------------------------------


EVENT_COLUMNS = [
    ("ticket_id", "bigint"),
    ("action", "text"),
    ("from_status", "text"),
    ("to_status", "text"),
    ("from_department_id", "bigint"),
    ("to_department_id", "bigint"),
    ("level", "text"),
    ("note", "text"),
    ("breach_key", "text"),
]
# PostgreSQL: the events go in with one INSERT … SELECT FROM unnest(arrays) per batch
# (bulk_create compiles every value of every row in Python, which cost more than the database
# work, see bench/). A breach already recorded (a replay after a crash, a redelivered task) is
# skipped by ON CONFLICT on event_breach_once_per_ticket and its ticket is only rescheduled:
# no savepoint per batch is needed to survive it.
INSERT_EVENTS = """
INSERT INTO tickets_ticketevent ({columns}, created_at)
SELECT {columns}, %b FROM unnest({arrays}) AS e({columns})
ON CONFLICT (ticket_id, breach_key) WHERE breach_key IS NOT NULL DO NOTHING
RETURNING id, action, ticket_id
""".format(
    columns=", ".join(name for name, _type in EVENT_COLUMNS),
    arrays=", ".join(f"%b::{kind}[]" for _name, kind in EVENT_COLUMNS),
)


def _event_values(step: Step) -> tuple:
    row = step.row
    return (
        row.id,
        step.action,
        row.status,
        step.to_status,
        row.department_id,
        step.to_department_id,
        step.level,
        step.note,
        step.breach_key,
    )


@contextmanager
def _pg_cursor():
    """A server-side-binding psycopg cursor on Django's connection (same transaction).

    Arrays travel as binary parameters instead of being quoted into the SQL text (Django's
    cursors bind client-side), and results can be fetched in binary: Django's text loader for
    timestamptz is Python code, ~6 µs a value. Errors are still Django's (IntegrityError …).
    """
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def _update_sql(updates: dict, now: dt.datetime, ctx: Context | None) -> tuple[str, tuple]:
    """`UPDATE tickets_ticket SET …` (no WHERE) for one group's change, compiled by Django
    once per distinct change and sweep."""
    cache = ctx._compiled if ctx is not None else {}
    found = cache.get(id(updates))
    if found is not None and found[0] is updates:  # the dict itself: its id is not reused
        return found[1], found[2]
    query = UpdateQuery(Ticket)
    query.add_update_values({**updates, "updated_at": now})
    sql, params = query.get_compiler(connection=connection).as_sql()
    assert " WHERE " not in sql, sql
    cache[id(updates)] = (updates, sql, params)
    return sql, params


def _batch_statement(
    steps: list[Step], now: dt.datetime, ctx: Context | None
) -> tuple[str, list, int]:
    """PostgreSQL: the batch's events and every group's UPDATE as one statement.

        WITH ev AS (INSERT … ON CONFLICT DO NOTHING RETURNING id, action, ticket_id),
             u0 AS (UPDATE … WHERE id = ANY(…) AND id IN (SELECT ticket_id FROM ev)),
             u1 AS (…)
        SELECT id, action, ticket_id FROM ev

    One round trip instead of a SAVEPOINT, the INSERT, one UPDATE per group and the RELEASE
    (round trips are what a busy server makes expensive). A ticket gets its step's change
    only if its event was written. The groups are disjoint: no row is updated twice.
    Returns (sql, params, number of events).
    """
    values = [_event_values(step) for step in steps if step.action]
    ctes, params = [], []
    if values:
        ctes.append(f"ev AS ({INSERT_EVENTS})")
        params += [now, *map(list, zip(*values, strict=True))]
    groups: dict[tuple, list[Step]] = defaultdict(list)
    for step in steps:
        groups[step.group, step.action is None].append(step)
    for number, ((_group, no_event), members) in enumerate(groups.items()):
        sql, set_params = _update_sql(members[0].updates, now, ctx)
        where = "id = ANY(%b::bigint[])"
        if not no_event:
            where += " AND id IN (SELECT ticket_id FROM ev)"
        ctes.append(f"u{number} AS ({sql} WHERE {where})")
        params += [*set_params, [step.row.id for step in members]]
    final = "SELECT id, action, ticket_id FROM ev" if values else "SELECT 1 WHERE false"
    return "WITH " + ",\n".join(ctes) + "\n" + final, params, len(values)


def _apply_in_one_statement(
    steps: list[Step], now: dt.datetime, ctx: Context | None
) -> list[tuple[int, str]]:
    """PostgreSQL: apply the batch with _batch_statement; a ticket whose breach was already
    recorded keeps its row and only has its schedule moved on."""
    if not steps:
        return []
    sql, params, expected = _batch_statement(steps, now, ctx)
    with _pg_cursor() as cursor:
        cursor.execute(sql, params)
        recorded = cursor.fetchall() if expected else []
    if len(recorded) < expected:
        written = {ticket_id for _id, _action, ticket_id in recorded}
        for step in steps:
            if step.action and step.row.id not in written:
                logger.warning(
                    "ticket %s: %s already recorded; moving its schedule on",
                    step.row.id,
                    step.breach_key,
                )
                Ticket.objects.filter(pk=step.row.id).update(
                    escalate_at=step.updates.get("escalate_at"), updated_at=now
                )
    return [(event_id, action) for event_id, action, _ticket_id in recorded]


def _apply_grouped(
    steps: list[Step], now: dt.datetime, ctx: Context | None = None
) -> list[tuple[int, str]]:
    """Write one event per step and apply the changes, one UPDATE per group of steps making
    the same change. Returns [(event id, action)]."""
    if connection.vendor == "postgresql":
        return _apply_in_one_statement(steps, now, ctx)
    names = [name for name, _type in EVENT_COLUMNS]
    events = TicketEvent.objects.bulk_create(
        TicketEvent(created_at=now, **dict(zip(names, _event_values(step), strict=True)))
        for step in steps
        if step.action
    )
    groups: dict[tuple, list[Step]] = defaultdict(list)
    for step in steps:
        groups[step.group].append(step)
    for members in groups.values():
        updates = dict(members[0].updates, updated_at=now)
        Ticket.objects.filter(pk__in=[s.row.id for s in members]).update(**updates)
    return [(event.pk, event.action) for event in events]


def _apply_one_by_one(steps: list[Step], now: dt.datetime) -> list[tuple[int, str]]:
    """Each step in its own savepoint: a step that breaks a constraint (on SQLite also a
    breach already recorded) only reschedules its ticket."""
    events = []
    for step in steps:
        try:
            with transaction.atomic():
                events.extend(_apply_grouped([step], now))
        except IntegrityError:
            logger.warning(
                "ticket %s: %s could not be applied (already recorded?); moving its schedule on",
                step.row.id,
                step.breach_key,
                exc_info=True,
            )
            _apply_grouped([_reschedule(step.row, step.updates.get("escalate_at"))], now)
    return events


def _lock_batch(ctx: Context) -> list[Row]:
    """The next due tickets, locked FOR UPDATE SKIP LOCKED, oldest deadline first."""
    queryset = (
        Ticket.objects.select_for_update(skip_locked=True)
        .filter(escalate_at__lte=ctx.now)
        .order_by("escalate_at", "id")
        .values_list(*ROW_FIELDS)[:BATCH_SIZE]
    )
    if connection.vendor != "postgresql":
        return [Row(*values) for values in queryset]
    if ctx._lock_sql is None:
        ctx._lock_sql = queryset.query.sql_with_params()
    sql, params = ctx._lock_sql
    with _pg_cursor() as cursor:
        cursor.execute(sql, params, binary=True)
        return list(map(Row._make, cursor.fetchall()))


def _sweep_batch(ctx: Context, result: SweepResult, *, careful: bool = False) -> int:
    """One batch in one transaction. `careful`: each step in its own savepoint (the retry of a
    batch that failed as a whole)."""
    with transaction.atomic():
        rows = _lock_batch(ctx)
        if not rows:
            return 0
        steps, bad = [], []
        for row in rows:
            try:
                steps.append(plan(row, ctx))
            except CalendarMissing as missing:
                bad.append(row.id)
                if missing.year not in ctx.alerted_years:
                    ctx.alerted_years.add(missing.year)
                    calendar_store.alert_calendar_missing(missing.year, now=ctx.now)
            except Exception:
                logger.exception("escalation sweep could not plan ticket %s", row.id)
                bad.append(row.id)
        if careful:
            events = _apply_one_by_one(steps, ctx.now)
        elif connection.vendor == "postgresql":
            # Already-recorded breaches are handled by ON CONFLICT; anything else that fails
            # aborts the batch, and escalate_overdue retries it carefully.
            events = _apply_grouped(steps, ctx.now, ctx)
        else:
            try:
                with transaction.atomic():
                    events = _apply_grouped(steps, ctx.now, ctx)
            except IntegrityError:
                events = _apply_one_by_one(steps, ctx.now)
        if bad:
            Ticket.objects.filter(pk__in=bad).update(escalate_at=ctx.now + RETRY_BAD_ROW_AFTER)
    result.skipped += len(bad)
    for event_id, action in events:
        result.counts[action] += 1
        result.event_ids.append(event_id)
    return len(rows)


@contextmanager
def _replayable_commits():
    """synchronous_commit off for the sweep's own transactions, restored afterwards.

    The sweep is replayable: if the server crashed and lost one of its commits, the tickets
    would still be due and the next sweep would take the same steps. So its commits need not
    wait for the WAL flush (human actions still do). Set once per sweep rather than SET LOCAL
    in every batch: one round trip fewer per batch.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        (previous,) = cursor.fetchone()
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [previous])
        except DatabaseError:  # the connection is broken or its transaction aborted
            logger.warning("could not restore synchronous_commit", exc_info=True)


def escalate_overdue(*, now: dt.datetime | None = None, notify: bool = True) -> SweepResult:
    """One escalation sweep at `now`: act on every ticket whose escalate_at has come."""
    started = time.perf_counter()
    now = now or timezone.now()
    result = SweepResult(sweep_id=uuid.uuid4().hex)
    # The common case is "nothing due": one probe of the partial index, no context to load.
    if Ticket.objects.filter(escalate_at__lte=now).exists():
        ctx = Context.load(now)
        with _replayable_commits():
            while True:
                try:
                    swept = _sweep_batch(ctx, result)
                except IntegrityError:
                    # A step broke a constraint: the batch was rolled back whole; redo it
                    # step by step so one bad row cannot stop (or crash-loop) the sweep.
                    logger.warning("escalation sweep: batch failed, retrying step by step")
                    swept = _sweep_batch(ctx, result, careful=True)
                if not swept:
                    break
    if notify and result.event_ids:
        effects.send_now(effects.SEND_DIGEST, result.sweep_id, result.event_ids)
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


# --- re-routing ------------------------------------------------------------------------------


def reroute_stale(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Route tickets still `submitted` past the grace period (their routing task was lost,
    e.g. the broker was down at submission). Returns how many were routed."""
    from tickets import routing_store, workflow

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REROUTE_GRACE_SECONDS)
    ids = list(
        Ticket.objects.filter(status=Status.SUBMITTED, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return 0
    routing_data = (routing_store.load_rules(), routing_store.load_directory())
    routed = 0
    for ticket_id in ids:
        try:
            workflow.route_ticket(ticket_id=ticket_id, now=now, routing_data=routing_data)
            routed += 1
        except WorkflowError as error:
            # Routed meanwhile by its own task, or no calendar: logged, retried next sweep.
            logger.info("re-route of ticket %s skipped: %s", ticket_id, error)
    return routed


# --- recomputing deadlines ---------------------------------------------------------------------

RECOMPUTE_BATCH = 2000


def recompute_deadlines(*, queryset=None, stdout=None) -> int:
    """Recompute the stored deadlines of open tickets after the calendar or a policy changed.

    accept_due_at = assigned_at + accept days; resolve_due_at = clock_started_at + (resolve
    days + approved extension days) working days + the working time spent on hold. The
    sweep stage is kept; escalate_at follows the new deadlines. Returns tickets changed.
    """
    from tickets.calendar import DAY

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
            _recompute_one(ticket, sla, DAY)
            ticket.deadlines_provisional = sla.provisional(ticket)
            if tuple(getattr(ticket, name) for name in fields) != before:
                dirty.append(ticket)
        with transaction.atomic():
            Ticket.objects.bulk_update(dirty, fields)
        changed += len(dirty)
        if stdout is not None:
            stdout.write(f"  … {last_pk}: {changed} changed")
    return changed


def _recompute_one(ticket: Ticket, sla: Sla, day_seconds: int) -> None:
    policy = sla.policy(ticket.kind, ticket.level)
    if ticket.assigned_at and ticket.status == Status.ASSIGNED:
        ticket.accept_due_at = sla.add(ticket.assigned_at, policy.accept_days)
    start = ticket.clock_started_at or ticket.assigned_at
    if start and ticket.status != Status.RESOLVED:
        budget = (policy.resolve_days + ticket.extension_days) * day_seconds
        ticket.resolve_due_at = sla.calendar.add_working_seconds(
            start, budget + ticket.paused_seconds
        )
    stage = ticket.sla_stage
    if ticket.status == Status.ASSIGNED and stage == SlaStage.REMINDED:
        return  # the reminder's grace period stands
    if ticket.status == Status.IN_PROGRESS and stage == SlaStage.WARNED:
        ticket.escalate_at = ticket.resolve_due_at
        return
    sla.schedule(ticket)
    ticket.sla_stage = stage
