"""Synthetic city-scale data for benchmarks: `seed_demo --enterprises N --tickets M`.

Unlike the scenario (tickets.demo), these rows are not lived through the workflow: a million
tickets would take hours that way. They are made set-based, one INSERT … SELECT over
generate_series per table, with PostgreSQL's random(). The rows satisfy the database's
constraints and look like the workflow's: a year of needs, numbered per year in submission
order; most closed, recent ones open with deadlines ahead of the reference instant; exactly
`overdue` tickets past their resolve deadline, due for the sweep; each ticket has its submit
event and, once assigned, its route event. Deadlines are calendar-day approximations of the
SLA's working days (×1.4): plausible, not computed by the working calendar, so
`recompute_deadlines` would move them.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.db import connection, transaction
from django.db.models import Max

from enterprises import uscc
from enterprises.models import (
    Department,
    District,
    Enterprise,
    IndustryChain,
    IndustryCluster,
    Tier,
)
from tickets import effects
from tickets.demo import (
    DEFAULT_SEED,
    DIVISION_CODES,
    INDUSTRY_WORDS,
    NAME_HEADS,
    PLACE_NAMES,
    SeedError,
    SeedResult,
    reference_now,
    summarise,
)
from tickets.models import Ticket, TicketEvent, TicketNumberCounter
from tickets.sla import load_sla

WINDOW_DAYS = 365
CALENDAR_PER_WORKING_DAY = 1.4  # 7 calendar days hold about 5 working days

ENTERPRISES = """
SELECT %(first)s + i - 1 AS id, code AS uscc,
       (%(places)s::text[])[1 + (i - 1) %% %(n_districts)s]
         || substr(%(heads)s::text, (1 + (i * 7) %% 37)::int, 1)
         || substr(%(heads)s::text, (1 + (i * 13) %% 37)::int, 1)
         || (%(words)s::text[])[1 + i %% cardinality(%(words)s::text[])] || '有限公司' AS name,
       (%(districts)s::bigint[])[1 + (i - 1) %% %(n_districts)s] AS district_id,
       (%(clusters)s::bigint[])[1 + i %% cardinality(%(clusters)s::bigint[])] AS cluster_id,
       false AS is_chain_leader,
       CASE WHEN i %% 25 = 0 THEN 'leading' WHEN i %% 14 = 0 THEN 'following' ELSE '' END
           AS programme,
       (ARRAY['A', 'B', 'B', 'C', 'A', 'B', 'D', 'B', 'C', 'A'])[1 + i %% 10] AS credit_grade,
       '联系人' || i AS contact_name, '0631-' || (5000000 + i %% 4000000) AS contact_phone,
       'contact' || (%(first)s + i - 1) || '@enterprise.weihai.example' AS contact_email,
       %(now)s::timestamptz - (200 + i %% 3000) * interval '1 day' AS created_at
  FROM unnest(%(codes)s::text[]) WITH ORDINALITY AS u(code, i)
"""

CHAIN_LINKS = """
SELECT id AS enterprise_id,
       (%(chains)s::bigint[])[1 + id %% cardinality(%(chains)s::bigint[])] AS industrychain_id
  FROM enterprises_enterprise WHERE id >= %(first)s AND id %% 100 < 45
