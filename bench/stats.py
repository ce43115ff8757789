"""Statistics benchmark (run by hand, PostgreSQL): the live counts beside hand-written SQL,
the dashboard and the stats API cold and warm.

    .venv/bin/python bench/stats.py [--tickets 1000000] [--enterprises 100000] [--runs 9] [--keep]
                                    [--cache-url redis://127.0.0.1:6379/N]

Uses its own database (default weihai_bench_stats): dropped and re-created (unless --keep finds
it already filled), migrated, reference data loaded, then filled by the demo generator
(`seed_demo --enterprises N --tickets M`; `--generator sql` fills it with a plain
INSERT … SELECT generate_series instead). Then, after a warm-up, it times (median of --runs):

1. ``reports.stats.breakdowns(department_slice(coordinator), ["department"])`` — the live
   count every cache miss and every scheduled report runs: two GROUP BY queries, the
   department names and the Python that labels the rows — alternated with
2. a hand-written SQL ``GROUP BY department_id`` computing the same twelve counts, fetched with
   a plain cursor (checked to give the same numbers first);
3. the whole dashboard page (``/admin/dashboard/``, test client, a superuser, the default last
   12 months) and the stats API (``/api/v1/stats/resolution/?group_by=department``), each cold
   (statistics cache cleared before every request) and warm (the figures cached);
4. for information: the dashboard of the busiest department's staff (cold / warm), and the
   by-department figures of the last complete month (the monthly report's query, live).

The cache is Django's default (per-process memory) unless --cache-url points at a Redis
database, which the run flushes. With --month-statistics it first creates (in the bench
database only) the extended statistics on the month expression discussed in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
parser.add_argument("--database", default="weihai_bench_stats")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--tickets", type=int, default=1_000_000)
parser.add_argument("--enterprises", type=int, default=100_000)
parser.add_argument("--runs", type=int, default=9, help="timed runs of each query")
parser.add_argument("--keep", action="store_true", help="reuse the database if it is filled")
parser.add_argument("--cache-url", default="", help="a Redis database for the cache (flushed)")
parser.add_argument(
    "--month-statistics",
    action="store_true",
    help="first create the extended statistics on the month expression (see bench/README.md)",
)
parser.add_argument(
    "--generator",
    choices=["seed_demo", "sql"],
    default="seed_demo",
    help="fill with the demo generator (default) or with a plain INSERT … SELECT generate_series",
)
args = parser.parse_args()

os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.database}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DOTENV_FILE", "")
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["CACHE_URL"] = args.cache_url
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weihai.settings")

import psycopg  # noqa: E402

admin_dsn = f"postgresql://postgres@{args.host}:5432/postgres"
with psycopg.connect(admin_dsn, autocommit=True) as admin:
    exists = admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
    ).fetchone()
    if exists and not args.keep:
        admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
        exists = None
    if not exists:
        admin.execute(f'CREATE DATABASE "{args.database}"')

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from enterprises.models import Department, DepartmentMembership  # noqa: E402
from reports.periods import Period, last_complete_month  # noqa: E402
from reports.stats import COUNT_FIELDS, Options, breakdowns  # noqa: E402
from tickets.actors import actor_for  # noqa: E402
from tickets.calendar import SHANGHAI  # noqa: E402
from tickets.models import Ticket  # noqa: E402
from tickets.selectors import department_slice  # noqa: E402

# The instant the data is seeded as of and the dashboard is read at.
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)

# The same twelve counts as reports.stats, written by hand (default options: basically
# solved counts, withdrawn is not taken in, satisfied = 4–5).
BASELINE = """
SELECT department_id,
       COUNT(*) AS taken_in,
       COUNT(*) FILTER (WHERE outcome IN ('solved', 'basically_solved')) AS resolved,
       COUNT(*) FILTER (WHERE outcome IN ('solved', 'basically_solved')
                          AND resolved_at <= resolve_due_at) AS on_time,
       COUNT(*) FILTER (WHERE satisfaction IS NOT NULL) AS rated,
       COUNT(*) FILTER (WHERE satisfaction >= 4) AS satisfied,
       COUNT(*) FILTER (WHERE return_count > 0) AS returned,
       COUNT(*) FILTER (WHERE reopen_count > 0) AS reopened,
       COUNT(*) FILTER (WHERE escalation_count > 0) AS escalated,
       COUNT(*) FILTER (WHERE (status = 'assigned' AND accept_due_at < %(now)s)
                           OR (status = 'in_progress' AND resolve_due_at < %(now)s)) AS overdue,
       COUNT(*) FILTER (WHERE supervised) AS supervised,
       COUNT(*) FILTER (WHERE level IN ('city', 'leader')) AS city_level,
       COUNT(*) FILTER (WHERE level IN ('city', 'leader')
                          AND outcome IN ('solved', 'basically_solved')) AS city_level_resolved
  FROM tickets_ticket
 WHERE status <> 'withdrawn'
 GROUP BY department_id
