"""The city report's scenario, made by the workflow.

`seed_scenario` reproduces the city's headline — 1,623 needs taken in, 205 of them at city
level or above, 172 of those basically solved (83.9%, target 90%) — over the half year
before a reference instant (by default now, to the minute). Every ticket is *lived*: it is
submitted, routed by the routing rules and handled by calling the functions of
tickets.workflow with `now=` (accept, return and re-dispatch, hold and resume, extension,
resolve, review of an explained answer, confirm, reopen, rate), while the real escalation
sweep (tickets.escalation) runs whenever the ticket's `escalate_at` comes (yellow cards,
reminders, escalation, supervision, auto-close). No ticket is written by hand.

Each ticket follows a plan drawn when it is created (`Plan`: which bucket of the headline it
fills, how high it climbs, whether it is late at the top) and reacts to what the sweep does.
Tickets are lived one after another in order of submission, each in a savepoint: a life that
misses its bucket, or would leave the sweep something to do within QUIET of the reference
instant, is rolled back and lived again with a new plan. A finished ticket has nothing due
before the reference instant, so the sweeps run for later tickets never touch it, and the
first sweep after seeding finds nothing to do.

Side effects (routing tasks, notifications, mail) are suppressed while seeding.
Synthetic city-scale data (`seed_demo --enterprises N --tickets M`) is tickets.demo_scale.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from enterprises import uscc
from enterprises.models import Department, District, Enterprise, IndustryChain, IndustryCluster
from tickets import categories, db_triggers, effects, escalation, routing, routing_store, workflow
from tickets.calendar import DAY, SHANGHAI, CalendarMissing
from tickets.models import Outcome, Status, Ticket, TicketEvent, TicketNumberCounter
from tickets.sla import REMINDER_GRACE_DAYS, load_sla

DEFAULT_SEED = 20261120
WINDOW_DAYS = 183  # "the past ~6 months" of the report
# After seeding, nothing is due for the sweep within this long of the reference instant, so
# the first sweeps of a freshly started demo (./scripts/run) find nothing to do.
QUIET = dt.timedelta(hours=1)
MAX_ATTEMPTS = 60  # lives tried per ticket before the plan is declared impossible


@dataclass(frozen=True)
class Headline:
    """本期受理企业诉求1,623件，需市级层面解决的问题205个，其中已基本解决172个。"""

    taken_in: int = 1623
    city_level: int = 205
    city_resolved: int = 172
    enterprises: int = 400


SCENARIO = Headline()
# Scenario enterprises carry this organisation-code prefix in their USCC (characters 9–13):
# it marks the scenario as present (re-running seed_demo changes nothing).
SCENARIO_ORG_PREFIX = "MAWHD"
# Statistical division codes of Weihai (USCC characters 3–8); the functional zones have their own.
DIVISION_CODES = {
    **{code: code for code in ("371002", "371003", "371082", "371083")},
    **{"zone-gaoqu": "371071", "zone-jingqu": "371072", "zone-lingang": "371073"},
}
PLACE_NAMES = {"371002": "威海", "371003": "文登", "371082": "荣成", "371083": "乳山"}
KIND_WEIGHTS = {"difficulty": 42, "funding": 22, "technology": 20, "supply_chain": 16}
GRADE_WEIGHTS = {"A": 30, "B": 45, "C": 17, "D": 8}
OUTCOME_WEIGHTS = {"solved": 57, "basically_solved": 31, "explained": 12}
SCORE_WEIGHTS = {
    "solved": (62, 29, 6, 2, 1),  # scores 5, 4, 3, 2, 1
    "basically_solved": (40, 40, 13, 5, 2),
    "explained": (10, 28, 32, 18, 12),
}
# Open states the demo shows at the reference instant, picked from recent needs.
SHOWCASE = {"assigned": 3, "in_progress": 3, "on_hold": 3, "pending_review": 3, "returned": 3}

# --- texts ------------------------------------------------------------------------------
# One title per category (others: the category's label), then a detail.
TITLES = {
    "land": "新建厂房项目用地指标协调", "energy": "新上项目能耗指标不足",
    "permit": "施工许可办理周期长", "labour": "一线技术工人招工难",
    "environment": "排污许可证变更办理", "logistics": "港口集装箱运力紧张",
    "market": "开拓RCEP市场对接", "finance_policy": "技改补助资金兑现",
    "new_materials": "碳纤维预浸料工艺优化", "medical": "医疗器械注册检验合作",
    "equipment": "智能产线改造方案", "electronics": "打印机主控芯片适配",
    "marine_food": "海参精深加工技术", "rd_cooperation": "联合共建研发中心",
    "loan": "流动资金贷款需求", "project_loan": "新建项目固定资产贷款",
    "guarantee": "贷款担保增信需求", "equity": "股权融资对接",
    "supplier": "寻找本地精密零部件配套商", "buyer": "产品进入链主企业供应体系",
    "local_sourcing": "进口零部件本地化替代",
}  # fmt: skip
DETAILS = (
    "企业反映该问题已影响正常生产经营，希望有关部门尽快协调解决。",
    "企业已多次沟通未果，请求政府帮助协调。",
    "该事项关系企业年度重点项目进度，恳请支持。",
    "工作组走访时企业提出，已核实情况属实。",
)
REPLIES = {
    "solved": ("已协调相关部门解决，企业确认问题消除。", "已办理完毕，相关手续已办结。"),
    "basically_solved": ("主要问题已解决，剩余事项已纳入后续跟踪。", "已完成阶段性协调。"),
    "explained": ("受政策限制暂不能解决，已向企业作出说明并提供替代方案。",),
}
RETURN_REASONS = ("不属于本单位职责范围，请重新分派。", "该事项属地管理，应由所在区市办理。")
HOLD_REASONS = ("等待企业补充材料", "需上级部门政策答复", "涉及第三方，等待协调结果")
REOPEN_REASONS = ("企业反映问题未实际解决", "承诺事项尚未落实")
RATING_NOTES = {5: "办理高效，非常满意", 4: "比较满意", 3: "", 2: "办理进度偏慢", 1: "问题未解决"}
NAME_HEADS = "华海鑫泰荣威远东博恒信盛宏达润安康凯瑞丰明新德金天正隆昌永汇通利嘉宇晨光源"
INDUSTRY_WORDS = ("电子", "智能科技", "医疗器械", "生物科技", "机械", "精密机械", "复合材料",
                  "海洋食品", "水产", "服饰", "户外用品", "渔具", "康养")  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏"


class SeedError(Exception):
    """Seeding cannot go on (reference data or calendar missing); says what to do."""


@dataclass
class SeedResult:
    mode: str
    skipped: bool = False
    enterprises: int = 0
    tickets: int = 0
    events: int = 0
    overdue: int = 0
    statuses: Counter = field(default_factory=Counter)
    levels: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    headline: str = ""


def reference_now(value: dt.datetime | None = None) -> dt.datetime:
    """The instant the data is as of: `value` (naive = Shanghai time), or now to the minute."""
    if value is None:
        return timezone.now().replace(second=0, microsecond=0)
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def headline(target: float = 0.9) -> str:
    """The city's sentence, computed from the tickets in the database."""
    taken = Ticket.objects.exclude(status=Status.WITHDRAWN)
    city = taken.filter(level__in=["city", "leader"])
    solved = city.filter(
        outcome__in=[Outcome.SOLVED, Outcome.BASICALLY_SOLVED],
        status__in=[Status.RESOLVED, Status.CLOSED],
    )
    taken_count, city_count, solved_count = taken.count(), city.count(), solved.count()
    share = solved_count / city_count if city_count else 0.0
    return (
        f"本期受理企业诉求{taken_count:,}件，需市级层面解决的问题{city_count:,}个，"
        f"其中已基本解决{solved_count:,}个，占比{share:.1%}（目标{target:.0%}）"
    )


