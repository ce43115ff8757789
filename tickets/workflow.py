"""The ticket lifecycle: the only module that changes a ticket's status, department or level.

Every action is one function. Each one locks the row (SELECT … FOR UPDATE), re-checks the
status against TRANSITIONS and the actor against tickets.policy, applies the change with a
compare-and-set UPDATE (so it is also correct where row locks are ignored, e.g. SQLite),
writes exactly one TicketEvent in the same transaction, and schedules its side effects
(routing, notifications) after commit. An illegal move raises IllegalTransition and
changes nothing. Views, admin actions, tasks and commands call these functions.

The periodic escalation sweep (tickets.escalation) applies the same steps in bulk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Department, Enterprise
from tickets import calendar_store, categories, effects, policy
from tickets.actors import Actor, actor_for
from tickets.calendar import CalendarMissing
from tickets.errors import (
    CalendarUnavailable,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    WorkflowError,
)
from tickets.models import (
    OPEN_STATUSES,
    Kind,
    Outcome,
    Source,
    Status,
    Ticket,
    TicketEvent,
    TicketNumberCounter,
)
from tickets.sla import SCHEDULE_FIELDS, Sla, load_sla

logger = logging.getLogger(__name__)
S = Status
Action = TicketEvent.Action

# action → (statuses it may start from, status it leads to; None = status unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    Action.ROUTE: (frozenset({S.SUBMITTED}), S.ASSIGNED),
    Action.DISPATCH: (frozenset({S.SUBMITTED, S.RETURNED}), S.ASSIGNED),
    Action.ACCEPT: (frozenset({S.ASSIGNED}), S.IN_PROGRESS),
    Action.RETURN: (frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.RETURNED),
    Action.HOLD: (frozenset({S.IN_PROGRESS}), S.ON_HOLD),
    Action.RESUME: (frozenset({S.ON_HOLD}), S.IN_PROGRESS),
    Action.REQUEST_EXTENSION: (frozenset({S.IN_PROGRESS}), None),
    Action.APPROVE_EXTENSION: (frozenset({S.IN_PROGRESS, S.ON_HOLD}), None),
    Action.DENY_EXTENSION: (frozenset({S.IN_PROGRESS, S.ON_HOLD}), None),
    # "explained" (cannot be solved) goes to PENDING_REVIEW instead: the tier above decides.
    Action.RESOLVE: (frozenset({S.IN_PROGRESS}), S.RESOLVED),
    Action.APPROVE_EXPLANATION: (frozenset({S.PENDING_REVIEW}), S.RESOLVED),
    Action.REJECT_EXPLANATION: (frozenset({S.PENDING_REVIEW}), S.IN_PROGRESS),
    Action.CONFIRM: (frozenset({S.RESOLVED}), S.CLOSED),
    Action.REOPEN: (frozenset({S.RESOLVED}), S.IN_PROGRESS),
    Action.WITHDRAW: (
        frozenset(
            {S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD, S.PENDING_REVIEW, S.RETURNED}
        ),
        S.WITHDRAWN,
    ),
    Action.RATE: (frozenset({S.RESOLVED, S.CLOSED}), None),
    # A duplicate closes into another open ticket of the same enterprise (merge_ticket): it
    # takes MERGE, the survivor ABSORB, in one transaction. ABSORB alone adds a request that
    # never became a ticket (an imported row merged into an existing one).
    Action.MERGE: (frozenset(OPEN_STATUSES), S.MERGED),
    Action.ABSORB: (frozenset(OPEN_STATUSES), None),
    # Taken by the escalation sweep (tickets.escalation), in bulk:
    Action.AUTO_CLOSE: (frozenset({S.RESOLVED}), S.CLOSED),
    Action.WARN: (frozenset({S.IN_PROGRESS}), None),
    Action.REMIND: (frozenset({S.ASSIGNED}), None),
    Action.ESCALATE: (frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.ASSIGNED),
    Action.SUPERVISE: (frozenset({S.ASSIGNED, S.IN_PROGRESS}), None),
}

# The second reopen puts a ticket under supervision (督办).
SUPERVISE_AFTER_REOPENS = 2
MAX_TITLE = 200
MAX_TEXT = 5000
MAX_NOTE = 2000


def allowed_actions(status: str) -> list[str]:
    return [action for action, (sources, _target) in TRANSITIONS.items() if status in sources]


# --- the common path ----------------------------------------------------------------------


class _Change:
    """The ticket locked for one action, and what the action changed."""

    def __init__(self, ticket: Ticket, action: str, actor: Actor, now: dt.datetime, sla: Sla):
        self.ticket = ticket
        self.action = action
        self.actor = actor
        self.now = now
        self.sla = sla
        self.from_status = ticket.status
        self.from_department_id = ticket.department_id
        self.fields: set[str] = set()
        self.reviewer_id: int | None = None  # set when the tier above must decide
        # What the enterprise may read (答复企业, or its own words); `apply` returns the
        # internal note (内部备注), which staff alone see.
        self.reply = ""

    def ask_tier_above(self) -> None:
        self.reviewer_id = (
            Department.objects.filter(pk=self.ticket.department_id)
            .values_list("escalates_to_id", flat=True)
            .first()
        )

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self.ticket, name, value)
            self.fields.add(name)

    def schedule(self) -> None:
        self.sla.schedule(self.ticket)
        self.fields.update(SCHEDULE_FIELDS)


def _text(value, field: str, *, required: bool, limit: int = MAX_NOTE) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("请填写%(field)s。") % {"field": field}, field=field)
    if len(value) > limit:
        raise InvalidInput(
            _("%(field)s不能超过%(limit)s个字。") % {"field": field, "limit": limit}, field=field
        )
    return value


def _run(
    ticket_id: int,
    action: str,
    actor,
    apply: Callable[[_Change], str],
    *,
    now: dt.datetime | None = None,
    sla: Sla | None = None,
) -> Ticket:
    """Lock, check, apply, record one event, schedule notifications. `apply` mutates the
    change (and may set `change.reply`) and returns the event's internal note."""
    actor = actor_for(actor)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            try:
                ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            except Ticket.DoesNotExist:
                raise InvalidInput(_("诉求不存在。"), field="ticket") from None
            sources, target = TRANSITIONS[action]
            if ticket.status not in sources:
                raise IllegalTransition(action, ticket.status)
            policy.require(actor, action, ticket)
            change = _Change(ticket, action, actor, now, sla or load_sla())
            if target is not None:
                change.set(status=target)
            note = apply(change)
            _save(change)
            event = _record(change, note)
    except CalendarMissing as missing:
        calendar_store.alert_calendar_missing(missing.year, now=now)
        raise CalendarUnavailable(missing.year) from None
    effects.publish_on_commit(effects.NOTIFY_EVENT, event.pk)
    return ticket


