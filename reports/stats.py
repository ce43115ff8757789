"""三率 statistics against the target (DESIGN §5): reads only, counted by the database.

Every figure is a count. One ``GROUP BY`` over the scope's tickets taken in during the period
computes a ``COUNT(*) FILTER (WHERE …)`` per figure for every group, and a second one over the
scope's overdue tickets (found on the partial deadline indexes) adds "currently overdue".
Because every figure is a count, a query grouped by several dimensions rolls up exactly into
each single dimension and into the overall row, summing at most a few thousand aggregate rows
in Python: the dashboard gets its overall, by-month, by-department and by-kind figures from
one scan of the tickets.

Definitions (the options come from :class:`reports.models.StatsConfig`):

- taken in (受理): tickets created in the period whose status is not excluded (withdrawn by
  default; merged duplicates always, the survivor counts the request once). Every figure
  but "currently overdue" counts among these tickets only.
- resolved (已解决): outcome solved, plus basically_solved when configured (default).
- resolution rate = resolved ÷ taken in.
- on-time rate = resolved with ``resolved_at <= resolve_due_at`` ÷ resolved (a ticket without a
  resolve deadline is not on time).
- satisfaction rate = scores ≥ ``satisfied_min_score`` (4) ÷ rated.
- returned / reopened / escalated: ``return_count`` / ``reopen_count`` / ``escalation_count`` > 0.
- currently overdue (当前超期) is a figure of the instant ``now``, not of the period: the open
  tickets of the scope past the deadline of their current step (``Ticket.objects.overdue``),
  whenever they were submitted. So last week's report, last month's and the dashboard built at
  one moment show the same number: what is overdue at that moment. In a breakdown each group
  counts its own overdue tickets; by month a ticket counts in the month it was submitted, so
  one submitted before the period's first month is in the overall figure but in no month's row.
- city level (需市级层面解决): level city or leader; and how many of those are resolved.

A rate whose denominator is 0 has no value (``None``, shown as "—").

Where people wait — the dashboard and the statistics API — figures come from Django's cache
(``cached_breakdowns``, ``resolution_stats``): one entry per scope, period, breakdown and
options, kept ``STATS_CACHE_SECONDS`` (120 s by default); each result says when it was counted
(``as_of``). The scheduled reports call ``breakdowns``, which always counts live, so a report
that is sent is exact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department, District, IndustryChain, Tier
from reports.models import StatsConfig
from reports.periods import SHANGHAI, Period, local_date, month_of_key, month_starts
from tickets.actors import actor_for
from tickets.models import Kind, Outcome, Source, Status

logger = logging.getLogger(__name__)

GROUP_BY_CHOICES = [
    ("department", _("责任单位")),
    ("kind", _("清单类别")),
    ("district", _("区市")),
    ("level", _("层级")),
    ("chain", _("产业链")),
    ("month", _("月份")),
    ("source", _("来源")),
]
GROUP_BYS = tuple(value for value, _label in GROUP_BY_CHOICES)

NO_DEPARTMENT_LABEL = _("（待分派）")
NO_CHAIN_LABEL = _("（未关联产业链）")


# --- options ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The values of StatsConfig a computation used (stored with snapshots)."""

    target: Decimal = Decimal("0.900")
    count_basically_solved: bool = True
    taken_in_excludes: tuple[str, ...] = (Status.WITHDRAWN.value,)
    satisfied_min_score: int = 4
    ranking_min_taken_in: int = 5

    @classmethod
    def load(cls) -> Options:
        config = StatsConfig.load()
        return cls(
            target=config.target,
            count_basically_solved=config.count_basically_solved,
            taken_in_excludes=tuple(config.taken_in_excludes or ()),
            satisfied_min_score=config.satisfied_min_score,
            ranking_min_taken_in=config.ranking_min_taken_in,
        )

    @property
    def resolved_outcomes(self) -> tuple[str, ...]:
        if self.count_basically_solved:
            return (Outcome.SOLVED.value, Outcome.BASICALLY_SOLVED.value)
        return (Outcome.SOLVED.value,)

    def as_dict(self) -> dict:
        return {
            "target": float(self.target),
            "count_basically_solved": self.count_basically_solved,
            "taken_in_excludes": list(self.taken_in_excludes),
            "satisfied_min_score": self.satisfied_min_score,
        }


