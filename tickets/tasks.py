"""Celery tasks: thin interfaces over the workflow, the sweeps and notifications.

Ids in, one call out. acks_late + task_reject_on_worker_lost (settings) mean a task whose
worker dies runs again, so each one is idempotent: routing re-checks the status, sweeps
act on each breach once (unique breach keys), notifications are claimed by unique key.
No ETA/countdown tasks: deadlines are data (`escalate_at`), swept every minute.
"""

import datetime as dt
import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils.dateparse import parse_datetime

from tickets import calendar_store, effects, escalation, notifications, sla, workflow
from tickets.errors import WorkflowError

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError, smtplib.SMTPException)
RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    # A retry waits unacknowledged in the worker: keep it under the visibility timeout.
    "retry_backoff_max": settings.CELERY_TASK_RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": 8,
}


def _instant(value: str | None) -> dt.datetime | None:
    return parse_datetime(value) if value else None


@shared_task(name=effects.ROUTE_TICKET, acks_late=True, **RETRY)
def route_ticket(ticket_id: int) -> str:
    try:
        ticket = workflow.route_ticket(ticket_id=ticket_id)
    except WorkflowError as error:
        # Already routed (a redelivery, or the re-route sweep got there first), or no
        # calendar: nothing to redo here; the sweep retries what is still submitted.
        logger.info("route_ticket(%s): %s", ticket_id, error)
        return "skipped"
    return ticket.status


@shared_task(name=effects.ROUTE_TICKETS, acks_late=True, **RETRY)
def route_tickets(ticket_ids: list[int]) -> int:
    # Idempotent like route_ticket: a ticket routed already is skipped.
    return workflow.route_many(ticket_ids)


@shared_task(name="tickets.escalation_sweep", acks_late=True, **RETRY)
def escalation_sweep(now: str | None = None) -> dict:
    result = escalation.escalate_overdue(now=_instant(now))
    return {"counts": dict(result.counts), "skipped": result.skipped}


@shared_task(name="tickets.reroute_sweep", acks_late=True, **RETRY)
def reroute_sweep(now: str | None = None) -> int:
    return workflow.reroute_stale(now=_instant(now))


@shared_task(name="tickets.recompute_deadlines", acks_late=True, **RETRY)
def recompute_deadlines() -> int:
    return sla.recompute_deadlines()


@shared_task(name=effects.NOTIFY_EVENT, acks_late=True, **RETRY)
def notify_event(event_id: int) -> int:
    return notifications.notify_event(event_id)


@shared_task(name=effects.SEND_DIGEST, acks_late=True, **RETRY)
def send_digest(sweep_id: str, event_ids: list[int]) -> int:
    return notifications.send_digest(sweep_id, event_ids)


@shared_task(name="tickets.redrive_notifications", acks_late=True, **RETRY)
def redrive_notifications(now: str | None = None) -> dict:
    return notifications.redrive(now=_instant(now))


@shared_task(name=effects.ALERT_STAFF, acks_late=True, **RETRY)
def alert_staff(key: str, subject: str, body: str) -> bool:
    return notifications.alert_staff(key, subject, body)


@shared_task(name="tickets.watch_calendar", acks_late=True, **RETRY)
def watch_calendar(now: str | None = None) -> dict:
    return calendar_store.watch_calendar(now=_instant(now))
