"""The periodic sweeps: the escalation ladder and the re-routing of stranded submissions.

Escalation is set-based. Each open ticket carries `escalate_at`, the next instant someone
must look at it (partial index `ticket_escalate_due`). A sweep takes small batches of due
tickets with SELECT … FOR UPDATE SKIP LOCKED (ordered by escalate_at, id), decides one step
per ticket, writes the events with one bulk INSERT and applies the changes with one UPDATE
per group of tickets receiving the same new values — never a save() per ticket.

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
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Department, IndustryChain, Tier
from tickets import effects, lookups  # noqa: F401  (registers __any)
from tickets.calendar import CalendarMissing
from tickets.errors import WorkflowError
from tickets.models import SlaStage, Status, Ticket, TicketEvent
from tickets.sla import Sla, load_sla

logger = logging.getLogger(__name__)

# Rows locked per transaction. Small enough that a handler acting on one of them waits
# only a fraction of a second, large enough that the per-statement overhead is amortised
# (about 0.05 s per 500 escalations on PostgreSQL, see bench/escalation.py).
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


@dataclass(frozen=True)
class Row:
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
# PostgreSQL: one INSERT … SELECT FROM unnest(arrays) per batch. bulk_create compiles every
# value of every row in Python, which cost more than the database work (see bench/).
INSERT_EVENTS = """
INSERT INTO tickets_ticketevent ({columns}, created_at)
SELECT {columns}, %b FROM unnest({arrays}) AS e({columns})
RETURNING id, action
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


def _insert_events(steps: list[Step], now: dt.datetime) -> list[tuple[int, str]]:
    """Insert one event per step; returns [(event id, action)]."""
    values = [_event_values(step) for step in steps if step.action]
    if not values:
        return []
    if connection.vendor == "postgresql":
        import psycopg

        # A server-side-binding cursor on Django's connection (same transaction): the arrays
        # travel as binary parameters instead of being quoted into the SQL text, which cost
        # more than the insert itself (Django's cursors bind client-side by default).
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(INSERT_EVENTS, [now, *map(list, zip(*values, strict=True))])
            return cursor.fetchall()
    names = [name for name, _type in EVENT_COLUMNS]
    events = TicketEvent.objects.bulk_create(
        TicketEvent(created_at=now, **dict(zip(names, row, strict=True))) for row in values
    )
    return [(event.pk, event.action) for event in events]


def _apply_grouped(steps: list[Step], now: dt.datetime) -> list[tuple[int, str]]:
    events = _insert_events(steps, now)
    groups: dict[tuple, list[Step]] = defaultdict(list)
    for step in steps:
        groups[step.group].append(step)
    for members in groups.values():
        updates = dict(members[0].updates, updated_at=now)
        ids = [s.row.id for s in members]
        lookup = "pk__any" if connection.vendor == "postgresql" else "pk__in"
        Ticket.objects.filter(**{lookup: ids}).update(**updates)
    return events


def _apply_one_by_one(steps: list[Step], now: dt.datetime) -> list[tuple[int, str]]:
    """Fallback when the bulk insert hit a breach that was already acted on."""
    events = []
    for step in steps:
        try:
            with transaction.atomic():
                events.extend(_apply_grouped([step], now))
        except IntegrityError:
            logger.warning(
                "ticket %s: %s already recorded; moving its schedule on",
                step.row.id,
                step.breach_key,
            )
            _apply_grouped([_reschedule(step.row, step.updates.get("escalate_at"))], now)
    return events


def _sweep_batch(ctx: Context, result: SweepResult) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The sweep is replayable: if the server crashed and lost this commit, the
            # tickets would still be due and the next sweep would take the same steps. So
            # it need not wait for the WAL flush (human actions still do).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows = [
            Row(*values)
            for values in Ticket.objects.select_for_update(skip_locked=True)
            .filter(escalate_at__lte=ctx.now)
            .order_by("escalate_at", "id")
            .values_list(*ROW_FIELDS)[:BATCH_SIZE]
        ]
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
                    _alert_calendar(missing.year, ctx.now)
            except Exception:
                logger.exception("escalation sweep could not plan ticket %s", row.id)
                bad.append(row.id)
        try:
            with transaction.atomic():
                events = _apply_grouped(steps, ctx.now)
        except IntegrityError:
            events = _apply_one_by_one(steps, ctx.now)
        if bad:
            Ticket.objects.filter(pk__in=bad).update(escalate_at=ctx.now + RETRY_BAD_ROW_AFTER)
            result.skipped += len(bad)
    for event_id, action in events:
        result.counts[action] += 1
        result.event_ids.append(event_id)
    return len(rows)


def _alert_calendar(year: int, now: dt.datetime) -> None:
    effects.send_now(
        effects.ALERT_STAFF,
        f"calendar-missing:{year}:{timezone.localdate(now).isoformat()}",
        _("工作日历缺少 %(year)s 年数据") % {"year": year},
        _("升级巡检无法计算 %(year)s 年的时限，相关诉求将在1小时后重试。请在管理后台补录工作日历。")
        % {"year": year},
    )


def escalate_overdue(*, now: dt.datetime | None = None, notify: bool = True) -> SweepResult:
    """One escalation sweep at `now`: act on every ticket whose escalate_at has come."""
    started = time.perf_counter()
    now = now or timezone.now()
    result = SweepResult(sweep_id=uuid.uuid4().hex)
    # The common case is "nothing due": one probe of the partial index, no context to load.
    if Ticket.objects.filter(escalate_at__lte=now).exists():
        ctx = Context.load(now)
        while _sweep_batch(ctx, result):
            pass
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
    fields = ["accept_due_at", "resolve_due_at", "escalate_at"]
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
