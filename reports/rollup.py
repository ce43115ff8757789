"""Stored month-by-month counts of the whole city, so city-wide figures need not read every
ticket.

Why: the city's figures over 1,000,000 tickets cost ~0.7 s of aggregation however the query is
written — every row is read and deformed (bench/README.md, statistics) — while the counts of
a past month rarely change. ``build`` stores the additive counts (reports.cube.Counts, all but
``overdue``, which depends on the instant asked about) of every month, department, kind,
district, level and chain: ~13,000 rows for a million tickets. ``cube`` sums them and counts
live only what they cannot answer.

Exactness. Every change to a ticket writes a TicketEvent in the same transaction (the
workflow and the sweeps; the admin edits no ticket field directly). ``build`` first takes a
SHARE lock on the events table for as long as ``SELECT max(id)`` takes: the lock waits until
every transaction that has inserted an event has ended, and holds new inserts back meanwhile,
so every event up to that id — the horizon — is committed before the counts are taken, in a
later statement. A month that holds a ticket with an event past the horizon, or a ticket past
the last one the build saw, has *changed*: ``cube`` counts its tickets live. Unchanged months
come from the stored counts, which are then exactly what the live query would give. The next
build (beat, every few minutes) folds the changed months back in.

Changes without an event that do not matter here: recompute_deadlines moves the deadlines of
open tickets only, which only ``overdue`` reads, and that is always counted live.

Not covered by events: an enterprise moving to another district (reports.signals drops the
rollup until the next build), and tickets written outside the workflow without an event while
a build runs (bulk loaders run offline). The options (which statuses count as taken in, …) are
part of the counts: once they change, the rollup is unused until rebuilt under them.

PostgreSQL only (the lock, and the scale it is for); elsewhere every count is live. LOCK TABLE
in SHARE mode needs UPDATE, DELETE or TRUNCATE privilege on the events table: a role limited to
INSERT there makes every build fail (logged by Celery) and the figures simply stay live.
"""

from __future__ import annotations

import datetime as dt
import operator
import time
from collections import defaultdict
from collections.abc import Sequence
from functools import reduce

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from reports.cube import COUNT_FIELDS, Counts, Options, live_cube, normalise, overdue_q
from reports.models import MonthlyCounts, RollupState
from reports.periods import (
    SHANGHAI,
    Period,
    add_months,
    local_date,
    local_midnight,
    month_of_key,
)
from tickets.models import Ticket, TicketEvent

# The dimensions stored, and the MonthlyCounts column of each.
COLUMNS = {
    "month": "month",
    "department": "department_id",
    "kind": "kind",
    "district": "district_id",
    "level": "level",
    "chain": "chain_id",
}
STORED_COUNTS = tuple(name for name in COUNT_FIELDS if name != "overdue")
# pg_try_advisory_lock key: one build at a time (beat may fire twice); the other one skips.
BUILD_LOCK_KEY = 0x57480001
# How long a build waits for event writers to finish before giving up (the next tick retries).
# New event inserts queue behind a waiting build, so keep it short.
HORIZON_LOCK_TIMEOUT = "3s"
INSERT_BATCH = 2000

Range = tuple[dt.datetime | None, dt.datetime | None]


# --- reading ---------------------------------------------------------------------------


def cube(
    queryset: QuerySet,
    dimensions: Sequence[str],
    *,
    options: Options,
    period: Period,
    now: dt.datetime,
) -> dict[tuple, Counts] | None:
    """The counts of ``reports.cube.live_cube`` from the stored months plus live counts of the
    rest, or None when the rollup cannot answer: not the whole city, not PostgreSQL, not built,
    or built under other options."""
    if connection.vendor != "postgresql" or not _whole_city(queryset):
        return None
    state = RollupState.objects.filter(pk=RollupState.SINGLETON_PK).first()
    if state is None or state.options != options.rollup_key():
        return None
    stored = _stored_months(state, period, changed_months(state))
    result: dict[tuple, Counts] = defaultdict(Counts)

    def add(part: dict[tuple, Counts]) -> None:
        for key, counts in part.items():
            result[key] += counts

    if stored:
        add(_stored_cube(stored, dimensions))
        add(_overdue_in(stored, queryset, dimensions, options=options, now=now))
    rest = _complement(period, stored)
    if rest:
        add(
            live_cube(
                queryset.filter(_within(rest)),
                dimensions,
                options=options,
                period=period,
                now=now,
            )
        )
    return dict(result)


def _overdue_in(
    months: list[dt.date],
    queryset: QuerySet,
    dimensions: Sequence[str],
    *,
    options: Options,
    now: dt.datetime,
) -> dict[tuple, Counts]:
    """The overdue count (it depends on ``now``, so it is never stored) of the tickets created
    in ``months``. Counted over every overdue ticket and kept by month here: with the months
    as a created_at condition PostgreSQL walks the created_at index through every ticket of
    those months (100 ms for four) instead of the partial overdue indexes (a few ms)."""
    added = "month" not in dimensions
    by_month = ["month", *dimensions] if added else list(dimensions)
    position = by_month.index("month")
    wanted = {f"{month:%Y-%m}" for month in months}
    counted = live_cube(
        queryset.filter(overdue_q(now)),
        by_month,
        options=options,
        period=Period(),
        now=now,
        only=("overdue",),
    )
    result: dict[tuple, Counts] = defaultdict(Counts)
    for key, counts in counted.items():
        if key[position] in wanted:
            result[key[1:] if added else key] += counts
    return result


