"""Side effects scheduled after commit. Publishing never hurts a committed write: a broker
that is down or hung makes the publish fail (short timeouts in settings), the failure is
logged, and the periodic sweeps pick the work up from the database later."""

from __future__ import annotations

import contextvars
import logging
from contextlib import contextmanager

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)
_suppressed = contextvars.ContextVar("effects_suppressed", default=False)

ROUTE_TICKET = "tickets.route_ticket"
# One task for many new tickets (a spreadsheet import): one publish per chunk, not per ticket.
ROUTE_TICKETS = "tickets.route_tickets"
NOTIFY_EVENT = "tickets.notify_event"
SEND_DIGEST = "tickets.send_digest"
ALERT_STAFF = "tickets.alert_staff"


@contextmanager
def suppressed():
    """Publish nothing inside this block (seeding demo data: thousands of past events must
    not route, notify or mail anyone, neither now nor when the seeding transaction commits)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def publish(task_name: str, *args) -> bool:
    """Queue a task now; False (and logged) when the broker refused it or publishing is
    suppressed."""
    if _suppressed.get():
        return False
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
    if _suppressed.get():
        return
    transaction.on_commit(lambda: publish(task_name, *args), robust=True)
