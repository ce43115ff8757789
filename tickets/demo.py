"""Demo and scale data: the city report's scenario and synthetic city-scale loads.

Both modes share one generator. Every ticket is *lived*: it is submitted, routed by the real
routing rules, and then walks the workflow's moves (tickets.workflow) and the escalation
sweep's steps (tickets.sweeps) in time order — accept, hold/resume, extension, resolve,
review of an "explained" answer, confirm or auto-close, rating, return and re-dispatch,
reminder, yellow card, escalation, supervision, reopen, withdrawal — until the reference
instant `now`. Whatever the ticket's state is at `now` is what gets stored, together with
one TicketEvent per move. Deadlines come from the SLA policies and the working calendar, so
the rows look exactly as if the workflow had produced them and the sweep had run every
minute: no ticket is overdue at `now` unless it was made so on purpose (`overdue`).

- The scenario (`seed_scenario`) reproduces the city's headline: 1,623 needs taken in, 205 of
  them at city level or above, 172 of those basically solved (83.9%, target 90%). It lives
  candidate tickets and keeps them until each of the three buckets is exactly full.
- The scale mode (`seed_scale`) writes N enterprises and M tickets; on PostgreSQL through
  COPY with the tables' secondary indexes and foreign keys dropped and rebuilt around the
  load (all in one transaction, so a failure leaves the schema as it was).

Times inside the generator are integer epoch seconds; working-day arithmetic goes through
FastClock, a table-driven copy of tickets.calendar.WorkCalendar (tested to agree with it).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter

from django.db import connection, models, transaction
from django.db.models import Max

from enterprises import uscc
from enterprises.models import Department, District, Enterprise, IndustryChain, IndustryCluster
from tickets import categories, routing, routing_store
from tickets.calendar import DAY, SHANGHAI, CalendarMissing, WorkCalendar
from tickets.calendar_store import load_calendar
from tickets.models import Outcome, Status, Ticket, TicketEvent, TicketNumberCounter
from tickets.sla import REMINDER_GRACE_DAYS, load_sla

DEFAULT_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
DEFAULT_SEED = 20261120


@dataclass(frozen=True)
class Headline:
    """本期受理企业诉求1,623件，需市级层面解决的问题205个，其中已基本解决172个。"""

    taken_in: int = 1623
    city_level: int = 205
    city_resolved: int = 172
    enterprises: int = 400
    window_days: int = 183  # "the past ~6 months"


SCENARIO = Headline()
# Scenario enterprises carry this 9-character organisation code prefix in their USCC
# (characters 9–13): it marks the scenario as present and never occurs in scale codes.
SCENARIO_ORG_PREFIX = "MAWHD"
SCALE_WINDOW_DAYS = 365

# Statistical division codes of Weihai; the functional zones have 371071–371073.
DIVISION_CODES = {
    "371002": "371002",
    "371003": "371003",
    "371082": "371082",
    "371083": "371083",
    "zone-gaoqu": "371071",
    "zone-jingqu": "371072",
    "zone-lingang": "371073",
}
PLACE_NAMES = {
    "371002": "威海",
    "371003": "文登",
    "371082": "荣成",
    "371083": "乳山",
}
DISTRICT_WEIGHTS = {
    "371002": 22,
    "371003": 14,
    "371082": 17,
    "371083": 8,
    "zone-gaoqu": 16,
    "zone-jingqu": 15,
    "zone-lingang": 8,
}
CLUSTER_WEIGHTS = {
    "new-generation-it": 14,
    "medicine-medical-devices": 14,
    "advanced-equipment": 24,
    "carbon-fibre-composites": 8,
    "marine-bio-food": 18,
    "fashion-leisure-sports": 15,
    "wellness-tourism": 7,
}
GRADE_WEIGHTS = (("A", 30), ("B", 45), ("C", 17), ("D", 8))
KIND_WEIGHTS = (("difficulty", 42), ("funding", 22), ("technology", 20), ("supply_chain", 16))
CATEGORY_WEIGHTS = {
    "difficulty": (
        ("land", 16),
        ("energy", 11),
        ("permit", 15),
        ("labour", 17),
        ("environment", 9),
        ("logistics", 7),
        ("market", 8),
        ("finance_policy", 11),
        ("other", 6),
    ),
    "technology": (
        ("new_materials", 14),
        ("medical", 15),
        ("equipment", 20),
        ("electronics", 14),
        ("marine_food", 13),
        ("rd_cooperation", 16),
        ("other", 8),
    ),
    "funding": (
        ("loan", 42),
        ("project_loan", 22),
        ("guarantee", 16),
        ("equity", 8),
        ("other", 12),
    ),
    "supply_chain": (("supplier", 40), ("buyer", 28), ("local_sourcing", 22), ("other", 10)),
}

# --- behaviour of the simulated people (probabilities per ticket or per handling round) ----
P_WITHDRAW = 0.018
P_RETURN = 0.03
P_HOLD = 0.04
P_EXTENSION = 0.35  # of handling rounds planned to finish late (f > 0.85)
P_EXTENSION_APPROVED = 0.85
P_EXPLANATION_APPROVED = 0.8
P_CONFIRM = 0.55  # otherwise the ticket is closed automatically
P_REOPEN = 0.04
P_REOPEN_AGAIN = 0.25
P_RATED = 0.85
# Late accepting / late resolving by the tier handling the ticket.
P_LATE_ACCEPT = {"district": 0.03, "city": 0.02, "leader": 0.005}
P_LATE_RESOLVE = {"district": 0.05, "city": 0.035, "leader": 0.005}
OUTCOME_WEIGHTS = (("solved", 57), ("basically_solved", 31), ("explained", 12))
SCORE_WEIGHTS = {
    "solved": ((5, 62), (4, 29), (3, 6), (2, 2), (1, 1)),
    "basically_solved": ((5, 40), (4, 40), (3, 13), (2, 5), (1, 2)),
    "explained": ((5, 10), (4, 28), (3, 32), (2, 18), (1, 12)),
}
# The beat schedule runs the sweep every minute.
SWEEP_TICK_SECONDS = 60

# --- texts ------------------------------------------------------------------------------------
TITLES = {
    ("difficulty", "land"): (
        "新建厂房项目用地指标协调",
        "扩建项目用地规划调整",
        "工业用地不动产权证办理滞后",
        "项目用地征收进度缓慢",
    ),
    ("difficulty", "energy"): (
        "新上项目能耗指标不足",
        "生产线扩产用电增容",
        "天然气保供与价格协调",
        "节能审查办理进度",
    ),
    ("difficulty", "permit"): (
        "施工许可办理周期长",
        "环评与能评并联审批",
        "消防验收手续协调",
        "生产许可证延续办理",
    ),
    ("difficulty", "labour"): (
        "一线技术工人招工难",
        "高层次人才引进落户",
        "职工子女入学协调",
        "职业技能培训补贴申请",
    ),
    ("difficulty", "environment"): (
        "排污许可证变更办理",
        "环保设施改造技术指导",
        "排放总量指标调剂",
        "危险废物处置渠道不畅",
    ),
    ("difficulty", "logistics"): (
        "港口集装箱运力紧张",
        "大件运输通行证办理",
        "物流成本偏高",
        "冷链仓储设施不足",
    ),
    ("difficulty", "market"): (
        "出口订单汇率风险应对",
        "开拓RCEP市场对接",
        "境外展会参展补贴",
        "产品出口认证协调",
    ),
    ("difficulty", "finance_policy"): (
        "技改补助资金兑现",
        "研发费用加计扣除政策咨询",
        "首台（套）奖励申报",
        "稳岗返还资金拨付",
    ),
    ("difficulty", "other"): (
        "厂区周边道路维修",
        "企业用水压力不足",
        "园区配套设施不完善",
        "知识产权纠纷协调",
    ),
    ("technology", "new_materials"): (
        "碳纤维预浸料工艺优化",
        "复合材料成型技术合作",
        "高性能树脂基体研发",
        "碳纤维回收利用技术",
    ),
    ("technology", "medical"): (
        "医用高分子材料检测",
        "医疗器械注册检验合作",
        "体外诊断试剂研发合作",
        "生物医药中试需求",
    ),
    ("technology", "equipment"): (
        "智能产线改造方案",
        "数控机床精度提升",
        "工业机器人应用集成",
        "设备远程运维系统",
    ),
    ("technology", "electronics"): (
        "打印机主控芯片适配",
        "嵌入式软件开发合作",
        "工业互联网平台接入",
        "传感器国产化替代",
    ),
    ("technology", "marine_food"): (
        "海参精深加工技术",
        "海洋生物活性物质提取",
        "水产品冷链保鲜技术",
        "海藻功能食品开发",
    ),
    ("technology", "rd_cooperation"): (
        "联合共建研发中心",
        "高校科研团队对接",
        "科技成果转化合作",
        "博士后科研工作站共建",
    ),
    ("technology", "other"): (
        "检验检测能力提升",
        "数字化转型诊断",
        "专利布局咨询",
        "团体标准制定技术支持",
    ),
    ("funding", "loan"): ("流动资金贷款需求", "原材料采购资金周转", "订单融资需求"),
    ("funding", "project_loan"): ("新建项目固定资产贷款", "技改项目贷款", "扩产项目中长期贷款"),
    ("funding", "guarantee"): ("贷款担保增信需求", "信用保证基金担保申请", "续贷担保协调"),
    ("funding", "equity"): ("股权融资对接", "引入战略投资者", "股份制改造与上市辅导"),
    ("funding", "other"): ("供应链金融需求", "出口信用保险融资", "知识产权质押融资"),
    ("supply_chain", "supplier"): (
        "寻找本地精密零部件配套商",
        "关键原材料供应商对接",
        "包装材料配套需求",
        "模具加工配套需求",
    ),
    ("supply_chain", "buyer"): (
        "产品进入链主企业供应体系",
        "新产品推广应用对接",
        "首购首用示范应用",
    ),
    ("supply_chain", "local_sourcing"): (
        "进口零部件本地化替代",
        "外地采购转本地配套",
        "核心部件本地配套",
    ),
    ("supply_chain", "other"): ("产业链上下游协同", "配套园区入驻对接"),
}
DETAILS = (
    "企业反映该问题已影响正常生产经营，希望有关部门尽快协调解决。",
    "企业已多次沟通未果，请求政府帮助协调。",
    "该事项关系企业年度重点项目进度，恳请支持。",
    "企业提出具体诉求，希望明确办理时限和责任单位。",
    "工作组走访时企业提出，已核实情况属实。",
)
OUTCOME_NOTES = {
    "solved": (
        "已协调相关部门解决，企业确认问题消除。",
        "已办理完毕，相关手续已办结。",
        "已完成对接，双方达成合作意向并签约。",
        "资金已到位，企业生产经营恢复正常。",
    ),
    "basically_solved": (
        "主要问题已解决，剩余事项已纳入后续跟踪。",
        "已基本解决，部分事项需企业补充材料后办理。",
        "已完成阶段性协调，后续由责任单位持续跟进。",
    ),
    "explained": (
        "受政策限制暂不能解决，已向企业作出说明并提供替代方案。",
        "不符合现行政策条件，已当面解释并告知后续申报渠道。",
        "涉及上位规划调整，需待规划修编后统筹考虑，已向企业说明。",
    ),
}
RETURN_REASONS = (
    "不属于本单位职责范围，请重新分派。",
    "该事项属地管理，应由企业所在区市相关部门办理。",
    "诉求涉及多个部门，需统筹协调后分派。",
)
HOLD_REASONS = ("等待企业补充材料", "需上级部门政策答复", "涉及第三方，等待协调结果")
REOPEN_REASONS = ("企业反映问题未实际解决", "办理结果与诉求不符", "承诺事项尚未落实")
WITHDRAW_REASONS = ("企业已自行解决", "项目计划调整，不再需要", "")
EXTENSION_REASONS = ("涉及多部门会商，需延长办理时间", "等待上级批复文件")
REVIEW_APPROVE_NOTES = ("同意说明，已核实。", "")
REVIEW_REJECT_NOTES = ("说明理由不充分，请继续办理。", "请进一步协调相关部门后再答复。")
RATING_NOTES = {
    5: "办理高效，非常满意",
    4: "问题基本解决，比较满意",
    3: "",
    2: "办理进度偏慢",
    1: "问题未解决",
}
NAME_HEADS = "华海鑫泰荣威远东博恒信盛宏达润安康凯瑞丰明新德金天正隆昌永汇通利嘉宇晨光源"
INDUSTRY_WORDS = {
    "new-generation-it": ("电子", "信息技术", "智能科技", "软件", "打印科技", "光电"),
    "medicine-medical-devices": ("医疗器械", "生物科技", "药业", "医用材料", "健康科技"),
    "advanced-equipment": ("机械", "智能装备", "精密机械", "船舶重工", "汽车零部件", "液压"),
    "carbon-fibre-composites": ("碳纤维", "复合材料", "新材料", "碳素"),
    "marine-bio-food": ("海洋食品", "水产", "海洋生物", "食品", "海珍品"),
    "fashion-leisure-sports": ("服饰", "纺织", "户外用品", "渔具", "体育用品"),
    "wellness-tourism": ("康养", "旅游发展", "健康产业", "文旅"),
}
GENERIC_WORDS = ("实业", "科技", "工贸", "制造")
COMPANY_SUFFIXES = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司")
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏"
    "卢蒋蔡丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭邹熊金陆郝孔白崔毛邱秦江史顾侯邵孟万"
    "段雷钱汤尹易常武乔贺赖龚文"
)
CONTACT_TITLES = ("经理", "总", "女士", "先生", "主任")

NEVER = 1 << 62
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class SeedError(Exception):
    """The database is not ready for seeding (reference data, calendar); says what to do."""


def to_epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def to_datetime(seconds: int | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


@functools.lru_cache(maxsize=4096)
def _date(day: int) -> str:
    return dt.date.fromordinal(EPOCH_ORDINAL + day).isoformat()


def _breach_key(action: str, seconds: int) -> str:
    """tickets.sweeps.breach_key(action, <that instant>) for whole-second instants, without
    building a datetime (a test holds the two equal)."""
    day, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    return f"{action}@{_date(day)}T{hours:02d}:{minutes:02d}:{rest:02d}.000000+00:00"


def _local_minute(seconds: int) -> str:
    """The Shanghai wall-clock minute, "2026-11-20 10:00" (UTC+8, true since 1991)."""
    day, rest = divmod(seconds + 8 * 3600, DAY)
    hours, rest = divmod(rest, 3600)
    return f"{_date(day)} {hours:02d}:{rest // 60:02d}"


def _weighted(pairs) -> tuple[list, list[float]]:
    pairs = list(pairs)
    values = [value for value, _ in pairs]
    cumulative = list(itertools.accumulate(weight for _, weight in pairs))
    return values, cumulative


class FastRandom(random.Random):
    """random.Random with lighter randint/choice/choices: the standard ones go through
    several Python frames per call, which is a third of the generator's time at 1M tickets.
    Seeded runs are reproducible all the same."""

    def randint(self, a: int, b: int) -> int:
        # random() < 1 - 2**-53, so int(random() * n) <= n - 1 for any n < 2**52.
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def choices(self, population, weights=None, *, cum_weights=None, k=1):
        if cum_weights is None or k != 1:
            return super().choices(population, weights, cum_weights=cum_weights, k=k)
        return [self.pick(population, cum_weights)]

    def pick(self, population, cum_weights):
        """choices(population, cum_weights=…)[0] without building a list."""
        return population[bisect.bisect_right(cum_weights, self.random() * cum_weights[-1])]


# --- working time on integers ----------------------------------------------------------------


class FastClock:
    """WorkCalendar's arithmetic on epoch seconds, table-driven (no datetime objects).

    Covers the run of consecutive calendar years around `year`; anything outside raises
    CalendarMissing like the calendar itself. A day is always 86,400 s from local midnight:
    Asia/Shanghai has kept UTC+8 without daylight saving since 1991. Agrees with
    WorkCalendar.add_working_seconds and working_seconds_between to the second
    (tests/test_seed_demo.py checks it).
    """

    def __init__(self, calendar: WorkCalendar, year: int):
        if year not in calendar.years:
            raise CalendarMissing(year)
        first = last = year
        while first - 1 in calendar.years:
            first -= 1
        while last + 1 in calendar.years:
            last += 1
        self.first_year, self.last_year = first, last
        self.first_ordinal = dt.date(first, 1, 1).toordinal()
        days = dt.date(last + 1, 1, 1).toordinal() - self.first_ordinal
        flags = [
            calendar.is_working_day(dt.date.fromordinal(self.first_ordinal + i))
            for i in range(days)
        ]
        self.days = days
        self.flags = flags
        self.before = list(itertools.accumulate((int(f) for f in flags), initial=0))
        self.working = [i for i, working in enumerate(flags) if working]
        midnight = dt.datetime(first, 1, 1, tzinfo=SHANGHAI)
        self.base = to_epoch(midnight)

    def _missing(self, day_index: int) -> CalendarMissing:
        if day_index < 0:
            return CalendarMissing(self.first_year - 1)
        if day_index >= self.days:
            return CalendarMissing(self.last_year + 1)
        return CalendarMissing(dt.date.fromordinal(self.first_ordinal + day_index).year)

    def position(self, moment: int) -> int:
        offset = moment - self.base
        day = offset // DAY
        if day < 0 or day >= self.days:
            raise self._missing(day)
        if self.flags[day]:
            return self.before[day] * DAY + offset - day * DAY
        return self.before[day] * DAY

    def moment(self, position: int) -> int:
        index, seconds = divmod(position, DAY)
        if index < 0 or index >= len(self.working):
            raise self._missing(-1 if index < 0 else self.days)
        return self.base + self.working[index] * DAY + seconds

    def add(self, moment: int, days: float) -> int:
        seconds = days * DAY
        return self.add_seconds(moment, seconds if type(seconds) is int else int(round(seconds)))

    def add_seconds(self, moment: int, seconds: int) -> int:
        # position() and moment() inlined: this is the generator's innermost call.
        offset = moment - self.base
        day = offset // DAY
        if day < 0 or day >= self.days:
            raise self._missing(day)
        position = self.before[day] * DAY + (offset - day * DAY if self.flags[day] else 0)
        index, rest = divmod(position + seconds, DAY)
        if index < 0 or index >= len(self.working):
            raise self._missing(-1 if index < 0 else self.days)
        return self.base + self.working[index] * DAY + rest

    def between(self, start: int, end: int) -> int:
        return self.position(end) - self.position(start)

    def plan(self, moment: int, days: float) -> int:
        """A planned (not stored) instant: past the calendar's end it is simply never."""
        try:
            return self.add(moment, days)
        except CalendarMissing:
            return NEVER

    def plan_seconds(self, moment: int, seconds: int) -> int:
        try:
            return self.add_seconds(moment, seconds)
        except CalendarMissing:
            return NEVER


