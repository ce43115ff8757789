"""Email notifications: claim, send, mark — each step recoverable, the log always truthful.

Every notification is claimed in NotificationLog under a unique key *before* it is sent, with
the rendered message, so a redelivered task (acks_late) or a second sweep sends nothing twice:

- claim: insert the row (key, recipients, subject, body, claimed_at); an existing row is taken
  over only if it was never sent and its claim was released (the last send failed) or is
  older than CLAIM_TIMEOUT (the worker holding it died) — a compare-and-set, so one taker wins;
- send: hand the stored message to the email backend; if that raises, nothing went out, the
  claim is released (claimed_at NULL, last_error) and the task's retry or the re-drive sends it;
- mark: set sent_at in its own statement right after the send, retried a few times on a new
  connection.

Delivery is at-least-once, chosen over at-most-once: a department that never hears of a
deadline it is breaching costs more than a second copy of a mail. The one window for a
duplicate is between the mail server taking a message and the mark committing (a worker
killed there, or the database lost for longer than the mark's retries): the row then stays
claimed with sent_at NULL — which is the truth, "sending, outcome unknown" — and after
CLAIM_TIMEOUT the re-drive sends it again. Holding a transaction open across SMTP instead would
give the same guarantee while locking the row (on SQLite: the database) for a mail server's
timeout.

`redrive` (a periodic task) is the recovery: it re-sends expired or released claims, notifies
events no task ever claimed (a publish that failed, a task lost with its worker), and sends the
sweep steps no digest covers (a sweep killed between committing its batches and publishing its
digest) — once each, by the unique keys and DigestEntry's (event, department) constraint.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from enterprises.models import Department
from tickets.models import DigestEntry, NotificationLog, Status, TicketEvent

logger = logging.getLogger(__name__)
Action = TicketEvent.Action

SUBJECT_PREFIX = "【企业诉求直通车】"
# The department that must act now hears about it.
DEPARTMENT_ACTIONS = {Action.ROUTE, Action.DISPATCH}
# Status changes the enterprise should know about (not its own actions, not internal steps).
ENTERPRISE_ACTIONS = {
    Action.ROUTE,
    Action.DISPATCH,
    Action.ACCEPT,
    Action.HOLD,
    Action.RESUME,
    Action.APPROVE_EXTENSION,
    Action.RESOLVE,
    Action.APPROVE_EXPLANATION,
    Action.AUTO_CLOSE,
}
# Sweep steps the enterprise hears about, one mail per ticket: its need missed a deadline at
# the top tier and is now supervised (督办).
ENTERPRISE_SWEEP_ACTIONS = {Action.SUPERVISE}
# The enterprise's subject line names the new status, except where the step leaves it as is.
ENTERPRISE_SUBJECTS = {Action.ACCEPT: "已签收", Action.SUPERVISE: "已列入督办"}
# Decisions the tier above must take.
REVIEW_ACTIONS = {Action.REQUEST_EXTENSION}
# Sweep steps, sent as one digest per department per sweep.
DIGEST_ACTIONS = {Action.WARN, Action.REMIND, Action.ESCALATE, Action.SUPERVISE}

# A claim this old belongs to an attempt that is over: longer than a task's hard time limit
# (after which Celery kills it) plus a margin for the mark's retries.
CLAIM_TIMEOUT = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
# The re-drive leaves events this young to their own task (still queued behind others).
REDRIVE_GRACE = dt.timedelta(minutes=10)
# … and gives up on notifications older than this: news of two days ago is no longer news
# (the ticket's timeline, the dashboard and the reports still show every step).
REDRIVE_HORIZON = dt.timedelta(days=2)
# Rows and events per re-drive run: a backlog drains over a few runs instead of one long task.
REDRIVE_BATCH = 1000
# Tries of the mark after a sent mail, with these pauses (seconds) on a fresh connection.
MARK_RETRY_PAUSES = (0.2, 1.0, 3.0)


def _compose_message(subject: str, template: str, context: dict) -> tuple[str, str]:
    with translation.override("zh-hans"):
        return SUBJECT_PREFIX + subject, render_to_string(template, context)


def _take_over(log: NotificationLog, now: dt.datetime) -> NotificationLog | None:
    """The existing row, claimed for this attempt — or None: sent, or being sent."""
    if log.sent_at is not None:
        return None
    if log.claimed_at is not None and log.claimed_at > now - CLAIM_TIMEOUT:
        return None  # another attempt is under way (or died less than CLAIM_TIMEOUT ago)
    if not log.body:
        return None  # a row from before messages were stored: nothing to re-send faithfully
    taken = NotificationLog.objects.filter(
        pk=log.pk, sent_at__isnull=True, claimed_at=log.claimed_at
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not taken:
        return None  # another attempt took it first
    log.claimed_at, log.attempts = now, log.attempts + 1
    return log


def _claim(
    key: str,
    compose: Callable[[], tuple[str, str, list[str], list[tuple[int, int]]] | None],
    *,
    event=None,
    now: dt.datetime,
) -> NotificationLog | None:
    """Claim `key` for this attempt: a new row with the message `compose` returns (subject,
    body, recipients, digest entries as (event id, department id)), or an existing unsent row
    whose claim is released or expired. None: nothing to send now."""
    # Insert first: a new key is the common case, and a replay (rare) costs only a render.
    for _attempt in range(2):
        message = compose()
        if message is None:
            # Nothing new to tell; a row of this key may still wait to be (re-)sent.
            existing = NotificationLog.objects.filter(key=key).first()
            return None if existing is None else _take_over(existing, now)
        subject, body, recipients, entries = message
        try:
            with transaction.atomic():
                log = NotificationLog.objects.create(
                    key=key,
                    subject=subject[:200],
                    recipients=",".join(recipients),
                    body=body,
                    event=event,
                    claimed_at=now,
                    attempts=1,
                )
                DigestEntry.objects.bulk_create(
                    DigestEntry(notification=log, event_id=e, department_id=d) for e, d in entries
                )
            return log
        except IntegrityError:
            existing = NotificationLog.objects.filter(key=key).first()
            if existing is not None:  # a replay, or a concurrent attempt
                return _take_over(existing, now)
            # One of the entries: another digest told that step first; compose again without it.
            continue
    logger.warning("notification %s: lost the claim twice to concurrent attempts", key)
    return None


def _mark_sent(log: NotificationLog) -> None:
    for pause in (*MARK_RETRY_PAUSES, None):
        try:
            NotificationLog.objects.filter(pk=log.pk, sent_at__isnull=True).update(
                sent_at=timezone.now(), body="", last_error=""
            )
            return
        except DatabaseError:
            if pause is None:
                logger.exception(
                    "notification %s was sent but could not be marked; it stays claimed and "
                    "is sent again after %s (at-least-once)",
                    log.key,
                    CLAIM_TIMEOUT,
                )
                raise
            if not connection.in_atomic_block:
                connection.close()  # not the broken connection again: the next query reconnects
            time.sleep(pause)


def _deliver(log: NotificationLog) -> bool:
    """Send a claimed row's stored message and mark it sent."""
    try:
        send_mail(log.subject, log.body, settings.DEFAULT_FROM_EMAIL, log.recipients.split(","))
    except Exception as error:
        # The mail server did not take it: release the claim for the retry (or the re-drive).
        try:
            NotificationLog.objects.filter(pk=log.pk, claimed_at=log.claimed_at).update(
                claimed_at=None, last_error=f"{type(error).__name__}: {error}"[:300]
            )
        except DatabaseError:
            logger.exception("notification %s: could not release the claim", log.key)
        raise
    _mark_sent(log)
    return True