def _save(change: _Change) -> None:
    ticket = change.ticket
    change.set(updated_at=change.now)
    provisional = change.sla.provisional(ticket)
    if provisional != ticket.deadlines_provisional:
        change.set(deadlines_provisional=provisional)
    values = {name: getattr(ticket, name) for name in change.fields}
    # Compare-and-set on the status we checked: correct even where the row lock is a no-op.
    updated = Ticket.objects.filter(pk=ticket.pk, status=change.from_status).update(**values)
    if updated != 1:
        raise IllegalTransition(change.action, change.from_status)


def _record(change: _Change, note: str) -> TicketEvent:
    ticket = change.ticket
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=change.actor.user,
        action=change.action,
        from_status=change.from_status,
        to_status=ticket.status,
        from_department_id=change.from_department_id,
        to_department_id=ticket.department_id,
        reviewer_id=change.reviewer_id,
        level=ticket.level,
        note=note,
        reply=change.reply,
        created_at=change.now,
    )


# --- submission and routing -----------------------------------------------------------------


def _fingerprint(**fields) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _amount(kind: str, amount) -> Decimal | None:
    if amount in (None, ""):
        return None
    if kind != Kind.FUNDING:
        raise InvalidInput(_("只有资金需求可以填写金额。"), field="amount")
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("金额必须是数字（单位：万元）。"), field="amount") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        raise InvalidInput(_("金额必须在 0 到 9,999,999,999.99 万元之间。"), field="amount")
    return value.quantize(Decimal("0.01"))