"""


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def fill() -> None:
    count = Ticket.objects.count() if args.keep else 0
    if count >= args.tickets:
        step(f"reusing {count:,} tickets in {args.database}")
        return
    step("migrate + load_reference_data")
    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    started = time.perf_counter()
    if args.generator == "seed_demo":
        step(f"seed_demo --enterprises {args.enterprises:,} --tickets {args.tickets:,}")
        call_command(
            "seed_demo",
            enterprises=args.enterprises,
            tickets=args.tickets,
            now=NOW.isoformat(),
            reset=True,
        )
    else:
        generate_sql()
    step(f"filled in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")


# --- the plain SQL generator ---------------------------------------------------------------

# Per-row random draws, then the status and outcome they decide (a year of tickets before NOW:
# ~65% resolved or closed, ~13% in progress, 6% awaiting acceptance, 2% withdrawn …).
TICKET_ROWS = """
WITH s AS (
    SELECT g, %(now)s::timestamptz - random() * interval '365 days' AS created,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
      FROM generate_series(%(first)s, %(last)s) AS g
), d AS (
    SELECT s.*,
           CASE WHEN r1 < 0.55 THEN 'closed' WHEN r1 < 0.65 THEN 'resolved'
                WHEN r1 < 0.78 THEN 'in_progress' WHEN r1 < 0.84 THEN 'assigned'
                WHEN r1 < 0.86 THEN 'on_hold' WHEN r1 < 0.87 THEN 'pending_review'
                WHEN r1 < 0.88 THEN 'returned' WHEN r1 < 0.89 THEN 'submitted'
                WHEN r1 < 0.91 THEN 'withdrawn' ELSE 'closed' END AS status
      FROM s
), e AS (
    SELECT d.*,
           CASE WHEN status IN ('closed', 'resolved') THEN
                     CASE WHEN r2 < 0.6 THEN 'solved' WHEN r2 < 0.88 THEN 'basically_solved'
                          ELSE 'explained' END
                WHEN status = 'pending_review' THEN 'explained' ELSE '' END AS outcome
      FROM d
)
"""
TICKET_COLUMNS = {
    "number": "'WH-B-' || lpad(g::text, 9, '0')",
    "enterprise_id": "(%(enterprises)s::bigint[])[1 + (g::bigint * 7919) %% %(n_enterprises)s]",
    "kind": "(ARRAY['difficulty', 'technology', 'funding', 'supply_chain'])[1 + g %% 4]",
    "title": "'基准诉求 ' || g",
    "description": "'用于统计基准测试的诉求，内容长度接近真实诉求的描述。'",
    "status": "status",
    "outcome": "outcome",
    "level": "CASE WHEN r4 < 0.8 THEN 'district' WHEN r4 < 0.95 THEN 'city' ELSE 'leader' END",
    "department_id": "CASE WHEN status IN ('submitted', 'withdrawn') THEN NULL"
    " ELSE (%(departments)s::bigint[])[1 + (g::bigint * 31) %% %(n_departments)s] END",
    "created_at": "created",
    "updated_at": "created",
    "resolved_at": "CASE WHEN outcome <> '' THEN created + r3 * interval '20 days' END",
    "closed_at": "CASE WHEN status = 'closed' THEN created + r3 * interval '20 days'"
    " + interval '1 day' END",
    "held_at": "CASE WHEN status = 'on_hold' THEN created + interval '1 day' END",
    "accept_due_at": "created + interval '1 day'",
    "resolve_due_at": "CASE WHEN status NOT IN ('submitted', 'assigned', 'withdrawn',"
    " 'returned') THEN created + interval '12 days' END",
    "satisfaction": "CASE WHEN status = 'closed' AND r5 < 0.7"
    " THEN 1 + (floor(r5 * 1000)::int %% 5) END",
    "return_count": "(r5 > 0.96)::int",
    "reopen_count": "(r3 > 0.98)::int",
    "escalation_count": "((r2 * 1000)::int %% 12 = 0)::int",
    "supervised": "r4 > 0.995",
}


def _fill_defaults(table: str, columns: dict) -> dict:
    """Every NOT NULL column without a database default gets a neutral value."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'",
            [table],
        )
        required = cursor.fetchall()
    neutral = {"boolean": "false", "integer": "0", "smallint": "0", "bigint": "0"}
    for name, data_type in required:
        columns.setdefault(name, neutral.get(data_type, "''"))
    return columns