# --- counts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """The additive counts of one group; everything else is derived from them."""

    taken_in: int = 0
    resolved: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    returned: int = 0
    reopened: int = 0
    escalated: int = 0
    overdue: int = 0
    supervised: int = 0
    city_level: int = 0
    city_level_resolved: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f) + getattr(other, f) for f in COUNT_FIELDS))

    @classmethod
    def total(cls, items: Iterable[Counts]) -> Counts:
        result = cls()
        for item in items:
            result += item
        return result


COUNT_FIELDS = tuple(f.name for f in fields(Counts))

# Dimension → the expression grouped on. Month is the calendar month in Asia/Shanghai.
_DIMENSIONS = {
    "department": lambda: F("department_id"),
    "kind": lambda: F("kind"),
    "district": lambda: F("enterprise__district_id"),
    "level": lambda: F("level"),
    "chain": lambda: F("chain_id"),
    "month": lambda: TruncMonth("created_at", tzinfo=SHANGHAI),
    "source": lambda: F("source"),
}


def taken_in(queryset: QuerySet, *, options: Options, period: Period) -> QuerySet:
    """The tickets the period's figures count: created in the period, status not excluded.
    A merged duplicate (已合并) never counts: its survivor counts the enterprise's request."""
    queryset = queryset.exclude(status__in=[Status.MERGED.value, *options.taken_in_excludes])
    if period.start:
        queryset = queryset.filter(created_at__gte=period.start)
    if period.end:
        queryset = queryset.filter(created_at__lt=period.end)
    return queryset


def _period_counts(options: Options) -> dict:
    """COUNT(...) FILTER (WHERE ...) for every count but the point-in-time "overdue"."""
    resolved = Q(outcome__in=options.resolved_outcomes)
    city_level = Q(level__in=[Tier.CITY, Tier.LEADER])
    return {
        "taken_in": Count("pk"),
        "resolved": Count("pk", filter=resolved),
        "on_time": Count("pk", filter=resolved & Q(resolved_at__lte=F("resolve_due_at"))),
        "rated": Count("pk", filter=Q(satisfaction__isnull=False)),
        "satisfied": Count("pk", filter=Q(satisfaction__gte=options.satisfied_min_score)),
        "returned": Count("pk", filter=Q(return_count__gt=0)),
        "reopened": Count("pk", filter=Q(reopen_count__gt=0)),
        "escalated": Count("pk", filter=Q(escalation_count__gt=0)),
        "supervised": Count("pk", filter=Q(supervised=True)),
        "city_level": Count("pk", filter=city_level),
        "city_level_resolved": Count("pk", filter=city_level & resolved),
    }