def scenario_present() -> bool:
    return Enterprise.objects.filter(uscc__regex=rf"^.{{8}}{SCENARIO_ORG_PREFIX}").exists()


def reset() -> None:
    """Delete every ticket, event, notification log, number counter and enterprise (with
    their accounts), in one transaction with the events' append-only rule lifted."""
    with db_triggers.unlocked(connection):
        for relation in TicketEvent._meta.related_objects:
            relation.related_model._base_manager.all().delete()
        TicketEvent._base_manager.all().delete()
        Ticket._base_manager.all().delete()
        TicketNumberCounter._base_manager.all().delete()
        Enterprise._base_manager.all().delete()


def summarise(result: SeedResult, now: dt.datetime) -> None:
    tickets = Ticket.objects.order_by()
    result.tickets, result.events = tickets.count(), TicketEvent.objects.count()
    result.overdue = tickets.filter(escalate_at__lte=now).count()
    for name in ("status", "level", "kind"):
        counts = tickets.values_list(name).annotate(n=Count("pk"))
        getattr(result, f"{name}es" if name == "status" else f"{name}s").update(dict(counts))


# --- the world the tickets live in --------------------------------------------------------


class World:
    """Reference data, routing and the SLA, loaded once per run; draws needs and times."""

    def __init__(self, now: dt.datetime, rng: random.Random):
        self.now, self.rng = now, rng
        self.rules = routing_store.load_rules()
        self.directory = routing_store.load_directory()
        if not self.rules or self.directory.coordinator_id is None:
            raise SeedError(
                "数据库中没有分派规则或统筹协调单位。"
                "请先运行 `python manage.py load_reference_data`。"
            )
        self.sla = load_sla(fresh=True)
        self.departments = {d.pk: d for d in Department.objects.filter(is_active=True)}
        self.chains = list(IndustryChain.objects.order_by("id").values_list("id", "cluster_id"))
        self.districts = list(District.objects.order_by("order", "code"))
        self.clusters = list(IndustryCluster.objects.order_by("order").values_list("id", flat=True))
        if not self.districts:
            raise SeedError("数据库中没有区市。请先运行 `python manage.py load_reference_data`。")
        ahead = max(p.resolve_days + p.max_extension_days for p in self.sla.policies.values())
        try:
            self.sla.add(now - dt.timedelta(days=WINDOW_DAYS), 1)
            self.sla.add(now, ahead)
        except CalendarMissing as missing:
            raise SeedError(
                f"{missing} 演示数据的时间范围（--now 前 {WINDOW_DAYS} 天至其后 {ahead} 个工作日）"
                "必须在工作日历覆盖的年份内，请调整 --now。"
            ) from None
        self.enterprises: list[Enterprise] = []

    def add(self, moment: dt.datetime, days: float) -> dt.datetime:
        return self.sla.add(moment, days)

    def moment(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        """A submission instant in [start, end): mostly office hours on working days."""
        rng = self.rng
        for _attempt in range(20):
            day = start + dt.timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))
            local = day.astimezone(SHANGHAI)
            if rng.random() < 0.9:
                if not self.sla.calendar.is_working_day(local.date()):
                    continue
                local = local.replace(hour=8, minute=30) + dt.timedelta(
                    seconds=rng.randint(0, 9 * 3600)
                )
            if start <= local < end:
                return local
        return start

    def need(self, start_tier: str) -> dict:
        """A need (submit_ticket's arguments) that the routing rules give to `start_tier`."""
        rng = self.rng
        for _attempt in range(500):
            enterprise = rng.choices(self.enterprises, self.weights)[0]
            kind = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0]
            category = rng.choice(list(categories.CATEGORIES[kind]))
            amount = None
            if kind == "funding":
                amount = Decimal(int(min(max(rng.lognormvariate(5.7, 1.0), 10), 50_000) / 10) * 10)
            chain = self.chain_of(enterprise, kind)
            facts = routing.Facts(
                kind, category, enterprise.district_id, chain, amount, enterprise.credit_grade
            )
            decision = routing.route(self.rules, facts, self.directory)
            if decision.level != start_tier:
                continue
            title = TITLES.get(category) or str(categories.CATEGORIES[kind][category])
            detail = rng.choice(DETAILS)
            if amount is not None:
                detail = f"资金需求约{amount}万元。{detail}"
            return {
                "enterprise": enterprise,
                "kind": kind,
                "category": category,
                "amount": amount,
                "title": title,
                "description": f"{title}。{detail}",
            }
        raise SeedError(f"分派规则没有把任何诉求分到 {start_tier} 层级。")

    def chain_of(self, enterprise: Enterprise, kind: str) -> int | None:
        # routing_store.default_chain without a query per need: the first chain, if linked.
        if kind != "supply_chain" and not enterprise.is_chain_leader:
            return None
        return min(enterprise.demo_chains, default=None)

    def other_department(self, previous_id: int) -> Department:
        """Where the coordinator re-dispatches a returned ticket: same tier, not the same unit."""
        previous = self.departments[previous_id]
        candidates = [
            d
            for d in self.departments.values()
            if d.tier == previous.tier
            and d.pk != previous.pk
            and not d.is_coordinator
            and d.kind == previous.kind
            and (d.tier != "district" or d.district_id == previous.district_id)
        ]
        return self.rng.choice(candidates) if candidates else previous


