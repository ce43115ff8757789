"""Celery interface of the reports: thin, idempotent (see reports.reporting)."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from reports.periods import parse_instant
from reports.reporting import resend_unsent, run_report


@shared_task(
    name="reports.scheduled_report",
    acks_late=True,
    reject_on_worker_lost=True,
    # Transient: the mail server or the database hiccuped. Building is idempotent and the
    # email claim is released on failure, so a retry neither duplicates nor loses the report.
    autoretry_for=(SMTPException, ConnectionError, TimeoutError, OperationalError),
    retry_backoff=30,
    # A retry waits unacknowledged in the worker: keep it under the visibility timeout. A
    # longer outage of the mail server is the re-send sweep's (resend_unsent_reports).
    retry_backoff_max=settings.CELERY_TASK_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=300,
    time_limit=360,
)
def scheduled_report(period: str = "week", now: str | None = None) -> int:
    """Build and send the weekly or monthly report; returns the snapshot id."""
    if period not in ("week", "month"):
        raise ValueError(f"period must be 'week' or 'month', not {period!r}")
    return run_report(period_kind=period, now=parse_instant(now)).snapshot.pk


@shared_task(
    name="reports.resend_unsent_reports", acks_late=True, soft_time_limit=300, time_limit=360
)
def resend_unsent_reports(now: str | None = None) -> int:
    """Re-send snapshots the scheduled run could not send; no retries of its own: the next
    tick is the retry, for as long as the mail server stays down."""
    return resend_unsent(now=parse_instant(now))