# --- the reference data as the generator needs it ---------------------------------------------


@dataclass(frozen=True)
class Dept:
    id: int
    name: str
    tier: str
    escalates_to: int | None
    district_id: int | None
    kind: str


@dataclass(frozen=True)
class Policy:
    accept: int
    resolve: int
    return_window: int
    max_extension: int
    auto_close: int


class World:
    """Reference data, routing, SLA and the clock, loaded once per run."""

    def __init__(self, now: int):
        self.now = now
        self.departments = {
            d.id: Dept(d.id, d.name, d.tier, d.escalates_to_id, d.district_id, d.kind)
            for d in Department.objects.all()
        }
        self.rules = routing_store.load_rules()
        self.directory = routing_store.load_directory()
        if not self.rules or self.directory.coordinator_id is None:
            raise SeedError(
                "数据库中没有分派规则或统筹协调单位。"
                "请先运行 `python manage.py load_reference_data`。"
            )
        self.coordinator_id = self.directory.coordinator_id
        self.districts = list(District.objects.order_by("order", "code").values_list("id", "code"))
        self.clusters = list(IndustryCluster.objects.order_by("order").values_list("id", "code"))
        self.chains = list(
            IndustryChain.objects.order_by("id").values_list("id", "cluster_id", "chief_office_id")
        )
        if not self.districts:
            raise SeedError("数据库中没有区市。请先运行 `python manage.py load_reference_data`。")
        self.chain_chiefs = {chain_id: chief for chain_id, _cluster, chief in self.chains}
        sla = load_sla(fresh=True)
        self.policies = {
            (kind, level): _policy(sla.policy(kind, level))
            for kind in ("difficulty", "technology", "funding", "supply_chain")
            for level in ("district", "city", "leader")
        }
        calendar = load_calendar(fresh=True)
        now_year = dt.datetime.fromtimestamp(now, SHANGHAI).year
        try:
            self.clock = FastClock(calendar, now_year)
        except CalendarMissing as missing:
            raise SeedError(str(missing)) from None
        self.by_district: dict[int, list[int]] = defaultdict(list)
        self.city_handlers: list[int] = []
        for dept in self.departments.values():
            if dept.id not in self.directory.tiers:
                continue  # inactive
            if dept.tier == "district":
                self.by_district[dept.district_id].append(dept.id)
            elif dept.tier == "city" and dept.kind == Department.Kind.BUREAU:
                self.city_handlers.append(dept.id)
        self.thresholds = sorted({r.min_amount for r in self.rules if r.min_amount is not None})
        self._routes: dict[tuple, tuple[int, str, int | None]] = {}

    def route(
        self, kind: str, category: str, district_id: int, chain_id, grade: str, amount
    ) -> tuple[int, str, int | None]:
        """(department, level, rule) as tickets.routing would decide, cached per fact set."""
        bucket = -1 if amount is None else bisect.bisect_right(self.thresholds, amount)
        key = (kind, category, district_id, chain_id, grade, bucket)
        found = self._routes.get(key)
        if found is None:
            representative = (
                None if bucket < 0 else (self.thresholds[bucket - 1] if bucket else Decimal(0))
            )
            facts = routing.Facts(kind, category, district_id, chain_id, representative, grade)
            decision = routing.route(self.rules, facts, self.directory)
            found = (decision.department_id, decision.level, decision.rule_id)
            self._routes[key] = found
        return found