def submit_ticket(
    *,
    enterprise: Enterprise | int,
    kind: str,
    title: str,
    description: str,
    category: str = "",
    amount=None,
    chain_id: int | None = None,
    actor=None,
    idempotency_key: str = "",
    source: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[Ticket, bool]:
    """Save a new need as `submitted` and route it after commit.

    Returns (ticket, created). With an idempotency key, a retry of the same request returns
    the first ticket (created=False); the same key with another body raises
    IdempotencyConflict.

    `source` defaults by channel: an enterprise account's own submission is 企业自报, anyone
    else's (staff at the window, a script) 窗口代录. The spreadsheet import submits many at
    once (submit_many).
    """
    now = now or timezone.now()
    if not isinstance(enterprise, Enterprise):
        enterprise = Enterprise.objects.get(pk=enterprise)
    actor = actor_for(actor)
    key = (idempotency_key or "").strip()
    if len(key) > 80:
        raise InvalidInput(_("Idempotency-Key 不能超过80个字符。"), field="idempotency_key")
    ticket, event, fingerprint = _new_submission(
        enterprise=enterprise,
        kind=kind,
        title=title,
        description=description,
        category=category,
        amount=amount,
        chain_id=chain_id,
        actor=actor,
        source=source,
        now=now,
    )
    ticket.idempotency_key = key
    ticket.request_fingerprint = fingerprint if key else ""
    # No lookup of the key first: a retry is rare, and the unique constraint on (enterprise,
    # key) turns it (or a concurrent twin) into an IntegrityError, answered from the first
    # ticket below. The rolled-back attempt leaves no trace (the number counter included).
    try:
        with transaction.atomic():
            ticket.number = _next_numbers(timezone.localdate(now).year, 1)[0]
            ticket.save(force_insert=True)
            event.save(force_insert=True)
    except IntegrityError:
        # The key was used before, or a concurrent request with the same key won the race.
        existing = _existing_for_key(enterprise.pk, key, fingerprint) if key else None
        if existing is None:
            raise
        return existing, False
    effects.publish_on_commit(effects.ROUTE_TICKET, ticket.pk)
    return ticket, True


def _new_submission(
    *,
    enterprise: Enterprise,
    kind: str,
    title: str,
    description: str,
    category: str,
    amount,
    chain_id: int | None,
    actor: Actor,
    source: str | None,
    now: dt.datetime,
    work_group: str = "",
    import_batch_id: int | None = None,
) -> tuple[Ticket, TicketEvent, str]:
    """Check one new need and build its (unsaved) ticket and submit event, and the request's
    fingerprint. Raises InvalidInput naming the field."""
    from tickets.routing_store import default_chain

    if kind not in Kind.values:
        raise InvalidInput(
            _("清单类别无效，应为 %(kinds)s 之一。") % {"kinds": "、".join(Kind.values)},
            field="kind",
        )
    title = _text(title, _("标题"), required=True, limit=MAX_TITLE)
    description = _text(description, _("诉求内容"), required=True, limit=MAX_TEXT)
    category = (category or "").strip()
    if not categories.is_valid(kind, category):
        raise InvalidInput(
            _("细类“%(category)s”不属于该清单类别，可选：%(choices)s。")
            % {"category": category, "choices": "、".join(categories.CATEGORIES[kind])},
            field="category",
        )
    amount = _amount(kind, amount)
    # The chain object, not just its id: the caller presenting the new ticket needs its name.
    # Read through .all(), so a caller submitting many reads the chains prefetched.
    chain = None
    if chain_id is not None:
        chain = next((c for c in enterprise.chains.all() if c.pk == chain_id), None)
        if chain is None:
            raise InvalidInput(_("该企业不属于所选产业链。"), field="chain")
    if source is None:
        source = Source.SELF if actor.enterprise_id is not None else Source.WINDOW
    elif source not in Source.values:
        raise InvalidInput(_("来源无效。"), field="source")
    fingerprint = _fingerprint(
        kind=kind,
        title=title,
        description=description,
        category=category,
        amount=amount,
        chain=chain_id,
    )
    ticket = Ticket(
        enterprise=enterprise,
        source=source,
        work_group=(work_group or "").strip()[:100],
        import_batch_id=import_batch_id,
        kind=kind,
        title=title,
        description=description,
        category=category,
        amount=amount,
        chain=chain or default_chain(enterprise, kind),
        status=Status.SUBMITTED,
        created_at=now,
        updated_at=now,
        submitted_by=actor.user,
    )
    event = TicketEvent(
        ticket=ticket,
        actor=actor.user,
        action=Action.SUBMIT,
        to_status=Status.SUBMITTED,
        level=ticket.level,
        created_at=now,
    )
    return ticket, event, fingerprint


def submit_many(
    needs: list[dict],
    *,
    actor=None,
    source: str | None = None,
    import_batch_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Ticket | InvalidInput]:
    """Submit many needs at once (a spreadsheet import): each is checked as submit_ticket
    checks one, and the valid ones are saved together — one counter update for their numbers,
    one INSERT of tickets and one of submit events — and routed after commit by one task.

    `needs` are dicts of submit_ticket's keywords (`enterprise` an Enterprise, ideally with
    its chains prefetched) plus `work_group`. Returns, in order, each need's ticket or the
    InvalidInput that refused it; nothing is saved for a refused need. Call it inside a
    transaction: the year's number counter stays locked until that commits."""
    actor = actor_for(actor)
    now = now or timezone.now()
    results: list[Ticket | InvalidInput] = []
    built: list[tuple[Ticket, TicketEvent]] = []
    for need in needs:
        need = dict(need)
        try:
            ticket, event, _fp = _new_submission(
                actor=actor,
                source=source,
                import_batch_id=import_batch_id,
                now=now,
                work_group=need.pop("work_group", ""),
                **{"category": "", "amount": None, "chain_id": None, **need},
            )
        except InvalidInput as refused:
            results.append(refused)
            continue
        built.append((ticket, event))
        results.append(ticket)
    if not built:
        return results
    with transaction.atomic():
        numbers = _next_numbers(timezone.localdate(now).year, len(built))
        for (ticket, _event), number in zip(built, numbers, strict=True):
            ticket.number = number
        Ticket.objects.bulk_create([ticket for ticket, _event in built])
        for ticket, event in built:
            event.ticket = ticket  # the id bulk_create set (PostgreSQL and SQLite return it)
        TicketEvent.objects.bulk_create([event for _ticket, event in built])
        effects.publish_on_commit(effects.ROUTE_TICKETS, [ticket.pk for ticket, _e in built])
    return results


def _next_numbers(year: int, count: int) -> list[str]:
    """The year's next `count` ticket numbers, WH-2026-000123. The counter row stays locked
    until the caller's transaction ends, so a rolled-back submission gives its numbers back
    (no gap)."""
    counter, _created = TicketNumberCounter.objects.select_for_update().get_or_create(year=year)
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return [f"WH-{year}-{n:06d}" for n in range(first, counter.last + 1)]


def _existing_for_key(enterprise_id: int, key: str, fingerprint: str) -> Ticket | None:
    existing = Ticket.objects.filter(enterprise_id=enterprise_id, idempotency_key=key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            _("该 Idempotency-Key 已用于另一内容不同的诉求（%(number)s），请更换。")
            % {"number": existing.number}
        )
    return existing


def assignment_fields(
    sla: Sla, *, kind: str, department_id: int, level: str, now: dt.datetime
) -> dict:
    """What (re)assigning a ticket to a department sets — on routing, dispatch and
    escalation: the department must sign for it, and a new round of handling starts (both
    clocks from `now`, no hold time or extension carried over)."""
    accept_due, resolve_due = sla.assignment_deadlines(kind, level, now)
    return {
        "department_id": department_id,
        "level": level,
        "assigned_at": now,
        "accepted_at": None,
        "accept_due_at": accept_due,
        "resolve_due_at": resolve_due,
        "clock_started_at": now,
        "paused_seconds": 0,
        "extension_days": 0,
        "extension_requested_days": None,
    }


def _assign(change: _Change, department_id: int, level: str) -> None:
    change.set(
        **assignment_fields(
            change.sla,
            kind=change.ticket.kind,
            department_id=department_id,
            level=level,
            now=change.now,
        )
    )
    change.schedule()


def route_ticket(*, ticket_id: int, now: dt.datetime | None = None, routing_data=None) -> Ticket:
    """Assign a submitted ticket by the routing rules (system action)."""
    from tickets import routing, routing_store

    def apply(change: _Change) -> str:
        rules, directory = routing_data or (
            routing_store.load_rules(),
            routing_store.load_directory(),
        )
        facts = routing_store.facts_for(change.ticket)
        try:
            decision = routing.route(rules, facts, directory)
        except routing.NoDepartment as error:
            raise InvalidInput(str(error)) from None
        _assign(change, decision.department_id, decision.level)
        return (
            _("按分派规则 #%(rule)s 分派") % {"rule": decision.rule_id}
            if decision.rule_id
            else _("无匹配规则，由市企业服务中心统筹分派")
        )

    return _run(ticket_id, Action.ROUTE, None, apply, now=now)


def route_many(ticket_ids, *, now: dt.datetime | None = None) -> int:
    """Route each of these tickets that is still submitted, with the rules read once.
    Returns how many were routed; one that cannot be (routed meanwhile, no calendar) is
    logged and left to the re-route sweep."""
    from tickets import routing_store

    routing_data = (routing_store.load_rules(), routing_store.load_directory())
    routed = 0
    for ticket_id in ticket_ids:
        try:
            route_ticket(ticket_id=ticket_id, now=now, routing_data=routing_data)
            routed += 1
        except WorkflowError as error:
            logger.info("routing of ticket %s skipped: %s", ticket_id, error)
    return routed


def reroute_stale(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Route tickets still `submitted` past the grace period (their routing task was lost,
    e.g. the broker was down at submission). Returns how many were routed."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REROUTE_GRACE_SECONDS)
    ids = list(
        Ticket.objects.filter(status=Status.SUBMITTED, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return 0
    # Routed meanwhile by its own task, or no calendar: logged, retried next sweep.
    return route_many(ids, now=now)


def dispatch_ticket(
    *, ticket_id: int, actor, department_id: int, note: str = "", now=None
) -> Ticket:
    """A coordinator assigns a submitted or returned ticket to a department by hand."""

    def apply(change: _Change) -> str:
        department = Department.objects.filter(pk=department_id, is_active=True).first()
        if department is None:
            raise InvalidInput(_("责任单位不存在或已停用。"), field="department")
        if department.pk == change.from_department_id and change.from_status == S.RETURNED:
            raise InvalidInput(_("该单位刚退回此诉求，请分派给其他单位。"), field="department")
        _assign(change, department.pk, department.tier)
        return _text(note, _("分派说明"), required=False)

    return _run(ticket_id, Action.DISPATCH, actor, apply, now=now)


# --- the handling department --------------------------------------------------------------


def accept_ticket(*, ticket_id: int, actor, note: str = "", reply: str = "", now=None) -> Ticket:
    """签收: the department takes the ticket on; the resolve clock is already running."""

    def apply(change: _Change) -> str:
        change.set(accepted_at=change.now)
        change.schedule()
        change.reply = _text(reply, _("答复企业"), required=False)
        return _text(note, _("内部备注"), required=False)

    return _run(ticket_id, Action.ACCEPT, actor, apply, now=now)


def return_ticket(*, ticket_id: int, actor, reason: str, now=None) -> Ticket:
    """退单: not ours — back to the coordinating office, with a reason, within the window."""

    def apply(change: _Change) -> str:
        reason_text = _text(reason, _("退单理由"), required=True)
        ticket = change.ticket
        window = change.sla.policy(ticket.kind, ticket.level).return_window_days
        if change.now > change.sla.add(ticket.assigned_at, window):
            raise IllegalTransition(
                Action.RETURN,
                ticket.status,
                _("已超过退单期限（分派后 %(days)s 个工作日内），请继续办理或申请延期。")
                % {"days": window},
            )
        coordinator = Department.objects.filter(is_coordinator=True).values_list("pk", flat=True)
        coordinator_id = coordinator.first()
        if coordinator_id is None:
            raise InvalidInput(_("未设置统筹协调单位（市企业服务中心），无法退单。"))
        change.set(
            department_id=coordinator_id,
            return_count=ticket.return_count + 1,
            accepted_at=None,
            extension_requested_days=None,
        )
        change.schedule()
        return reason_text

    return _run(ticket_id, Action.RETURN, actor, apply, now=now)


def hold_ticket(*, ticket_id: int, actor, reason: str, reply: str = "", now=None) -> Ticket:
    """挂起: pause the SLA clock, with a reason (internal) and, if the enterprise should know
    why (材料不全 …), a reply."""

    def apply(change: _Change) -> str:
        reason_text = _text(reason, _("挂起理由"), required=True)
        change.set(held_at=change.now)
        change.schedule()
        change.reply = _text(reply, _("答复企业"), required=False)
        return reason_text

    return _run(ticket_id, Action.HOLD, actor, apply, now=now)


def resume_ticket(*, ticket_id: int, actor, note: str = "", reply: str = "", now=None) -> Ticket:
    """Resume after a hold: the deadline moves by exactly the working time spent on hold."""

    def apply(change: _Change) -> str:
        ticket = change.ticket
        paused = change.sla.calendar.working_seconds_between(ticket.held_at, change.now)
        change.set(
            resolve_due_at=change.sla.calendar.add_working_seconds(ticket.resolve_due_at, paused),
            paused_seconds=ticket.paused_seconds + max(paused, 0),
            held_at=None,
        )
        change.schedule()
        change.reply = _text(reply, _("答复企业"), required=False)
        return _text(note, _("内部备注"), required=False)

    return _run(ticket_id, Action.RESUME, actor, apply, now=now)


def request_extension(*, ticket_id: int, actor, days: int, reason: str, now=None) -> Ticket:
    """延期申请: before the deadline, within the policy's maximum; the tier above decides."""

    def apply(change: _Change) -> str:
        ticket = change.ticket
        reason_text = _text(reason, _("延期理由"), required=True)
        limit = change.sla.policy(ticket.kind, ticket.level).max_extension_days
        remaining = limit - ticket.extension_days
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= remaining:
            raise InvalidInput(
                _("延期天数应为 1 到 %(remaining)s 个工作日（累计不超过 %(limit)s 个工作日）。")
                % {"remaining": max(remaining, 0), "limit": limit},
                field="days",
            )
        if ticket.extension_requested_days:
            raise IllegalTransition(
                Action.REQUEST_EXTENSION, ticket.status, _("已有待审核的延期申请。")
            )
        if change.now >= ticket.resolve_due_at:
            raise IllegalTransition(
                Action.REQUEST_EXTENSION, ticket.status, _("延期须在办结时限之前申请。")
            )
        change.set(extension_requested_days=days)
        change.ask_tier_above()
        return _("申请延期 %(days)s 个工作日：%(reason)s") % {"days": days, "reason": reason_text}

    return _run(ticket_id, Action.REQUEST_EXTENSION, actor, apply, now=now)


def _pending_extension(change: _Change) -> int:
    days = change.ticket.extension_requested_days
    if not days:
        raise IllegalTransition(change.action, change.ticket.status, _("没有待审核的延期申请。"))
    return days


def approve_extension(*, ticket_id: int, actor, note: str = "", now=None) -> Ticket:
    def apply(change: _Change) -> str:
        days = _pending_extension(change)
        ticket = change.ticket
        change.set(
            resolve_due_at=change.sla.add(ticket.resolve_due_at, days),
            extension_days=ticket.extension_days + days,
            extension_requested_days=None,
        )
        if ticket.status == S.IN_PROGRESS:
            change.schedule()
        text = _text(note, _("审核意见"), required=False)
        # The enterprise is told its deadline moved; the review comment stays internal.
        change.reply = _("办结时限延长 %(days)s 个工作日") % {"days": days}
        return _("同意延期 %(days)s 个工作日") % {"days": days} + (f"：{text}" if text else "")

    return _run(ticket_id, Action.APPROVE_EXTENSION, actor, apply, now=now)


def deny_extension(*, ticket_id: int, actor, note: str = "", now=None) -> Ticket:
    def apply(change: _Change) -> str:
        _pending_extension(change)
        change.set(extension_requested_days=None)
        return _text(note, _("说明"), required=False)

    return _run(ticket_id, Action.DENY_EXTENSION, actor, apply, now=now)


def resolve_ticket(
    *, ticket_id: int, actor, outcome: str, reply: str, note: str = "", now=None
) -> Ticket:
    """办结 with an outcome and the reply to the enterprise (答复企业); `note` is internal.
    "explained" (cannot be solved) waits for the tier above, and the enterprise reads the
    reply only once it is approved."""

    def apply(change: _Change) -> str:
        if outcome not in (Outcome.SOLVED, Outcome.BASICALLY_SOLVED, Outcome.EXPLAINED):
            raise InvalidInput(
                _(
                    "办理结果应为 solved（已解决）、basically_solved（基本解决）"
                    "或 explained（未能解决，已说明）。"
                ),
                field="outcome",
            )
        text = _text(reply, _("答复企业"), required=True, limit=MAX_TEXT)
        status = S.PENDING_REVIEW if outcome == Outcome.EXPLAINED else S.RESOLVED
        change.set(
            status=status,
            outcome=outcome,
            outcome_note=text,
            resolved_at=change.now,
            extension_requested_days=None,
        )
        change.schedule()
        if status == S.PENDING_REVIEW:
            change.ask_tier_above()
        change.reply = text
        return _text(note, _("内部备注"), required=False)

    return _run(ticket_id, Action.RESOLVE, actor, apply, now=now)


def approve_explanation(*, ticket_id: int, actor, note: str = "", now=None) -> Ticket:
    """The tier above agrees the need cannot be met (否定答复): the answer stands, and the
    enterprise now reads it (this event carries the reply)."""

    def apply(change: _Change) -> str:
        change.schedule()
        change.reply = change.ticket.outcome_note
        return _text(note, _("审核意见"), required=False)

    return _run(ticket_id, Action.APPROVE_EXPLANATION, actor, apply, now=now)


def reject_explanation(*, ticket_id: int, actor, note: str, now=None) -> Ticket:
    """The tier above refuses the negative answer: back to work, the deadline unchanged."""

    def apply(change: _Change) -> str:
        text = _text(note, _("驳回理由"), required=True)
        change.set(outcome="", outcome_note="", resolved_at=None)
        change.schedule()
        return text

    return _run(ticket_id, Action.REJECT_EXPLANATION, actor, apply, now=now)


# --- the enterprise ---------------------------------------------------------------------


def confirm_ticket(*, ticket_id: int, actor, note: str = "", now=None) -> Ticket:
    def apply(change: _Change) -> str:
        change.set(closed_at=change.now)
        change.schedule()
        change.reply = _text(note, _("说明"), required=False)
        return ""

    return _run(ticket_id, Action.CONFIRM, actor, apply, now=now)


def reopen_ticket(*, ticket_id: int, actor, reason: str, now=None) -> Ticket:
    """重办: not solved after all. Counted; the second reopen puts it under supervision."""

    def apply(change: _Change) -> str:
        ticket = change.ticket
        reason_text = _text(reason, _("重办理由"), required=True)
        count = ticket.reopen_count + 1
        policy_ = change.sla.policy(ticket.kind, ticket.level)
        change.set(
            reopen_count=count,
            outcome="",
            outcome_note="",
            resolved_at=None,
            resolve_due_at=change.sla.add(change.now, policy_.resolve_days),
            clock_started_at=change.now,
            paused_seconds=0,
            extension_days=0,
        )
        change.reply = reason_text
        note = ""
        if count >= SUPERVISE_AFTER_REOPENS and not ticket.supervised:
            change.set(supervised=True, supervised_at=change.now)
            note = _("第%(count)s次重办，列入督办") % {"count": count}
        change.schedule()
        return note

    return _run(ticket_id, Action.REOPEN, actor, apply, now=now)


def withdraw_ticket(*, ticket_id: int, actor, reason: str = "", now=None) -> Ticket:
    def apply(change: _Change) -> str:
        change.set(extension_requested_days=None, held_at=None)
        change.schedule()
        change.reply = _text(reason, _("撤回理由"), required=False)
        return ""

    return _run(ticket_id, Action.WITHDRAW, actor, apply, now=now)


def rate_ticket(*, ticket_id: int, actor, score: int, note: str = "", now=None) -> Ticket:
    """回访评价 1–5 (4–5 count as satisfied), once per ticket."""

    def apply(change: _Change) -> str:
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidInput(_("满意度评分应为 1 到 5 的整数。"), field="score")
        if change.ticket.satisfaction is not None:
            raise IllegalTransition(Action.RATE, change.ticket.status, _("该诉求已评价过。"))
        text = _text(note, _("回访意见"), required=False, limit=500)
        change.set(satisfaction=score, satisfaction_note=text, rated_at=change.now)
        change.reply = _("评分 %(score)s") % {"score": score} + (f"：{text}" if text else "")
        return ""

    return _run(ticket_id, Action.RATE, actor, apply, now=now)


# --- duplicates ----------------------------------------------------------------------------


def _survivor(into) -> int:
    """The id of the ticket named by `into`: its number (WH-2026-000123) or its id."""
    if isinstance(into, Ticket):
        return into.pk
    text = str(into if into is not None else "").strip()
    if not text:
        raise InvalidInput(_("请填写要合并到的诉求编号。"), field="into")
    if text.isdigit():
        found = Ticket.objects.filter(pk=int(text)).values_list("pk", flat=True).first()
    else:
        found = Ticket.objects.filter(number=text.upper()).values_list("pk", flat=True).first()
    if found is None:
        raise InvalidInput(_("诉求“%(into)s”不存在。") % {"into": text}, field="into")
    return found


def merged_text(title: str, description: str, *, origin: str) -> str:
    """What the survivor's timeline shows of a merged request: where it came from, its words."""
    return f"{origin}：{title}\n{description}"[:MAX_TEXT]


def merge_ticket(*, ticket_id: int, into, actor, note: str = "", now=None) -> Ticket:
    """Close `ticket_id` as a duplicate (已合并) of another open ticket of the same enterprise.

    Both rows are locked (in id order, so two crossed merges cannot deadlock) and both
    timelines get an event in one transaction: the duplicate a MERGE pointing to the survivor,
    the survivor an ABSORB carrying the duplicate's words, which the enterprise reads as its
    own request. The duplicate is terminal and no longer counted as taken in."""
    actor = actor_for(actor)
    now = now or timezone.now()
    survivor_id = _survivor(into)
    if survivor_id == ticket_id:
        raise InvalidInput(_("不能把诉求合并到它自己。"), field="into")
    sla = load_sla()
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .filter(pk__in=[ticket_id, survivor_id])
            .order_by("pk")
        }
        if ticket_id not in locked:
            raise InvalidInput(_("诉求不存在。"), field="ticket")
        ticket, survivor = locked[ticket_id], locked.get(survivor_id)
        if survivor is None:
            raise InvalidInput(_("要合并到的诉求不存在。"), field="into")
        sources, target = TRANSITIONS[Action.MERGE]
        if ticket.status not in sources:
            raise IllegalTransition(Action.MERGE, ticket.status)
        policy.require(actor, Action.MERGE, ticket)
        if survivor.enterprise_id != ticket.enterprise_id:
            raise InvalidInput(_("只能合并同一企业的诉求。"), field="into")
        if survivor.status not in TRANSITIONS[Action.ABSORB][0]:
            raise IllegalTransition(
                Action.MERGE,
                ticket.status,
                _("诉求 %(number)s 当前状态为“%(status)s”，不能再并入其他诉求。")
                % {"number": survivor.number, "status": survivor.get_status_display()},
            )
        note_text = _text(note, _("内部备注"), required=False)

        change = _Change(ticket, Action.MERGE, actor, now, sla)
        change.set(
            status=target,
            merged_into_id=survivor.pk,
            closed_at=now,
            held_at=None,
            extension_requested_days=None,
        )
        change.schedule()
        change.reply = _("已与诉求 %(number)s 合并办理，请在该诉求中查看进展。") % {
            "number": survivor.number
        }
        _save(change)
        merge_event = _record(change, note_text)

        kept = _Change(survivor, Action.ABSORB, actor, now, sla)
        kept.reply = merged_text(
            ticket.title, ticket.description, origin=_("并入诉求 %(n)s") % {"n": ticket.number}
        )
        _save(kept)
        absorb_event = _record(kept, note_text)
    effects.publish_on_commit(effects.NOTIFY_EVENT, merge_event.pk)
    effects.publish_on_commit(effects.NOTIFY_EVENT, absorb_event.pk)
    return ticket


def absorb_request(
    *, ticket_id: int, actor, title: str, description: str, origin: str, note: str = "", now=None
) -> Ticket:
    """Add a request that duplicates an open ticket to that ticket's timeline instead of
    opening a second one (an imported row merged into it): the enterprise's request counts
    once, and its words are kept where the handler reads them."""

    def apply(change: _Change) -> str:
        title_text = _text(title, _("标题"), required=True, limit=MAX_TITLE)
        text = _text(description, _("诉求内容"), required=False, limit=MAX_TEXT)
        change.reply = merged_text(title_text, text, origin=origin)
        return _text(note, _("内部备注"), required=False)

    return _run(ticket_id, Action.ABSORB, actor, apply, now=now)


__all__ = [
    "TRANSITIONS",
    "WorkflowError",
    "absorb_request",
    "accept_ticket",
    "allowed_actions",
    "approve_explanation",
    "approve_extension",
    "assignment_fields",
    "confirm_ticket",
    "deny_extension",
    "dispatch_ticket",
    "hold_ticket",
    "merge_ticket",
    "reject_explanation",
    "reopen_ticket",
    "request_extension",
    "reroute_stale",
    "route_many",
    "resolve_ticket",
    "resume_ticket",
    "return_ticket",
    "route_ticket",
    "submit_many",
    "submit_ticket",
    "withdraw_ticket",
]
