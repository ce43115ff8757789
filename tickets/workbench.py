"""What the staff workbench (the admin) shows someone at work: how late a ticket is in working
days, what is about to fall due, and each role's start page (counts that link to the list).

Reads only: the counts start from tickets.selectors, "overdue" is Ticket.objects.overdue.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from enterprises.models import Department
from tickets import selectors
from tickets.actors import actor_for
from tickets.calendar import CalendarMissing
from tickets.models import OVERDUE_DEADLINES, Lateness, Status, Ticket, lateness

# A handler's queue (我的待办): what their department must act on now.
QUEUE_STATUSES = (Status.ASSIGNED, Status.IN_PROGRESS, Status.ON_HOLD)
# "即将超期": the current step falls due within this many working days (the yellow card's lead).
DUE_SOON_WORKING_DAYS = 1


@dataclass(frozen=True)
class Late:
    step: str  # 签收 / 办结
    due: dt.datetime
    working_days: int | None  # working days past the deadline, a started day counting as one
    days: int  # calendar days (lateness()), when the calendar cannot say working days


def how_late(ticket, now: dt.datetime, calendar=None) -> Late | None:
    """How late the ticket's current step is at ``now``, in working days (None: not overdue)."""
    late: Lateness | None = lateness(ticket, now)
    if late is None:
        return None
    working = None
    if calendar is not None:
        try:
            working = max(1, math.ceil(calendar.working_days_between(late.due, now) - 1e-9))
        except CalendarMissing:
            working = None
    return Late(step=str(late.step), due=late.due, working_days=working, days=late.days)


def current_deadline(ticket) -> tuple[str, dt.datetime] | None:
    """The deadline that matters now: (step, instant) of the status's step, or None."""
    entry = OVERDUE_DEADLINES.get(ticket.status)
    if entry is None:
        return None
    field, step = entry
    due = getattr(ticket, field)
    return (str(step), due) if due is not None else None


def due_soon(queryset: QuerySet, now: dt.datetime, calendar) -> QuerySet:
    """Open tickets whose current step falls due within DUE_SOON_WORKING_DAYS (not yet late)."""
    try:
        soon = calendar.add_working_days(now, DUE_SOON_WORKING_DAYS)
    except CalendarMissing:
        soon = now + dt.timedelta(days=DUE_SOON_WORKING_DAYS)
    condition = Q()
    for status, (field, _step) in OVERDUE_DEADLINES.items():
        condition |= Q(status=status, **{f"{field}__gte": now, f"{field}__lte": soon})
    return queryset.filter(condition)


def queue(user, queryset: QuerySet | None = None) -> QuerySet:
    """A department member's queue: open tickets currently assigned to their departments."""
    return selectors.department_slice(user, queryset).filter(status__in=QUEUE_STATUSES)


def is_handler_only(user) -> bool:
    """Department staff who are neither coordinators nor leaders: they land on their queue."""
    actor = actor_for(user)
    return bool(actor.department_ids) and not actor.sees_everything


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int
    url: str
    alert: bool = False


def _list_url(**params) -> str:
    return reverse("admin:tickets_ticket_changelist") + "?" + urlencode(params)


def start_page(user, *, now: dt.datetime) -> dict:
    """Counts with links for the admin index: a handler's own queue; a coordinator's city."""
    from tickets.calendar_store import load_calendar

    actor = actor_for(user)
    calendar = load_calendar()
    sections = []
    if actor.department_ids and not actor.sees_everything:
        mine = queue(user)
        sections.append(
            {
                "title": _("本单位待办"),
                "counts": [
                    Count(
                        "assigned",
                        _("待签收"),
                        mine.filter(status=Status.ASSIGNED).count(),
                        _list_url(queue="mine", status__exact=Status.ASSIGNED),
                    ),
                    Count(
                        "in_progress",
                        _("办理中"),
                        mine.filter(status=Status.IN_PROGRESS).count(),
                        _list_url(queue="mine", status__exact=Status.IN_PROGRESS),
                    ),
                    Count(
                        "due_soon",
                        _("即将超期"),
                        due_soon(mine, now, calendar).count(),
                        _list_url(queue="mine", overdue="soon"),
                    ),
                    Count(
                        "overdue",
                        _("已超期"),
                        mine.overdue(now).count(),
                        _list_url(queue="mine", overdue="yes"),
                        alert=True,
                    ),
                    Count(
                        "returned",
                        _("退回待派"),
                        selectors.visible_tickets(user).filter(status=Status.RETURNED).count(),
                        _list_url(queue="all", status__exact=Status.RETURNED),
                    ),
                ],
            }
        )
    if actor.is_coordinator:
        tickets = Ticket.objects.all()
        # Returned tickets sit with the coordinating office (return_ticket): the index on
        # (department, status) counts them without scanning the city.
        offices = list(Department.objects.filter(is_coordinator=True).values_list("pk", flat=True))
        sections.append(
            {
                "title": _("全市统筹"),
                "counts": [
                    Count(
                        "returned",
                        _("退回待派"),
                        tickets.filter(status=Status.RETURNED, department_id__in=offices).count(),
                        _list_url(status__exact=Status.RETURNED),
                        alert=True,
                    ),
                    Count(
                        "submitted",
                        _("待分派"),
                        tickets.filter(status=Status.SUBMITTED).count(),
                        _list_url(status__exact=Status.SUBMITTED),
                    ),
                    Count(
                        "due_soon",
                        _("即将超期"),
                        due_soon(tickets, now, calendar).count(),
                        _list_url(overdue="soon"),
                    ),
                    Count(
                        "overdue",
                        _("全市已超期"),
                        tickets.overdue(now).count(),
                        _list_url(overdue="yes"),
                        alert=True,
                    ),
                    Count(
                        "supervised",
                        _("督办"),
                        tickets.filter(supervised=True).count(),
                        _list_url(supervised__exact=1),
                    ),
                ],
            }
        )
    return {"sections": sections}