"""

# Per-row draws (r*), then the status they decide given the ticket's age at `now`, then every
# other column. Times in seconds; `d` is a working day in calendar seconds.
TICKETS = """
WITH s AS (
    SELECT g, %(first)s + g AS id, random() AS r1, random() AS r2, random() AS r3,
           random() AS r4, random() AS r5,
           %(start)s::timestamptz + (g + random()) * %(step)s * interval '1 second' AS slot,
           -- The overdue ones: every stride-th of the last tickets, counted from the end.
           (%(count)s - 1 - g) %% %(stride)s = 0
               AND (%(count)s - 1 - g) / %(stride)s < %(overdue)s AS late
      FROM generate_series(0, %(count)s - 1) AS g
), k AS (
    SELECT s.*,
           (ARRAY['difficulty', 'difficulty', 'funding', 'technology', 'supply_chain',
                  'difficulty', 'funding', 'technology', 'difficulty', 'supply_chain'])
               [1 + floor(r4 * 10)::int] AS kind,
           CASE WHEN r3 < 0.80 THEN 'district' WHEN r3 < 0.95 THEN 'city' ELSE 'leader' END
               AS level,
           %(first_enterprise)s + floor(%(n_enterprises)s * r5 * r5)::bigint AS enterprise_id,
           -- An overdue one was submitted a full leader-tier handling time before its deadline.
           CASE WHEN late THEN %(now)s::timestamptz
                               - (630 + r2 * 170000 + %(resolve_leader)s * %(day)s)
                                 * interval '1 second'
                ELSE slot END AS created,
           extract(epoch FROM %(now)s::timestamptz - slot) / 86400 AS age,
           CASE WHEN r3 < 0.80 THEN %(resolve_district)s WHEN r3 < 0.95 THEN %(resolve_city)s
                ELSE %(resolve_leader)s END AS days
      FROM s
), t AS (
    SELECT k.*,
           CASE WHEN late THEN 'in_progress'
                WHEN r1 < 0.02 THEN 'withdrawn'
                WHEN age < 1 THEN 'assigned'
                WHEN r1 < 0.025 AND age < 30 THEN 'returned'
                WHEN r1 < 0.04 AND age < 30 THEN 'on_hold'
                WHEN r1 < 0.05 AND age < 30 THEN 'pending_review'
                -- in progress: the yellow card (deadline - 1 working day) still ahead
                WHEN r1 < 0.5 AND age < (days - 1.5) * %(factor)s THEN 'in_progress'
                WHEN age * r2 < 6 THEN 'resolved'
                ELSE 'closed' END AS status,
           created + interval '30 seconds' AS assigned,
           1 + (enterprise_id - %(first_enterprise)s) %% %(n_districts)s AS home
      FROM k
), u AS (
    SELECT t.*,
           CASE WHEN late THEN %(now)s::timestamptz - (600 + r2 * 170000) * interval '1 second'
                ELSE assigned + days * %(day)s * interval '1 second' END AS resolve_due,
           CASE WHEN status IN ('resolved', 'closed')
                THEN CASE WHEN r2 < 0.57 THEN 'solved' WHEN r2 < 0.88 THEN 'basically_solved'
                          ELSE 'explained' END
                WHEN status = 'pending_review' THEN 'explained' ELSE '' END AS outcome,
           -- Resolved after this share of the handling time (on time below 1; 8%% late).
           CASE WHEN r5 < 0.08 THEN 1.1 + r5 ELSE 0.1 + 0.85 * r4 END AS share
      FROM t
), v AS (
    SELECT u.*,
           CASE WHEN status = 'resolved'
                THEN %(now)s::timestamptz - r2 * least(age, 5) * interval '1 day'
                WHEN outcome <> ''
                THEN least(assigned + share * days * %(day)s * interval '1 second',
                           %(now)s::timestamptz - interval '1 hour') END AS resolved
      FROM u
)
SELECT id,
       'WH-' || w.year || '-' || to_char(seq + coalesce(c.last, 0), 'FM000000') AS number,
       enterprise_id, kind,
       (%(titles)s::text[])[1 + g %% cardinality(%(titles)s::text[])] AS title,
       '工作组走访时企业提出，希望有关部门协调解决。（规模测试数据）' AS description,
       '' AS category,
       CASE WHEN kind = 'funding' THEN round((10 + r3 * 3000)::numeric, -1) END AS amount,
       CASE WHEN kind = 'supply_chain' AND enterprise_id %% 100 < 45
            THEN (%(chains)s::bigint[])[1 + enterprise_id %% cardinality(%(chains)s::bigint[])]
            END AS chain_id,
       status, level,
       CASE WHEN status = 'returned' THEN %(coordinator)s
            WHEN level = 'district'
            -- one of the departments of the enterprise's district (enterprise i is in
            -- district i mod n, as ENTERPRISES places it)
            THEN (%(district_departments)s::bigint[])[
                (%(district_first)s::int[])[home] + g %% (%(district_count)s::int[])[home]]
            WHEN level = 'city'
            THEN (%(city_departments)s::bigint[])
                 [1 + g %% cardinality(%(city_departments)s::bigint[])]
            ELSE (%(leader_departments)s::bigint[])
                 [1 + g %% cardinality(%(leader_departments)s::bigint[])] END AS department_id,
       outcome,
       CASE WHEN outcome <> '' THEN '已办理完毕，已答复企业。' ELSE '' END AS outcome_note,
       created AS created_at, coalesce(resolved, assigned) AS updated_at,
       assigned AS assigned_at,
       CASE WHEN status NOT IN ('assigned', 'returned')
            THEN assigned + least(age / 2, 0.3) * interval '1 day' END AS accepted_at,
       resolved AS resolved_at,
       CASE WHEN status = 'closed'
            THEN least(resolved + interval '2 days', %(now)s::timestamptz) END AS closed_at,
       assigned + %(day)s * interval '1 second' AS accept_due_at,
       resolve_due AS resolve_due_at,
       CASE WHEN late THEN resolve_due
            WHEN status = 'assigned' THEN assigned + %(day)s * interval '1 second'
            WHEN status = 'in_progress' THEN resolve_due - %(day)s * interval '1 second'
            WHEN status = 'resolved' THEN resolved + 5 * %(day)s * interval '1 second'
            END AS escalate_at,
       CASE WHEN late THEN 1 ELSE 0 END AS sla_stage,
       CASE WHEN status = 'on_hold' THEN assigned + interval '1 day' END AS held_at,
       assigned AS clock_started_at,
       CASE WHEN status IN ('resolved', 'closed') AND r3 < 0.8 THEN 5 - floor(r1 * 2.5)::int
            END AS satisfaction,
       CASE WHEN status IN ('resolved', 'closed') AND r3 < 0.8 THEN resolved END AS rated_at,
       CASE WHEN status = 'returned' THEN 1 ELSE 0 END AS return_count
  FROM (SELECT v.*, extract(year FROM created AT TIME ZONE 'Asia/Shanghai')::int AS year,
               row_number() OVER (PARTITION BY extract(year FROM created AT TIME ZONE
                                  'Asia/Shanghai') ORDER BY created, g) AS seq
          FROM v) AS w
  LEFT JOIN tickets_ticketnumbercounter c ON c.year = w.year
 ORDER BY id
