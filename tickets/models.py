"""The process: tickets, their append-only history, routing rules, SLA policies, calendar."""

from __future__ import annotations

import datetime as dt
import math
import operator
from dataclasses import dataclass
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department, District, Enterprise, IndustryChain, Tier


class Kind(models.TextChoices):
    """四张清单 — the four lists every need belongs to."""

    DIFFICULTY = "difficulty", _("企业困难问题")
    TECHNOLOGY = "technology", _("技术需求")
    FUNDING = "funding", _("资金需求")
    SUPPLY_CHAIN = "supply_chain", _("产业链配套")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")  # saved, waiting to be routed
    ASSIGNED = "assigned", _("已分派")  # a department must sign for it (签收)
    IN_PROGRESS = "in_progress", _("办理中")  # signed for, the resolve clock runs
    ON_HOLD = "on_hold", _("已挂起")  # paused with a reason; the SLA clock stops
    PENDING_REVIEW = "pending_review", _("待审核")  # an "explained" answer awaits the tier above
    RESOLVED = "resolved", _("已办结")  # answered; waiting for the enterprise to confirm
    CLOSED = "closed", _("已关闭")  # confirmed, or closed automatically after no reply
    RETURNED = "returned", _("已退单")  # returned by a department; the coordinator re-dispatches
    WITHDRAWN = "withdrawn", _("已撤回")  # withdrawn by the enterprise before resolution
    # A duplicate closed into another ticket of the same enterprise (merged_into): terminal,
    # not counted as taken in — the survivor counts the enterprise's request once.
    MERGED = "merged", _("已合并")


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.ON_HOLD,
    Status.PENDING_REVIEW,
    Status.RETURNED,
)


class Outcome(models.TextChoices):
    NONE = "", _("—")
    SOLVED = "solved", _("已解决")
    BASICALLY_SOLVED = "basically_solved", _("基本解决")
    EXPLAINED = "explained", _("未能解决，已说明")


RESOLVED_OUTCOMES = (Outcome.SOLVED, Outcome.BASICALLY_SOLVED)


class Source(models.TextChoices):
    """How a need reached the system (the dashboard's source split)."""

    WORK_GROUP = "work_group", _("工作组走访")  # collected on a visit, imported from a list
    SELF = "self", _("企业自报")  # the enterprise itself, through the API or the portal
    WINDOW = "window", _("窗口代录")  # registered by staff on the enterprise's behalf


class SlaStage(models.IntegerChoices):
    """How far the sweep has gone on the current deadline."""

    FRESH = 0, _("正常")
    WARNED = 1, _("已预警")  # yellow card sent before the resolve deadline
    REMINDED = 2, _("已催办")  # reminder sent after the accept deadline
    SUPERVISED = 3, _("已督办")  # overdue at the top tier: on the supervision list, not swept


# The step each open status waits for and the deadline it is held to: the one table behind
# "overdue" — the query (TicketQuerySet.overdue), the instance check (Ticket.is_overdue) and
# how late a ticket is (lateness) all read it, so they cannot drift apart. Every other status
# (not yet routed, on hold, answered, closed …) is never overdue.
OVERDUE_DEADLINES = {
    Status.ASSIGNED: ("accept_due_at", _("签收")),
    Status.IN_PROGRESS: ("resolve_due_at", _("办结")),
}


@dataclass(frozen=True)
class Lateness:
    step: str  # 签收 / 办结
    due: dt.datetime
    days: int  # calendar days past the deadline, a started day counting as one (超期天数)


def lateness(ticket, now: dt.datetime) -> Lateness | None:
    """How late ``ticket`` is at ``now`` (None: not overdue). ``ticket`` is a Ticket or any
    row with its ``status`` and deadline attributes (the report listing's rows)."""
    deadline = OVERDUE_DEADLINES.get(ticket.status)
    if deadline is None:
        return None
    field, step = deadline
    due = getattr(ticket, field)
    if due is None or due >= now:
        return None
    return Lateness(step=step, due=due, days=math.ceil((now - due).total_seconds() / 86400))