def make_enterprises(world: World, count: int) -> list[Enterprise]:
    rng = world.rng
    chains_of_cluster: dict[int, list[int]] = {}
    for chain_id, cluster_id in world.chains:
        chains_of_cluster.setdefault(cluster_id, []).append(chain_id)
    rows, chains = [], []
    for index in range(count):
        district = rng.choices(
            world.districts, [3 if d.code.isdigit() else 2 for d in world.districts]
        )[0]
        cluster = rng.choice(world.clusters) if world.clusters else None
        own = chains_of_cluster.get(cluster, [])
        linked = {rng.choice(own)} if own and rng.random() < 0.45 else set()
        division = DIVISION_CODES.get(district.code, "371000")
        place = PLACE_NAMES.get(district.code, "威海")
        heads = rng.choice(NAME_HEADS) + rng.choice(NAME_HEADS)
        name = f"{place}{heads}{rng.choice(INDUSTRY_WORDS)}有限公司"
        rows.append(
            Enterprise(
                uscc=uscc.make(f"91{division}{SCENARIO_ORG_PREFIX}{index + 1:04d}"),
                name=name,
                district=district,
                cluster_id=cluster,
                credit_grade=rng.choices(list(GRADE_WEIGHTS), list(GRADE_WEIGHTS.values()))[0],
                programme=rng.choices(["", "leading", "following"], [89, 4, 7])[0],
                contact_name=rng.choice(SURNAMES) + rng.choice(("经理", "女士", "先生", "主任")),
                contact_phone=f"0631-{rng.randint(5000000, 8999999)}",
                contact_email=f"contact{index + 1}@enterprise.weihai.example",
            )
        )
        chains.append(sorted(linked))
    # Two 链主企业 per chain: its first members.
    leaders: dict[int, int] = {}
    for row, linked in zip(rows, chains, strict=True):
        for chain_id in linked:
            if leaders.get(chain_id, 0) < 2:
                leaders[chain_id] = leaders.get(chain_id, 0) + 1
                row.is_chain_leader, row.credit_grade = True, "A"
    Enterprise.objects.bulk_create(rows)
    Through = Enterprise.chains.through
    Through.objects.bulk_create(
        Through(enterprise_id=row.pk, industrychain_id=chain_id)
        for row, linked in zip(rows, chains, strict=True)
        for chain_id in linked
    )
    # created_at is auto_now_add: registered years before the window, not today.
    for row, linked in zip(rows, chains, strict=True):
        row.created_at = world.now - dt.timedelta(days=rng.randint(200, 3650))
        row.demo_chains = linked
    Enterprise.objects.bulk_update(rows, ["created_at"], batch_size=200)
    world.enterprises = rows
    world.weights = [5 if r.is_chain_leader else 2 if r.programme else 1 for r in rows]
    return rows


