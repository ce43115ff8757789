"""Side effects scheduled after commit. Publishing never hurts a committed write: a broker
that is down or hung makes the publish fail (short timeouts in settings), the failure is
logged, and the periodic sweeps pick the work up from the database later."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

ROUTE_TICKET = "tickets.route_ticket"
# One task for many new tickets (a spreadsheet import): one publish per chunk, not per ticket.
ROUTE_TICKETS = "tickets.route_tickets"
NOTIFY_EVENT = "tickets.notify_event"
SEND_DIGEST = "tickets.send_digest"
ALERT_STAFF = "tickets.alert_staff"


def publish(task_name: str, *args) -> bool:
    """Queue a task now; False (and logged) when the broker refused it."""
    try:
        current_app.send_task(task_name, args=args)
    except Exception:
        logger.exception(
            "could not publish %s%r; the periodic sweep will catch up", task_name, args
        )
        return False
    return True


def publish_on_commit(task_name: str, *args) -> None:
    """Queue a task once the current transaction commits (immediately outside one)."""
    transaction.on_commit(lambda: publish(task_name, *args), robust=True)
