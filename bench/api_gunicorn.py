"""gunicorn config for `bench/api.py --variant proposed`: serves the API with the scoping
query proposed for tickets.selectors.visible_tickets (department staff see tickets that have
an event into their department — every assignment writes one — instead of `assigned here OR
EXISTS(event into here)`, which PostgreSQL can only answer with a hashed subplan over every
such event, per request). Bench only; the project code is not changed."""


def post_worker_init(worker):
    from django.db.models import Exists, OuterRef

    import api.views
    import tickets.selectors
    from tickets.actors import actor_for
    from tickets.models import Ticket, TicketEvent

    def visible_tickets(user, queryset=None):
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
            return queryset.filter(Exists(passed_through))
        return queryset.none()

    tickets.selectors.visible_tickets = visible_tickets
    api.views.visible_tickets = visible_tickets