def generate_sql(batch: int = 200_000) -> None:
    from enterprises.models import District, Enterprise

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_ticketevent, tickets_ticket CASCADE")
    if Enterprise.objects.count() < args.enterprises:
        step(f"{args.enterprises:,} enterprises with SQL")
        districts = list(District.objects.values_list("id", flat=True))
        columns = _fill_defaults(
            "enterprises_enterprise",
            {
                # Matches the USCC format constraint; the checksum is not checked by the DB.
                "uscc": "'91371002' || lpad(g::text, 10, '0')",
                "name": "'基准企业' || g",
                "district_id": "(%(districts)s::bigint[])[1 + g %% %(n)s]",
                "credit_grade": "(ARRAY['A', 'B', 'C', 'D'])[1 + g %% 4]",
                "created_at": "now()",
            },
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO enterprises_enterprise ({', '.join(columns)}) "
                f"SELECT {', '.join(columns.values())} FROM generate_series(1, %(count)s) AS g",
                {"districts": districts, "n": len(districts), "count": args.enterprises},
            )
    enterprises = list(Enterprise.objects.values_list("id", flat=True))
    departments = list(Department.objects.values_list("id", flat=True))
    columns = _fill_defaults("tickets_ticket", dict(TICKET_COLUMNS))
    sql = (
        f"{TICKET_ROWS} INSERT INTO tickets_ticket ({', '.join(columns)}) "
        f"SELECT {', '.join(columns.values())} FROM e"
    )
    for first in range(1, args.tickets + 1, batch):
        last = min(first + batch - 1, args.tickets)
        step(f"tickets {first:,}…{last:,} with SQL")
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "now": NOW,
                    "first": first,
                    "last": last,
                    "enterprises": enterprises,
                    "n_enterprises": len(enterprises),
                    "departments": departments,
                    "n_departments": len(departments),
                },
            )


# --- measuring ------------------------------------------------------------------------------


