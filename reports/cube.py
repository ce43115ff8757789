"""The counts behind the 三率, grouped in the database: options, additive counts, the live
GROUP BY query over the tickets. reports.rollup answers the same questions from stored
monthly counts; reports.stats labels and presents them. Definitions: see reports.stats."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from enterprises.models import Tier
from reports.models import StatsConfig
from reports.periods import SHANGHAI, Period
from tickets.models import Outcome, Status

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

    def rollup_key(self) -> dict:
        """The options that change the counts themselves (as_dict without the target; the
        statuses in a fixed order): stored counts answer only for the same key."""
        key = self.as_dict()
        del key["target"]
        key["taken_in_excludes"].sort()
        return key

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

# --- the live query -------------------------------------------------------------------------

# Dimension → the expression grouped on. Month is the calendar month in Asia/Shanghai.
_DIMENSIONS = {
    "department": lambda: F("department_id"),
    "kind": lambda: F("kind"),
    "district": lambda: F("enterprise__district_id"),
    "level": lambda: F("level"),
    "chain": lambda: F("chain_id"),
    "month": lambda: TruncMonth("created_at", tzinfo=SHANGHAI),
}


def overdue_q(now: dt.datetime) -> Q:
    """Open tickets past the deadline of their current step (as Ticket.is_overdue)."""
    return Q(status=Status.ASSIGNED, accept_due_at__lt=now) | Q(
        status=Status.IN_PROGRESS, resolve_due_at__lt=now
    )


def taken_in(queryset: QuerySet, *, options: Options, period: Period) -> QuerySet:
    """The tickets the figures count: created in the period, status not excluded."""
    if options.taken_in_excludes:
        queryset = queryset.exclude(status__in=options.taken_in_excludes)
    if period.start:
        queryset = queryset.filter(created_at__gte=period.start)
    if period.end:
        queryset = queryset.filter(created_at__lt=period.end)
    return queryset


def aggregates(options: Options, now: dt.datetime, *, only: Sequence[str] = COUNT_FIELDS) -> dict:
    """COUNT(...) FILTER (WHERE ...) for each of ``only`` (default: every count)."""
    resolved = Q(outcome__in=options.resolved_outcomes)
    city_level = Q(level__in=[Tier.CITY, Tier.LEADER])
    every = {
        "taken_in": Count("pk"),
        "resolved": Count("pk", filter=resolved),
        "on_time": Count("pk", filter=resolved & Q(resolved_at__lte=F("resolve_due_at"))),
        "rated": Count("pk", filter=Q(satisfaction__isnull=False)),
        "satisfied": Count("pk", filter=Q(satisfaction__gte=options.satisfied_min_score)),
        "returned": Count("pk", filter=Q(return_count__gt=0)),
        "reopened": Count("pk", filter=Q(reopen_count__gt=0)),
        "escalated": Count("pk", filter=Q(escalation_count__gt=0)),
        "overdue": Count("pk", filter=overdue_q(now)),
        "supervised": Count("pk", filter=Q(supervised=True)),
        "city_level": Count("pk", filter=city_level),
        "city_level_resolved": Count("pk", filter=city_level & resolved),
    }
    return {name: every[name] for name in only}


def live_cube(
    queryset: QuerySet,
    dimensions: Sequence[str],
    *,
    options: Options,
    period: Period,
    now: dt.datetime,
    only: Sequence[str] = COUNT_FIELDS,
) -> dict[tuple, Counts]:
    """One GROUP BY query over the tickets: {(key per dimension, …): Counts}, the counts not
    in ``only`` left at 0. Keys are normalised: ids as strings, months as "YYYY-MM", None for
    tickets without a department or chain."""
    unknown = set(dimensions) - set(_DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown dimension(s): {', '.join(sorted(unknown))}")
    names = {dim: f"g_{dim}" for dim in dimensions}
    rows = (
        taken_in(queryset, options=options, period=period)
        .order_by()
        .values(**{names[dim]: _DIMENSIONS[dim]() for dim in dimensions})
        .annotate(**aggregates(options, now, only=only))
    )
    cube: dict[tuple, Counts] = {}
    for row in rows:
        key = tuple(normalise(dim, row[names[dim]]) for dim in dimensions)
        cube[key] = cube.get(key, Counts()) + Counts(**{name: row[name] for name in only})
    return cube


def normalise(dimension: str, value) -> str | None:
    if value is None:
        return None
    if dimension == "month":
        # A datetime from TruncMonth, or the date a stored month is kept under.
        if isinstance(value, dt.datetime):
            value = value.astimezone(SHANGHAI)
        return f"{value:%Y-%m}"
    return str(value)


def marginal(cube: dict[tuple, Counts], position: int) -> dict[str | None, Counts]:
    """Sum a cube's counts over every dimension but the one at ``position``."""
    result: dict[str | None, Counts] = defaultdict(Counts)
    for key, counts in cube.items():
        result[key[position]] += counts
    return dict(result)
