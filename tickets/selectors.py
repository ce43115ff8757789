"""Permission-scoped reads. Every view, admin page, export and statistic starts here, so a
ticket a user may not see is simply not found (404), never "forbidden"."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from tickets.actors import actor_for
from tickets.models import Ticket, TicketEvent


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
