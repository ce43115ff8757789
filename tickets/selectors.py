"""Permission-scoped reads. Every view, admin page, export and statistic starts here, so a
ticket a user may not see is simply not found (404), never "forbidden"."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext

from tickets.actors import actor_for
from tickets.models import Status, Ticket, TicketEvent


def visible_tickets(user, queryset: QuerySet | None = None) -> QuerySet:
    """Tickets this user may see: coordinators and leaders all; an enterprise its own;
    department staff every ticket that was ever assigned to one of their departments (its
    current ones and the history of those that passed through), and those they were asked
    to review as the tier above (an extension request, a negative answer)."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    actor = actor_for(user)
    if actor.sees_everything:
        return queryset
    if actor.enterprise_id is not None:
        return queryset.filter(enterprise_id=actor.enterprise_id)
    if not actor.department_ids:
        return queryset.none()
    # Every assignment to a department (route, dispatch, escalate, return) writes an event
    # with that department as to_department, and every request for a decision one with the
    # tier above as reviewer, in the same transaction, so the events alone answer the
    # question. One EXISTS plans as a semi-join on the event indexes; OR-ing other
    # conditions outside it (`department_id IN …`) made PostgreSQL hash all of a
    # department's events for every page (60 ms at 65,000 tickets, bench/README.md, API).
    mine = Q(to_department_id__in=actor.department_ids) | Q(reviewer_id__in=actor.department_ids)
    return queryset.filter(Exists(TicketEvent.objects.filter(mine, ticket_id=OuterRef("pk"))))


def currently_assigned(user, queryset: QuerySet | None = None) -> QuerySet | None:
    """For department staff, the part of visible_tickets currently assigned to one of their
    departments — a ticket assigned to a department now was assigned to it, so this is a
    subset by definition — found on the (department, status) index without the event join.
    None for everyone else (their visible set is a plain filter already).

    A cheap lower bound for counting: the event join is what makes counting a large
    department's filtered list slow (bench/README.md, API)."""
    actor = actor_for(user)
    if actor.sees_everything or actor.enterprise_id is not None or not actor.department_ids:
        return None
    return department_slice(user, queryset)


def department_slice(user, queryset: QuerySet | None = None) -> QuerySet:
    """For statistics: coordinators and leaders see the city; department staff the tickets
    currently assigned to their departments; anyone else nothing."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    actor = actor_for(user)
    if actor.sees_everything:
        return queryset
    if actor.department_ids:
        return queryset.filter(department_id__in=actor.department_ids)
    return queryset.none()


def ticket_for(user, pk) -> Ticket:
    """One visible ticket or Ticket.DoesNotExist."""
    return visible_tickets(user).get(pk=pk)


# --- what an enterprise may read of a ticket ----------------------------------------------------

Action = TicketEvent.Action
# Steps between staff that an enterprise does not see at all: the sweep's cards and reminders
# to the department, extension requests and their refusal, a negative answer sent back.
# (Every other step is shown with its status, departments and date, and its reply; never its
# internal note, nor who on the staff acted.)
STAFF_ONLY_ACTIONS = frozenset(
    {
        Action.WARN,
        Action.REMIND,
        Action.REQUEST_EXTENSION,
        Action.DENY_EXTENSION,
        Action.REJECT_EXPLANATION,
    }
)


def is_staff_view(user) -> bool:
    """Staff read everything; an enterprise account (or anyone else) reads the public part."""
    actor = actor_for(user)
    return actor.enterprise_id is None and (actor.is_staff_member or actor.is_system)


def enterprise_sees(event: TicketEvent) -> bool:
    return event.action not in STAFF_ONLY_ACTIONS


def public_reply(event: TicketEvent) -> str:
    # A negative answer ("explained") reaches the enterprise only once the tier above
    # approved it: the approval carries the reply; the resolve step shows without it.
    if event.action == Action.RESOLVE and event.to_status == Status.PENDING_REVIEW:
        return ""
    return event.reply


def public_actor(event: TicketEvent, enterprise_id: int) -> str:
    """Who acted, as an enterprise is told: itself, the system, or a department's staff —
    never a staff member's name."""
    if event.actor_id is None:
        return gettext("系统")
    account = getattr(event.actor, "enterprise_account", None)
    if account is not None and account.enterprise_id == enterprise_id:
        return gettext("本企业")
    return gettext("工作人员")


def timeline_for(user, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's events this user may read, oldest first (uses a prefetched `events`)."""
    events = list(ticket.events.all())
    if is_staff_view(user):
        return events
    return [event for event in events if enterprise_sees(event)]


def outcome_is_public(ticket: Ticket) -> bool:
    """An outcome and its reply are the enterprise's to read once they stand."""
    return ticket.status != Status.PENDING_REVIEW