# --- one ticket's life ----------------------------------------------------------------------


@dataclass
class Plan:
    """What one ticket is meant to become, drawn when it is created."""

    created: dt.datetime
    bucket: str  # district | city_resolved | city_other (the headline's three parts)
    status: str | None = None  # the state wanted at the reference instant (showcase)
    start: str = "district"  # the tier routing gives it
    top: str = "district"  # the tier it climbs to, by being late below it
    late_at_top: bool = False  # at the leader tier: resolved late, after supervision (督办)
    outcome: str | None = "solved"  # None: not resolved by the reference instant


def draw_plan(world: World, created: dt.datetime, bucket: str, status: str | None) -> Plan:
    rng = world.rng
    plan = Plan(created, bucket, status)
    if bucket != "district":
        plan.start = "city" if rng.random() < 0.65 else "district"
        plan.top = "leader" if rng.random() < 0.4 else "city"
        plan.late_at_top = plan.top == "leader" and rng.random() < 0.7
    if bucket == "city_resolved":
        plan.outcome = rng.choices(["solved", "basically_solved"], [57, 31])[0]
    elif bucket == "city_other":
        plan.outcome = "explained" if rng.random() < 0.6 else None
    elif status == "pending_review":
        plan.outcome = "explained"
    else:
        plan.outcome = rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0]
    return plan


