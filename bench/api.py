"""REST API benchmark: submissions per second and list-page latency at 1,000,000 tickets.

Runs gunicorn (2 workers) on PostgreSQL and drives it with wrk (Debian: apt-get install wrk)
on loopback. Beside the API it measures a bare endpoint on the same server that inserts one
row into a scratch table (the baseline: Django + one INSERT, nothing else), so the figure
that matters is the ratio, not the machine.

    # once: a database with the city-scale demo data (about 2–4 minutes)
    createdb weihai_bench_api
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weihai_bench_api DEBUG=1 \\
        python manage.py migrate && python manage.py load_reference_data && \\
        python manage.py seed_demo --reset --enterprises 100000 --tickets 1000000
    # then
    python bench/api.py                      # or --database NAME --duration 20 --connections 16

Every run works on a fresh copy of that database (CREATE DATABASE <name>_run TEMPLATE <name>,
dropped at the end; --keep-run keeps it): the write runs add tens of thousands of unrouted
tickets from one enterprise on top of every created_at-ordered list, which would make the
next run's list pages walk past them (a state production never reaches: a worker routes new
tickets within seconds). List pages are measured first, on the seeded data.

Routing tasks are published to Redis db 13 and nobody consumes them (no worker: the
benchmark measures the web tier; a worker would compete for the same two cores). The
queue is flushed at the end. Throttling is off for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/13"
BASELINE_TABLE = "api_bench_baseline"

LUA = r"""
-- wrk script: %(what)s
local token = os.getenv("BENCH_TOKEN") or ""
-- Submissions rotate over many enterprises' tokens (BENCH_TOKENS, comma-separated), as the
-- city's traffic does; a run from one enterprise makes every insert's foreign-key check
-- share-lock the same enterprise and user rows.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do tokens[#tokens + 1] = t end
local counter = 0
local offset = 0
-- `prefix` is a global set per thread by setup() (thread:set); a `local prefix` here would
-- shadow it, and every thread of every run would send the keys "-1", "-2", … — replays.

function setup(thread)
  thread:set("prefix", string.format("%%d-%%d", os.time(), math.random(1, 1e9)))
end

function init(args)
  math.randomseed(os.time() + math.random(1, 1e6))
  offset = math.random(0, 1e6)
end

function request()
  counter = counter + 1
  local headers = {["Accept"] = "application/json"}
  if #tokens > 0 then token = tokens[(counter + offset) %% #tokens + 1] end
  if token ~= "" then headers["Authorization"] = "Token " .. token end
  %(request)s
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "seconds": %%.3f, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, "mean_ms": %%.2f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
end
"""

SUBMIT = r"""
  local key = prefix .. "-" .. counter
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = key
  local body = '{"kind": "difficulty", "category": "permit", "title": "基准测试诉求 ' .. key ..
    '", "description": "基准测试：新厂房施工许可需要协调。"}'
  return wrk.format("POST", "/api/v1/tickets/", headers, body)
"""

BASELINE = r"""
  headers["Content-Type"] = "application/json"
  local body = '{"kind": "difficulty", "title": "基准测试 ' .. prefix .. "-" .. counter .. '"}'
  return wrk.format("POST", "/api/bench/baseline/", headers, body)
"""

LIST = r"""
  return wrk.format("GET", os.getenv("BENCH_PATH"), headers)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DOTENV_FILE": "",
        "DB_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": BROKER,
        "API_BENCH_ENDPOINTS": "1",
        "API_THROTTLE_RATE": "off",
        "API_THROTTLE_ANON_RATE": "off",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def prepare(database: str, submitters: int) -> dict:
    """Users, tokens and the scratch table, through Django in this process."""
    os.environ.update(server_env(database))
    os.environ["DJANGO_SETTINGS_MODULE"] = "weihai.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from knox.models import AuthToken

    from enterprises.models import Department, DepartmentMembership, Enterprise, EnterpriseAccount
    from tickets.models import Ticket

    total = Ticket.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BASELINE_TABLE} "
            "(id bigserial PRIMARY KEY, created_at timestamptz NOT NULL, body text NOT NULL)"
        )
        cursor.execute("ANALYZE")
    from django.contrib.auth import get_user_model

    User = get_user_model()

    def user(username: str, **fields):
        found, _ = User.objects.get_or_create(username=username, defaults=fields)
        return found

    # The enterprise with the most tickets: its list is the longest an enterprise sees.
    busiest = (
        Ticket.objects.values("enterprise_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("enterprise_id", "n")[:1]
    )
    enterprise_id, enterprise_tickets = busiest[0]
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    owner = user(f"bench-ent-{enterprise.uscc}")
    EnterpriseAccount.objects.get_or_create(user=owner, defaults={"enterprise": enterprise})
    # The department with the most tickets: the heaviest department queue.
    department_id, department_tickets = (
        Ticket.objects.exclude(department=None)
        .values("department_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("department_id", "n")[0]
    )
    handler = user("bench-handler", is_staff=True)
    DepartmentMembership.objects.get_or_create(
        user=handler, department_id=department_id, defaults={"role": "handler"}
    )
    coordinator = user("bench-coordinator", is_staff=True)
    DepartmentMembership.objects.get_or_create(
        user=coordinator,
        department=Department.objects.get(is_coordinator=True),
        defaults={"role": "coordinator"},
    )
    tokens = {}
    for name, account in [
        ("enterprise", owner),
        ("handler", handler),
        ("coordinator", coordinator),
    ]:
        AuthToken.objects.filter(user=account).delete()
        tokens[name] = AuthToken.objects.create(user=account)[1]
    # Submitting enterprises: spread over the table, each with its own account and token.
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    chosen = ids[:: max(len(ids) // max(submitters, 1), 1)][:submitters]
    submitting = []
    for enterprise in Enterprise.objects.filter(pk__in=chosen).order_by("pk"):
        account = user(f"bench-submit-{enterprise.uscc}")
        EnterpriseAccount.objects.get_or_create(user=account, defaults={"enterprise": enterprise})
        AuthToken.objects.filter(user=account).delete()
        submitting.append(AuthToken.objects.create(user=account)[1])
    return {
        "tickets": total,
        "tokens": tokens,
        "submitting": submitting,
        "enterprise_tickets": enterprise_tickets,
        "department_tickets": department_tickets,
        "department": Department.objects.get(pk=department_id).name,
    }


def query_counts(tokens: dict) -> dict[str, int]:
    """Queries per list page, counted in this process through the full Django stack."""
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    client = Client(HTTP_HOST="127.0.0.1")
    for name, path in LIST_PATHS.items():
        who = name.split(":")[0]
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, HTTP_AUTHORIZATION=f"Token {tokens[who]}")
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
        counts[name] = len(captured.captured_queries)
        reset_queries()
    return counts


LIST_PATHS = {
    "enterprise: own tickets": "/api/v1/tickets/",
    "handler: department queue": "/api/v1/tickets/",
    "handler: overdue, by deadline": "/api/v1/tickets/?overdue=true&ordering=resolve_due_at",
    "coordinator: all tickets": "/api/v1/tickets/",
    "coordinator: assigned, city level": "/api/v1/tickets/?status=assigned&level=city",
}


def start_server(database: str, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [
        gunicorn,
        "weihai.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=server_env(database))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return server, url
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every process on this machine, summed by program (Linux
    /proc): where a request's CPU goes on the shared two cores — web workers, PostgreSQL
    backends, Redis, wrk."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # exited meanwhile
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        program = "gunicorn" if name.startswith("gunicorn") else name.split(":")[0].split()[0]
        if program == "postgres":
            try:  # backends: "postgres: [15/main: ]<user> <database> 127.0.0.1(<port>) …"
                title = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "127.0.0.1(" not in title and "[local]" not in title:
                program = "postgres (background)"
        totals[program] = totals.get(program, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def wrk(url: str, script: str, *, duration: int, connections: int, env: dict) -> dict:
    before = cpu_by_program()
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    result = subprocess.run(
        [
            "wrk",
            f"-t{min(connections, 2)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            file.name,
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    os.unlink(file.name)
    line = next(x for x in result.stdout.splitlines() if x.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    figures["per_second"] = figures["requests"] / figures["seconds"]
    after = cpu_by_program()
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk has exited: its own CPU
    after["wrk"] = wrk_after.ru_utime + wrk_after.ru_stime
    before["wrk"] = wrk_before.ru_utime + wrk_before.ru_stime
    figures["cpu_ms"] = {
        program: (after[program] - before.get(program, 0.0)) * 1000 / max(figures["requests"], 1)
        for program in ("gunicorn", "postgres", "postgres (background)", "redis-server", "wrk")
        if program in after
    }
    return figures


def lua(what: str, request: str) -> str:
    return LUA % {"what": what, "request": request.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="weihai_bench_api")
    parser.add_argument("--duration", type=int, default=20, help="seconds per write run")
    parser.add_argument("--connections", type=int, default=16, help="for the write runs")
    parser.add_argument("--list-connections", type=int, default=2, help="for the latency runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help=">1 uses gthread workers")
    parser.add_argument("--rounds", type=int, default=3, help="write runs alternate; median")
    parser.add_argument(
        "--submitters", type=int, default=100, help="enterprises whose tokens submit (rotated)"
    )
    parser.add_argument("--skip-lists", action="store_true", help="measure submissions only")
    parser.add_argument("--keep-run", action="store_true", help="keep the <database>_run copy")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    template, args.database = args.database, f"{args.database}_run"
    print(f"copying {template} to {args.database} …", flush=True)
    copy_database(template, args.database)
    try:
        run(args)
    finally:
        if not args.keep_run:
            psql("postgres", f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def psql(database: str, sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qc", sql], check=True
    )


def copy_database(template: str, copy: str) -> None:
    psql("postgres", f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    # A file-level copy: visibility maps and planner statistics come along.
    psql("postgres", f'CREATE DATABASE "{copy}" TEMPLATE "{template}"')


def run(args) -> None:
    print(f"preparing {args.database} …", flush=True)
    info = prepare(args.database, args.submitters)
    print(
        f"{info['tickets']:,} tickets; enterprise sees {info['enterprise_tickets']}, "
        f"department “{info['department']}” has {info['department_tickets']:,}",
        flush=True,
    )
    counts = {} if args.skip_lists else query_counts(info["tokens"])

    server, url = start_server(args.database, args.workers, args.threads)
    results: dict[str, list[dict]] = {"baseline": [], "submit": []}
    latency = {}
    try:
        # List pages first, on the routed data: the write runs below leave their tickets
        # unrouted (no worker competes for the two cores).
        for name, path in {} if args.skip_lists else LIST_PATHS.items():
            who = name.split(":")[0]
            run_env = {"BENCH_TOKEN": info["tokens"][who], "BENCH_PATH": path}
            wrk(url, lua("list", LIST), duration=2, connections=args.list_connections, env=run_env)
            latency[name] = wrk(
                url, lua("list", LIST), duration=10, connections=args.list_connections, env=run_env
            )
        env = {"BENCH_TOKENS": ",".join(info["submitting"])}
        # Warm up both paths (connections, imports, caches) before measuring.
        wrk(url, lua("baseline", BASELINE), duration=3, connections=4, env={})
        wrk(url, lua("submit", SUBMIT), duration=3, connections=4, env=env)
        for round_ in range(args.rounds):
            for name, script, run_env in [
                ("baseline", lua("baseline insert", BASELINE), {}),
                ("submit", lua("ticket submission", SUBMIT), env),
            ]:
                figures = wrk(
                    url, script, duration=args.duration, connections=args.connections, env=run_env
                )
                results[name].append(figures)
                cpu = ", ".join(f"{k} {v:.2f}" for k, v in figures["cpu_ms"].items())
                print(
                    f"round {round_ + 1} {name:9s} {figures['per_second']:8.1f}/s "
                    f"p50 {figures['p50_ms']:.1f} ms p95 {figures['p95_ms']:.1f} ms "
                    f"non-2xx {figures['non_2xx']}; CPU ms per request: {cpu}",
                    flush=True,
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        import redis

        redis.Redis.from_url(BROKER).flushdb()

    baseline = statistics.median(r["per_second"] for r in results["baseline"])
    submit = statistics.median(r["per_second"] for r in results["submit"])
    print()
    print(
        f"database: {args.database}, {info['tickets']:,} tickets; gunicorn {args.workers} workers"
        + (f" × {args.threads} threads" if args.threads > 1 else " (sync)")
        + f"; wrk {args.connections} connections, {args.duration} s × {args.rounds} rounds"
        + f"; {len(info['submitting'])} submitting enterprises"
    )
    print(f"baseline (one INSERT)   {baseline:8.1f} req/s")
    print(
        f"POST /api/v1/tickets/   {submit:8.1f} req/s   = {submit / baseline:.2f} × baseline"
        "   (target: ≥ 100/s)"
    )
    if not latency:
        return
    print()
    print(f"list pages ({args.list_connections} connections): p50 / p95 / p99, queries per page")
    for name, figures in latency.items():
        print(
            f"  {name:36s} {figures['p50_ms']:6.1f} / {figures['p95_ms']:6.1f} / "
            f"{figures['p99_ms']:6.1f} ms  {counts[name]:2d} queries  "
            f"({figures['per_second']:.0f} req/s, non-2xx {figures['non_2xx']})"
        )
    print("  (targets: p95 < 50 ms, ≤ 10 queries)")


if __name__ == "__main__":
    main()
