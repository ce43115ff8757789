"""Work-group import benchmark (run by hand, PostgreSQL): a 10,000-row workbook previewed and
confirmed against a city-scale database.

    createdb -h 127.0.0.1 -U postgres -T weihai_bench weihai_bench_intake   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weihai_bench_intake \
        .venv/bin/python manage.py migrate
    .venv/bin/python bench/import.py [--database weihai_bench_intake] [--rows 10000]

The database is a copy of the shared 1,000,000-ticket / 100,000-enterprise bench database
(each run adds its tickets to it; events are append-only, so nothing is cleaned up). The
workbook is built from that data: rows for --enterprises random registered enterprises
(their names and codes), every kind, with about 3% bad rows (a broken check character, an
unknown kind, a missing title, an amount on a non-funding need), 2% rows repeating an open
ticket of the same enterprise and 1% repeating an earlier row of the file. Then it times:

1. reading the file (openpyxl) and the preview (checks, duplicate detection, the batch and
   its rows stored) — `intake.services.preview`;
2. the confirm — `intake.services.confirm`: tickets created through workflow.submit_ticket
   in 500-row transactions, routing queued as one task per chunk (the broker here is
   Celery's in-memory transport: the publishes are real, nobody consumes them);

and prints the duplicate lookup's plan for one 1,000-enterprise chunk (it must walk
ticket_enterprise_recent for those enterprises, not the table), the load average and the
number of routing publishes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
parser.add_argument("--database", default="weihai_bench_intake")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--rows", type=int, default=10000)
parser.add_argument("--enterprises", type=int, default=4000)
parser.add_argument("--seed", type=int, default=20261203)
parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
args = parser.parse_args()

os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.database}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DOTENV_FILE", "")
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weihai.settings")

import django  # noqa: E402

django.setup()

from celery.signals import after_task_publish  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from enterprises.models import Enterprise  # noqa: E402
from intake import services  # noqa: E402
from intake.workbook import COLUMNS, SHEET  # noqa: E402
from tickets import effects  # noqa: E402
from tickets.categories import CATEGORIES  # noqa: E402
from tickets.models import OPEN_STATUSES, Kind, Ticket  # noqa: E402

settings.DEBUG = False  # no query log: 70,000 queries would be kept in memory
LABELS = {value: str(label) for value, label in Kind.choices}
SUBJECTS = (
    "新建厂房用地指标",
    "生产线扩产用电增容",
    "高层次人才引进",
    "出口订舱运力",
    "研发平台共建",
    "流动资金贷款授信",
    "本地配套供应商对接",
    "环评审批进度",
    "专利质押融资",
    "智能化改造方案",
)


def build_workbook(rng: random.Random) -> tuple[bytes, dict]:
    enterprises = list(
        Enterprise.objects.order_by("?").values_list("pk", "uscc", "name")[: args.enterprises]
    )
    now = timezone.now()
    recent = list(
        Ticket.objects.filter(
            enterprise_id__in=[e[0] for e in enterprises[:2000]],
            status__in=OPEN_STATUSES,
            created_at__gte=now - dt.timedelta(days=90),
        ).values("enterprise_id", "kind", "category", "title", "description")[:400]
    )
    by_pk = {pk: (code, name) for pk, code, name in enterprises}
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append([c.header for c in COLUMNS])
    made = {"valid": 0, "error": 0, "existing_dup": 0, "file_dup": 0}
    written = []
    for n in range(args.rows):
        roll = rng.random()
        if roll < 0.02 and recent:
            t = rng.choice(recent)
            code, name = by_pk[t["enterprise_id"]]
            row = [name, code, LABELS[t["kind"]], t["category"], t["title"],
                   t["description"] + "（再次走访）", "", "", "", "", "", "第9工作组"]  # fmt: skip
            made["existing_dup"] += 1
        elif roll < 0.03 and written:
            row = list(rng.choice(written))
            made["file_dup"] += 1
        else:
            _pk, code, name = rng.choice(enterprises)
            kind = rng.choice(Kind.values)
            category = rng.choice(list(CATEGORIES[kind]))
            subject = rng.choice(SUBJECTS)
            title = f"{subject}（{n}）"
            description = f"{name}反映{subject}问题，第{n}号诉求，需要有关部门协调。"
            amount = str(rng.randint(50, 5000)) if kind == Kind.FUNDING else ""
            row = [name, code, LABELS[kind], str(CATEGORIES[kind][category]), title,
                   description, amount, "", "张经理", "0631-5800000", "2026-11-18",
                   "第9工作组"]  # fmt: skip
            if roll < 0.06:  # a bad row, one of four kinds of mistake
                mistake = rng.randrange(4)
                if mistake == 0:
                    row[1] = code[:17] + ("1" if code[17] != "1" else "2")
                elif mistake == 1:
                    row[2] = "人才需求"
                elif mistake == 2:
                    row[4] = ""
                else:
                    row[2], row[6] = LABELS[Kind.TECHNOLOGY], "100"
                made["error"] += 1
            else:
                made["valid"] += 1
                written.append(row)
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), made


def main() -> None:
    rng = random.Random(args.seed)
    load = os.getloadavg()
    tickets = Ticket.objects.count()
    print(f"database {args.database}: {tickets:,} tickets; load average {load[0]:.2f}")
    started = time.perf_counter()
    content, made = build_workbook(rng)
    print(f"workbook: {args.rows:,} rows, {len(content) / 1e6:.1f} MB, built in "
          f"{time.perf_counter() - started:.1f} s; written as {made}")  # fmt: skip

    published = []

    def record(sender=None, body=None, **kwargs):
        if sender == effects.ROUTE_TICKETS:
            published.append(len(body[0][0]))

    after_task_publish.connect(record, weak=False)

    def timed(fn, *a, **k):
        if not args.profile:
            return fn(*a, **k)
        import cProfile
        import pstats

        profile = cProfile.Profile()
        result = profile.runcall(fn, *a, **k)
        stats = pstats.Stats(profile).sort_stats("tottime")
        stats.print_stats(18)
        return result

    started = time.perf_counter()
    batch = timed(services.preview, content, file_name="bench.xlsx", user=None, work_group="b")
    preview_s = time.perf_counter() - started
    print(
        f"preview: {preview_s:.1f} s — new {batch.new_rows}, duplicate {batch.duplicate_rows}, "
        f"error {batch.error_rows}"
    )
    started = time.perf_counter()
    batch = timed(services.confirm, batch, user=None)
    confirm_s = time.perf_counter() - started
    print(
        f"confirm: {confirm_s:.1f} s — created {batch.created_count}, merged "
        f"{batch.merged_count}, skipped {batch.skipped_count}; routing publishes "
        f"{len(published)} carrying {sum(published)} ids"
    )
    print(f"preview + confirm: {preview_s + confirm_s:.1f} s; load average now "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip

    # The duplicate lookup for one chunk of enterprises: an index walk per enterprise.
    ids = list(Enterprise.objects.order_by("?").values_list("pk", flat=True)[:1000])
    since = timezone.now() - dt.timedelta(days=90)
    query = Ticket.objects.filter(
        enterprise_id__in=ids, created_at__gte=since, status__in=OPEN_STATUSES
    ).values("pk", "enterprise_id", "kind", "category", "title", "description")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [line for (line,) in cursor.fetchall()]
    print("duplicate lookup, 1,000 enterprises:")
    for line in plan:
        print("   ", line)


if __name__ == "__main__":
    main()
