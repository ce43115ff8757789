"""Portal benchmark: the enterprise's pages (我的诉求 list, a filtered list, the detail page,
the 提交诉求 form) at 1,000,000 tickets for an enterprise with 50 tickets.

    # once: a copy of the lead's 1,000,000-ticket database, migrated with this branch
    createdb -h 127.0.0.1 -U postgres -T weihai_bench weihai_bench_portal
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weihai_bench_portal DEBUG=1 DOTENV_FILE= \\
        python manage.py migrate
    # then
    python bench/portal.py                       # or --database NAME --requests 300

The first run gives one new enterprise (基准测试企业) 50 tickets through the workflow
(submitted, routed by the rules, a third accepted, a third resolved and confirmed) and an
account; later runs reuse them. Requests go through Django's test client in this process
(the full middleware stack with DEBUG off, sessions and the database; no HTTP server, no
network), each
page timed separately, warm-up first; p50/p95/max in milliseconds and the queries per page.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAME = "基准测试企业（门户）"
TICKETS = 50


def setup(database: str) -> None:
    # Production settings (DEBUG off: no query log, no debug pages), over plain HTTP on the
    # test client's host name. Not django.test's setup_test_environment: its instrumented
    # template rendering copies every context for the test client and doubled the page time.
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        DEBUG="0",
        DOTENV_FILE="",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        CELERY_BROKER_URL="memory://",  # routing is done inline below; nothing is queued
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weihai.settings")
    import django

    django.setup()


def enterprise_with_tickets():
    from enterprises.models import District, Enterprise
    from enterprises.uscc import make
    from tests.factories import enterprise_user
    from tickets import workflow
    from tickets.errors import WorkflowError

    enterprise = Enterprise.objects.filter(name=NAME).first()
    if enterprise is None:
        enterprise = Enterprise.objects.create(
            uscc=make("91371002B00PQRTWX"), name=NAME, district=District.objects.first()
        )
        enterprise_user(enterprise, username="bench-portal")
    user = enterprise.accounts.get().user
    have = enterprise.tickets.count()
    kinds = ["difficulty", "technology", "funding", "supply_chain"]
    for i in range(have, TICKETS):
        kind = kinds[i % 4]
        ticket, _ = workflow.submit_ticket(
            enterprise=enterprise,
            kind=kind,
            category="other",
            title=f"门户基准测试诉求 {i + 1}",
            description="基准测试：需要协调解决的问题。" * 5,
            amount=100 if kind == "funding" else None,
            actor=user,
        )
        try:
            workflow.route_ticket(ticket_id=ticket.pk)
            if i % 3:
                continue
            workflow.accept_ticket(ticket_id=ticket.pk, actor=None, reply="已签收，正在办理。")
            workflow.resolve_ticket(
                ticket_id=ticket.pk, actor=None, outcome="solved", reply="已协调解决。" * 3
            )
            if i % 2:
                workflow.confirm_ticket(ticket_id=ticket.pk, actor=user)
        except WorkflowError as error:
            print(f"  ticket {ticket.number}: {error}")
        finally:
            print(f"\r  {i + 1}/{TICKETS} tickets", end="", flush=True)
    if have < TICKETS:
        print()
    ids = list(enterprise.tickets.values_list("pk", flat=True))
    statuses = sorted(set(enterprise.tickets.values_list("status", flat=True)))
    assert len(ids) == TICKETS, len(ids)
    return user, ids, statuses


class SqlTimer:
    """Counts and times the statements a request sends (Django's execute_wrapper)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def measure(client, paths, rounds: int, warmup: int = 10):
    from django.db import connection

    for i in range(warmup):
        assert client.get(paths[i % len(paths)]).status_code == 200
    times, sql_ms, counts, cpu_ms = [], [], [], []
    for i in range(rounds):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(paths[i % len(paths)])
            times.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, response.status_code
        sql_ms.append(timer.seconds * 1000)
        counts.append(timer.count)
    times.sort()
    p95 = times[max(0, round(len(times) * 0.95) - 1)]
    cpu_ms.sort()
    cpu_p95 = cpu_ms[max(0, round(len(cpu_ms) * 0.95) - 1)]
    return (
        statistics.median(times),
        p95,
        times[-1],
        max(counts),
        statistics.median(sql_ms),
        statistics.median(cpu_ms),
        cpu_p95,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="weihai_bench_portal")
    parser.add_argument("--requests", type=int, default=300, help="per page (default 300)")
    args = parser.parse_args()
    setup(args.database)

    from django.test import Client

    from tickets.models import Ticket

    total = Ticket.objects.count()
    user, ids, statuses = enterprise_with_tickets()
    client = Client()
    client.force_login(user)
    pages = {
        "我的诉求 list (page 1 of 3)": ["/portal/"],
        "list filtered (kind + status)": [f"/portal/?kind=difficulty&status={statuses[0]}"],
        "list page 3": ["/portal/?page=3"],
        "detail (50 tickets in turn)": [f"/portal/tickets/{pk}/" for pk in ids],
        "提交诉求 form (funding)": ["/portal/submit/funding/"],
    }
    load = os.getloadavg()
    print(f"{total:,} tickets; the enterprise has {len(ids)}; {args.requests} requests per page")
    cores = os.cpu_count()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({cores} cores)")
    print(
        f"{'page':30} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'queries':>7} {'SQL p50':>7}"
        f" {'CPU p50':>7} {'CPU p95':>7}"
    )
    worst = 0.0
    for name, paths in pages.items():
        p50, p95, top, queries, sql, cpu, cpu95 = measure(client, paths, args.requests)
        worst = max(worst, p95)
        print(
            f"{name:30} {p50:7.1f} {p95:7.1f} {top:7.1f} {queries:7d} {sql:7.1f}"
            f" {cpu:7.1f} {cpu95:7.1f}"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"worst p95: {worst:.1f} ms (target < 100 ms)")


if __name__ == "__main__":
    main()