def _send(key: str, subject: str, template: str, context: dict, recipients, event=None) -> bool:
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return False

    def compose():
        return (*_compose_message(subject, template, context), recipients, [])

    claim = _claim(key, compose, event=event, now=timezone.now())
    if claim is None:
        logger.info("notification %s already sent or being sent; skipping", key)
        return False
    return _deliver(claim)


def notify_event(event_id: int) -> int:
    """Email the people one event concerns. Returns how many emails were sent."""
    event = (
        TicketEvent.objects.select_related(
            "ticket", "ticket__enterprise", "ticket__department", "to_department"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    ticket = event.ticket
    context = {"event": event, "ticket": ticket, "site_url": getattr(settings, "SITE_URL", "")}
    sent = 0
    if event.action in DEPARTMENT_ACTIONS and event.to_department:
        sent += _send(
            f"event:{event.pk}:department",
            f"新分派诉求 {ticket.number}：{ticket.title}"[:150],
            "tickets/email/department_assigned.txt",
            context,
            [event.to_department.email],
            event,
        )
    # A negative answer reaches the enterprise only once the tier above approved it.
    tells_enterprise = event.action in ENTERPRISE_ACTIONS and not (
        event.action == Action.RESOLVE and event.to_status != Status.RESOLVED
    )
    if tells_enterprise:
        sent += _tell_enterprise(event, context)
    needs_review = event.action in REVIEW_ACTIONS or (
        event.action == Action.RESOLVE and event.to_status == Status.PENDING_REVIEW
    )
    if needs_review and ticket.department_id:
        above = Department.objects.filter(pk=ticket.department_id).values_list(
            "escalates_to__email", flat=True
        )
        sent += _send(
            f"event:{event.pk}:review",
            f"待审核 {ticket.number}：{event.get_action_display()}",
            "tickets/email/review_needed.txt",
            context,
            list(above),
            event,
        )
    if not sent and not NotificationLog.objects.filter(event=event).exists():
        # Nothing to tell anyone (no address, an internal step): say so once, so the re-drive
        # does not come back to this event.
        NotificationLog.objects.get_or_create(
            key=f"event:{event.pk}:none",
            defaults={"event": event, "subject": "", "sent_at": timezone.now()},
        )
    return sent


def _tell_enterprise(event: TicketEvent, context: dict) -> bool:
    """One mail to the enterprise's contact about one event (claimed once per event)."""
    ticket = event.ticket
    what = ENTERPRISE_SUBJECTS.get(event.action) or Status(event.to_status).label
    return _send(
        f"event:{event.pk}:enterprise",
        f"您的诉求 {ticket.number} {what}",
        "tickets/email/enterprise_update.txt",
        context,
        [ticket.enterprise.contact_email],
        event,
    )


def send_digest(sweep_id: str, event_ids: list[int]) -> int:
    """One email per department for everything one sweep did to its tickets."""
    events = TicketEvent.objects.filter(pk__in=event_ids, action__in=DIGEST_ACTIONS)
    return _send_digests(f"digest:{sweep_id}", events, now=timezone.now())


def _audience(event: TicketEvent) -> list[int]:
    """The departments a sweep step concerns: the one that must act, and for an escalation
    also the one it was taken from (the red card)."""
    departments = [event.to_department_id] if event.to_department_id else []
    if event.action == Action.ESCALATE and event.from_department_id:
        departments.append(event.from_department_id)
    return departments


def _send_digests(key_prefix: str, events, *, now: dt.datetime) -> int:
    events = list(
        events.select_related(
            "ticket", "ticket__enterprise", "from_department", "to_department"
        ).order_by("to_department_id", "action", "ticket__number")
    )
    by_department: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in events:
        for department_id in _audience(event):
            by_department[department_id].append(event)
    departments = Department.objects.in_bulk(list(by_department))
    sent = 0
    for department_id, items in by_department.items():
        department = departments[department_id]
        sent += _send_digest(f"{key_prefix}:{department_id}", department, items, now=now)
    # The enterprise hears of some sweep steps itself, one mail per event (claimed by the
    # event's key: the sweep's digest task and a re-drive of its steps send it once).
    site_url = getattr(settings, "SITE_URL", "")
    for event in events:
        if event.action in ENTERPRISE_SWEEP_ACTIONS:
            context = {"event": event, "ticket": event.ticket, "site_url": site_url}
            sent += _tell_enterprise(event, context)
    return sent


def _send_digest(key: str, department: Department, items: list[TicketEvent], *, now) -> bool:
    def compose():
        # Only the steps no other digest told this department (a re-drive, or the sweep's own
        # digest, may have got there first).
        covered = set(
            DigestEntry.objects.filter(
                department=department, event_id__in=[e.pk for e in items]
            ).values_list("event_id", flat=True)
        )
        fresh = [event for event in items if event.pk not in covered]
        if not fresh:
            return None
        counts = defaultdict(int)
        for event in fresh:
            counts[event.get_action_display()] += 1
        summary = "，".join(f"{label}{n}件" for label, n in counts.items())
        subject, body = _compose_message(
            f"时限提醒：{department.name} {summary}"[:150],
            "tickets/email/digest.txt",
            {"department": department, "events": fresh, "summary": summary},
        )
        entries = [(e.pk, department.pk) for e in fresh]
        return subject, body, [department.email] if department.email else [], entries

    if not department.email:
        # No address to tell: the steps are recorded as told (nothing sent), so the re-drive
        # does not come back to them.
        logger.warning("digest %s not sent: department %s has no email", key, department)
        claim = _claim(f"{key}:none", compose, now=now)
        if claim is not None:
            NotificationLog.objects.filter(pk=claim.pk).update(sent_at=now, body="")
        return False
    claim = _claim(key, compose, now=now)
    if claim is None:
        logger.info("digest %s already sent, being sent, or covered; skipping", key)
        return False
    return _deliver(claim)


def redrive(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send what was committed but never sent (see the module docstring). Idempotent and safe
    to run in parallel with itself and with the tasks it backs up."""
    now = now or timezone.now()
    since, before = now - REDRIVE_HORIZON, now - REDRIVE_GRACE
    done = {"resent": 0, "events": 0, "digests": 0}

    # 1. Claimed and never sent: the send failed past the task's retries, or the attempt died.
    stuck = (
        NotificationLog.objects.filter(sent_at__isnull=True, created_at__gte=since)
        .exclude(body="")
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - CLAIM_TIMEOUT))
        .order_by("created_at")[:REDRIVE_BATCH]
    )
    for log in stuck:
        claim = _take_over(log, now)
        if claim is not None:
            done["resent"] += _deliver_logged(claim)

    # 2. Events whose own notification task never ran (its publish failed, its worker died
    # with it and the broker lost it).
    actions = DEPARTMENT_ACTIONS | ENTERPRISE_ACTIONS | REVIEW_ACTIONS
    orphans = (
        TicketEvent.objects.filter(created_at__gte=since, created_at__lt=before, action__in=actions)
        .filter(~Exists(NotificationLog.objects.filter(event_id=OuterRef("pk"))))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:REDRIVE_BATCH]
    )
    for event_id in list(orphans):
        try:
            done["events"] += notify_event(event_id)
        except Exception:
            logger.exception("notification re-drive: event %s", event_id)

    # 3. Sweep steps that no digest told a department they concern (the sweep was killed
    # after committing a batch and before publishing its digest, or the digest task was lost).
    def uncovered(department_field):
        return ~Exists(
            DigestEntry.objects.filter(
                event_id=OuterRef("pk"), department_id=OuterRef(department_field)
            )
        )

    steps = (
        TicketEvent.objects.filter(
            created_at__gte=since, created_at__lt=before, action__in=DIGEST_ACTIONS
        )
        .filter(
            Q(to_department__isnull=False) & uncovered("to_department_id")
            | Q(action=Action.ESCALATE, from_department__isnull=False)
            & uncovered("from_department_id")
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:REDRIVE_BATCH]
    )
    step_ids = list(steps)
    if step_ids:
        try:
            done["digests"] += _send_digests(
                f"digest:redrive-{uuid.uuid4().hex}",
                TicketEvent.objects.filter(pk__in=step_ids),
                now=now,
            )
        except Exception:
            logger.exception("notification re-drive: digests")
    if any(done.values()):
        logger.info("notification re-drive at %s: %s", now.isoformat(), done)
    return done


def _deliver_logged(claim: NotificationLog) -> int:
    try:
        return int(_deliver(claim))
    except Exception:
        logger.exception("notification re-drive: %s still not sent", claim.key)
        return 0


def alert_staff(key: str, subject: str, body: str) -> bool:
    """Tell the people who run the system that something needs a person (once per key)."""
    recipients = list(settings.STAFF_ALERT_EMAILS)
    recipients += list(
        Department.objects.filter(is_coordinator=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        logger.error("staff alert with no recipients configured: %s — %s", subject, body)
        return False
    return _send(
        f"alert:{key}", subject, "tickets/email/staff_alert.txt", {"body": body}, recipients
    )
