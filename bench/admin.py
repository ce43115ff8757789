"""Admin benchmark (run by hand, PostgreSQL): the staff workbench's pages at city scale.

    createdb -h 127.0.0.1 -U postgres -T weihai_bench weihai_bench_admin   # 1,000,000 tickets
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weihai_bench_admin DEBUG=1 DOTENV_FILE= \\
        .venv/bin/python manage.py migrate
    .venv/bin/python bench/admin.py [--database weihai_bench_admin] [--runs 9]

Renders each page in-process with Django's test client (no web server, no network: the
figure is Django + PostgreSQL), after one warm-up request, and prints the median and the
slowest of --runs, the Python CPU time of the request (median; wall-clock time on the shared
2-core machine is mostly waiting for a CPU), the queries of one request and the slowest
query. The pages: the changelists of tickets (a coordinator's city, the overdue filter, a
status filter, a department filter, a search by number, the busiest department's handler on
their queue), enterprises (plain and a name search), departments and events; a ticket's
page; the start page of a handler and of a coordinator. It creates three users in the bench
database (bench-root, bench-coordinator, bench-handler in the busiest department) if they
are missing; nothing else is written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
parser.add_argument("--database", default="weihai_bench_admin")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--runs", type=int, default=9)
parser.add_argument("--only", default="", help="run only pages whose name contains this")
args = parser.parse_args()

os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.database}"
os.environ.setdefault("DEBUG", "1")
os.environ["DOTENV_FILE"] = ""
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weihai.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from enterprises.models import Department, DepartmentMembership  # noqa: E402
from tickets.models import Status, Ticket  # noqa: E402

settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
settings.SECURE_SSL_REDIRECT = False
User = get_user_model()


def user(username: str, *, department=None, role="handler", superuser=False):
    account, created = User.objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": superuser}
    )
    if department is not None:
        DepartmentMembership.objects.get_or_create(
            user=account, department=department, defaults={"role": role}
        )
    return account


def busiest_department() -> Department:
    row = (
        Ticket.objects.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS])
        .values("department_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return Department.objects.get(pk=row["department_id"])


def measure(client: Client, url: str, runs: int) -> dict:
    response = client.get(url)  # warm-up (and the status check)
    assert response.status_code == 200, (url, response.status_code)
    # request_started empties the query log (django.db.reset_queries): start from empty.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    slowest_query = max(queries.captured_queries, key=lambda q: float(q["time"]))
    return {
        "median": statistics.median(times),
        "cpu": statistics.median(cpu),
        "max": max(times),
        "queries": len(queries.captured_queries),
        "slowest_query_ms": float(slowest_query["time"]) * 1000,
        "slowest_sql": slowest_query["sql"][:160],
    }


def main() -> None:
    tickets = Ticket.objects.count()
    from enterprises.models import Enterprise
    from tickets.models import TicketEvent

    print(
        f"database {args.database}: {tickets:,} tickets, {Enterprise.objects.count():,} "
        f"enterprises, {TicketEvent.objects.count():,} events; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    office = Department.objects.filter(is_coordinator=True).first()
    department = busiest_department()
    queue = Ticket.objects.filter(
        department=department, status__in=[Status.ASSIGNED, Status.IN_PROGRESS, Status.ON_HOLD]
    ).count()
    print(f"busiest department: {department.name} (id {department.pk}), {queue:,} in its queue")
    root = user("bench-root", superuser=True)
    coordinator = user("bench-coordinator", department=office, role="coordinator")
    handler = user("bench-handler", department=department)
    number = Ticket.objects.order_by("-pk").values_list("number", flat=True).first()
    some_ticket = (
        Ticket.objects.filter(department=department, status=Status.IN_PROGRESS)
        .order_by("resolve_due_at")
        .first()
    )
    enterprise_name = Enterprise.objects.order_by("pk").values_list("name", flat=True)[500]
    pages = [
        ("tickets, coordinator (city, newest first)", coordinator, "/admin/tickets/ticket/"),
        ("tickets, overdue", coordinator, "/admin/tickets/ticket/?overdue=yes"),
        ("tickets, due soon", coordinator, "/admin/tickets/ticket/?overdue=soon"),
        (
            "tickets, status in progress",
            coordinator,
            "/admin/tickets/ticket/?status__exact=in_progress",
        ),
        (
            "tickets, one department",
            coordinator,
            f"/admin/tickets/ticket/?department={department.pk}",
        ),
        ("tickets, search by number", coordinator, f"/admin/tickets/ticket/?q={number}"),
        ("tickets, superuser", root, "/admin/tickets/ticket/"),
        ("tickets, handler's queue", handler, "/admin/tickets/ticket/?queue=mine"),
        ("tickets, handler, all visible", handler, "/admin/tickets/ticket/?queue="),
        ("enterprises", coordinator, "/admin/enterprises/enterprise/"),
        (
            "enterprises, search by name",
            coordinator,
            f"/admin/enterprises/enterprise/?q={enterprise_name[:6]}",
        ),
        ("departments", coordinator, "/admin/enterprises/department/"),
        ("events", coordinator, "/admin/tickets/ticketevent/"),
        ("events, handler", handler, "/admin/tickets/ticketevent/"),
        ("ticket page (handler)", handler, f"/admin/tickets/ticket/{some_ticket.pk}/change/"),
        ("start page, handler", handler, "/admin/"),
        ("start page, coordinator", coordinator, "/admin/"),
    ]
    rows = []
    for name, account, url in pages:
        if args.only and args.only not in name:
            continue
        client = Client()
        client.force_login(account)
        result = measure(client, url, args.runs)
        rows.append((name, result))
        print(
            f"{name:42} median {result['median']:6.1f} ms  max {result['max']:6.1f} ms  "
            f"Python CPU {result['cpu']:6.1f} ms  "
            f"{result['queries']:3} queries, slowest {result['slowest_query_ms']:6.1f} ms",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    over = [name for name, result in rows if result["median"] >= 300]
    print("all under 300 ms" if not over else f"over 300 ms: {', '.join(over)}")
    for name, result in rows:
        if result["slowest_query_ms"] > 50:
            print(f"  slowest query of {name}: {result['slowest_sql']}")


if __name__ == "__main__":
    main()