def _bucket(ticket: Ticket) -> str:
    if ticket.level == "district":
        return "district"
    if ticket.outcome in ("solved", "basically_solved") and ticket.status in ("resolved", "closed"):
        return "city_resolved"
    return "city_other"


class Life:
    """Lives one ticket through the workflow and the sweep until the reference instant.

    `pending` holds the people's next moves (action → instant), planned whenever the ticket
    enters a state; the sweep runs whenever the ticket's escalate_at comes first.
    """

    def __init__(self, world: World, plan: Plan):
        self.w, self.rng, self.plan, self.now = world, world.rng, plan, world.now
        self.returns = plan.status == "returned" or self.rng.random() < 0.04
        self.holds = plan.status == "on_hold" or self.rng.random() < 0.05
        self.pending: dict[str, dt.datetime] = {}
        self.outcome = plan.outcome

    def live(self) -> Ticket:
        plan, rng, now = self.plan, self.rng, self.now
        self.t, _created = workflow.submit_ticket(now=plan.created, **self.w.need(plan.start))
        self.last = plan.created
        self.pending = {"route": plan.created + dt.timedelta(seconds=rng.randint(2, 40))}
        while True:
            action, at = min(self.pending.items(), key=lambda item: item[1], default=(None, None))
            due = self.t.escalate_at
            if due is not None and due <= now and (at is None or due <= at):
                self._sweep(due, at)
                continue
            if at is None or at > now:
                return self.t
            del self.pending[action]
            self.last = at
            getattr(self, f"_{action}")(at)

    # --- the sweep ------------------------------------------------------------------------
    def _sweep(self, due: dt.datetime, next_move: dt.datetime | None) -> None:
        """The beat runs the sweep every minute: it acts within a minute of `due`."""
        when = max(due, self.last) + dt.timedelta(seconds=self.rng.randint(1, 59))
        when = min(when, self.now, next_move or self.now)
        before = self.t
        result = escalation.escalate_overdue(now=when, notify=False, sla=self.w.sla)
        self.t = Ticket.objects.get(pk=before.pk)
        if result.skipped or (self.t.escalate_at is not None and self.t.escalate_at <= when):
            raise SeedError(f"升级巡检未能处理诉求 {before.number}（{when.isoformat()}）。")
        self.last = when
        if self.t.department_id != before.department_id:  # escalated
            self._enter_assigned(when)
        elif self.t.status == Status.CLOSED:  # closed automatically
            self._enter_closed(when)

    # --- planning the next moves ------------------------------------------------------------
    def _policy(self):
        return self.w.sla.policy(self.t.kind, self.t.level)

    def _climbing(self) -> bool:
        order = ("district", "city", "leader")
        return order.index(self.t.level) < order.index(self.plan.top)

    def _enter_assigned(self, at: dt.datetime) -> None:
        rng, t, policy = self.rng, self.t, self._policy()
        self.pending = {}
        if self.returns and not t.return_count and t.level == self.plan.start:
            window = min(1.6, policy.return_window_days - 0.1)
            self.pending["return"] = self.w.add(at, rng.uniform(0.05, window))
            return  # not ours: returned before anyone signs for it
        if self._climbing() and rng.random() < 0.5:  # not signed for: reminded, then escalated
            days = policy.accept_days + REMINDER_GRACE_DAYS + rng.uniform(0.2, 1.0)
        elif rng.random() < 0.05:  # reminded, then signed for within the grace period
            days = policy.accept_days + rng.uniform(0.05, 0.9) * REMINDER_GRACE_DAYS
        else:
            days = rng.uniform(0.02, 0.9) * policy.accept_days
        self.pending["accept"] = self.w.add(at, days)

    def _enter_in_progress(self, at: dt.datetime) -> None:
        rng, t, policy = self.rng, self.t, self._policy()
        self.pending = {}
        if self.outcome is None:
            return  # not resolved by the reference instant
        if self._climbing():
            fraction = rng.uniform(1.05, 1.4)  # late: escalated at the deadline
        elif t.level == "leader" and self.plan.late_at_top:
            fraction = rng.uniform(1.1, 1.8)  # late: supervised at the deadline, then resolved
        else:
            fraction = rng.uniform(0.12, 0.95)
        budget = int(fraction * policy.resolve_days * DAY) + t.paused_seconds
        resolve_at = self.w.sla.calendar.add_working_seconds(t.clock_started_at, budget)
        self.pending["resolve"] = max(resolve_at, at + dt.timedelta(minutes=rng.randint(30, 600)))
        if self.holds and not t.paused_seconds:
            span = (self.pending["resolve"] - at) * rng.uniform(0.1, 0.6)
            self.pending["hold"] = at + span
        elif 0.8 < fraction < 1 and rng.random() < 0.35:
            ask = self.w.add(t.resolve_due_at, -rng.uniform(0.3, 1.2))
            if at < ask < self.pending["resolve"]:
                self.pending["request_extension"] = ask

    def _enter_resolved(self, at: dt.datetime) -> None:
        rng, t = self.rng, self.t
        self.pending = {}
        if rng.random() < (0.04 if not t.reopen_count else 0.25 if t.reopen_count == 1 else 0):
            self.pending["reopen"] = self.w.add(at, rng.uniform(0.2, 3.0))
        elif rng.random() < 0.55:  # otherwise the sweep closes it after the policy's days
            latest = self._policy().auto_close_days - 0.2
            self.pending["confirm"] = self.w.add(at, rng.uniform(0.05, latest))

    def _enter_closed(self, at: dt.datetime) -> None:
        self.pending = {}
        if self.t.satisfaction is None and self.rng.random() < 0.85:
            self.pending["rate"] = at + dt.timedelta(seconds=self.rng.randint(600, 3 * DAY))

    # --- the workflow's moves ---------------------------------------------------------------
    def _route(self, at):
        directory = (self.w.rules, self.w.directory)
        self.t = workflow.route_ticket(ticket_id=self.t.pk, now=at, routing_data=directory)
        self._enter_assigned(at)

    def _accept(self, at):
        self.t = workflow.accept_ticket(ticket_id=self.t.pk, actor=None, now=at)
        self._enter_in_progress(at)

    def _return(self, at):
        self.returned_by = self.t.department_id
        reason = self.rng.choice(RETURN_REASONS)
        self.t = workflow.return_ticket(ticket_id=self.t.pk, actor=None, reason=reason, now=at)
        self.pending = {"dispatch": self.w.add(at, self.rng.uniform(0.05, 1.2))}

    def _dispatch(self, at):
        target = self.w.other_department(self.returned_by)
        self.t = workflow.dispatch_ticket(
            ticket_id=self.t.pk,
            actor=None,
            department_id=target.pk,
            note=f"改派至{target.name}",
            now=at,
        )
        self._enter_assigned(at)

    def _hold(self, at):
        resolve_at = self.pending.pop("resolve")
        self.remaining = self.w.sla.calendar.working_seconds_between(at, resolve_at)
        self.pending.pop("request_extension", None)
        reason = self.rng.choice(HOLD_REASONS)
        self.t = workflow.hold_ticket(ticket_id=self.t.pk, actor=None, reason=reason, now=at)
        self.pending["resume"] = self.w.add(at, self.rng.uniform(1, 6))

    def _resume(self, at):
        self.t = workflow.resume_ticket(ticket_id=self.t.pk, actor=None, now=at)
        resolve_at = self.w.sla.calendar.add_working_seconds(at, max(self.remaining, 600))
        self.pending = {"resolve": resolve_at}

    def _request_extension(self, at):
        days = self.rng.choice((3, 5, 7))
        self.t = workflow.request_extension(
            ticket_id=self.t.pk,
            actor=None,
            days=days,
            reason="涉及多部门会商，需延长办理时间",
            now=at,
        )
        decision = "approve_extension" if self.rng.random() < 0.85 else "deny_extension"
        self.pending[decision] = self.w.add(at, self.rng.uniform(0.1, 0.6))

    def _approve_extension(self, at):
        self.t = workflow.approve_extension(ticket_id=self.t.pk, actor=None, now=at)

    def _deny_extension(self, at):
        self.t = workflow.deny_extension(ticket_id=self.t.pk, actor=None, now=at)

    def _resolve(self, at):
        outcome = self.outcome
        reply = self.rng.choice(REPLIES[outcome])
        self.t = workflow.resolve_ticket(
            ticket_id=self.t.pk, actor=None, outcome=outcome, reply=reply, now=at
        )
        if self.t.status == Status.PENDING_REVIEW:
            approve = self.plan.bucket == "city_other" or self.rng.random() < 0.8
            decision = "approve_explanation" if approve else "reject_explanation"
            self.pending = {decision: self.w.add(at, self.rng.uniform(0.2, 2.5))}
        else:
            self._enter_resolved(at)

    def _approve_explanation(self, at):
        self.t = workflow.approve_explanation(ticket_id=self.t.pk, actor=None, now=at)
        self._enter_resolved(at)

    def _reject_explanation(self, at):
        note = "说明理由不充分，请继续办理。"
        self.t = workflow.reject_explanation(ticket_id=self.t.pk, actor=None, note=note, now=at)
        self.outcome = self.rng.choice(("solved", "basically_solved"))
        self.pending = {"resolve": self.w.add(at, self.rng.uniform(0.2, 1.5))}

    def _confirm(self, at):
        self.t = workflow.confirm_ticket(ticket_id=self.t.pk, actor=None, now=at)
        self._enter_closed(at)

    def _reopen(self, at):
        reason = self.rng.choice(REOPEN_REASONS)
        self.t = workflow.reopen_ticket(ticket_id=self.t.pk, actor=None, reason=reason, now=at)
        self.outcome = self.rng.choice(("solved", "basically_solved"))
        self._enter_in_progress(at)

    def _rate(self, at):
        score = self.rng.choices((5, 4, 3, 2, 1), SCORE_WEIGHTS[self.t.outcome or "solved"])[0]
        self.t = workflow.rate_ticket(
            ticket_id=self.t.pk, actor=None, score=score, note=RATING_NOTES[score], now=at
        )