"""

EVENTS = """
SELECT id AS ticket_id, 'submit' AS action, '' AS from_status, 'submitted' AS to_status,
       NULL::bigint AS from_department_id, NULL::bigint AS to_department_id,
       'district' AS level, '' AS note, created_at
  FROM tickets_ticket WHERE id >= %(first)s
UNION ALL
SELECT id, 'route', 'submitted', 'assigned', NULL, department_id, level,
       '按分派规则分派（规模测试数据）', assigned_at
  FROM tickets_ticket WHERE id >= %(first)s AND department_id IS NOT NULL
"""


def _insert(model, select: str, params: dict) -> int:
    """INSERT INTO the model's table the rows of `select`, whose output columns are named as
    the table's; every other column gets its field's default (so one added later is filled)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({select}) AS q LIMIT 0", params)
        columns = [column.name for column in cursor.description]
        others = [f for f in model._meta.concrete_fields if f.column not in columns + ["id"]]
        defaults = {f"default_{f.column}": f.get_default() for f in others}
        values = "".join(f", %(default_{f.column})s::{f.db_type(connection)}" for f in others)
        names = ", ".join(quote(c) for c in [*columns, *(f.column for f in others)])
        table = quote(model._meta.db_table)
        sql = f"INSERT INTO {table} ({names}) SELECT q.*{values} FROM ({select}) AS q"
        cursor.execute(sql, {**params, **defaults})
        return cursor.rowcount