def coordinator():
    user, _created = get_user_model().objects.get_or_create(
        username="bench-stats-root", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def department_user(department: Department):
    user, _created = get_user_model().objects.get_or_create(
        username=f"bench-stats-{department.pk}", defaults={"is_staff": True}
    )
    DepartmentMembership.objects.get_or_create(user=user, department=department)
    return user


def ours(user, options: Options, period: Period | None = None) -> dict:
    result = breakdowns(
        department_slice(user), ["department"], period=period or Period(), now=NOW, options=options
    )["department"]
    return {
        (int(row.key) if row.key is not None else None): tuple(
            getattr(row.figures.counts, f) for f in COUNT_FIELDS
        )
        for row in result.rows
    }


def baseline() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(BASELINE, {"now": NOW})
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def page(user, url: str, params: dict | None = None):
    """A GET as ``user`` through the test client (session, middleware, view, template)."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def get() -> None:
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)

    return get


def cold(fn):
    def run() -> None:
        cache.clear()
        fn()

    return run


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def alternate(fn) -> tuple[list[float], list[float]]:
    """Warm up, then alternate ours and the baseline so that both see the same conditions."""
    timed(fn, 2)
    timed(baseline, 2)
    mine, theirs = [], []
    for _ in range(args.runs):
        mine += timed(fn, 1)
        theirs += timed(baseline, 1)
    return mine, theirs


def cold_and_warm(fn) -> tuple[list[float], list[float]]:
    """Alternating, after a warm-up: a request with the statistics cache cleared, then one
    that finds its figures cached."""
    cold(fn)()
    fn()
    cold_ms, warm_ms = [], []
    for _ in range(args.runs):
        cold_ms += timed(cold(fn), 1)
        warm_ms += timed(fn, 1)
    return cold_ms, warm_ms


MONTH_STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS tickets_ticket_created_month"
    " ON (date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai')) FROM tickets_ticket"
)


def main() -> None:
    fill()
    with connection.cursor() as cursor:
        if args.month_statistics:
            step("CREATE STATISTICS on the month expression + ANALYZE")
            cursor.execute(MONTH_STATISTICS)
        else:
            cursor.execute("DROP STATISTICS IF EXISTS tickets_ticket_created_month")
        cursor.execute("ANALYZE tickets_ticket")
    total = Ticket.objects.count()
    overdue = Ticket.objects.overdue(NOW).count()
    options = Options()  # the defaults the baseline hard-codes
    root = coordinator()
    actor_for(root)  # resolved once per request in real use
    busiest = (
        Ticket.objects.values("department_id")
        .exclude(department_id=None)
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    handler = department_user(Department.objects.get(pk=busiest["department_id"]))
    actor_for(handler)

    step(f"{total:,} tickets, {overdue:,} overdue at {NOW:%Y-%m-%d %H:%M}; checking the figures")
    mine, theirs = ours(root, options), baseline()
    assert mine == theirs, "reports.stats and the hand-written SQL disagree"
    step(f"{len(mine)} department groups agree; live count vs the hand-written SQL")
    live_ms, base_ms = alternate(lambda: ours(root, options))

    # The pages at the data's reference instant, so "the last 12 months" covers the data.
    with time_machine.travel(NOW, tick=True):
        step("dashboard (city), cold and warm")
        dash_cold, dash_warm = cold_and_warm(page(root, "/admin/dashboard/"))
        step("stats API (city, by department), cold and warm")
        api = page(root, "/api/v1/stats/resolution/", {"group_by": "department"})
        api_cold, api_warm = cold_and_warm(api)
        step(f"dashboard of one department's staff ({busiest['n']:,} tickets), cold and warm")
        slice_cold, slice_warm = cold_and_warm(page(handler, "/admin/dashboard/"))
    month = last_complete_month(NOW)
    month_count = Ticket.objects.filter(
        created_at__gte=month.start, created_at__lt=month.end
    ).count()
    month_ms = timed(lambda: ours(root, options, month), args.runs)

    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    med = statistics.median
    print()
    print(f"tickets {total:,}, overdue {overdue:,}; cache {settings.CACHES['default']['BACKEND']}")
    print(f"load average while measuring {load}; median of {args.runs} (ms)")
    print(
        f"| by department, city, live | {med(live_ms):.1f} | baseline {med(base_ms):.1f} |"
        f" {med(live_ms) / med(base_ms):.2f}× |"
    )
    for label, cold_ms, warm_ms in (
        ("dashboard, city, last 12 months", dash_cold, dash_warm),
        ("stats API, city, by department", api_cold, api_warm),
        (f"dashboard, one department ({busiest['n']:,})", slice_cold, slice_warm),
    ):
        print(f"| {label} | cold {med(cold_ms):.1f} | warm {med(warm_ms):.1f} |")
    print(f"| by department, last complete month ({month_count:,}), live | {med(month_ms):.1f} |")
    print(f"(runs) live     {[round(t) for t in live_ms]}")
    print(f"       baseline {[round(t) for t in base_ms]}")
    print(f"       dashboard cold {[round(t) for t in dash_cold]}")
    print(f"       dashboard warm {[round(t) for t in dash_warm]}")


if __name__ == "__main__":
    main()