class _Missed(Exception):
    """A life that does not fit its plan; rolled back and lived again."""


def live_ticket(world: World, created: dt.datetime, bucket: str, status: str | None) -> Ticket:
    """One ticket that fills `bucket` (and shows `status`) at the reference instant and has
    nothing due within QUIET after it; each try in a savepoint."""
    quiet_until = world.now + QUIET
    error: Exception | None = None
    for _attempt in range(MAX_ATTEMPTS):
        plan = draw_plan(world, created, bucket, status)
        try:
            with transaction.atomic():
                ticket = Life(world, plan).live()
                due = ticket.escalate_at
                if (
                    _bucket(ticket) != bucket
                    or (status is not None and ticket.status != status)
                    or (due is not None and due <= quiet_until)
                ):
                    raise _Missed
            return ticket
        except (_Missed, workflow.WorkflowError) as missed:
            error = missed
    raise SeedError(f"无法生成符合计划的诉求（{bucket} {status or ''}）：{error!r}")


def draw_tickets(world: World, plan: Headline) -> list[tuple[dt.datetime, str, str | None]]:
    """(submission instant, bucket, showcase status) for every ticket, in submission order."""
    rng, now = world.rng, world.now
    start = now - dt.timedelta(days=WINDOW_DAYS)
    # A few tickets in each open state, from the last working days.
    windows = {
        "assigned": (0.05, 0.8),
        "in_progress": (0.5, 4),
        "on_hold": (1, 6),
        "pending_review": (1, 5),
        "returned": (0.3, 2),
    }
    showcase = [
        (world.moment(world.add(now, -windows[status][1]), world.add(now, -windows[status][0])),
         "district", status)
        for status, count in SHOWCASE.items()
        for _ in range(count)
    ]  # fmt: skip
    rest = [world.moment(start, now) for _ in range(plan.taken_in - len(showcase))]
    # City-level needs basically solved by now were submitted long enough ago to have climbed.
    old = [i for i, created in enumerate(rest) if created < now - dt.timedelta(days=100)]
    rng.shuffle(old)
    buckets = ["district"] * len(rest)
    for i in old[: plan.city_resolved]:
        buckets[i] = "city_resolved"
    others = [i for i, bucket in enumerate(buckets) if bucket == "district"]
    for i in rng.sample(others, plan.city_level - plan.city_resolved):
        buckets[i] = "city_other"
    return sorted([*zip(rest, buckets, [None] * len(rest), strict=True), *showcase])


