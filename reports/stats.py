"""三率 statistics against the target (DESIGN §5): reads only.

Every figure is a conditional ``COUNT(...) FILTER (WHERE ...)`` computed by the database,
grouped by one or more dimensions in a single query. Because every figure is a count, the
counts of a multi-dimension query roll up exactly into each single dimension and into the
overall row — summing at most a few thousand aggregate rows, never looping over tickets. The
dashboard uses that to get the overall, by-month, by-department and by-kind figures from one
scan of the tickets table. For the whole city on PostgreSQL the counts come from stored monthly
counts (reports.rollup) plus a live count of what changed since they were built — the same
numbers, without reading a million tickets.

Definitions (the options come from :class:`reports.models.StatsConfig`):

- taken in (受理): tickets created in the period whose status is not excluded (withdrawn by
  default). Every other figure counts among these tickets only.
- resolved (已解决): outcome solved, plus basically_solved when configured (default).
- resolution rate = resolved ÷ taken in.
- on-time rate = resolved with ``resolved_at <= resolve_due_at`` ÷ resolved (a ticket without a
  resolve deadline is not on time).
- satisfaction rate = scores ≥ ``satisfied_min_score`` (4) ÷ rated.
- returned / reopened / escalated: ``return_count`` / ``reopen_count`` / ``escalation_count`` > 0.
- overdue (当前超期) at ``now``: assigned past its accept deadline or in progress past its resolve
  deadline (same rule as ``Ticket.is_overdue``).
- city level (需市级层面解决): level city or leader; and how many of those are resolved.

A rate whose denominator is 0 has no value (``None``, shown as "—").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department, District, IndustryChain, Tier
from reports import rollup
from reports.cube import (  # noqa: F401  (re-exported: the statistics' public names)
    COUNT_FIELDS,
    Counts,
    Options,
    aggregates,
    live_cube,
    marginal,
    overdue_q,
    taken_in,
)
from reports.periods import Period, local_date, month_of_key, month_starts
from tickets.actors import actor_for
from tickets.models import Kind

GROUP_BY_CHOICES = [
    ("department", _("责任单位")),
    ("kind", _("清单类别")),
    ("district", _("区市")),
    ("level", _("层级")),
    ("chain", _("产业链")),
    ("month", _("月份")),
]
GROUP_BYS = tuple(value for value, _label in GROUP_BY_CHOICES)

NO_DEPARTMENT_LABEL = _("（待分派）")
NO_CHAIN_LABEL = _("（未关联产业链）")


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


# --- the counts ------------------------------------------------------------------------


def count_cube(
    queryset: QuerySet,
    dimensions: Sequence[str],
    *,
    options: Options,
    period: Period,
    now: dt.datetime,
) -> dict[tuple, Counts]:
    """{(key per dimension, …): Counts} for a scope and period: from the monthly rollup where
    it can answer exactly (the whole city on PostgreSQL), otherwise one live GROUP BY."""
    cube = rollup.cube(queryset, dimensions, options=options, period=period, now=now)
    if cube is None:
        cube = live_cube(queryset, dimensions, options=options, period=period, now=now)
    return cube


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
    if group_by == "level":
        return [row(value, label) for value, label in Tier.choices]
    if group_by == "district":
        rows = [row(str(pk), name) for pk, name in District.objects.values_list("pk", "name")]
        return rows
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
        data_months = sorted(key for key in counts if key is not None)
        first = period.since or (month_of_key(data_months[0]) if data_months else None)
        last = period.until or local_date(now)
        if first is None:
            return []
        if data_months:
            last = max(last, month_of_key(data_months[-1]))
        return [
            row(
                f"{month:%Y-%m}",
                gettext("%(year)s年%(month)s月") % {"year": month.year, "month": month.month},
            )
            for month in month_starts(first, last)
        ]
    raise ValueError(f"unknown group_by {group_by!r}")


# --- entry points ----------------------------------------------------------------------


def breakdowns(
    queryset: QuerySet,
    group_bys: Sequence[str],
    *,
    period: Period | None = None,
    now: dt.datetime | None = None,
    options: Options | None = None,
) -> dict[str, StatsResult]:
    """Several breakdowns of one scope and period from one query (they share the overall).

    ``queryset`` is the scope — normally ``tickets.selectors.department_slice(user)``.
    """
    unknown = set(group_bys) - set(GROUP_BYS)
    if unknown:
        raise ValueError(f"unknown group_by: {', '.join(sorted(unknown))}")
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
                group_by, marginal(cube, position), period=period, now=now, target=options.target
            ),
        )
        for position, group_by in enumerate(group_bys)
    }


def resolution_stats(
    queryset: QuerySet,
    *,
    group_by: str,
    period: Period | None = None,
    now: dt.datetime | None = None,
    options: Options | None = None,
) -> StatsResult:
    """The overall figures and one row per group, for one scope and period."""
    return breakdowns(queryset, [group_by], period=period, now=now, options=options)[group_by]


def overall_figures(
    queryset: QuerySet,
    *,
    period: Period | None = None,
    now: dt.datetime | None = None,
    options: Options | None = None,
) -> Figures:
    period = period or Period()
    now = now or timezone.now()
    options = options or Options.load()
    cube = count_cube(queryset, ["kind"], options=options, period=period, now=now)
    return Figures(Counts.total(cube.values()), options.target)


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
