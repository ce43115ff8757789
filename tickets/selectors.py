"""Permission-scoped reads. Every view, admin page, export and statistic starts here, so a
ticket a user may not see is simply not found (404), never "forbidden"."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from tickets.actors import actor_for
from tickets.models import Ticket, TicketEvent


def visible_tickets(user, queryset: QuerySet | None = None) -> QuerySet:
    """Tickets this user may see: coordinators and leaders all; an enterprise its own;
    department staff those assigned to their departments or that passed through them."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    actor = actor_for(user)
    if actor.sees_everything:
        return queryset
    if actor.enterprise_id is not None:
        return queryset.filter(enterprise_id=actor.enterprise_id)
    if actor.department_ids:
        passed_through = TicketEvent.objects.filter(
            ticket_id=OuterRef("pk"), to_department_id__in=actor.department_ids
        )
        return queryset.filter(department_id__in=actor.department_ids) | queryset.filter(
            Exists(passed_through)
        )
    return queryset.none()


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