def after_scenario(world: World, say) -> None:
    """Further demo content built on the scenario's enterprises goes here (e.g. a work
    group's import batch); called inside the seeding transaction, side effects suppressed."""


@contextmanager
def _sweep_logs_quiet():
    """The sweep logs every step it takes at INFO, a few thousand lines while seeding."""
    logger = logging.getLogger(escalation.__name__)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def seed_scenario(
    *,
    now: dt.datetime | None = None,
    reset_first: bool = False,
    seed: int = DEFAULT_SEED,
    say=None,
    plan: Headline | None = None,
) -> SeedResult:
    """The city report's scenario as of `now`; does nothing when it is already there."""
    say = say or (lambda line: None)
    plan = plan or SCENARIO
    started = time.perf_counter()
    now = reference_now(now)
    result = SeedResult(mode="scenario")
    with effects.suppressed(), _sweep_logs_quiet(), transaction.atomic():
        if reset_first:
            reset()
            say("已清空诉求、办理记录和企业。")
        elif scenario_present():
            result.skipped = True
            result.headline = headline()
            return result
        elif Ticket.objects.exists():
            say("注意：数据库中已有其他诉求，报告的统计将包含它们。")
        world = World(now, random.Random(seed))
        result.enterprises = len(make_enterprises(world, plan.enterprises))
        say(f"企业 {result.enterprises:,} 家；诉求截至 {timezone.localtime(now):%Y-%m-%d %H:%M}")
        tickets = draw_tickets(world, plan)
        for done, (created, bucket, status) in enumerate(tickets, 1):
            live_ticket(world, created, bucket, status)
            if done % 200 == 0 or done == len(tickets):
                say(f"  诉求 {done:,}/{len(tickets):,}（{time.perf_counter() - started:.0f}s）")
        after_scenario(world, say)
    summarise(result, now)
    result.headline = headline()
    result.seconds = time.perf_counter() - started
    return result
