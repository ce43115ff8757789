"""Fault injection with a real worker on the real broker: the mail server is down for longer
than the report task's retry window, then back; the re-send sweep sends the report once."""

import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from reports.models import ReportSnapshot
from reports.reporting import resend_unsent
from reports.tasks import scheduled_report
from tests.broker import wait_for
from tests.reports.conftest import NOW

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there yet: connections are refused


@pytest.fixture
def celery_worker_env(smtp_port):
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "3",
    }


def finished(log_path, task: str) -> int:
    """How many runs of `task` the worker log shows as finished (succeeded or failed)."""
    text = log_path.read_text(errors="replace")
    return sum(
        1
        for line in text.splitlines()
        if f"Task {task}[" in line and (" succeeded in " in line or " raised " in line)
    )


def test_a_report_with_smtp_down_past_the_retry_window_is_sent_once_it_is_back(
    world, celery_broker, celery_worker, smtp_port, tmp_path
):
    from weihai.celery import app

    log = tmp_path / "worker.log"
    # The scheduled run's last try (its retries used up while the mail server was down).
    app.send_task(
        "reports.scheduled_report",
        args=("month", NOW.isoformat()),
        retries=scheduled_report.max_retries,
    )
    wait_for(lambda: finished(log, "reports.scheduled_report") == 1, timeout=60, message="run")
    snapshot = ReportSnapshot.objects.get()
    # Built, not sent, and the row says so.
    assert snapshot.emailed_at is None and snapshot.email_claimed_at is None
    assert snapshot.recipients == []
    assert (snapshot.email_wanted, snapshot.email_attempts) == (True, 1)
    assert "Connection refused" in snapshot.email_error
    assert "reports.scheduled_report" in log.read_text() and " raised " in log.read_text()

    # Still down: the re-send sweep tries and keeps it.
    app.send_task("reports.resend_unsent_reports")
    wait_for(lambda: finished(log, "reports.resend_unsent_reports") == 1, message="resend 1")
    snapshot.refresh_from_db()
    assert (snapshot.emailed_at, snapshot.email_attempts) == (None, 2)

    # The mail server is back.
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        app.send_task("reports.resend_unsent_reports")
        wait_for(lambda: finished(log, "reports.resend_unsent_reports") == 2, message="resend 2")
        app.send_task("reports.resend_unsent_reports")
        app.send_task("reports.scheduled_report", args=("month", NOW.isoformat()))
        wait_for(lambda: finished(log, "reports.resend_unsent_reports") == 3, message="resend 3")
        wait_for(lambda: finished(log, "reports.scheduled_report") == 2, message="run again")
    finally:
        server.stop()
    assert len(inbox.messages) == 1
    (message,) = inbox.messages
    assert message.rcpt_tos == ["leader-industry@gov.example"]
    snapshot.refresh_from_db()
    assert snapshot.emailed_at is not None
    assert snapshot.recipients == ["leader-industry@gov.example"]
    assert (snapshot.email_attempts, snapshot.email_error) == (3, "")
    assert resend_unsent() == 0
    assert ReportSnapshot.objects.count() == 1
