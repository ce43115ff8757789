"""Email notifications. Each is claimed in NotificationLog under a unique key *before* it is
sent, so a redelivered task (acks_late) or a second sweep sends nothing twice."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from enterprises.models import Department
from tickets.models import NotificationLog, Status, TicketEvent

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


def _claim(key: str, subject: str, recipients: list[str], event=None) -> NotificationLog | None:
    try:
        with transaction.atomic():
            return NotificationLog.objects.create(
                key=key, subject=subject[:200], recipients=",".join(recipients), event=event
            )
    except IntegrityError:
        return None


def _send(key: str, subject: str, template: str, context: dict, recipients, event=None) -> bool:
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return False
    subject = SUBJECT_PREFIX + subject
    claim = _claim(key, subject, recipients, event)
    if claim is None:
        logger.info("notification %s already sent; skipping", key)
        return False
    with translation.override("zh-hans"):
        body = render_to_string(template, context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        claim.delete()  # let a retry send it
        raise
    NotificationLog.objects.filter(pk=claim.pk).update(sent_at=timezone.now())
    return True


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
    events = list(
        TicketEvent.objects.filter(pk__in=event_ids, action__in=DIGEST_ACTIONS)
        .select_related("ticket", "ticket__enterprise", "from_department", "to_department")
        .order_by("to_department_id", "action", "ticket__number")
    )
    by_department: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in events:
        if event.to_department_id:
            by_department[event.to_department_id].append(event)
        if event.action == Action.ESCALATE and event.from_department_id:
            by_department[event.from_department_id].append(event)  # the red card
    departments = Department.objects.in_bulk(list(by_department))
    sent = 0
    for department_id, items in by_department.items():
        department = departments[department_id]
        counts = defaultdict(int)
        for event in items:
            counts[event.get_action_display()] += 1
        summary = "，".join(f"{label}{n}件" for label, n in counts.items())
        sent += _send(
            f"digest:{sweep_id}:{department_id}",
            f"时限提醒：{department.name} {summary}"[:150],
            "tickets/email/digest.txt",
            {"department": department, "events": items, "summary": summary},
            [department.email],
        )
    site_url = getattr(settings, "SITE_URL", "")
    for event in events:
        if event.action in ENTERPRISE_SWEEP_ACTIONS:
            context = {"event": event, "ticket": event.ticket, "site_url": site_url}
            sent += _tell_enterprise(event, context)
    return sent


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