def count_cube(
    queryset: QuerySet,
    dimensions: Sequence[str],
    *,
    options: Options,
    period: Period,
    now: dt.datetime,
) -> dict[tuple, Counts]:
    """{(key per dimension, …): Counts} of a scope: the period's counts and the tickets
    overdue at ``now``. Keys are normalised: ids as strings, months as "YYYY-MM", None for
    tickets without a department or chain."""
    unknown = set(dimensions) - set(_DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimension(s): {', '.join(sorted(unknown))}")
    cube: dict[tuple, Counts] = defaultdict(Counts)
    in_period = taken_in(queryset, options=options, period=period)
    for key, counts in _grouped(in_period, dimensions, _period_counts(options)):
        cube[key] += Counts(**counts)
    for key, counts in _grouped(queryset.overdue(now), dimensions, {"overdue": Count("pk")}):
        cube[key] += Counts(**counts)
    return dict(cube)


def _grouped(
    queryset: QuerySet, dimensions: Sequence[str], aggregates: dict
) -> Iterator[tuple[tuple, dict]]:
    names = {dim: f"g_{dim}" for dim in dimensions}
    rows = (
        queryset.order_by()
        .values(**{names[dim]: _DIMENSIONS[dim]() for dim in dimensions})
        .annotate(**aggregates)
    )
    for row in rows:
        key = tuple(_normalise(dim, row.pop(names[dim])) for dim in dimensions)
        yield key, row


def _normalise(dimension: str, value) -> str | None:
    if value is None:
        return None
    if dimension == "month":
        if isinstance(value, dt.datetime):
            value = value.astimezone(SHANGHAI)
        return f"{value:%Y-%m}"
    return str(value)


def _marginal(cube: dict[tuple, Counts], position: int) -> dict[str | None, Counts]:
    """Sum a cube's counts over every dimension but the one at ``position``."""
    result: dict[str | None, Counts] = defaultdict(Counts)
    for key, counts in cube.items():
        result[key[position]] += counts
    return dict(result)


# --- figures ---------------------------------------------------------------------------


_HUNDRED = Decimal(100)


def format_percent(value: Decimal | None, places: int = 1) -> str:
    """0.83902… → "83.9%" (half up, as people round); None → "—"."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return f"{(value * _HUNDRED).quantize(quantum, rounding=ROUND_HALF_UP)}%"


def format_target(target: Decimal) -> str:
    """0.900 → "90%", 0.925 → "92.5%"."""
    percent = (target * _HUNDRED).normalize()
    return f"{percent:f}%"


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    target: Decimal

    @property
    def value(self) -> Decimal | None:
        """The exact rate, or None when there is nothing to divide by."""
        if not self.denominator:
            return None
        return Decimal(self.numerator) / Decimal(self.denominator)

    @property
    def rate(self) -> float | None:
        value = self.value
        return None if value is None else float(round(value, 4))

    @property
    def percent(self) -> str:
        return format_percent(self.value)

    @property
    def below_target(self) -> bool:
        """Exact comparison in integers: n/d < target ⇔ n < target·d. No rate, no verdict."""
        return bool(self.denominator) and self.numerator < self.target * self.denominator

    def as_dict(self) -> dict:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.rate,
            "display": self.percent,
            "below_target": self.below_target,
        }


RATE_NAMES = ("resolution_rate", "on_time_rate", "satisfaction_rate", "city_level_resolution_rate")
PLAIN_COUNTS = (
    "taken_in",
    "resolved",
    "returned",
    "reopened",
    "escalated",
    "overdue",
    "supervised",
    "city_level",
)


@dataclass(frozen=True)
class Figures:
    counts: Counts
    target: Decimal

    def __getattr__(self, name):
        # Plain counts read through (figures.taken_in); rates are properties below.
        if name in COUNT_FIELDS:
            return getattr(self.counts, name)
        raise AttributeError(name)

    @property
    def resolution_rate(self) -> Rate:
        return Rate(self.counts.resolved, self.counts.taken_in, self.target)

    @property
    def on_time_rate(self) -> Rate:
        return Rate(self.counts.on_time, self.counts.resolved, self.target)

    @property
    def satisfaction_rate(self) -> Rate:
        return Rate(self.counts.satisfied, self.counts.rated, self.target)

    @property
    def city_level_resolution_rate(self) -> Rate:
        return Rate(self.counts.city_level_resolved, self.counts.city_level, self.target)

    @property
    def below_target(self) -> bool:
        """Any of the 三率 under target (the city-level rate is part of the resolution rate)."""
        return any(
            rate.below_target
            for rate in (self.resolution_rate, self.on_time_rate, self.satisfaction_rate)
        )

    def as_dict(self) -> dict:
        data = {name: getattr(self.counts, name) for name in PLAIN_COUNTS}
        data.update({name: getattr(self, name).as_dict() for name in RATE_NAMES})
        return data


@dataclass(frozen=True)
class GroupRow:
    key: str | None
    label: str
    figures: Figures

    def as_dict(self) -> dict:
        return {"key": self.key, "label": str(self.label), **self.figures.as_dict()}


@dataclass(frozen=True)
class StatsResult:
    group_by: str
    period: Period
    options: Options
    overall: Figures
    rows: list[GroupRow]
    as_of: dt.datetime  # the instant counted ("currently overdue" is measured at it)

    @property
    def target(self) -> Decimal:
        return self.options.target

    def as_dict(self) -> dict:
        return {
            "group_by": self.group_by,
            "since": self.period.since.isoformat() if self.period.since else None,
            "until": self.period.until.isoformat() if self.period.until else None,
            "target": float(self.options.target),
            "target_display": format_target(self.options.target),
            "options": self.options.as_dict(),
            "overall": self.overall.as_dict(),
            "rows": [row.as_dict() for row in self.rows],
        }


# --- labelled rows ---------------------------------------------------------------------


def _rows_for(
    group_by: str,
    counts: dict[str | None, Counts],
    *,
    period: Period,
    now: dt.datetime,
    target: Decimal,
) -> list[GroupRow]:
    """Label and order the groups. Kinds, levels, districts and chains list every value
    (empty ones show no rate); months every month of the period; departments those with
    tickets in the scope (a department list of the whole city would be mostly empty)."""

    def row(key, label):
        return GroupRow(key, label, Figures(counts.get(key, Counts()), target))

    if group_by == "kind":
        return [row(value, label) for value, label in Kind.choices]
    if group_by == "source":
        return [row(value, label) for value, label in Source.choices]
    if group_by == "level":
        return [row(value, label) for value, label in Tier.choices]
    if group_by == "district":
        return [row(str(pk), name) for pk, name in District.objects.values_list("pk", "name")]
    if group_by == "chain":
        rows = [row(str(pk), name) for pk, name in IndustryChain.objects.values_list("pk", "name")]
        if None in counts:
            rows.append(row(None, NO_CHAIN_LABEL))
        return rows
    if group_by == "department":
        ids = [int(key) for key in counts if key is not None]
        names = Department.objects.filter(pk__in=ids).values_list("pk", "name")
        rows = [row(str(pk), name) for pk, name in names]
        if None in counts:
            rows.append(row(None, NO_DEPARTMENT_LABEL))
        return rows
    if group_by == "month":
        data_months = sorted(month_of_key(key) for key in counts if key is not None)
        first = period.since or (data_months[0] if data_months else None)
        if first is None:
            return []
        last = period.until or max([local_date(now), *data_months[-1:]])
        return [
            row(
                f"{month:%Y-%m}",
                gettext("%(year)s年%(month)s月") % {"year": month.year, "month": month.month},
            )
            for month in month_starts(first, last)
        ]
    raise ValueError(f"unknown group_by {group_by!r}")


# --- entry points ----------------------------------------------------------------------


def _check(group_bys: Sequence[str]) -> None:
    unknown = set(group_bys) - set(GROUP_BYS)
    if unknown:
        raise ValueError(f"unknown group_by: {', '.join(sorted(unknown))}")


def breakdowns(
    queryset: QuerySet,
    group_bys: Sequence[str],
    *,
    period: Period | None = None,
    now: dt.datetime | None = None,
    options: Options | None = None,
) -> dict[str, StatsResult]:
    """Several breakdowns of one scope and period, counted live at ``now`` by two queries
    (they share the overall figures). For reports, which must be exact.

    ``queryset`` is the scope — normally ``tickets.selectors.department_slice(user)``.
    """
    _check(group_bys)
    period = period or Period()
    now = now or timezone.now()
    options = options or Options.load()
    cube = count_cube(queryset, group_bys, options=options, period=period, now=now)
    overall = Figures(Counts.total(cube.values()), options.target)
    return {
        group_by: StatsResult(
            group_by=group_by,
            period=period,
            options=options,
            overall=overall,
            rows=_rows_for(
                group_by, _marginal(cube, position), period=period, now=now, target=options.target
            ),
            as_of=now,
        )
        for position, group_by in enumerate(group_bys)
    }


def cached_breakdowns(
    queryset: QuerySet,
    group_bys: Sequence[str],
    *,
    period: Period | None = None,
    options: Options | None = None,
) -> dict[str, StatsResult]:
    """``breakdowns`` as counted at most ``STATS_CACHE_SECONDS`` ago (``as_of`` says when),
    for the pages people wait for. A cache that is down means counting live, never an error."""
    _check(group_bys)
    period = period or Period()
    options = options or Options.load()
    key = _cache_key(queryset, group_bys, period, options)
    try:
        results = cache.get(key)
    except Exception:
        logger.exception("statistics cache unavailable; counting live")
        return breakdowns(queryset, group_bys, period=period, options=options)
    if results is None:
        results = breakdowns(queryset, group_bys, period=period, options=options)
        try:
            cache.set(key, results, settings.STATS_CACHE_SECONDS)
        except Exception:
            logger.exception("statistics cache unavailable; figures not kept")
    return results


# Part of every key: bump it when StatsResult changes shape, so a deploy never unpickles the
# previous version's entries.
CACHE_VERSION = 1


def _cache_key(queryset: QuerySet, group_bys, period: Period, options: Options) -> str:
    # The scope's SQL names exactly the rows counted — the city, or the departments a staff
    # member's slice covers — so everyone with the same slice shares one entry. The options
    # are part of the key, so a changed target or formula shows at once. Labels are
    # translated when counted, hence the language.
    try:
        scope = str(queryset.query)
    except EmptyResultSet:  # .none(), or a slice of no departments
        scope = "none"
    raw = repr((scope, tuple(group_bys), period, options, get_language()))
    return f"stats:{CACHE_VERSION}:{hashlib.sha256(raw.encode()).hexdigest()}"


def resolution_stats(
    queryset: QuerySet,
    *,
    group_by: str,
    period: Period | None = None,
    options: Options | None = None,
) -> StatsResult:
    """The overall figures and one row per group, for one scope and period, from the cache
    (the statistics API); see ``cached_breakdowns``."""
    return cached_breakdowns(queryset, [group_by], period=period, options=options)[group_by]


def ranking(
    result: StatsResult, *, size: int = 10
) -> tuple[list[tuple[int, GroupRow]], list[tuple[int, GroupRow]]]:
    """红黑榜 of departments: (red list, black list) as (rank, row), best first / worst first.

    Ranked by resolution rate, then on-time rate, then volume; departments with fewer than
    ``ranking_min_taken_in`` tickets taken in are not ranked. The two lists never overlap.
    """
    minimum = max(result.options.ranking_min_taken_in, 1)
    ranked = [
        row for row in result.rows if row.key is not None and row.figures.counts.taken_in >= minimum
    ]

    def sort_key(row: GroupRow):
        resolution = row.figures.resolution_rate.value
        on_time = row.figures.on_time_rate.value
        return (
            -(resolution if resolution is not None else Decimal(-1)),
            -(on_time if on_time is not None else Decimal(-1)),
            -row.figures.counts.taken_in,
            str(row.label),
        )

    ranked.sort(key=sort_key)
    numbered = list(enumerate(ranked, start=1))
    red_size = min(size, (len(numbered) + 1) // 2)
    red = numbered[:red_size]
    black = list(reversed(numbered[red_size:]))[:size]
    return red, black


def scope_label(user) -> str:
    """What ``department_slice(user)`` covers, in words: "全市" or the departments' names."""
    actor = actor_for(user)
    if actor.sees_everything:
        return gettext("全市")
    if actor.department_ids:
        names = Department.objects.filter(pk__in=actor.department_ids).values_list(
            "name", flat=True
        )
        return "、".join(names)
    return gettext("无")
