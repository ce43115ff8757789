"""Walk the whole transition table: every allowed (status, action) succeeds and writes one
event; every other pair is refused with IllegalTransition and changes nothing."""

import datetime as dt

import pytest

from tests.tickets.conftest import T0, make_ticket, new_events
from tickets import workflow
from tickets.errors import IllegalTransition
from tickets.models import Status, Ticket, TicketEvent

NOW = T0 + dt.timedelta(hours=2)


def _call(world, action: str, ticket: Ticket):
    """Call the workflow function for `action` as the actor allowed to take it."""
    pk = ticket.pk
    calls = {
        "route": lambda: workflow.route_ticket(ticket_id=pk, now=NOW),
        "dispatch": lambda: workflow.dispatch_ticket(
            ticket_id=pk, actor=world.coordinator_user, department_id=world.other_city.pk, now=NOW
        ),
        "accept": lambda: workflow.accept_ticket(ticket_id=pk, actor=world.handler, now=NOW),
        "return": lambda: workflow.return_ticket(
            ticket_id=pk, actor=world.handler, reason="不属于本单位职责", now=NOW
        ),
        "hold": lambda: workflow.hold_ticket(
            ticket_id=pk, actor=world.handler, reason="等待企业补充材料", now=NOW
        ),
        "resume": lambda: workflow.resume_ticket(ticket_id=pk, actor=world.handler, now=NOW),
        "request_extension": lambda: workflow.request_extension(
            ticket_id=pk, actor=world.handler, days=3, reason="需要现场勘查", now=NOW
        ),
        "approve_extension": lambda: workflow.approve_extension(
            ticket_id=pk, actor=world.city_handler, now=NOW
        ),
        "deny_extension": lambda: workflow.deny_extension(
            ticket_id=pk, actor=world.city_handler, now=NOW
        ),
        "resolve": lambda: workflow.resolve_ticket(
            ticket_id=pk, actor=world.handler, outcome="solved", reply="已办理", now=NOW
        ),
        "approve_explanation": lambda: workflow.approve_explanation(
            ticket_id=pk, actor=world.city_handler, now=NOW
        ),
        "reject_explanation": lambda: workflow.reject_explanation(
            ticket_id=pk, actor=world.city_handler, note="请继续协调", now=NOW
        ),
        "confirm": lambda: workflow.confirm_ticket(ticket_id=pk, actor=world.owner, now=NOW),
        "reopen": lambda: workflow.reopen_ticket(
            ticket_id=pk, actor=world.owner, reason="问题仍未解决", now=NOW
        ),
        "withdraw": lambda: workflow.withdraw_ticket(ticket_id=pk, actor=world.owner, now=NOW),
        "rate": lambda: workflow.rate_ticket(ticket_id=pk, actor=world.owner, score=5, now=NOW),
        "merge": lambda: workflow.merge_ticket(
            ticket_id=pk, into=world.survivor.number, actor=world.coordinator_user, now=NOW
        ),
        "absorb": lambda: workflow.absorb_request(
            ticket_id=pk,
            actor=world.coordinator_user,
            title="用电增容",
            description="同一诉求，工作组再次报送。",
            origin="导入",
            now=NOW,
        ),
    }
    return calls[action]()


# The sweep's own steps are checked against the table in test_escalation.
SWEEP_ACTIONS = {"auto_close", "warn", "remind", "escalate", "supervise"}
SINGLE_TICKET_ACTIONS = [action for action in workflow.TRANSITIONS if action not in SWEEP_ACTIONS]
PAIRS = [(status, action) for status in Status.values for action in SINGLE_TICKET_ACTIONS]


def _prepare(world, status: str, action: str) -> Ticket:
    extra = {}
    if action in {"approve_extension", "deny_extension"}:
        extra["extension_requested_days"] = 3
    if status == Status.SUBMITTED and action == "dispatch":
        extra["department"] = None
    if action == "merge":
        world.survivor = make_ticket(world, Status.IN_PROGRESS)
    return make_ticket(world, status, **extra)


def test_table_names_every_status_and_a_function_for_every_action():
    statuses = {s for sources, _ in workflow.TRANSITIONS.values() for s in sources}
    # the dead ends: withdrawn by the enterprise, merged into another ticket
    assert statuses == set(Status.values) - {Status.WITHDRAWN, Status.MERGED}
    assert len(SINGLE_TICKET_ACTIONS) == 18


@pytest.mark.parametrize(("status", "action"), PAIRS)
def test_transition(world, status, action):
    ticket = _prepare(world, status, action)
    before = Ticket.objects.values().get(pk=ticket.pk)
    events_before = TicketEvent.objects.count()
    sources, target = workflow.TRANSITIONS[action]

    if status in sources:
        result = _call(world, action, ticket)
        events = list(new_events(ticket))
        assert len(events) == 1
        assert events[0].action == action
        assert events[0].from_status == status
        ticket.refresh_from_db()
        expected = target or status
        assert ticket.status == expected == result.status
        assert events[0].to_status == expected
        assert ticket.updated_at == NOW
    else:
        with pytest.raises(IllegalTransition) as refused:
            _call(world, action, ticket)
        assert str(Status(status).label) in refused.value.message
        assert TicketEvent.objects.count() == events_before
        assert Ticket.objects.values().get(pk=ticket.pk) == before
