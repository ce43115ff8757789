"""Scheduled reports: build a period's snapshot once, send it once.

``run_report`` is what the Celery task and ``manage.py report`` call. It is idempotent:

- the snapshot of a period is unique in the database (week/month: kind + start; custom:
  kind + start + end), so a second run — a beat overlap, a redelivered task, an operator
  re-running the command — finds the stored snapshot and never rebuilds what was sent;
- the email is claimed with a compare-and-set on the snapshot row before it is sent, so two
  workers never both send it; a failed send releases the claim for the retry, and a claim left
  by a worker that died mid-send expires after ``EMAIL_CLAIM_TIMEOUT``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Department, Tier
from reports import exports
from reports.models import ReportSnapshot
from reports.periods import Period, last_complete_month, last_complete_week, local_date
from reports.stats import Figures, Options, breakdowns, format_target, taken_in
from tickets.models import Ticket

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "【企业诉求直通车】"  # as tickets.notifications
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Longer than a task's hard time limit (CELERY_TASK_TIME_LIMIT, 600 s): a claim this old
# belongs to a worker that is gone, and the report may be sent by the next run.
EMAIL_CLAIM_TIMEOUT = dt.timedelta(minutes=15)

PERIOD_KINDS = ("week", "month", "all")


@dataclass(frozen=True)
class ReportRun:
    snapshot: ReportSnapshot
    created: bool
    sent: bool


def period_for(kind: str, now: dt.datetime) -> Period:
    """The last complete week (Mon–Sun) or month before ``now``, in Asia/Shanghai."""
    if kind == ReportSnapshot.PeriodKind.WEEK:
        return last_complete_week(now)
    if kind == ReportSnapshot.PeriodKind.MONTH:
        return last_complete_month(now)
    raise ValueError(f"unknown period kind {kind!r}")


def headline(figures: Figures, options: Options) -> str:
    """The city's own phrasing (DESIGN §5)."""
    c = figures.counts
    values = {
        "taken_in": f"{c.taken_in:,}",
        "city_level": f"{c.city_level:,}",
        "resolved": f"{c.city_level_resolved:,}",
        "rate": figures.city_level_resolution_rate.percent,
        "target": format_target(options.target),
    }
    if options.count_basically_solved:
        text = _(
            "本期受理企业诉求%(taken_in)s件，需市级层面解决的问题%(city_level)s个，"
            "其中已基本解决%(resolved)s个，占比%(rate)s（目标%(target)s）"
        )
    else:
        text = _(
            "本期受理企业诉求%(taken_in)s件，需市级层面解决的问题%(city_level)s个，"
            "其中已解决%(resolved)s个，占比%(rate)s（目标%(target)s）"
        )
    return text % values


def summary(figures: Figures) -> str:
    c = figures.counts
    return _(
        "整体解决率%(resolution)s，按时办结率%(on_time)s，满意率%(satisfaction)s；"
        "升级%(escalated)s件，当前超期%(overdue)s件，督办%(supervised)s件。"
    ) % {
        "resolution": figures.resolution_rate.percent,
        "on_time": figures.on_time_rate.percent,
        "satisfaction": figures.satisfaction_rate.percent,
        "escalated": f"{c.escalated:,}",
        "overdue": f"{c.overdue:,}",
        "supervised": f"{c.supervised:,}",
    }


def report_recipients() -> list[str]:
    """The leaders' offices (leader-tier departments with an email) and STAFF_ALERT_EMAILS."""
    offices = Department.objects.filter(tier=Tier.LEADER, is_active=True).exclude(email="")
    emails = set(offices.values_list("email", flat=True)) | set(settings.STAFF_ALERT_EMAILS)
    return sorted(e for e in emails if e)


def listing_queryset(period: Period, *, now: dt.datetime, options: Options):
    """The period's tickets that were escalated, and every ticket overdue at ``now`` whenever
    it was submitted (as the "currently overdue" figure), by department."""
    escalated = taken_in(Ticket.objects.all(), options=options, period=period).filter(
        escalation_count__gt=0
    )
    return (escalated | Ticket.objects.overdue(now)).order_by("department__name", "number")


def _existing(kind: str, period: Period) -> ReportSnapshot | None:
    snapshots = ReportSnapshot.objects.filter(period_kind=kind, period_start=period.since)
    if kind == ReportSnapshot.PeriodKind.CUSTOM:
        snapshots = snapshots.filter(period_end=period.until)
    return snapshots.first()


def build_snapshot(*, kind: str, period: Period, now: dt.datetime) -> tuple[ReportSnapshot, bool]:
    """The stored snapshot of this period, building it first if there is none."""
    existing = _existing(kind, period)
    if existing is not None:
        return existing, False
    options = Options.load()
    results = breakdowns(
        Ticket.objects.all(), ["department", "kind"], period=period, now=now, options=options
    )
    by_department, by_kind = results["department"], results["kind"]
    overall = by_department.overall
    text = headline(overall, options)
    lines = summary(overall)
    snapshot = ReportSnapshot(
        period_kind=kind, period_start=period.since, period_end=period.until, as_of=now
    )
    snapshot.headline = text
    snapshot.figures = {
        "title": snapshot.title,
        "period": period.label(),
        "as_of": now.isoformat(),
        "headline": text,
        "summary": lines,
        "department": by_department.as_dict(),
        "kind": by_kind.as_dict(),
    }
    snapshot.xlsx = exports.report_xlsx(
        title=snapshot.title,
        period_label=period.label(),
        as_of=now,
        headline=text,
        summary=lines,
        by_department=by_department,
        by_kind=by_kind,
        listing=listing_queryset(period, now=now, options=options),
    )
    snapshot.csv = exports.report_csv(by_department)
    try:
        with transaction.atomic():
            snapshot.save(force_insert=True)
    except IntegrityError:
        # Another run stored this period first; theirs is the one that counts.
        existing = _existing(kind, period)
        if existing is None:
            raise
        return existing, False
    logger.info("report %s stored: %s", snapshot, text)
    return snapshot, True