class TicketQuerySet(models.QuerySet):
    @staticmethod
    def _overdue(now: dt.datetime) -> Q:
        return reduce(
            operator.or_,
            (
                Q(status=status, **{f"{field}__lt": now})
                for status, (field, _step) in OVERDUE_DEADLINES.items()
            ),
        )

    def overdue(self, now: dt.datetime) -> TicketQuerySet:
        """Open tickets past the deadline of their current step at ``now`` (the partial
        indexes ticket_open_accept_due / ticket_open_resolve_due find them)."""
        return self.filter(self._overdue(now))

    def not_overdue(self, now: dt.datetime) -> TicketQuerySet:
        return self.exclude(self._overdue(now))

    def most_overdue_first(self) -> TicketQuerySet:
        """Ordered by the deadline of the current step, the earliest (the most overdue) first."""
        due = models.Case(
            *(
                models.When(status=status, then=F(field))
                for status, (field, _s) in OVERDUE_DEADLINES.items()
            )
        )
        return self.order_by(due.asc(nulls_last=True), "pk")


class Ticket(models.Model):
    # Unique by a constraint rather than unique=True: on PostgreSQL unique=True also builds a
    # varchar_pattern_ops index for LIKE, which nothing uses and every write maintains.
    number = models.CharField(_("编号"), max_length=20)
    # FK indexes already covered by the composite indexes in Meta are not created twice:
    # every extra index costs each submission and each escalation UPDATE.
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("企业"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_enterprise_recent
    )
    kind = models.CharField(_("清单类别"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("诉求内容"), max_length=5000)
    category = models.CharField(_("细类"), max_length=40, blank=True)
    amount = models.DecimalField(
        _("金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    chain = models.ForeignKey(
        IndustryChain,
        verbose_name=_("产业链"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # only PROTECT checks on deleting a chain need it (rare)
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    level = models.CharField(_("层级"), max_length=10, choices=Tier.choices, default=Tier.DISTRICT)
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # ticket_department_status
    )
    outcome = models.CharField(
        _("办理结果"), max_length=20, choices=Outcome.choices, blank=True, default=""
    )
    # The reply to the enterprise that came with the outcome (答复企业); the enterprise reads it
    # once the outcome stands (an "explained" answer only after the tier above approved it).
    outcome_note = models.TextField(_("答复企业"), blank=True, max_length=5000)

    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    assigned_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("签收时限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("办结时限"), null=True, blank=True)
    # The next instant the escalation sweep must look at this ticket (yellow card, reminder,
    # escalation, auto-close); null when nothing is scheduled. Each transition recomputes it.
    escalate_at = models.DateTimeField(_("下次检查时间"), null=True, blank=True)
    # 暂定: a deadline above lies in a year whose working calendar staff have not confirmed
    # yet (tickets.calendar_store): it was computed from the statutory holidays alone and is
    # recomputed when the year is confirmed.
    deadlines_provisional = models.BooleanField(
        _("时限暂定"),
        default=False,
        help_text=_(
            "时限落在工作日历尚未确认的年份，暂按法定节假日（不含调休）计算，确认后自动重算。"
        ),
    )
    sla_stage = models.PositiveSmallIntegerField(
        _("时限阶段"), choices=SlaStage.choices, default=SlaStage.FRESH
    )
    held_at = models.DateTimeField(_("挂起时间"), null=True, blank=True)
    # The resolve deadline is clock_started_at + (resolve days + extension days) working days
    # + paused_seconds of working time spent on hold; kept so deadlines can be recomputed
    # when the calendar or a policy changes.
    clock_started_at = models.DateTimeField(_("计时起点"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("挂起累计（工作秒）"), default=0)
    extension_requested_days = models.PositiveSmallIntegerField(
        _("申请延期（工作日）"), null=True, blank=True
    )
    extension_days = models.PositiveSmallIntegerField(
        _("已批准延期（工作日）"), default=0, help_text=_("本轮办理（分派、升级或重办后）累计。")
    )

    return_count = models.PositiveIntegerField(_("退单次数"), default=0)
    reopen_count = models.PositiveIntegerField(_("重办次数"), default=0)
    escalation_count = models.PositiveIntegerField(_("升级次数"), default=0)
    supervised = models.BooleanField(_("督办"), default=False)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)

    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    satisfaction_note = models.CharField(_("回访意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("回访时间"), null=True, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # only PROTECT checks on deleting a user need it (rare)
    )
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.SELF)
    work_group = models.CharField(_("工作组"), max_length=100, blank=True, default="")
    # The spreadsheet the need came in (intake.ImportBatch); a string reference, so tickets
    # never imports the intake app.
    import_batch = models.ForeignKey(
        "intake.ImportBatch",
        verbose_name=_("导入批次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # ticket_import_batch (partial)
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_tickets",
        db_index=False,  # ticket_merged_into (partial)
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=80, blank=True, default="")
    # SHA-256 of the submitted body: the same key with another body is a client error.
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="ticket_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(condition=Q(level__in=Tier.values), name="ticket_level_valid"),
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="ticket_outcome_valid"
            ),
            # An outcome is only ever recorded together with the time it was resolved.
            models.CheckConstraint(
                condition=Q(outcome="") | Q(resolved_at__isnull=False),
                name="ticket_outcome_has_resolved_at",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed", "pending_review"])
                | (~Q(outcome="") & Q(resolved_at__isnull=False)),
                name="ticket_resolved_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="ticket_closed_has_closed_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="on_hold") | Q(held_at__isnull=False),
                name="ticket_on_hold_has_held_at",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "withdrawn", "merged"])
                | Q(department__isnull=False),
                name="ticket_handled_has_department",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | (Q(kind="funding") & Q(amount__gte=0)),
                name="ticket_amount_only_for_funding",
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="ticket_source_valid"
            ),
            # A merged ticket points to its survivor, and only a merged one does.
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="ticket_merged_has_survivor",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ticket_idempotency_key_unique_per_enterprise",
            ),
        ]
        indexes = [
            # The escalation sweep: WHERE escalate_at <= now ORDER BY escalate_at, id.
            models.Index(
                fields=["escalate_at", "id"],
                condition=Q(escalate_at__isnull=False),
                name="ticket_escalate_due",
            ),
            # The re-route sweep: WHERE status = 'submitted' AND created_at < now - grace.
            models.Index(
                fields=["created_at"],
                condition=Q(status="submitted"),
                name="ticket_submitted_waiting",
            ),
            # A department's queue and the by-department statistics.
            models.Index(fields=["department", "status"], name="ticket_department_status"),
            # An enterprise's own list, newest first.
            models.Index(fields=["enterprise", "-created_at"], name="ticket_enterprise_recent"),
            # Period filters in lists and statistics.
            models.Index(fields=["created_at"], name="ticket_created"),
            # Overdue lists: in_progress past resolve_due_at, assigned past accept_due_at. Both
            # open statuses in each, so `?overdue=true&ordering=resolve_due_at` (either status,
            # by one deadline, then id) walks an index instead of sorting every overdue ticket;
            # the dashboard's per-status lists (ORDER BY the deadline, LIMIT 50) filter status.
            models.Index(
                fields=["resolve_due_at", "id"],
                condition=Q(status__in=["assigned", "in_progress"]),
                name="ticket_open_resolve_due",
            ),
            models.Index(
                fields=["accept_due_at", "id"],
                condition=Q(status__in=["assigned", "in_progress"]),
                name="ticket_open_accept_due",
            ),
            # The supervision list (督办), newest first.
            models.Index(
                fields=["-supervised_at"],
                condition=Q(supervised=True),
                name="ticket_supervised_list",
            ),
            # Confirming a calendar year: WHERE deadlines_provisional (a few tickets, late in
            # the year; none most of the time — the index stays tiny).
            models.Index(
                fields=["id"],
                condition=Q(deadlines_provisional=True),
                name="ticket_provisional",
            ),
            # A survivor's merged duplicates (its page lists them); few rows, hence partial.
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="ticket_merged_into",
            ),
            # An import batch's tickets (the batch's admin page); null for every other channel.
            models.Index(
                fields=["import_batch"],
                condition=Q(import_batch__isnull=False),
                name="ticket_import_batch",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return lateness(self, now or timezone.now()) is not None


class TicketNumberCounter(models.Model):
    """Per-year counter behind WH-2026-000123; incremented inside the submitting transaction,
    so a rolled-back submission leaves no gap."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")

    def __str__(self):
        return f"{self.year}: {self.last}"


class TicketEvent(models.Model):
    """Append-only history. A database trigger rejects UPDATE and DELETE (migration 0002)."""

    class Action(models.TextChoices):
        SUBMIT = "submit", _("提交")
        ROUTE = "route", _("分派")
        DISPATCH = "dispatch", _("人工分派")
        ACCEPT = "accept", _("签收")
        RETURN = "return", _("退单")
        HOLD = "hold", _("挂起")
        RESUME = "resume", _("恢复办理")
        REQUEST_EXTENSION = "request_extension", _("申请延期")
        APPROVE_EXTENSION = "approve_extension", _("批准延期")
        DENY_EXTENSION = "deny_extension", _("驳回延期")
        RESOLVE = "resolve", _("办结")
        APPROVE_EXPLANATION = "approve_explanation", _("同意说明")
        REJECT_EXPLANATION = "reject_explanation", _("驳回说明")
        CONFIRM = "confirm", _("确认办结")
        AUTO_CLOSE = "auto_close", _("自动关闭")
        REOPEN = "reopen", _("重办")
        WITHDRAW = "withdraw", _("撤回")
        RATE = "rate", _("回访评价")
        WARN = "warn", _("预警（黄牌）")
        REMIND = "remind", _("催办")
        ESCALATE = "escalate", _("升级（红牌）")
        SUPERVISE = "supervise", _("督办")
        MERGE = "merge", _("合并")  # this ticket closed as a duplicate of another
        ABSORB = "absorb", _("并入重复诉求")  # another request of the enterprise added here

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("诉求"),
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # event_ticket_timeline_cover
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # mostly null; only PROTECT checks on deleting a user need it
    )
    action = models.CharField(_("动作"), max_length=24, choices=Action.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=Status.choices, blank=True)
    from_department = models.ForeignKey(
        Department,
        verbose_name=_("原责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # only PROTECT checks on deleting a department need it (rare)
    )
    to_department = models.ForeignKey(
        Department,
        verbose_name=_("新责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # event_to_department
    )
    # The department asked to decide (the tier above, for an extension request or a negative
    # answer): it may see the ticket from then on.
    reviewer = models.ForeignKey(
        Department,
        verbose_name=_("审核单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # event_reviewer (partial)
    )
    level = models.CharField(_("层级"), max_length=10, choices=Tier.choices)
    # What staff write to each other (return reasons, dispatch notes, review comments, the
    # sweep's and routing's own notes): never shown to the enterprise.
    note = models.TextField(_("内部备注"), blank=True)
    # What the enterprise may read: a department's reply (答复企业), or the enterprise's own
    # words (reopen and withdrawal reasons, its rating comment).
    reply = models.TextField(_("答复企业"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    # The identity of one sweep step ("escalate@<instant>"): a breach is acted on at most once
    # even if two sweeps race or a worker dies and its task is redelivered.
    breach_key = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "breach_key"],
                condition=Q(breach_key__isnull=False),
                name="event_breach_once_per_ticket",
            ),
        ]
        indexes = [
            # A ticket's timeline; and, index-only thanks to the INCLUDE, the probe behind a
            # department's list (tickets.selectors.visible_tickets: EXISTS an event of this
            # ticket into the department), run once per ticket walked in created_at order —
            # without it each probe read the events' heap: 82 → 44 ms for a 65,000-ticket
            # department's first page (bench/README.md, API). PostgreSQL only; elsewhere a
            # plain (ticket, created_at) index.
            models.Index(
                fields=["ticket", "created_at"],
                include=["to_department", "reviewer"],
                name="event_ticket_timeline_cover",
            ),
            # Department staff see tickets that passed through their department …
            models.Index(fields=["to_department", "ticket"], name="event_to_department"),
            # … and those they were asked to review.
            models.Index(
                fields=["reviewer", "ticket"],
                condition=Q(reviewer__isnull=False),
                name="event_reviewer",
            ),
            # The notification re-drive's window of recent events (tickets.notifications).
            models.Index(fields=["created_at"], name="event_created_at"),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"


class NotificationLog(models.Model):
    """One row per notification ever claimed; the unique key makes a redelivered task a no-op.

    The row says what happened, never more (tickets.notifications): `sent_at` is set once the
    mail server took the message; `claimed_at` is the attempt under way (NULL: the last attempt
    failed, see `last_error`); a claim older than the claim timeout belongs to an attempt that
    died, and the re-drive sends the stored `body` again (at-least-once).
    """

    key = models.CharField(max_length=120, unique=True)
    event = models.ForeignKey(
        TicketEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200, blank=True)
    recipients = models.TextField(blank=True)
    # The message as claimed, so a retry or the re-drive sends exactly it; emptied once sent.
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(_("本次发送开始"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知记录")
        verbose_name_plural = _("通知记录")
        indexes = [
            # The re-drive's "claimed or failed, never sent" (tickets.notifications.redrive).
            models.Index(
                fields=["created_at"], condition=Q(sent_at__isnull=True), name="notification_unsent"
            ),
        ]

    def __str__(self):
        return self.key


class DigestEntry(models.Model):
    """One sweep step in one department's digest. Unique per (event, department): a step is in
    at most one digest of each department it concerns, whichever sweep or re-drive got there
    first, and a step with no entry for a department was never told to it."""

    notification = models.ForeignKey(
        NotificationLog, on_delete=models.CASCADE, related_name="digest_entries"
    )
    event = models.ForeignKey(TicketEvent, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("汇总通知条目")
        verbose_name_plural = _("汇总通知条目")
        constraints = [
            models.UniqueConstraint(fields=["event", "department"], name="digest_entry_once"),
        ]

    def __str__(self):
        return f"{self.notification_id}: {self.event_id} → {self.department_id}"


class CalendarDay(models.Model):
    """One day of the official working calendar (weekends, holidays, 调休 make-up days)."""

    date = models.DateField(_("日期"), unique=True)
    is_working = models.BooleanField(_("工作日"))
    name = models.CharField(_("说明"), max_length=60, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'工作日' if self.is_working else '休息日'}"


# The SLA defaults, in working days: Shandong 12345 practice (DESIGN.md §2). The one
# definition: SlaPolicy's field defaults, tickets.sla (a kind and level without a policy row)
# and the reference data (fixtures/weihai_reference.json names only what differs) use it.
SLA_DEFAULTS = {
    "accept_days": 1,
    "return_window_days": 2,
    "max_extension_days": 10,
    "auto_close_days": 5,
}
# Handling time grows with the tier.
DEFAULT_RESOLVE_DAYS = {Tier.DISTRICT: 5, Tier.CITY: 10, Tier.LEADER: 15}


def default_sla(level: str) -> dict[str, int]:
    """The default policy values at `level`, by SlaPolicy field name."""
    return {**SLA_DEFAULTS, "resolve_days": DEFAULT_RESOLVE_DAYS[level]}


class CalendarYear(models.Model):
    """A year of the working calendar that staff confirmed (from the State Council's notice, or
    the official schedule the `holidays` package carries). Its days are the CalendarDay rows;
    a year without this row is provisional: statutory holidays only, no 调休."""

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(
        _("依据"), max_length=200, help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知")
    )
    # As entered (the notice's ranges): [{"name", "first", "last"}] and ["YYYY-MM-DD", …].
    holidays = models.JSONField(_("放假安排"), default=list, blank=True)
    workdays = models.JSONField(_("调休上班日"), default=list, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("年度工作日历")
        verbose_name_plural = _("年度工作日历")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class SlaPolicy(models.Model):
    """Working-day time limits for one kind at one level (12345 practice by default)."""

    kind = models.CharField(_("清单类别"), max_length=16, choices=Kind.choices)
    level = models.CharField(_("层级"), max_length=10, choices=Tier.choices)
    accept_days = models.PositiveSmallIntegerField(
        _("签收时限（工作日）"), default=SLA_DEFAULTS["accept_days"]
    )
    resolve_days = models.PositiveSmallIntegerField(
        _("办结时限（工作日）"), default=DEFAULT_RESOLVE_DAYS[Tier.DISTRICT]
    )
    return_window_days = models.PositiveSmallIntegerField(
        _("可退单期限（工作日）"), default=SLA_DEFAULTS["return_window_days"]
    )
    max_extension_days = models.PositiveSmallIntegerField(
        _("最长延期（工作日）"), default=SLA_DEFAULTS["max_extension_days"]
    )
    auto_close_days = models.PositiveSmallIntegerField(
        _("自动关闭（工作日）"),
        default=SLA_DEFAULTS["auto_close_days"],
        help_text=_("办结后企业未确认、未重办，满此工作日数自动关闭。"),
    )

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["kind", "level"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "level"], name="sla_one_per_kind_level"),
            models.CheckConstraint(condition=Q(accept_days__gte=1), name="sla_accept_positive"),
            models.CheckConstraint(condition=Q(resolve_days__gte=1), name="sla_resolve_positive"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} / {self.get_level_display()}"


class RoutingRule(models.Model):
    """(kind, category, district, chain, amount, credit grade) → department. First match wins."""

    class Target(models.TextChoices):
        FIXED = "fixed", _("指定单位")
        DISTRICT_COUNTERPART = "district_counterpart", _("企业所在区市的对口单位")
        CHAIN_LEAD = "chain_lead", _("企业所在产业链的牵头部门")

    name = models.CharField(_("名称"), max_length=80)
    priority = models.PositiveIntegerField(_("优先级"), help_text=_("数字小的先匹配。"))
    is_active = models.BooleanField(_("启用"), default=True)
    kind = models.CharField(_("清单类别"), max_length=16, choices=Kind.choices, blank=True)
    category = models.CharField(_("细类"), max_length=40, blank=True)
    district = models.ForeignKey(
        District, verbose_name=_("区市"), on_delete=models.PROTECT, null=True, blank=True
    )
    chain = models.ForeignKey(
        IndustryChain, verbose_name=_("产业链"), on_delete=models.PROTECT, null=True, blank=True
    )
    min_amount = models.DecimalField(
        _("最低金额（万元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    credit_grades = models.CharField(
        _("信用等级"), max_length=4, blank=True, help_text=_("如 AB；留空表示不限。")
    )
    target = models.CharField(
        _("分派方式"), max_length=24, choices=Target.choices, default=Target.FIXED
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text=_("对口分派时填市级单位，系统找企业所在区市的下级对口单位。"),
    )

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        ordering = ["priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["priority"], name="routing_priority_unique"),
            models.CheckConstraint(
                condition=Q(credit_grades__regex=r"^[ABCD]*$"), name="routing_credit_grades_valid"
            ),
            models.CheckConstraint(
                condition=Q(target="chain_lead") | Q(department__isnull=False),
                name="routing_department_required",
            ),
            models.CheckConstraint(
                condition=Q(target__in=["fixed", "district_counterpart", "chain_lead"]),
                name="routing_target_valid",
            ),
        ]

    def __str__(self):
        return f"{self.priority}. {self.name}"