def changed_months(state: RollupState) -> set[dt.date]:
    """First days of the months whose tickets changed since the build (see the module doc)."""
    by_event = _months_of(TicketEvent.objects.filter(pk__gt=state.event_horizon), "ticket__")
    by_ticket = _months_of(Ticket.objects.filter(pk__gt=state.ticket_horizon), "")
    return {local_date(month) for month in by_event.union(by_ticket)}


def _months_of(queryset: QuerySet, path_to_ticket: str) -> QuerySet:
    """The distinct local months in which the rows' tickets were created."""
    month = TruncMonth(f"{path_to_ticket}created_at", tzinfo=SHANGHAI)
    return queryset.annotate(month=month).values_list("month", flat=True).order_by().distinct()


def _whole_city(queryset: QuerySet) -> bool:
    query = queryset.query
    return queryset.model is Ticket and not query.where and not query.is_sliced


def _stored_months(state: RollupState, period: Period, changed: set[dt.date]) -> list[dt.date]:
    """The built months wholly inside the period that have not changed since."""
    months = []
    for iso in state.months:
        month = dt.date.fromisoformat(iso)
        start, end = _bounds(month)
        inside = (period.start is None or period.start <= start) and (
            period.end is None or end <= period.end
        )
        if inside and month not in changed:
            months.append(month)
    return sorted(months)


def _bounds(month: dt.date) -> Range:
    """The month's first instant and the next month's, in Asia/Shanghai."""
    return local_midnight(month), local_midnight(add_months(month, 1))


def _month_ranges(months: list[dt.date]) -> list[Range]:
    """Consecutive months merged into half-open instant ranges."""
    ranges: list[Range] = []
    for month in months:
        start, end = _bounds(month)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _complement(period: Period, stored: list[dt.date]) -> list[Range]:
    """The parts of the period outside the stored months (None: unbounded)."""
    rest: list[Range] = []
    cursor = period.start
    for start, end in _month_ranges(stored):
        if cursor is None or cursor < start:
            rest.append((cursor, start))
        cursor = end
    if cursor is None or period.end is None or cursor < period.end:
        rest.append((cursor, period.end))
    return rest


def _within(ranges: list[Range]) -> Q:
    """Created within any of the ranges (an unbounded range: everything)."""
    conditions = []
    for start, end in ranges:
        bounds = {}
        if start is not None:
            bounds["created_at__gte"] = start
        if end is not None:
            bounds["created_at__lt"] = end
        if not bounds:
            return Q()
        conditions.append(Q(**bounds))
    return reduce(operator.or_, conditions)


def _stored_cube(months: list[dt.date], dimensions: Sequence[str]) -> dict[tuple, Counts]:
    columns = [COLUMNS[dim] for dim in dimensions]
    rows = (
        MonthlyCounts.objects.filter(month__in=months)
        .order_by()
        .values(*columns)
        .annotate(**{f"sum_{name}": Sum(name) for name in STORED_COUNTS})
    )
    result: dict[tuple, Counts] = {}
    for row in rows:
        key = tuple(normalise(dim, row[COLUMNS[dim]]) for dim in dimensions)
        counts = Counts(**{name: row[f"sum_{name}"] for name in STORED_COUNTS})
        result[key] = result.get(key, Counts()) + counts
    return result


# --- building --------------------------------------------------------------------------


def build(*, options: Options | None = None, now: dt.datetime | None = None) -> RollupState | None:
    """Recount every month and replace the stored counts in one transaction (readers see the
    old counts until it commits). Returns the new state; None when another build is running or
    the database is not PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    options = options or Options.load()
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [BUILD_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
    try:
        started = time.monotonic()
        event_horizon, ticket_horizon = _horizons()
        with transaction.atomic():
            counted = live_cube(
                Ticket.objects.all(),
                list(COLUMNS),
                options=options,
                period=Period(),
                now=now,
                only=STORED_COUNTS,
            )
            MonthlyCounts.objects.all().delete()
            MonthlyCounts.objects.bulk_create(
                (_row(key, counts) for key, counts in counted.items()), batch_size=INSERT_BATCH
            )
            months = sorted({key[0] for key in counted if key[0] is not None})
            state, _created = RollupState.objects.update_or_create(
                pk=RollupState.SINGLETON_PK,
                defaults={
                    "event_horizon": event_horizon,
                    "ticket_horizon": ticket_horizon,
                    "options": options.rollup_key(),
                    "months": [f"{month}-01" for month in months],
                    "built_at": now,
                    "build_seconds": round(time.monotonic() - started, 3),
                    "rows": len(counted),
                },
            )
        return state
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [BUILD_LOCK_KEY])


def _horizons() -> tuple[int, int]:
    """(last event id, last ticket id), every event up to the first committed (module doc)."""
    events = connection.ops.quote_name(TicketEvent._meta.db_table)
    tickets = connection.ops.quote_name(Ticket._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{HORIZON_LOCK_TIMEOUT}'")
        cursor.execute(f"LOCK TABLE {events} IN SHARE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {events}")
        event_horizon = cursor.fetchone()[0]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {tickets}")
        ticket_horizon = cursor.fetchone()[0]
    return event_horizon, ticket_horizon


def _row(key: tuple, counts: Counts) -> MonthlyCounts:
    month, department, kind, district, level, chain = key
    return MonthlyCounts(
        month=month_of_key(month),
        department_id=_int(department),
        kind=kind,
        district_id=_int(district),
        level=level,
        chain_id=_int(chain),
        **{name: getattr(counts, name) for name in STORED_COUNTS},
    )


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def drop() -> None:
    """Forget the stored counts: every figure is live until the next build."""
    RollupState.objects.filter(pk=RollupState.SINGLETON_PK).delete()
