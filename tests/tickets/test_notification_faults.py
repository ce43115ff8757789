"""Fault injection with a real worker on the real broker: a sweep killed after its first batch
never sent its digest; the notification re-drive sends it, exactly once per department."""

import datetime as dt
import email
import os
import signal
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from tests.broker import ROOT, database_url, wait_for
from tests.tickets.conftest import SETUP_NOTE, at, make_ticket
from tickets import effects, notifications, workflow
from tickets.models import DigestEntry, NotificationLog, Status, TicketEvent

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

# `manage.py escalate` with small batches that stops after the first batch has committed and
# waits there to be killed: the test-only pause lives here, not in the sweep.
KILLABLE_SWEEP = r"""
import os, sys, time
from pathlib import Path

import django

django.setup()
from django.core.management import call_command

from tickets import escalation

escalation.BATCH_SIZE = int(os.environ["SWEEP_BATCH_SIZE"])
original, batches = escalation._sweep_batch, []


def pause_after_the_first_batch(ctx, *, careful):
    if batches:  # the first batch's transaction has committed
        Path(os.environ["SWEEP_PAUSED_FLAG"]).write_text("paused")
        time.sleep(300)
    batches.append(1)
    return original(ctx, careful=careful)


escalation._sweep_batch = pause_after_the_first_batch
call_command("escalate", "--now", sys.argv[1])
"""

SWEEP_AT = at(2026, 6, 11, 9)


@pytest.fixture
def mail_dir(tmp_path):
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def hang_flag(tmp_path):
    return tmp_path / "hang"


@pytest.fixture
def celery_worker_env(mail_dir, hang_flag):
    return {
        "EMAIL_BACKEND": "tests.mail_backends.HangWhileFlaggedBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "TEST_MAIL_HANG_FLAG": str(hang_flag),
    }


def read_mails(mail_dir: Path) -> list[email.message.EmailMessage]:
    """The file backend's messages (one file per connection, messages separated by dashes)."""
    mails = []
    for path in sorted(mail_dir.iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                mails.append(email.message_from_bytes(chunk, policy=policy.default))
    return mails


def expected_pairs(events) -> set[tuple[int, int]]:
    return {
        (event.pk, department) for event in events for department in notifications._audience(event)
    }


def sweep_steps():
    return TicketEvent.objects.exclude(note=SETUP_NOTE).filter(
        action__in=notifications.DIGEST_ACTIONS
    )


def test_a_sweep_killed_after_its_first_batch_gets_one_digest_per_department_from_the_redrive(
    world, celery_broker, celery_worker, mail_dir, tmp_path, mailoutbox
):
    from weihai.celery import app

    for _ in range(5):
        make_ticket(world, Status.IN_PROGRESS)  # past the resolve deadline: escalate → city
    for _ in range(2):
        make_ticket(world, Status.ASSIGNED, department=world.city)  # never accepted: remind
    flag = tmp_path / "paused"
    sweep = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_SWEEP, SWEEP_AT.isoformat()],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": celery_broker,
            "DEBUG": "1",
            "DOTENV_FILE": "",
            "SWEEP_BATCH_SIZE": "3",
            "SWEEP_PAUSED_FLAG": str(flag),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(flag.exists, timeout=60, message="the sweep to commit its first batch")
    finally:
        sweep.send_signal(signal.SIGKILL)
        output = sweep.communicate(timeout=30)[0].decode()
    assert sweep.returncode == -signal.SIGKILL, output

    # What the killed sweep left: its first batch committed, no digest claimed, no mail.
    steps = list(sweep_steps())
    assert len(steps) == 3
    assert not NotificationLog.objects.filter(key__startswith="digest:").exists()
    assert list(mail_dir.iterdir()) == []

    # The periodic re-drive, through the real worker.
    later = SWEEP_AT + dt.timedelta(minutes=15)
    app.send_task("tickets.redrive_notifications", args=(later.isoformat(),))
    pairs = expected_pairs(steps)
    departments = {department for _event, department in pairs}
    assert departments == {world.local.pk, world.city.pk} or departments == {world.city.pk}
    sent_digests = NotificationLog.objects.filter(key__startswith="digest:", sent_at__isnull=False)
    wait_for(
        lambda: sent_digests.count() == len(departments),
        timeout=60,
        message="the re-drive to send the digests",
    )
    mails = read_mails(mail_dir)
    assert sorted(m["To"] for m in mails) == sorted(
        world.local.email if d == world.local.pk else world.city.email for d in departments
    )
    # Every step the killed sweep committed is in the digest of each department it concerns.
    assert set(DigestEntry.objects.values_list("event_id", "department_id")) == pairs
    for mail in mails:
        department = world.local if mail["To"] == world.local.email else world.city
        body = mail.get_content()
        numbers = [e.ticket.number for e in steps if (e.pk, department.pk) in pairs]
        assert mail["Subject"].strip().startswith("【企业诉求直通车】时限提醒：")
        for number in numbers:
            assert body.count(number) == 1, (number, body)

    # Once each: another re-drive sends nothing.
    assert notifications.redrive(now=later + dt.timedelta(minutes=5))["digests"] == 0
    assert mailoutbox == []

    # The next sweep finishes the work; its digest tells only the steps it took.
    app.send_task("tickets.escalation_sweep", args=(SWEEP_AT.isoformat(),))
    wait_for(lambda: sweep_steps().count() == 7, timeout=60, message="the next sweep")
    all_pairs = expected_pairs(sweep_steps())
    wait_for(
        lambda: (
            DigestEntry.objects.filter(notification__sent_at__isnull=False).count()
            == len(all_pairs)
        ),
        timeout=60,
        message="the next sweep's digests",
    )
    assert set(DigestEntry.objects.values_list("event_id", "department_id")) == all_pairs
    mails = read_mails(mail_dir)
    assert len(mails) == len(departments) + len({d for _e, d in all_pairs - pairs})


def test_a_worker_killed_between_claim_and_send_leaves_a_claim_the_redrive_sends(
    world, celery_broker, celery_worker, mail_dir, hang_flag, mailoutbox
):
    from django.utils import timezone

    from weihai.celery import app

    ticket = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="solved", reply="已解决", now=SWEEP_AT
    )
    event = ticket.events.get(action="resolve")
    hang_flag.write_text("hang")
    app.send_task(effects.NOTIFY_EVENT, args=(event.pk,))
    reached = Path(f"{hang_flag}.reached")
    wait_for(reached.exists, timeout=60, message="the worker to claim and start sending")
    celery_worker.send_signal(signal.SIGKILL)
    celery_worker.wait(timeout=30)

    log = NotificationLog.objects.get(key=f"event:{event.pk}:enterprise")
    assert (log.sent_at, log.attempts) == (None, 1)  # claimed, never sent: the row says so
    assert log.claimed_at is not None and log.body
    assert list(mail_dir.iterdir()) == []
    # Within the claim timeout nobody can tell a dead attempt from a slow one …
    assert notifications.redrive(now=timezone.now())["resent"] == 0
    # … after it, the re-drive sends the stored message, once.
    expired = timezone.now() + notifications.CLAIM_TIMEOUT + dt.timedelta(minutes=1)
    assert notifications.redrive(now=expired)["resent"] == 1
    assert notifications.redrive(now=expired)["resent"] == 0
    assert [m.to for m in mailoutbox] == [[world.enterprise.contact_email]]
    assert "办理结果：已解决" in mailoutbox[0].body
    log.refresh_from_db()
    assert log.sent_at is not None and log.attempts == 2