def _policy(policy) -> Policy:
    return Policy(
        policy.accept_days,
        policy.resolve_days,
        policy.return_window_days,
        policy.max_extension_days,
        policy.auto_close_days,
    )


# --- enterprises -------------------------------------------------------------------------------


class EnterpriseRow:
    __slots__ = (
        "id",
        "uscc",
        "name",
        "district_id",
        "cluster_id",
        "is_chain_leader",
        "programme",
        "credit_grade",
        "contact_name",
        "contact_phone",
        "contact_email",
        "created_at",
        "chain_ids",
        "weight",
    )

    @property
    def first_chain(self) -> int | None:
        return self.chain_ids[0] if self.chain_ids else None


def _base31(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 31)
        digits.append(uscc.ALPHABET[rest])
    if number:
        raise ValueError("number too large for the organisation code")
    return "".join(reversed(digits))


def make_enterprises(
    world: World, rng: random.Random, count: int, first_id: int, *, scenario: bool, before: int
) -> list[EnterpriseRow]:
    """`count` enterprises with ids from first_id, registered before the instant `before`."""
    district_codes = dict(world.districts)
    districts, district_cum = _weighted(
        (pk, DISTRICT_WEIGHTS.get(code, 5)) for pk, code in world.districts
    )
    cluster_codes = dict(world.clusters)
    clusters, cluster_cum = (
        _weighted((pk, CLUSTER_WEIGHTS.get(code, 5)) for pk, code in world.clusters)
        if world.clusters
        else ([None], [1])
    )
    chains_of_cluster: dict[int | None, list[int]] = defaultdict(list)
    for chain_id, cluster_id, _chief in world.chains:
        chains_of_cluster[cluster_id].append(chain_id)
    all_chains = [chain_id for chain_id, _c, _chief in world.chains]
    grades, grade_cum = _weighted(GRADE_WEIGHTS)
    names: set[str] = set()
    rows = []
    members: dict[int, list[EnterpriseRow]] = defaultdict(list)
    for index in range(count):
        row = EnterpriseRow()
        row.id = first_id + index
        row.district_id = rng.pick(districts, district_cum)
        row.cluster_id = rng.pick(clusters, cluster_cum)
        chain_ids = set()
        own = chains_of_cluster.get(row.cluster_id)
        if own and rng.random() < 0.45:
            chain_ids.add(rng.choice(own))
        if all_chains and rng.random() < 0.04:
            chain_ids.add(rng.choice(all_chains))
        row.chain_ids = tuple(sorted(chain_ids))
        for chain_id in row.chain_ids:
            members[chain_id].append(row)
        row.is_chain_leader = bool(not scenario and row.chain_ids and rng.random() < 0.004)
        row.programme = ""
        row.credit_grade = rng.pick(grades, grade_cum)
        district_code = district_codes[row.district_id]
        division = DIVISION_CODES.get(district_code) or (
            district_code if district_code.isdigit() and len(district_code) == 6 else "371000"
        )
        if scenario:
            organisation = f"{SCENARIO_ORG_PREFIX}{index + 1:04d}"
        else:
            organisation = "MA" + _base31(row.id, 7)
        row.uscc = uscc.make(f"91{division}{organisation}")
        words = INDUSTRY_WORDS.get(cluster_codes.get(row.cluster_id, ""), GENERIC_WORDS)
        place = PLACE_NAMES.get(district_code, "威海")
        for _attempt in range(20):
            name = (
                f"{place}{rng.choice(NAME_HEADS)}{rng.choice(NAME_HEADS)}"
                f"{rng.choice(words)}{rng.choice(COMPANY_SUFFIXES)}"
            )
            if not scenario or name not in names:
                break
        names.add(name)
        row.name = name
        row.contact_name = rng.choice(SURNAMES) + rng.choice(CONTACT_TITLES)
        row.contact_phone = (
            f"0631-{rng.randint(5000000, 8999999)}"
            if rng.random() < 0.5
            else f"1{rng.choice('35789')}{rng.randint(0, 999_999_999):09d}"
        )
        row.contact_email = f"contact{row.id}@enterprise.weihai.example"
        row.created_at = before - rng.randint(60, 3650) * DAY - rng.randint(0, DAY)
        rows.append(row)
    if scenario:
        # Two 链主企业 per chain: the chain's first members.
        for chain_members in members.values():
            for row in chain_members[:2]:
                row.is_chain_leader = True
    for row in rows:
        if row.is_chain_leader:
            row.programme = "leading" if rng.random() < 0.5 else "following"
            row.credit_grade = "A" if rng.random() < 0.7 else "B"
        else:
            draw = rng.random()
            row.programme = "leading" if draw < 0.04 else ("following" if draw < 0.11 else "")
        weight = rng.lognormvariate(0, 0.6)
        if row.is_chain_leader:
            weight *= 5
        elif row.programme == "leading":
            weight *= 2.5
        elif row.programme == "following":
            weight *= 1.6
        row.weight = weight
    return rows


# --- tickets: what is asked ----------------------------------------------------------------------


class Spec:
    """One need of one enterprise, before it is lived."""

    __slots__ = (
        "enterprise_id",
        "kind",
        "category",
        "amount",
        "chain_id",
        "title",
        "description",
        "department_id",
        "level",
        "rule_id",
    )


class SpecMaker:
    def __init__(self, world: World, rng: random.Random, enterprises: list[EnterpriseRow]):
        self.world = world
        self.rng = rng
        self.enterprises = enterprises
        self.enterprise_cum = list(itertools.accumulate(e.weight for e in enterprises))
        # The categories are tickets.categories' vocabulary: one added there is generated too
        # (weight 1, titled by its label) and one removed there is not.
        kind_total = sum(weight for _, weight in KIND_WEIGHTS)
        pairs = []
        titles = {}
        for kind, kind_weight in KIND_WEIGHTS:
            weights = dict(CATEGORY_WEIGHTS.get(kind, ()))
            vocabulary = categories.CATEGORIES.get(kind, {})
            category_total = sum(weights.get(category, 1) for category in vocabulary)
            for category, label in vocabulary.items():
                share = kind_weight / kind_total * weights.get(category, 1) / category_total
                pairs.append(((kind, category), share))
                titles[(kind, category)] = TITLES.get((kind, category)) or (str(label),)
        self.needs, self.need_cum = _weighted(pairs)
        # Every (title, description) a need of this kind and category may carry.
        self.texts = {
            need: [(title, f"{title}。{detail}") for title in titles[need] for detail in DETAILS]
            for need in self.needs
        }

    def make(self) -> Spec:
        rng = self.rng
        enterprise = rng.pick(self.enterprises, self.enterprise_cum)
        need = rng.pick(self.needs, self.need_cum)
        kind, category = need
        spec = Spec()
        spec.enterprise_id = enterprise.id
        spec.kind = kind
        spec.category = category
        spec.title, spec.description = rng.choice(self.texts[need])
        if kind == "funding":
            amount = min(max(rng.lognormvariate(5.7, 1.0), 10), 50_000)
            spec.amount = Decimal(int(amount / 10) * 10 or 10)
            detail = rng.choice(DETAILS)
            spec.description = f"{spec.title}。资金需求约{spec.amount}万元。{detail}"
        else:
            spec.amount = None
        chain_linked = kind == "supply_chain" or enterprise.is_chain_leader
        spec.chain_id = enterprise.chain_ids[0] if chain_linked and enterprise.chain_ids else None
        spec.department_id, spec.level, spec.rule_id = self.world.route(
            kind,
            category,
            enterprise.district_id,
            spec.chain_id,
            enterprise.credit_grade,
            spec.amount,
        )
        return spec


