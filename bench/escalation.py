"""Escalation sweep benchmark (run by hand, PostgreSQL).

    .venv/bin/python bench/escalation.py [--tickets 1000000] [--overdue 10000]

Builds its own database (default weihai_bench_escalation, dropped and re-created), loads the
reference data, generates tickets with SQL (generate_series), then measures in one run:

1. the sweep with nothing due at 100,000 tickets and at 1,000,000 tickets (median of many
   runs) — it must not grow with the table;
2. the sweep over 10,000 overdue tickets (every one escalated district → city, one event
   each) beside a raw-SQL baseline doing the same updates and event inserts in one
   set-based statement, alternating, each from the same restored starting state.

Prints the figures and the ratio ours / baseline. Besides wall-clock time it prints the CPU
time each round used, in this process (Python) and in the server backend (read from
/proc/<backend pid>/stat, so only when the server runs on this machine): on a busy machine
wall-clock time swings by 2× between rounds, CPU time much less. A last, separate round
times the parts of the sweep: its statements by kind (through Django's execute_wrapper),
the COMMITs, and the Python around them.
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
parser.add_argument("--database", default="weihai_bench_escalation")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--tickets", type=int, default=1_000_000)
parser.add_argument("--small", type=int, default=100_000, help="size of the first zero-due probe")
parser.add_argument("--overdue", type=int, default=10_000)
parser.add_argument("--rounds", type=int, default=3, help="alternating sweep/baseline rounds")
parser.add_argument("--keep", action="store_true", help="reuse the database if it exists")
parser.add_argument("--batch", type=int, help="override tickets.escalation.BATCH_SIZE")
parser.add_argument("--no-breakdown", action="store_true", help="skip the timed-parts round")
args = parser.parse_args()

os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.database}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DOTENV_FILE", "")
os.environ["CELERY_BROKER_URL"] = "memory://"
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

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from enterprises import uscc  # noqa: E402
from enterprises.models import Department, District, Enterprise, Tier  # noqa: E402
from tickets import escalation  # noqa: E402
from tickets.calendar import SHANGHAI  # noqa: E402
from tickets.sla import load_sla  # noqa: E402

# A Wednesday in an ordinary week of 2026 (inside the calendar's data).
NOW = dt.datetime(2026, 6, 17, 10, 0, tzinfo=SHANGHAI)
DUE = NOW - dt.timedelta(hours=1)  # the overdue tickets' deadline and escalate_at
EARLIER = NOW - dt.timedelta(hours=2)  # a sweep at this instant finds nothing due
ENTERPRISES = 2_000


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def setup_schema() -> None:
    step("migrate + load_reference_data")
    call_command("migrate", verbosity=0)
    call_command("load_reference_data", verbosity=0)
    if not Enterprise.objects.exists():
        districts = list(District.objects.all())
        Enterprise.objects.bulk_create(
            Enterprise(
                uscc=uscc.make(f"91371002{i:09d}"),
                name=f"基准测试企业{i}",
                district=districts[i % len(districts)],
                credit_grade="ABCD"[i % 4],
            )
            for i in range(ENTERPRISES)
        )


INSERT = """
INSERT INTO tickets_ticket (
    number, enterprise_id, kind, title, description, category, status, level, department_id,
    outcome, outcome_note, created_at, updated_at, assigned_at, accepted_at, resolved_at,
    closed_at, accept_due_at, resolve_due_at, escalate_at, clock_started_at, sla_stage,
    paused_seconds, extension_days, return_count, reopen_count, escalation_count, supervised,
    satisfaction_note, idempotency_key, request_fingerprint)
SELECT
    'WH-2026-' || lpad(g::text, 7, '0'),
    (%(enterprises)s::bigint[])[1 + g %% cardinality(%(enterprises)s::bigint[])],
    (ARRAY['difficulty','technology','funding','supply_chain'])[1 + g %% 4],
    '基准诉求 ' || g, '用于升级巡检基准测试的诉求。', '',
    CASE WHEN g %% %(stride)s = 0 AND g / %(stride)s <= %(overdue)s THEN 'in_progress'
         WHEN g %% 10 = 1 THEN 'in_progress' ELSE 'closed' END,
    'district',
    (%(departments)s::bigint[])[1 + g %% cardinality(%(departments)s::bigint[])],
    CASE WHEN g %% %(stride)s = 0 AND g / %(stride)s <= %(overdue)s THEN ''
         WHEN g %% 10 = 1 THEN '' ELSE 'solved' END,
    '', %(created)s, %(created)s, %(created)s, %(created)s,
    CASE WHEN g %% 10 <> 1 AND NOT (g %% %(stride)s = 0 AND g / %(stride)s <= %(overdue)s)
         THEN %(created)s END,
    CASE WHEN g %% 10 <> 1 AND NOT (g %% %(stride)s = 0 AND g / %(stride)s <= %(overdue)s)
         THEN %(created)s END,
    %(created)s,
    CASE WHEN g %% %(stride)s = 0 AND g / %(stride)s <= %(overdue)s THEN %(due)s
         ELSE %(later)s END,
    CASE WHEN g %% %(stride)s = 0 AND g / %(stride)s <= %(overdue)s THEN %(due)s
         WHEN g %% 10 = 1 THEN %(later)s END,
    %(created)s, 1, 0, 0, 0, 0, 0, false, '', '', ''