def send_snapshot(snapshot: ReportSnapshot) -> bool:
    """Email the snapshot with its XLSX once. Returns whether this call sent it.

    The row stays truthful whatever happens: `recipients` and `emailed_at` are written only
    once the mail server took the message; a failure releases the claim and records the error
    (the task's retries, then the re-send sweep, try again); a worker that dies mid-send leaves
    a claim that expires after EMAIL_CLAIM_TIMEOUT. As for notifications, delivery is
    at-least-once: a report lost is worse than a report twice (tickets.notifications).
    """
    ReportSnapshot.objects.filter(pk=snapshot.pk, email_wanted=False).update(email_wanted=True)
    snapshot.email_wanted = True
    recipients = report_recipients()
    if not recipients:
        logger.warning("report %s not emailed: no leader office has an email address", snapshot)
        return False
    claimed_at = timezone.now()
    claimed = (
        ReportSnapshot.objects.filter(pk=snapshot.pk, emailed_at__isnull=True)
        .filter(
            Q(email_claimed_at__isnull=True)
            | Q(email_claimed_at__lt=claimed_at - EMAIL_CLAIM_TIMEOUT)
        )
        .update(email_claimed_at=claimed_at, email_attempts=F("email_attempts") + 1)
    )
    if not claimed:
        logger.info("report %s already sent (or being sent); not sending again", snapshot)
        return False
    message = EmailMessage(
        subject=f"{SUBJECT_PREFIX}{snapshot.title}",
        body=_email_body(snapshot),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach(f"{snapshot.title}.xlsx", bytes(snapshot.xlsx), XLSX_MIME)
    try:
        message.send()
    except Exception as error:
        snapshot.email_error = f"{type(error).__name__}: {error}"[:300]
        ReportSnapshot.objects.filter(pk=snapshot.pk, email_claimed_at=claimed_at).update(
            email_claimed_at=None, email_error=snapshot.email_error
        )
        raise
    sent_at = timezone.now()
    ReportSnapshot.objects.filter(pk=snapshot.pk).update(
        emailed_at=sent_at, recipients=recipients, email_error=""
    )
    snapshot.email_claimed_at, snapshot.emailed_at = claimed_at, sent_at
    snapshot.recipients, snapshot.email_error = recipients, ""
    return True


def resend_unsent(*, now: dt.datetime | None = None) -> int:
    """Send every snapshot that was meant to be emailed and never was (the mail server was
    down longer than the task's retries, or no recipient was configured then). Returns how
    many went out now; a snapshot that still fails stays for the next run."""
    now = now or timezone.now()
    unsent = (
        ReportSnapshot.objects.filter(email_wanted=True, emailed_at__isnull=True)
        .filter(
            Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT)
        )
        .order_by("created_at")
    )
    sent = 0
    for snapshot in unsent:
        try:
            sent += send_snapshot(snapshot)
        except Exception:
            logger.exception("report %s still not sent; the next run tries again", snapshot)
    return sent


def _email_body(snapshot: ReportSnapshot) -> str:
    figures = snapshot.figures
    return _(
        "各位领导：\n\n%(title)s如下。\n\n%(headline)s。\n%(summary)s\n\n"
        "统计期间：%(period)s；统计时点：%(as_of)s。\n"
        "按责任单位的统计和升级、超期诉求清单见附件（XLSX）。\n\n"
        "企业诉求直通车（系统自动发送，请勿回复）\n"
    ) % {
        "title": snapshot.title,
        "headline": snapshot.headline,
        "summary": figures.get("summary", ""),
        "period": figures.get("period", ""),
        "as_of": _local(snapshot.as_of),
    }


def _local(instant: dt.datetime) -> str:
    return f"{timezone.localtime(instant):%Y-%m-%d %H:%M}"


def run_report(
    *,
    period_kind: str = "week",
    now: dt.datetime | None = None,
    period: Period | None = None,
    email: bool = True,
) -> ReportRun:
    """Build (once) and send (once) the report of a period.

    ``period_kind`` is week or month (the last complete one before ``now``), or ``all`` (every
    ticket up to ``now``'s date, stored as a custom period). An explicit ``period`` (both dates)
    makes a custom report.
    """
    now = now or timezone.now()
    if period is not None:
        if not (period.since and period.until):
            raise ValueError("a custom report needs both dates")
        kind = ReportSnapshot.PeriodKind.CUSTOM
    elif period_kind == "all":
        kind = ReportSnapshot.PeriodKind.CUSTOM
        until = local_date(now)
        first = Ticket.objects.aggregate(first=Min("created_at"))["first"]
        since = min(local_date(first), until) if first else until
        period = Period(since, until)
    else:
        kind = period_kind
        period = period_for(period_kind, now)
    snapshot, created = build_snapshot(kind=kind, period=period, now=now)
    sent = send_snapshot(snapshot) if email else False
    return ReportRun(snapshot=snapshot, created=created, sent=sent)