# --- tickets: how they are lived ------------------------------------------------------------------

TICKET_FIELDS = (
    "id",
    "number",
    "enterprise_id",
    "kind",
    "title",
    "description",
    "category",
    "amount",
    "chain_id",
    "status",
    "level",
    "department_id",
    "outcome",
    "outcome_note",
    "created_at",
    "updated_at",
    "assigned_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "accept_due_at",
    "resolve_due_at",
    "escalate_at",
    "sla_stage",
    "held_at",
    "clock_started_at",
    "paused_seconds",
    "extension_requested_days",
    "extension_days",
    "return_count",
    "reopen_count",
    "escalation_count",
    "supervised",
    "supervised_at",
    "satisfaction",
    "satisfaction_note",
    "rated_at",
)
# An event as the generator keeps it; the writers add the ticket id and the actor (none).
EVENT_FIELDS = (
    "action",
    "from_status",
    "to_status",
    "from_department_id",
    "to_department_id",
    "level",
    "note",
    "created_at",
    "breach_key",
)


class T:
    """A ticket row being lived (times are epoch seconds) and its events."""

    __slots__ = (*TICKET_FIELDS, "events")

    def __init__(self, spec: Spec, created: int):
        self.id = None
        self.number = ""
        self.enterprise_id = spec.enterprise_id
        self.kind = spec.kind
        self.title = spec.title
        self.description = spec.description
        self.category = spec.category
        self.amount = spec.amount
        self.chain_id = spec.chain_id
        self.status = "submitted"
        self.level = "district"
        self.department_id = None
        self.outcome = ""
        self.outcome_note = ""
        self.created_at = created
        self.updated_at = created
        self.assigned_at = None
        self.accepted_at = None
        self.resolved_at = None
        self.closed_at = None
        self.accept_due_at = None
        self.resolve_due_at = None
        self.escalate_at = None
        self.sla_stage = 0
        self.held_at = None
        self.clock_started_at = None
        self.paused_seconds = 0
        self.extension_requested_days = None
        self.extension_days = 0
        self.return_count = 0
        self.reopen_count = 0
        self.escalation_count = 0
        self.supervised = False
        self.supervised_at = None
        self.satisfaction = None
        self.satisfaction_note = ""
        self.rated_at = None
        self.events = []


# Overdue flavours: which deadline has passed, and the sweep step left pending at `now`.
LATE_RESOLVE = "late_resolve"  # in_progress past the resolve deadline → escalate
LATE_ACCEPT = "late_accept"  # assigned past the accept deadline → remind (催办)
REMINDED = "reminded"  # reminded and the grace period is over → escalate
OVERDUE_FLAVOURS = ((LATE_RESOLVE, 70), (LATE_ACCEPT, 20), (REMINDED, 10))
STALL = {
    LATE_RESOLVE: frozenset({"escalate", "supervise"}),
    LATE_ACCEPT: frozenset({"remind"}),
    REMINDED: frozenset({"escalate", "supervise"}),
}