# Maintained row by row, the secondary indexes and foreign keys of 3M new rows (1M tickets,
# 2M events) cost most of the load: the deferred key checks alone took ~170 s at commit on the
# shared 2-core machine. They are dropped before the load and built again after it (one
# index build or validating join each), inside the same transaction: a failure leaves the
# schema as it was.
LOADED = (Enterprise, Enterprise.chains.through, Ticket, TicketEvent)
SECONDARY = """
SELECT 'INDEX', c.relname, pg_get_indexdef(c.oid), '' FROM pg_index x
  JOIN pg_class c ON c.oid = x.indexrelid
 WHERE x.indrelid = %(table)s::regclass
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
UNION ALL
SELECT 'CONSTRAINT', conname, pg_get_constraintdef(oid), %(table)s FROM pg_constraint
 WHERE conrelid = %(table)s::regclass AND contype = 'f'
"""


def _drop_secondary(cursor) -> list[tuple[str, str, str, str]]:
    found = []
    for model in LOADED:
        cursor.execute(SECONDARY, {"table": model._meta.db_table})
        found += cursor.fetchall()
    for _kind, name, _definition, table in found:
        cursor.execute(
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"' if table else f'DROP INDEX "{name}"'
        )
    return found


def _restore_secondary(cursor, found: list[tuple[str, str, str, str]]) -> None:
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _kind, name, definition, table in found:
        cursor.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}' if table else definition
        )


def _district_departments(districts: list[District], fallback: list[int]) -> dict:
    """Each district's departments as one array with (first index, count) per district."""
    flat, first, count = [], [], []
    for district in districts:
        ids = (
            list(
                Department.objects.filter(district=district, tier=Tier.DISTRICT, is_active=True)
                .order_by("id")
                .values_list("id", flat=True)
            )
            or fallback
        )
        first.append(len(flat) + 1)
        count.append(len(ids))
        flat += ids
    return {
        "district_departments": flat,
        "district_first": first,
        "district_count": count,
        "n_districts": len(districts),
    }


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _codes(first: int, count: int, districts: list[District]) -> list[str]:
    """Valid USCCs, unique by enterprise id (base-31 organisation code "MA" + 7 characters)."""
    codes = []
    for i in range(count):
        number, org = first + i, ""
        for _ in range(7):
            number, rest = divmod(number, 31)
            org = uscc.ALPHABET[rest] + org
        code = districts[i % len(districts)].code
        division = DIVISION_CODES.get(code, "371000")
        codes.append(uscc.make(f"91{division}MA{org}"))
    return codes