FROM generate_series(%(first)s, %(last)s) AS g
"""


def generate(first: int, last: int, overdue: int, stride: int) -> None:
    step(f"generating tickets {first:,}…{last:,} with SQL")
    started = time.perf_counter()
    departments = list(Department.objects.filter(tier=Tier.DISTRICT).values_list("id", flat=True))
    enterprises = list(Enterprise.objects.values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            {
                "enterprises": enterprises,
                "departments": departments,
                "stride": stride,
                "overdue": overdue,
                "created": NOW - dt.timedelta(days=20),
                "due": DUE,
                "later": NOW + dt.timedelta(days=30),
                "first": first,
                "last": last,
            },
        )
        cursor.execute("ANALYZE tickets_ticket")
    print(f"    {last - first + 1:,} rows in {time.perf_counter() - started:.1f}s")


def zero_due_probe(label: str, runs: int = 30) -> float:
    escalation.escalate_overdue(now=EARLIER, notify=False)  # warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = escalation.escalate_overdue(now=EARLIER, notify=False)
        times.append(time.perf_counter() - started)
        assert result.total == 0
    median = statistics.median(times) * 1000
    print(f"    nothing due at {label}: median {median:.2f} ms over {runs} sweeps")
    return median


def snapshot() -> int:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_overdue")
        cursor.execute(
            "CREATE TABLE bench_overdue AS SELECT * FROM tickets_ticket WHERE escalate_at <= %s",
            [NOW],
        )
        cursor.execute("SELECT count(*) FROM bench_overdue")
        return cursor.fetchone()[0]


RESTORED = [
    "status",
    "level",
    "department_id",
    "assigned_at",
    "accepted_at",
    "accept_due_at",
    "resolve_due_at",
    "escalate_at",
    "clock_started_at",
    "sla_stage",
    "paused_seconds",
    "extension_days",
    "extension_requested_days",
    "escalation_count",
    "updated_at",
]


def restore() -> None:
    assignments = ", ".join(f"{c} = s.{c}" for c in RESTORED)
    with connection.cursor() as cursor:
        # Events are append-only (a trigger refuses DELETE); TRUNCATE is the sanctioned reset.
        cursor.execute("TRUNCATE tickets_ticketevent CASCADE")
        cursor.execute(
            f"UPDATE tickets_ticket t SET {assignments} FROM bench_overdue s WHERE t.id = s.id"
        )
        cursor.execute("VACUUM ANALYZE tickets_ticket")


BASELINE = """
WITH due AS (
    SELECT t.id, t.status, t.department_id, t.escalate_at, d.escalates_to_id AS target
    FROM tickets_ticket t JOIN enterprises_department d ON d.id = t.department_id
    WHERE t.escalate_at <= %(now)s AND t.status = 'in_progress' AND t.resolve_due_at <= %(now)s
      AND d.tier = 'district'
    ORDER BY t.escalate_at, t.id
    FOR UPDATE OF t SKIP LOCKED
), moved AS (
    UPDATE tickets_ticket t SET
        status = 'assigned', department_id = due.target, level = 'city',
        assigned_at = %(now)s, accepted_at = NULL, clock_started_at = %(now)s,
        paused_seconds = 0, extension_days = 0, extension_requested_days = NULL,
        accept_due_at = %(accept_due)s, resolve_due_at = %(resolve_due)s,
        escalate_at = %(accept_due)s, sla_stage = 0,
        escalation_count = t.escalation_count + 1, updated_at = %(now)s
    FROM due WHERE t.id = due.id
    RETURNING t.id, due.status AS from_status, due.department_id AS from_department,
              due.target, due.escalate_at
)
INSERT INTO tickets_ticketevent (ticket_id, action, from_status, to_status,
    from_department_id, to_department_id, level, note, created_at, breach_key)