class Life:
    """Walks one ticket through the workflow and the sweep until `now`.

    Human moves are planned when a state is entered (accept after so many working days,
    resolve at some fraction of the budget, …); the sweep acts whenever the ticket's
    escalate_at comes before the next human move, exactly as tickets.sweeps.plan would.
    """

    def __init__(self, world: World, rng: random.Random, *, withdrawals: bool = True):
        self.world = world
        self.rng = rng
        self.clock = world.clock
        self.now = world.now
        self.withdrawals = withdrawals
        self.outcomes = _weighted(OUTCOME_WEIGHTS)
        self.solved_outcomes = _weighted(OUTCOME_WEIGHTS[:2])
        self.scores = {outcome: _weighted(pairs) for outcome, pairs in SCORE_WEIGHTS.items()}
        self.handlers = {
            name[1:]: getattr(self, name)
            for name in dir(type(self))
            if name.startswith("_")
            and not name.startswith(("__", "_enter", "_sweep"))
            and name[1:] in TicketEvent.Action.values
        }

    # --- the loop ---------------------------------------------------------------------------
    def live(
        self,
        spec: Spec,
        created: int,
        *,
        overdue: str | None = None,
        route_after: int | None = None,
        returns: bool = False,
    ) -> T | None:
        """The ticket as it stands at `now`, or None when this life ended in a state the
        sweep cannot leave that way (the caller lives it again)."""
        rng = self.rng
        now = self.now
        t = self.t = T(spec, created)
        self.spec = spec
        self.overdue = overdue
        self.last = created
        self.policy = self.world.policies[(spec.kind, "district")]
        self.withdraw_at = NEVER
        if self.withdrawals and not overdue and rng.random() < P_WITHDRAW:
            self.withdraw_at = self.clock.plan(created, rng.uniform(0.05, 12))
        self.will_return = not overdue and (returns or rng.random() < P_RETURN)
        self.returned_by = None
        self.resolve_at = self.hold_at = self.extension_at = NEVER
        self.decision = None
        self.remaining = None
        self.outcome = "solved"
        self.breaches = set()
        self._event("submit", "", None, "", created)
        self.pending = {
            "route": created + (rng.randint(2, 40) if route_after is None else route_after)
        }
        stall = STALL[overdue] if overdue else ()
        departments = self.world.departments
        while True:
            pending = self.pending
            if pending:
                action = min(pending, key=pending.__getitem__)
                at = pending[action]
            else:
                action, at = None, NEVER
            due = t.escalate_at
            if due is not None and due <= now and due <= at:
                when = min(max(due, self.last) + rng.randint(0, SWEEP_TICK_SECONDS - 1), at, now)
                step = self._sweep_step(when, departments)
                if step in stall:
                    break
                self._sweep(step, due, when)
                continue
            if at <= now:
                del pending[action]
                self.handlers[action](at)
                continue
            break
        if t.status in ("assigned", "in_progress") and t.escalate_at is None:
            return None  # supervised at the top and still open: not a state to store
        return t

    def _event(self, action, from_status, from_department, note, at, breach=None) -> None:
        t = self.t
        t.events.append(
            (
                action,
                from_status,
                t.status,
                from_department,
                t.department_id,
                t.level,
                note,
                at,
                breach,
            )
        )
        t.updated_at = at
        self.last = at

    def _withdrawable(self, pending: dict, at: int) -> dict:
        if self.withdraw_at != NEVER and self.withdraw_at >= at:
            pending["withdraw"] = self.withdraw_at
        return pending

    # --- deadlines (tickets.workflow._assign and tickets.sla.Sla.schedule) ------------------
    def _assign(self, department_id: int, level: str, at: int) -> None:
        t = self.t
        clock = self.clock
        policy = self.policy = self.world.policies[(t.kind, level)]
        t.department_id = department_id
        t.level = level
        t.assigned_at = at
        t.accepted_at = None
        t.accept_due_at = clock.add(at, policy.accept)
        t.resolve_due_at = clock.add(at, policy.resolve)
        t.clock_started_at = at
        t.paused_seconds = 0
        t.extension_days = 0
        t.extension_requested_days = None
        self.decision = None

    def _schedule(self) -> None:
        t = self.t
        t.sla_stage = 0
        status = t.status
        if status == "assigned":
            t.escalate_at = t.accept_due_at
        elif status == "in_progress":
            t.escalate_at = self.clock.add(t.resolve_due_at, -1)
        elif status == "resolved":
            t.escalate_at = self.clock.add(t.resolved_at, self.policy.auto_close)
        else:
            t.escalate_at = None

    # --- the sweep (tickets.sweeps.plan) ------------------------------------------------------
    def _sweep_step(self, when: int, departments) -> str:
        t = self.t
        status = t.status
        if status == "resolved":
            return "auto_close"
        top = departments[t.department_id].tier == "leader"
        if status == "in_progress":
            if when >= t.resolve_due_at:
                return "supervise" if top else "escalate"
            return "warn" if t.sla_stage == 0 else "reschedule"
        if status == "assigned":
            if t.sla_stage != 2:
                return "remind"
            return "supervise" if top else "escalate"
        return "reschedule"

    def _sweep(self, step: str, due: int, when: int) -> None:
        t = self.t
        breach = _breach_key(step, due)
        status, department = t.status, t.department_id
        if step != "reschedule" and breach in self.breaches:
            # The same step on the same instant was acted on before (e.g. a yellow card on
            # a deadline that a rejected explanation brought back): the sweep's unique
            # breach key refuses it, and it only moves the ticket's schedule on.
            if step == "warn":
                t.escalate_at = t.resolve_due_at
            elif step == "remind":
                t.escalate_at = self.clock.add(when, REMINDER_GRACE_DAYS)
            elif step == "escalate":
                level = "leader" if self.world.departments[department].tier == "city" else "city"
                t.escalate_at = self.clock.add(when, self.world.policies[(t.kind, level)].accept)
            else:
                t.escalate_at = None
            return
        self.breaches.add(breach)
        if step == "auto_close":
            t.status = "closed"
            t.closed_at = when
            t.escalate_at = None
            t.sla_stage = 0
            self._event(
                step, status, department, "办结后企业未在规定时间内反馈，自动关闭", when, breach
            )
            self._enter_closed(when)
        elif step == "warn":
            t.sla_stage = 1
            t.escalate_at = t.resolve_due_at
            note = f"距办结时限不足1个工作日（时限 {_local_minute(t.resolve_due_at)}）"
            self._event(step, status, department, note, when, breach)
        elif step == "remind":
            t.sla_stage = 2
            t.escalate_at = self.clock.add(when, REMINDER_GRACE_DAYS)
            self._event(step, status, department, "超过签收时限仍未签收，催办", when, breach)
        elif step == "escalate":
            reason = "超过办结时限" if status == "in_progress" else "催办后仍未签收"
            world = self.world
            current = world.departments[department]
            target = current.escalates_to
            level = "leader" if current.tier == "city" else "city"
            if level == "leader" and t.chain_id in world.chain_chiefs:
                target = world.chain_chiefs[t.chain_id]
            t.status = "assigned"
            self._assign(target, level, when)
            t.escalate_at = t.accept_due_at
            t.sla_stage = 0
            t.escalation_count += 1
            note = f"{reason}，升级至{world.departments[target].name}"
            self._event(step, status, department, note, when, breach)
            self._enter_assigned(when)
        elif step == "supervise":
            reason = "超过办结时限" if status == "in_progress" else "催办后仍未签收"
            t.escalate_at = None
            t.sla_stage = 0
            if not t.supervised:
                t.supervised_at = when
            t.supervised = True
            self._event(
                step, status, department, f"{reason}，已在市领导层级，列入督办", when, breach
            )
        else:
            t.escalate_at = t.resolve_due_at if status == "in_progress" else None

    # --- planning the people's next moves ----------------------------------------------------
    def _enter_assigned(self, at: int) -> None:
        rng = self.rng
        clock = self.clock
        t = self.t
        accept = self.policy.accept
        pending = {}
        if self.overdue:
            if self.overdue == LATE_RESOLVE:
                pending["accept"] = clock.plan(at, rng.uniform(0.02, 0.5) * accept)
            self.pending = pending
            return
        if self.will_return and not t.return_count and t.department_id != self.world.coordinator_id:
            window = self.policy.return_window
            pending["return"] = clock.plan(at, rng.uniform(0.05, max(0.1, min(1.6, window - 0.1))))
        if rng.random() < P_LATE_ACCEPT[t.level]:
            if rng.random() < 0.6:  # reminded, then signed for within the grace period
                days = accept + rng.uniform(0.05, 0.9) * REMINDER_GRACE_DAYS
            else:  # escalated when the grace period ran out
                days = accept + REMINDER_GRACE_DAYS + rng.uniform(0.1, 1.5)
        else:
            days = rng.uniform(0.02, 0.9) * accept
        pending["accept"] = clock.plan(at, days)
        self.pending = self._withdrawable(pending, at)

    def _enter_in_progress(self, at: int, *, fresh: bool, settled: bool = False) -> None:
        rng = self.rng
        clock = self.clock
        t = self.t
        if fresh:
            self.hold_at = self.extension_at = NEVER
            if self.overdue:
                self.resolve_at = NEVER
            else:
                late = rng.random() < P_LATE_RESOLVE[t.level]
                fraction = rng.uniform(1.02, 1.5) if late else rng.uniform(0.12, 0.95)
                budget = int(fraction * self.policy.resolve * DAY) + t.paused_seconds
                target = clock.plan_seconds(t.clock_started_at, budget)
                self.resolve_at = max(target, at + rng.randint(1800, 6 * 3600))
                outcomes, cumulative = self.solved_outcomes if settled else self.outcomes
                self.outcome = rng.pick(outcomes, cumulative)
                if rng.random() < P_HOLD and self.resolve_at != NEVER:
                    self.hold_at = at + int(rng.random() * min(self.resolve_at - at, 10 * DAY))
                if fraction > 0.85 and rng.random() < P_EXTENSION:
                    self.extension_at = clock.plan(t.resolve_due_at, -rng.uniform(0.3, 1.5))
                    if self.extension_at <= at:
                        self.extension_at = NEVER
        pending = {}
        if self.resolve_at != NEVER:
            pending["resolve"] = self.resolve_at
        if self.hold_at != NEVER and not t.extension_requested_days:
            pending["hold"] = max(self.hold_at, at)
        if self.extension_at != NEVER and not t.extension_requested_days:
            pending["request_extension"] = max(self.extension_at, at)
        if self.decision is not None:
            pending[self.decision[0]] = self.decision[1]
        self.pending = self._withdrawable(pending, at)

    def _enter_resolved(self, at: int) -> None:
        rng = self.rng
        t = self.t
        chance = P_REOPEN if t.reopen_count == 0 else (P_REOPEN_AGAIN if t.reopen_count == 1 else 0)
        pending = {}
        if rng.random() < chance:
            pending["reopen"] = self.clock.plan(at, rng.uniform(0.2, 4.0))
        elif rng.random() < P_CONFIRM:
            latest = max(0.1, self.policy.auto_close - 0.2)
            pending["confirm"] = self.clock.plan(at, rng.uniform(0.05, latest))
        self.pending = pending  # otherwise the sweep closes it after the policy's days

    def _enter_closed(self, at: int) -> None:
        pending = {}
        if self.t.satisfaction is None and self.rng.random() < P_RATED:
            pending["rate"] = at + self.rng.randint(600, 3 * 86_400)
        self.pending = pending

    # --- the workflow's moves (tickets.workflow) ----------------------------------------------
    def _route(self, at: int) -> None:
        t, spec = self.t, self.spec
        t.status = "assigned"
        self._assign(spec.department_id, spec.level, at)
        self._schedule()
        note = (
            f"按分派规则 #{spec.rule_id} 分派"
            if spec.rule_id
            else "无匹配规则，由市企业服务中心统筹分派"
        )
        self._event("route", "submitted", None, note, at)
        self._enter_assigned(at)

    def _accept(self, at: int) -> None:
        t = self.t
        t.status = "in_progress"
        t.accepted_at = at
        self._schedule()
        self._event("accept", "assigned", t.department_id, "", at)
        self._enter_in_progress(at, fresh=True)

    def _return(self, at: int) -> None:
        t = self.t
        status, department = t.status, t.department_id
        self.returned_by = department
        t.status = "returned"
        t.department_id = self.world.coordinator_id
        t.return_count += 1
        t.accepted_at = None
        t.extension_requested_days = None
        self._schedule()
        self._event("return", status, department, self.rng.choice(RETURN_REASONS), at)
        pending = {"dispatch": self.clock.plan(at, self.rng.uniform(0.05, 1.2))}
        self.pending = self._withdrawable(pending, at)

    def _dispatch(self, at: int) -> None:
        t = self.t
        world = self.world
        previous = world.departments[self.returned_by]
        if previous.tier == "district":
            candidates = world.by_district.get(previous.district_id, [])
        else:
            candidates = world.city_handlers
        candidates = [pk for pk in candidates if pk != previous.id] or [world.coordinator_id]
        target = world.departments[self.rng.choice(candidates)]
        t.status = "assigned"
        self._assign(target.id, target.tier, at)
        self._schedule()
        self._event("dispatch", "returned", world.coordinator_id, f"改派至{target.name}", at)
        self._enter_assigned(at)

    def _hold(self, at: int) -> None:
        t = self.t
        self.remaining = (
            self.clock.between(at, self.resolve_at) if self.resolve_at != NEVER else None
        )
        self.hold_at = NEVER
        t.status = "on_hold"
        t.held_at = at
        self._schedule()
        self._event("hold", "in_progress", t.department_id, self.rng.choice(HOLD_REASONS), at)
        pending = {"resume": self.clock.plan(at, self.rng.uniform(1, 15))}
        self.pending = self._withdrawable(pending, at)

    def _resume(self, at: int) -> None:
        t = self.t
        clock = self.clock
        paused = clock.between(t.held_at, at)
        t.resolve_due_at = clock.add_seconds(t.resolve_due_at, paused)
        t.paused_seconds += max(paused, 0)
        t.held_at = None
        t.status = "in_progress"
        self._schedule()
        self._event("resume", "on_hold", t.department_id, "", at)
        if self.remaining is not None:
            self.resolve_at = max(clock.plan_seconds(at, max(self.remaining, 0)), at + 600)
        self._enter_in_progress(at, fresh=False)

    def _request_extension(self, at: int) -> None:
        t = self.t
        self.extension_at = NEVER
        days = min(self.rng.choice((3, 5, 7, 10)), self.policy.max_extension - t.extension_days)
        if days > 0 and at < t.resolve_due_at:
            t.extension_requested_days = days
            reason = self.rng.choice(EXTENSION_REASONS)
            self._event(
                "request_extension",
                t.status,
                t.department_id,
                f"申请延期 {days} 个工作日：{reason}",
                at,
            )
            action = (
                "approve_extension"
                if self.rng.random() < P_EXTENSION_APPROVED
                else "deny_extension"
            )
            self.decision = (action, self.clock.plan(at, self.rng.uniform(0.1, 0.8)))
        self._enter_in_progress(at, fresh=False)

    def _approve_extension(self, at: int) -> None:
        t = self.t
        days = t.extension_requested_days
        t.resolve_due_at = self.clock.add(t.resolve_due_at, days)
        t.extension_days += days
        t.extension_requested_days = None
        self.decision = None
        if t.status == "in_progress":
            self._schedule()
        self._event("approve_extension", t.status, t.department_id, f"同意延期 {days} 个工作日", at)
        self._enter_in_progress(at, fresh=False)

    def _deny_extension(self, at: int) -> None:
        t = self.t
        t.extension_requested_days = None
        self.decision = None
        self._event("deny_extension", t.status, t.department_id, "", at)
        self._enter_in_progress(at, fresh=False)

    def _resolve(self, at: int) -> None:
        t = self.t
        outcome = self.outcome
        t.status = "pending_review" if outcome == "explained" else "resolved"
        t.outcome = outcome
        t.outcome_note = self.rng.choice(OUTCOME_NOTES[outcome])
        t.resolved_at = at
        t.extension_requested_days = None
        self.decision = None
        self._schedule()
        self._event("resolve", "in_progress", t.department_id, t.outcome_note, at)
        if t.status == "resolved":
            self._enter_resolved(at)
        else:
            action = (
                "approve_explanation"
                if self.rng.random() < P_EXPLANATION_APPROVED
                else "reject_explanation"
            )
            pending = {action: self.clock.plan(at, self.rng.uniform(0.2, 2.5))}
            self.pending = self._withdrawable(pending, at)

    def _approve_explanation(self, at: int) -> None:
        t = self.t
        t.status = "resolved"
        self._schedule()
        note = self.rng.choice(REVIEW_APPROVE_NOTES)
        self._event("approve_explanation", "pending_review", t.department_id, note, at)
        self._enter_resolved(at)

    def _reject_explanation(self, at: int) -> None:
        t = self.t
        t.status = "in_progress"
        t.outcome = ""
        t.outcome_note = ""
        t.resolved_at = None
        self._schedule()
        note = self.rng.choice(REVIEW_REJECT_NOTES)
        self._event("reject_explanation", "pending_review", t.department_id, note, at)
        self._enter_in_progress(at, fresh=True, settled=True)

    def _confirm(self, at: int) -> None:
        t = self.t
        t.status = "closed"
        t.closed_at = at
        self._schedule()
        self._event("confirm", "resolved", t.department_id, "", at)
        self._enter_closed(at)

    def _reopen(self, at: int) -> None:
        t = self.t
        count = t.reopen_count + 1
        note = self.rng.choice(REOPEN_REASONS)
        t.reopen_count = count
        t.outcome = ""
        t.outcome_note = ""
        t.resolved_at = None
        t.resolve_due_at = self.clock.add(at, self.policy.resolve)
        t.clock_started_at = at
        t.paused_seconds = 0
        t.extension_days = 0
        if count >= 2 and not t.supervised:
            t.supervised = True
            t.supervised_at = at
            note += f"（第{count}次重办，列入督办）"
        t.status = "in_progress"
        self._schedule()
        self._event("reopen", "resolved", t.department_id, note, at)
        self._enter_in_progress(at, fresh=True, settled=True)

    def _withdraw(self, at: int) -> None:
        t = self.t
        status = t.status
        t.status = "withdrawn"
        t.extension_requested_days = None
        t.held_at = None
        self._schedule()
        self._event("withdraw", status, t.department_id, self.rng.choice(WITHDRAW_REASONS), at)
        self.pending = {}

    def _rate(self, at: int) -> None:
        t = self.t
        scores, cumulative = self.scores[t.outcome or "solved"]
        score = self.rng.pick(scores, cumulative)
        t.satisfaction = score
        t.satisfaction_note = RATING_NOTES[score]
        t.rated_at = at
        note = f"评分 {score}" + (f"：{t.satisfaction_note}" if t.satisfaction_note else "")
        self._event("rate", t.status, t.department_id, note, at)
        self.pending = {}