def seed_scale(
    *,
    enterprises: int,
    tickets: int,
    now: dt.datetime | None = None,
    overdue: int | None = None,
    reset_first: bool = False,
    seed: int = DEFAULT_SEED,
    say=None,
) -> SeedResult:
    """`enterprises` enterprises and `tickets` tickets submitted over the year before `now`,
    of which exactly `overdue` (default 1%) are past their resolve deadline at `now`."""
    # Vendor branch 3 of 3 in app code (the demo's only one): generate_series, random(),
    # arrays and the catalogue queries are PostgreSQL's; SQLite gets the scenario only.
    if connection.vendor != "postgresql":
        raise SeedError("规模模式（--enterprises/--tickets）只支持 PostgreSQL。")
    if enterprises < 1 or tickets < 0:
        raise SeedError("--enterprises 至少为 1，--tickets 不能为负数。")
    overdue = tickets // 100 if overdue is None else overdue
    if not 0 <= overdue <= tickets:
        raise SeedError("--overdue 应在 0 到 --tickets 之间。")
    say = say or (lambda line: None)
    started = time.perf_counter()
    now = reference_now(now)
    result = SeedResult(mode="scale")
    districts = list(District.objects.order_by("order", "code"))
    tiers = {
        tier: list(
            Department.objects.filter(tier=tier, is_active=True, is_coordinator=False)
            .order_by("id")
            .values_list("id", flat=True)
        )
        for tier in Tier.values
    }
    coordinator = Department.objects.filter(is_coordinator=True).values_list("id", flat=True)
    if not districts or not all(tiers.values()) or not coordinator:
        raise SeedError(
            "数据库中没有区市或责任单位。请先运行 `python manage.py load_reference_data`。"
        )
    sla = load_sla(fresh=True)
    day = int(86_400 * CALENDAR_PER_WORKING_DAY)
    with effects.suppressed(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [random.Random(seed).uniform(-1, 1)])
        if reset_first:
            tables = [
                TicketEvent,
                Ticket,
                TicketNumberCounter,
                Enterprise.chains.through,
                Enterprise,
            ]
            names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables)
            # TRUNCATE: the append-only trigger allows it, and it also empties what refers to
            # these tables (notification logs, enterprise accounts).
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            say("已清空诉求、办理记录和企业。")
        secondary = _drop_secondary(cursor)
        first_enterprise = _next_id(Enterprise)
        chains = list(IndustryChain.objects.order_by("id").values_list("id", flat=True))
        params = {
            "now": now,
            "first": first_enterprise,
            "codes": _codes(first_enterprise, enterprises, districts),
            "districts": [d.pk for d in districts],
            "n_districts": len(districts),
            "places": [PLACE_NAMES.get(d.code, "威海") for d in districts],
            "heads": NAME_HEADS,
            "words": list(INDUSTRY_WORDS),
            "clusters": list(IndustryCluster.objects.values_list("id", flat=True)) or [None],
            "chains": chains or [None],
        }
        result.enterprises = _insert(Enterprise, ENTERPRISES, params)
        if chains:
            _insert(Enterprise.chains.through, CHAIN_LINKS, params)
        say(f"企业 {result.enterprises:,} 家（{time.perf_counter() - started:.0f}s）")
        first_ticket = _next_id(Ticket)
        recent = max(1, tickets // 12)  # about the last month: where the overdue ones are
        params = {
            "now": now,
            "first": first_ticket,
            "count": tickets,
            "start": now - dt.timedelta(days=WINDOW_DAYS),
            "step": WINDOW_DAYS * 86_400 / max(tickets, 1),
            "overdue": overdue,
            "stride": max(1, recent // max(overdue, 1)),
            "first_enterprise": first_enterprise,
            "n_enterprises": enterprises,
            "factor": CALENDAR_PER_WORKING_DAY,
            "day": day,
            **{
                f"resolve_{tier}": sla.policy("difficulty", tier).resolve_days
                for tier in Tier.values
            },
            "titles": ["用地指标协调", "流动资金贷款需求", "技术合作对接", "本地配套供应商对接"],
            "chains": chains or [None],
            "coordinator": coordinator[0],
            **_district_departments(districts, tiers[Tier.DISTRICT]),
            "city_departments": tiers[Tier.CITY],
            "leader_departments": tiers[Tier.LEADER],
        }
        _insert(Ticket, TICKETS, params)
        say(f"诉求 {tickets:,} 件（{time.perf_counter() - started:.0f}s）")
        events = _insert(TicketEvent, EVENTS, {"first": first_ticket})
        say(f"办理记录 {events:,} 条（{time.perf_counter() - started:.0f}s）")
        cursor.execute(
            "INSERT INTO tickets_ticketnumbercounter (year, last) "
            "SELECT substr(number, 4, 4)::int, max(substr(number, 9)::int) FROM tickets_ticket "
            "GROUP BY 1 ON CONFLICT (year) DO UPDATE SET last = excluded.last"
        )
        _restore_secondary(cursor, secondary)
        say(f"索引与外键已重建（{time.perf_counter() - started:.0f}s）")
        from django.core.management.color import no_style

        for statement in connection.ops.sequence_reset_sql(no_style(), [Enterprise, Ticket]):
            cursor.execute(statement)
    say(f"已提交（{time.perf_counter() - started:.0f}s）")
    with connection.cursor() as cursor:
        tables = ", ".join(
            connection.ops.quote_name(m._meta.db_table) for m in (Enterprise, Ticket, TicketEvent)
        )
        cursor.execute(f"ANALYZE {tables}")
    say(f"ANALYZE（{time.perf_counter() - started:.0f}s）")
    summarise(result, now)
    result.seconds = time.perf_counter() - started
    return result
