"""Notification re-drive benchmark (run by hand, PostgreSQL, on a copy of the shared bench data).

    createdb -h 127.0.0.1 -U postgres -T weihai_bench weihai_bench_faults
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weihai_bench_faults \
        .venv/bin/python manage.py migrate
    .venv/bin/python bench/notifications.py [--database weihai_bench_faults]

Measures in one run, mail to Django's in-memory backend (rendering and the log rows count,
SMTP does not):

1. the cost the re-drive adds to every event insert: 10,000 events inserted with and without
   the `event_created_at` index, alternating, each in a transaction that is rolled back;
2. a backlog: the events of the last two days before the data's last event that no task
   claimed (the bench data was built without notifications), drained run by run;
3. a killed sweep: the sweep steps due at one instant committed without a digest, then the
   re-drive's digests;
4. the re-drive with nothing to do (the common case, every 5 minutes), median of 20 runs.

Prints the figures and the load average. Changes the copy (notification rows, a sweep).
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
parser.add_argument("--database", default="weihai_bench_faults")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--rounds", type=int, default=5)
args = parser.parse_args()

os.environ["DATABASE_URL"] = f"postgres://postgres@{args.host}:5432/{args.database}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DOTENV_FILE", "")
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weihai.settings")

import django  # noqa: E402

django.setup()

from django.core import mail  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402

from tickets import notifications  # noqa: E402
from tickets.escalation import escalate_overdue  # noqa: E402
from tickets.models import DigestEntry, NotificationLog, Ticket, TicketEvent  # noqa: E402

mail.outbox = []


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def insert_events(n: int, *, with_index: bool) -> float:
    ticket_ids = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:n])
    with transaction.atomic():
        if not with_index:
            with connection.cursor() as cursor:
                cursor.execute("DROP INDEX event_created_at")
        started = time.perf_counter()
        TicketEvent.objects.bulk_create(
            TicketEvent(ticket_id=pk, action="note", to_status="assigned", level="district")
            for pk in ticket_ids
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


say(
    f"database {args.database}: {Ticket.objects.count():,} tickets, "
    f"{TicketEvent.objects.count():,} events; load {load()}"
)

# 1. the index's cost on inserts
with_index, without = [], []
for _round in range(args.rounds):
    with_index.append(insert_events(10_000, with_index=True))
    without.append(insert_events(10_000, with_index=False))
a, b = statistics.median(with_index), statistics.median(without)
say(
    f"1. 10,000 event inserts: with event_created_at {a:.3f} s, without {b:.3f} s "
    f"(median of {args.rounds}, ratio {a / b:.2f}x); load {load()}"
)

# 2. a backlog of never-notified events
last = TicketEvent.objects.aggregate(last=Max("created_at"))["last"]
now = last + dt.timedelta(minutes=11)
runs, total, started = 0, 0, time.perf_counter()
while True:
    t = time.perf_counter()
    done = notifications.redrive(now=now)
    runs += 1
    sent = sum(done.values())
    total += sent
    if runs <= 3 or not sent:
        say(f"   run {runs}: {done} in {time.perf_counter() - t:.2f} s")
    if not sent:
        break
seconds = time.perf_counter() - started
say(
    f"2. backlog: {total:,} mails in {runs} runs, {seconds:.1f} s ({total / seconds:.0f} mails/s); "
    f"{NotificationLog.objects.count():,} log rows; load {load()}"
)

# 3. a sweep killed before its digest
instant = now + dt.timedelta(days=1)
sweep = escalate_overdue(now=instant, notify=False)
say(f"3. sweep at {instant:%Y-%m-%d %H:%M}: {dict(sweep.counts)} in {sweep.seconds:.2f} s")
t = time.perf_counter()
done = notifications.redrive(now=instant + dt.timedelta(minutes=11))
say(
    f"   re-drive: {done} in {time.perf_counter() - t:.2f} s, "
    f"{DigestEntry.objects.count():,} digest entries; load {load()}"
)
while sum(notifications.redrive(now=instant + dt.timedelta(minutes=11)).values()):
    pass

# 4. nothing to do
times = []
for _ in range(20):
    t = time.perf_counter()
    done = notifications.redrive(now=instant + dt.timedelta(minutes=12))
    times.append(time.perf_counter() - t)
    assert not sum(done.values()), done
say(
    f"4. re-drive with nothing to do: median {statistics.median(times) * 1000:.1f} ms, "
    f"max {max(times) * 1000:.1f} ms (20 runs); load {load()}"
)