SELECT id, 'escalate', from_status, 'assigned', from_department, target, 'city',
       '超过办结时限，升级', %(now)s,
       'escalate@' || to_char(escalate_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
FROM moved
"""


def cpu_seconds() -> tuple[float, float | None]:
    """CPU seconds used so far by this process and by the server backend (None when the
    backend's /proc entry cannot be read, e.g. a remote server)."""
    own = os.times()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        server = None
    return own.user + own.system, server


def measured(run):
    """Run one round: (wall seconds, count, python cpu seconds, server cpu seconds|None)."""
    python0, server0 = cpu_seconds()
    seconds, count = run()
    python1, server1 = cpu_seconds()
    server = server1 - server0 if server0 is not None and server1 is not None else None
    return seconds, count, python1 - python0, server


def run_ours() -> tuple[float, int]:
    started = time.perf_counter()
    result = escalation.escalate_overdue(now=NOW, notify=False)
    return time.perf_counter() - started, result.counts["escalate"]


def run_baseline() -> tuple[float, int]:
    sla = load_sla(fresh=True)
    started = time.perf_counter()
    # The same deadline arithmetic the sweep does once per (kind, level): city level has
    # the same policy for all four kinds in the reference data.
    accept_due, resolve_due = sla.assignment_deadlines("difficulty", Tier.CITY, NOW)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            BASELINE,
            {"now": NOW, "accept_due": accept_due, "resolve_due": resolve_due},
        )
        count = cursor.rowcount
    return time.perf_counter() - started, count


def _part(sql: str) -> str:
    if "FOR UPDATE" in sql:
        return "lock + fetch (SELECT … FOR UPDATE SKIP LOCKED)"
    if sql.startswith('INSERT INTO "tickets_ticketevent"'):
        return "events (one bulk INSERT per batch)"
    if sql.startswith('UPDATE "tickets_ticket"'):
        return "tickets (one UPDATE per group of equal changes)"
    return "other statements"


def breakdown(overdue: int) -> dict[str, float]:
    """One more sweep with its statements and COMMITs timed."""
    parts: dict[str, float] = {}

    def add(label: str, started: float) -> None:
        parts[label] = parts.get(label, 0.0) + time.perf_counter() - started

    def timed_statement(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            add(_part(sql), started)

    real_commit = connection.commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return real_commit()
        finally:
            add("COMMIT (deferred FK checks)", started)

    connection.commit = timed_commit
    try:
        with connection.execute_wrapper(timed_statement):
            seconds, count = run_ours()
    finally:
        del connection.commit  # back to the class's method
    assert count == overdue, (count, overdue)
    parts["Python (planning, building events and queries)"] = seconds - sum(parts.values())
    parts["total"] = seconds
    return parts


def cpu_text(python: float, server: float | None) -> str:
    server_text = f"{server:.2f}" if server is not None else "?"
    return f"cpu: python {python:.2f} + server {server_text}"


def main() -> None:
    if args.batch:
        escalation.BATCH_SIZE = args.batch
    print(f"sweep batch size {escalation.BATCH_SIZE}")
    print(
        f"database {args.database}; PostgreSQL {connection.cursor().connection.info.server_version}"
    )
    setup_schema()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_ticketevent, tickets_ticket CASCADE")
    stride = max(1, args.tickets // args.overdue) if args.overdue else 1
    small_overdue = args.small // stride if args.overdue else 0
    generate(1, args.small, small_overdue, stride)
    zero_small = zero_due_probe(f"{args.small:,} tickets")
    generate(args.small + 1, args.tickets, args.overdue, stride)
    zero_large = zero_due_probe(f"{args.tickets:,} tickets")
    overdue = snapshot()
    print(f"    {overdue:,} tickets overdue at {NOW.isoformat()}")

    ours, baseline = [], []
    for round_ in range(1, args.rounds + 1):
        seconds, count, python, server = measured(run_ours)
        assert count == overdue, (count, overdue)
        assert escalation.escalate_overdue(now=NOW, notify=False).total == 0
        ours.append((seconds, python, server))
        restore()
        seconds, count, python, server = measured(run_baseline)
        assert count == overdue, (count, overdue)
        baseline.append((seconds, python, server))
        restore()
        print(
            f"    round {round_}: sweep {ours[-1][0]:.3f}s ({cpu_text(*ours[-1][1:])}), "
            f"raw SQL {baseline[-1][0]:.3f}s ({cpu_text(*baseline[-1][1:])})"
        )
    if not args.no_breakdown:
        print("    parts of one more sweep:")
        for label, seconds in breakdown(overdue).items():
            print(f"      {label}: {seconds:.3f}s")
        restore()

    ours_median = statistics.median(r[0] for r in ours)
    base_median = statistics.median(r[0] for r in baseline)
    print()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| tickets in the table | {args.tickets:,} |")
    print(f"| sweep, nothing due, {args.small:,} tickets (median) | {zero_small:.2f} ms |")
    print(f"| sweep, nothing due, {args.tickets:,} tickets (median) | {zero_large:.2f} ms |")
    print(f"| sweep, {overdue:,} escalations (median of {args.rounds}) | {ours_median:.3f} s |")
    print(f"| raw SQL baseline, same work (median of {args.rounds}) | {base_median:.3f} s |")
    print(f"| ratio sweep / raw SQL | {ours_median / base_median:.2f}× |")
    for label, rounds in (("sweep", ours), ("raw SQL baseline", baseline)):
        python = statistics.median(r[1] for r in rounds)
        servers = [r[2] for r in rounds if r[2] is not None]
        server = f"{statistics.median(servers):.2f} s" if servers else "n/a"
        print(f"| {label}: CPU (median), Python / server backend | {python:.2f} s / {server} |")
    print(f"| per escalation | {ours_median / overdue * 1000:.3f} ms |")


if __name__ == "__main__":
    main()