# --- when needs come in ---------------------------------------------------------------------------


class Moments:
    """Submission instants in [start, end): mostly office hours on working days."""

    def __init__(self, clock: FastClock, rng: random.Random, start: int, end: int):
        self.rng = rng
        self.start, self.end = start, end
        first = max((start - clock.base) // DAY, 0)
        last = min((end - clock.base) // DAY, clock.days - 1)
        self.workdays = [
            clock.base + day * DAY for day in range(first, last + 1) if clock.flags[day]
        ]

    def draw(self) -> int:
        rng = self.rng
        if self.workdays and rng.random() < 0.9:
            moment = rng.choice(self.workdays) + rng.randint(8 * 3600 + 1800, 17 * 3600 + 1800)
            if self.start <= moment < self.end:
                return moment
        return rng.randint(self.start, self.end - 1)


# 1 January (Asia/Shanghai) of 1970…2099 in epoch seconds, for numbering by local year.
_YEAR_STARTS = [to_epoch(dt.datetime(year, 1, 1, tzinfo=SHANGHAI)) for year in range(1970, 2100)]


def _local_year(moment: int) -> int:
    return 1969 + bisect.bisect_right(_YEAR_STARTS, moment)


class Numbering:
    """Ids and WH-<year>-<seq> numbers in submission order, continuing the counters."""

    def __init__(self, first_id: int):
        self.next_id = first_id
        self.last = dict(
            TicketNumberCounter.objects.select_for_update().values_list("year", "last")
        )
        self.touched: set[int] = set()

    def assign(self, t: T) -> None:
        t.id = self.next_id
        self.next_id += 1
        year = _local_year(t.created_at)
        sequence = self.last.get(year, 0) + 1
        self.last[year] = sequence
        self.touched.add(year)
        t.number = f"WH-{year}-{sequence:06d}"

    def numbered(self, tickets: Iterable[T]) -> Iterator[T]:
        for t in tickets:
            self.assign(t)
            yield t

    def save(self) -> None:
        for year in sorted(self.touched):
            TicketNumberCounter.objects.update_or_create(
                year=year, defaults={"last": self.last[year]}
            )


# --- writing rows ---------------------------------------------------------------------------------


class _Table:
    """One model's rows as written: the generator's fields, then constant defaults for any
    other column (so a field added later still gets its default)."""

    def __init__(self, model: type[models.Model], known: Iterable[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.model = model
        self.known = [fields[name] for name in known if name in fields]
        names = {f.attname for f in self.known}
        self.constant = [f for f in fields.values() if f.attname not in names and not f.primary_key]
        self.constants = tuple(f.get_default() for f in self.constant)
        # The COPY writer's rows carry times as epoch seconds, defaults included.
        self.epoch_constants = tuple(
            to_epoch(value) if isinstance(value, dt.datetime) else value for value in self.constants
        )
        self.names = [f.attname for f in self.known] + [f.attname for f in self.constant]
        self.columns = [f.column for f in self.known] + [f.column for f in self.constant]
        self.datetimes = [
            i for i, f in enumerate(self.known) if isinstance(f, models.DateTimeField)
        ]
        self.getter = attrgetter(*[f.attname for f in self.known])

    def rows_from_objects(self, objects: Iterable, *, datetimes: bool = True) -> Iterator:
        """Rows in `columns` order; times as aware datetimes, or left as epoch seconds for
        the COPY writer (whose dumper packs them directly)."""
        getter, constants = self.getter, self.constants
        if not datetimes:
            constants = self.epoch_constants
            for obj in objects:
                yield getter(obj) + constants
            return
        positions = self.datetimes
        stamp, utc = dt.datetime.fromtimestamp, dt.UTC
        for obj in objects:
            row = list(getter(obj))
            for i in positions:
                value = row[i]
                if value is not None:
                    row[i] = stamp(value, utc)
            row.extend(constants)
            yield row


ENTERPRISE_FIELDS = (
    "id",
    "uscc",
    "name",
    "district_id",
    "cluster_id",
    "is_chain_leader",
    "programme",
    "credit_grade",
    "contact_name",
    "contact_phone",
    "contact_email",
    "created_at",
)


# The events a scale load keeps by default (--history essential): the submission and every
# move between departments, so "tickets that passed through my department" stays exact.
ESSENTIAL_ACTIONS = frozenset({"submit", "route", "return", "dispatch", "escalate"})


class _Writer:
    def __init__(self, keep: frozenset[str] | None = None):
        self.keep = keep
        self.enterprise_table = _Table(Enterprise, ENTERPRISE_FIELDS)
        self.chain_table = _Table(Enterprise.chains.through, ("enterprise_id", "industrychain_id"))
        self.ticket_table = _Table(Ticket, TICKET_FIELDS)
        self.event_table = _Table(TicketEvent, (*EVENT_FIELDS, "ticket_id"))
        self.events_written = 0
        self.last_events = 0

    def event_rows(self, tickets: list[T], *, datetimes: bool = True) -> Iterator[tuple]:
        table = self.event_table
        constants = table.constants if datetimes else table.epoch_constants
        stamp = dt.datetime.fromtimestamp if datetimes else None
        utc = dt.UTC
        keep = self.keep
        for t in tickets:
            ticket_id = t.id
            for action, old, new, source, target, level, note, at, breach in t.events:
                if keep is not None and action not in keep:
                    continue
                yield (
                    action,
                    old,
                    new,
                    source,
                    target,
                    level,
                    note,
                    at if stamp is None else stamp(at, utc),
                    breach,
                    ticket_id,
                    *constants,
                )


PG_EPOCH = 946_684_800  # 2000-01-01 UTC, PostgreSQL's zero for timestamps


def _epoch_seconds_dumper(oid: int):
    """A binary COPY dumper for timestamptz columns fed integer epoch seconds (registered
    for lookups by oid only, i.e. COPY after set_types)."""
    import struct

    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    pack = struct.Struct("!q").pack

    class EpochSecondsDumper(Dumper):
        format = Format.BINARY

        def dump(self, obj):
            return pack((obj - PG_EPOCH) * 1_000_000)

    EpochSecondsDumper.oid = oid
    return EpochSecondsDumper


class CopyWriter(_Writer):
    """PostgreSQL: binary COPY through the psycopg 3 connection under Django's."""

    def __init__(self, keep: frozenset[str] | None = None):
        super().__init__(keep)
        self.cursor = connection.cursor()
        self.raw = self.cursor.cursor
        self._types: dict[str, list[str]] = {}
        # Times stay integers all the way: this cursor's COPY packs them as timestamptz.
        oid = self.raw.adapters.types["timestamptz"].oid
        self.raw.adapters.register_dumper(None, _epoch_seconds_dumper(oid))

    def _copy(self, table: _Table, rows: Iterable) -> int:
        name = table.model._meta.db_table
        if name not in self._types:
            self.raw.execute(
                "SELECT a.attname, t.typname FROM pg_attribute a "
                "JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                [name],
            )
            types = dict(self.raw.fetchall())
            self._types[name] = [types[column] for column in table.columns]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(column) for column in table.columns)
        count = 0
        statement = f"COPY {quote(name)} ({columns}) FROM STDIN (FORMAT BINARY)"
        with self.raw.copy(statement) as copy:
            copy.set_types(self._types[name])
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def enterprises(self, rows: list[EnterpriseRow]) -> None:
        self._copy(
            self.enterprise_table, self.enterprise_table.rows_from_objects(rows, datetimes=False)
        )
        links = ((row.id, chain_id) for row in rows for chain_id in row.chain_ids)
        self._copy(self.chain_table, links)

    def tickets(self, tickets: Iterable[T]) -> list[T]:
        """Write the tickets, then their events; returns the tickets written. `tickets` may
        be a lazy stream: its tickets are then lived while the database ingests rows."""
        written: list[T] = []

        def taken():
            for t in tickets:
                written.append(t)
                yield t

        rows = self.ticket_table.rows_from_objects(taken(), datetimes=False)
        self._copy(self.ticket_table, rows)
        self.last_events = self._copy(self.event_table, self.event_rows(written, datetimes=False))
        self.events_written += self.last_events
        return written


class OrmWriter(_Writer):
    """Other databases (SQLite): bulk_create in batches."""

    BATCH = 500

    def _objects(self, table: _Table, rows: Iterable) -> Iterator[models.Model]:
        model, names = table.model, table.names
        for row in rows:
            yield model(**dict(zip(names, row, strict=True)))

    def _bulk(self, table: _Table, rows: Iterable) -> int:
        count = 0
        objects = self._objects(table, rows)
        while batch := list(itertools.islice(objects, self.BATCH)):
            table.model.objects.bulk_create(batch)
            count += len(batch)
        return count

    def enterprises(self, rows: list[EnterpriseRow]) -> None:
        self._bulk(self.enterprise_table, self.enterprise_table.rows_from_objects(rows))
        # created_at is auto_now_add: bulk_create stamps the wall clock; put the history back.
        adapt = connection.ops.adapt_datetimefield_value
        table = connection.ops.quote_name(Enterprise._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET created_at = %s WHERE id = %s",
                [(adapt(to_datetime(row.created_at)), row.id) for row in rows],
            )
        links = ((row.id, chain_id) for row in rows for chain_id in row.chain_ids)
        self._bulk(self.chain_table, links)

    def tickets(self, tickets: Iterable[T]) -> list[T]:
        written = list(tickets)
        self._bulk(self.ticket_table, self.ticket_table.rows_from_objects(written))
        self.last_events = self._bulk(self.event_table, self.event_rows(written))
        self.events_written += self.last_events
        return written


def _writer(keep: frozenset[str] | None = None) -> _Writer:
    return CopyWriter(keep) if connection.vendor == "postgresql" else OrmWriter(keep)


# Loads at least this big rebuild the secondary indexes and foreign keys afterwards instead
# of maintaining them row by row. Measured on PostgreSQL 15 (2 cores): COPY of 1M events with
# their 8 indexes and deferred foreign-key checks took 54 s; without them, plus rebuilding
# them, 23 s.
BULK_LOAD_THRESHOLD = 100_000
BULK_TABLES = (Enterprise, Enterprise.chains.through, Ticket, TicketEvent)


@contextmanager
def _secondary_structures_dropped(enabled: bool, say: Callable[[str], None]):
    """PostgreSQL: drop the tables' non-constraint indexes and their foreign keys, and
    re-create them from their saved definitions when the load is done. Runs inside the
    caller's transaction: if anything fails, the drop is rolled back with the data."""
    if not enabled:
        yield
        return
    quote = connection.ops.quote_name
    indexes: list[tuple[str, str]] = []
    foreign_keys: list[tuple[str, str, str]] = []
    with connection.cursor() as cursor:
        for model in BULK_TABLES:
            table = model._meta.db_table
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index x "
                "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
                "ORDER BY c.relname",
                [table],
            )
            indexes += cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [table],
            )
            foreign_keys += [(table, name, definition) for name, definition in cursor.fetchall()]
        # Nothing of ours may be pending when the tables are altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    started = time.perf_counter()
    say(f"重建索引 {len(indexes)} 个、外键 {len(foreign_keys)} 个……")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    say(f"索引与外键已重建：{time.perf_counter() - started:.1f}s")


def _lock_tables() -> None:
    if connection.vendor != "postgresql":
        return  # SQLite transactions here are IMMEDIATE: the write lock is already ours
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in BULK_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _reset_sequences() -> None:
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(BULK_TABLES))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def analyze() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in BULK_TABLES)
            cursor.execute(f"ANALYZE {tables}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


# --- wiping ---------------------------------------------------------------------------------------


def reset() -> None:
    """Delete every ticket, event, number counter and enterprise (with their accounts).

    Events are append-only by trigger; PostgreSQL's TRUNCATE is allowed past it (and cascades
    to rows that reference the wiped tables, e.g. notification logs and enterprise accounts).
    On SQLite the triggers are dropped around the delete and installed again.
    """
    from tickets import db_triggers

    if connection.vendor == "postgresql":
        tables = ", ".join(
            connection.ops.quote_name(m._meta.db_table)
            for m in (
                TicketEvent,
                Ticket,
                TicketNumberCounter,
                Enterprise.chains.through,
                Enterprise,
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            for statement in db_triggers.SQLITE_DROP:
                cursor.execute(statement)
        for relation in TicketEvent._meta.related_objects:
            relation.related_model._base_manager.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(TicketEvent._meta.db_table)}")
        Ticket._base_manager.all().delete()
        TicketNumberCounter._base_manager.all().delete()
        Enterprise._base_manager.all().delete()
        db_triggers.install(connection)


# --- the two modes --------------------------------------------------------------------------------


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


HISTORIES = {"full": None, "essential": ESSENTIAL_ACTIONS}


def scenario_present() -> bool:
    return Enterprise.objects.filter(uscc__regex=rf"^.{{8}}{SCENARIO_ORG_PREFIX}").exists()


def parse_now(value: dt.datetime | None) -> int:
    moment = value or DEFAULT_NOW
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return to_epoch(moment)


def _check_horizon(world: World, window_days: int) -> None:
    """The window reaches back `window_days`; the deadlines of tickets open at `now` reach
    ahead by at most the longest resolve time plus the longest extension. Both ends must be
    inside the calendar, or the run would fail half-way."""
    clock = world.clock
    ahead = max(p.resolve + p.max_extension for p in world.policies.values())
    try:
        clock.position(world.now - window_days * DAY)
        clock.add(world.now, ahead)
    except CalendarMissing as missing:
        raise SeedError(
            f"{missing} 演示数据的时间范围（--now 前 {window_days} 天至其后 {ahead} 个工作日）"
            "必须在工作日历覆盖的年份内，请调整 --now。"
        ) from None


def _summarise(result: SeedResult, tickets: Iterable[T], now: int) -> None:
    for t in tickets:
        result.tickets += 1
        result.statuses[t.status] += 1
        result.levels[t.level] += 1
        result.kinds[t.kind] += 1
        if t.escalate_at is not None and t.escalate_at <= now:
            result.overdue += 1


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


def _bucket(t: T) -> str:
    if t.level == "district":
        return "district"
    if t.outcome in ("solved", "basically_solved") and t.status in ("resolved", "closed"):
        return "city_resolved"
    return "city_other"


# Open states a demo should show at `now` besides the many closed tickets, and how many of
# each the scenario picks from lives submitted in its last working days.
SHOWCASE = {"assigned": 3, "in_progress": 3, "on_hold": 3, "pending_review": 3, "returned": 3}
SHOWCASE_DAYS = 8


def build_scenario(
    world: World, rng: random.Random, enterprises: list[EnterpriseRow], plan: Headline = SCENARIO
) -> list[T]:
    """Live candidate needs until the three buckets of the headline are exactly full."""
    maker = SpecMaker(world, rng, enterprises)
    # The report counts withdrawn needs out of "taken in": the scenario has none, so the
    # table, the report and the city's sentence all say 1,623.
    life = Life(world, rng, withdrawals=False)
    quotas = {
        "city_resolved": plan.city_resolved,
        "city_other": plan.city_level - plan.city_resolved,
        "district": plan.taken_in - plan.city_level,
    }
    kept: list[T] = []

    def keep(t: T | None, wanted: Callable[[T], bool] = lambda t: True) -> bool:
        if t is None or not wanted(t) or not quotas[_bucket(t)]:
            return False
        quotas[_bucket(t)] -= 1
        kept.append(t)
        return True

    # A few tickets in each open state, from needs submitted in the last working days (half
    # of them with a department that returns the ticket, so some wait for re-dispatch).
    recent = Moments(world.clock, rng, world.clock.add(world.now, -SHOWCASE_DAYS), world.now)
    wanted = dict(SHOWCASE)
    for _attempt in range(200 * sum(SHOWCASE.values())):
        if not any(wanted.values()):
            break
        t = life.live(maker.make(), recent.draw(), returns=rng.random() < 0.5)
        if keep(t, lambda t: wanted.get(t.status, 0) > 0):
            wanted[t.status] -= 1
    moments = Moments(world.clock, rng, world.now - plan.window_days * DAY, world.now)
    for _attempt in range(50 * plan.taken_in):
        if not any(quotas.values()):
            break
        keep(life.live(maker.make(), moments.draw()))
    else:
        raise SeedError(f"无法凑齐场景数据：{quotas}")
    kept.sort(key=attrgetter("created_at"))
    return kept


@contextmanager
def _gc_paused():
    """The generator allocates millions of small acyclic objects; the cyclic collector's
    passes over them cost a quarter of the run and free nothing."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def seed_scenario(
    *,
    now: dt.datetime | None = None,
    reset_first: bool = False,
    seed: int = DEFAULT_SEED,
    stdout=None,
    progress: bool = False,
    plan: Headline = SCENARIO,
) -> SeedResult:
    """The city report's scenario; does nothing when it is already there."""
    say = _sayer(stdout)
    started = time.perf_counter()
    result = SeedResult(mode="scenario")
    instant = parse_now(now)
    with _gc_paused(), transaction.atomic():
        if reset_first:
            reset()
            say("已清空诉求、办理记录和企业。")
        elif scenario_present():
            result.skipped = True
            result.headline = headline()
            return result
        elif Ticket.objects.exists():
            say("注意：数据库中已有其他诉求，报告的统计将包含它们。")
        world = World(instant)
        _check_horizon(world, plan.window_days)
        rng = FastRandom(seed)
        _lock_tables()
        enterprises = make_enterprises(
            world,
            rng,
            plan.enterprises,
            _next_id(Enterprise),
            scenario=True,
            before=instant - plan.window_days * DAY,
        )
        tickets = build_scenario(world, rng, enterprises, plan)
        numbering = Numbering(_next_id(Ticket))
        for t in tickets:
            numbering.assign(t)
        writer = _writer()
        for _ in _progress(progress, [enterprises], desc="企业", unit="家", total=len(enterprises)):
            writer.enterprises(enterprises)
        for _ in _progress(progress, [tickets], desc="诉求", unit="件", total=len(tickets)):
            writer.tickets(tickets)
        numbering.save()
        _reset_sequences()
        result.enterprises = len(enterprises)
        result.events = writer.events_written
        _summarise(result, tickets, instant)
    analyze()
    result.headline = headline()
    result.seconds = time.perf_counter() - started
    return result


def seed_scale(
    *,
    enterprises: int,
    tickets: int,
    now: dt.datetime | None = None,
    overdue: int | None = None,
    reset_first: bool = False,
    seed: int = DEFAULT_SEED,
    batch: int = 20_000,
    history: str = "essential",
    stdout=None,
    progress: bool = False,
) -> SeedResult:
    """Synthetic city-scale data: `enterprises` enterprises, `tickets` tickets submitted over
    the past year, of which exactly `overdue` (default 1%) are past a deadline at `now`.

    Every ticket is lived in full; `history` says which of its events are written: "full"
    (every move, ~6.4 per ticket) or "essential" (submit and the moves between departments:
    route, return, dispatch, escalate — ~2.1 per ticket; the default, 3× less to write and
    index at a million tickets)."""
    if history not in HISTORIES:
        raise SeedError(f"--history 应为 {' 或 '.join(HISTORIES)}。")
    if enterprises < 1 or tickets < 0 or batch < 1:
        raise SeedError("--enterprises 和 --batch 至少为 1，--tickets 不能为负数。")
    overdue = tickets // 100 if overdue is None else overdue
    if not 0 <= overdue <= tickets:
        raise SeedError("--overdue 应在 0 到 --tickets 之间。")
    say = _sayer(stdout)
    started = time.perf_counter()
    result = SeedResult(mode="scale")
    instant = parse_now(now)
    bulk = connection.vendor == "postgresql" and tickets >= BULK_LOAD_THRESHOLD
    with _gc_paused(), transaction.atomic():
        if reset_first:
            reset()
            say("已清空诉求、办理记录和企业。")
        world = World(instant)
        _check_horizon(world, SCALE_WINDOW_DAYS)
        rng = FastRandom(seed)
        _lock_tables()
        first_enterprise, first_ticket = _next_id(Enterprise), _next_id(Ticket)
        with _secondary_structures_dropped(bulk, say):
            writer = _writer(HISTORIES[history])
            rows = make_enterprises(
                world,
                rng,
                enterprises,
                first_enterprise,
                scenario=False,
                before=instant - SCALE_WINDOW_DAYS * DAY,
            )
            for chunk in _progress(
                progress, _chunks(rows, batch), desc="企业", unit="家", total=len(rows)
            ):
                writer.enterprises(chunk)
            result.enterprises = len(rows)
            say(f"企业 {len(rows):,} 家：{_clock(started)}")
            numbering = Numbering(first_ticket)
            tickets_bar = _bar(progress, desc="诉求", unit="件", total=tickets)
            events_bar = _bar(progress, desc="办理记录", unit="条", position=1)
            stream = numbering.numbered(_scale_tickets(world, rng, rows, tickets, overdue))
            while (first := next(stream, None)) is not None:
                rest = itertools.islice(stream, batch - 1)
                chunk = writer.tickets(itertools.chain([first], rest))
                tickets_bar.update(len(chunk))
                events_bar.update(writer.last_events)
                _summarise(result, chunk, instant)
            tickets_bar.close()
            events_bar.close()
            result.events = writer.events_written
            numbering.save()
            say(f"诉求 {result.tickets:,} 件、办理记录 {result.events:,} 条：{_clock(started)}")
        if result.overdue != overdue:  # a generator bug: commit nothing
            raise SeedError(f"逾期诉求应为 {overdue} 件，实际生成 {result.overdue} 件。")
        _reset_sequences()
    say(f"提交：{_clock(started)}")
    analyze()
    say(f"ANALYZE：{_clock(started)}")
    result.seconds = time.perf_counter() - started
    return result


def _scale_tickets(
    world: World, rng: random.Random, enterprises: list[EnterpriseRow], count: int, overdue: int
) -> Iterator[T]:
    """`count` lived tickets in submission order; exactly `overdue` of them are left with a
    sweep step due at `now` (the sweep "has not run yet" for them)."""
    maker = SpecMaker(world, rng, enterprises)
    life = Life(world, rng)
    clock = world.clock
    now = world.now
    late = [_overdue_ticket(world, life, maker, rng) for _ in range(overdue)]
    late.sort(key=attrgetter("created_at"))
    moments = Moments(clock, rng, now - SCALE_WINDOW_DAYS * DAY, now)
    normal = sorted(moments.draw() for _ in range(count - overdue))
    late_index = 0
    for created in normal:
        while late_index < len(late) and late[late_index].created_at <= created:
            yield late[late_index]
            late_index += 1
        while True:
            t = life.live(maker.make(), created)
            if t is not None:
                break
        yield t
    yield from late[late_index:]


def _overdue_ticket(world: World, life: Life, maker: SpecMaker, rng: random.Random) -> T:
    clock = world.clock
    now = world.now
    flavours, cumulative = _weighted(OVERDUE_FLAVOURS)
    for _attempt in range(100):
        spec = maker.make()
        flavour = rng.pick(flavours, cumulative)
        policy = world.policies[(spec.kind, spec.level)]
        # The passed deadline: between ten minutes and two working days ago.
        deadline = clock.position(now) - rng.randint(600, 2 * DAY)
        if flavour == LATE_RESOLVE:
            start = deadline - policy.resolve * DAY
        elif flavour == LATE_ACCEPT:
            start = deadline - policy.accept * DAY
        else:  # reminded at the accept deadline, and the grace period is over too
            start = deadline - (policy.accept + REMINDER_GRACE_DAYS) * DAY - 2 * SWEEP_TICK_SECONDS
        assigned = clock.moment(start)
        latency = rng.randint(2, 40)
        t = life.live(spec, assigned - latency, overdue=flavour, route_after=latency)
        if t is not None and t.escalate_at is not None and t.escalate_at <= now:
            return t
    raise SeedError("无法生成逾期诉求（请检查时限规则与工作日历）。")


# --- helpers --------------------------------------------------------------------------------------


def _clock(started: float) -> str:
    """Wall time since `started` and this process's CPU time (the database's is not in it)."""
    return f"{time.perf_counter() - started:.1f}s（本进程CPU {time.process_time():.1f}s）"


def _sayer(stdout) -> Callable[[str], None]:
    if stdout is None:
        return lambda line: None
    return lambda line: stdout.write(line + "\n")


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, max(size, 1))):
        yield chunk


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def _bar(enabled: bool, **options):
    if not enabled:
        return _NoBar()
    import sys

    from tqdm import tqdm

    # disable=None: drawn on a terminal, silent when stderr is a log file or a pipe.
    return tqdm(file=sys.stderr, disable=None, dynamic_ncols=True, mininterval=0.5, **options)


def _progress(enabled: bool, chunks: Iterable[list], **options) -> Iterator[list]:
    """Yield the chunks, advancing a progress bar (to stderr) by each chunk's length."""
    bar = _bar(enabled, **options)
    try:
        for chunk in chunks:
            yield chunk
            bar.update(len(chunk))
    finally:
        bar.close()
