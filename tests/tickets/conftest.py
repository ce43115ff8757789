"""A small world for workflow tests: a three-tier ladder, a chain, a coordinator, the calendar."""

import datetime as dt
from types import SimpleNamespace

import pytest

from enterprises.models import Department
from tests.factories import (
    ChainFactory,
    CityDepartmentFactory,
    DistrictDepartmentFactory,
    DistrictFactory,
    EnterpriseFactory,
    LeaderOfficeFactory,
    enterprise_user,
    staff_user,
)
from tickets.calendar import SHANGHAI
from tickets.calendar_store import invalidate, seed_from_holidays
from tickets.models import RoutingRule, Status, Ticket, TicketEvent
from tickets.sla import load_sla


def at(*args) -> dt.datetime:
    """An instant in Asia/Shanghai: at(2026, 9, 30, 17)."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


# A Wednesday of an ordinary working week in 2026: everything below starts here.
T0 = at(2026, 6, 3, 9, 0)


@pytest.fixture
def world(db):
    invalidate()
    seed_from_holidays()
    district = DistrictFactory(code="371003", name="文登区")
    leader = LeaderOfficeFactory(code="leader-industry", name="市政府分管工业副市长办公室")
    city = CityDepartmentFactory(code="city-gxj", name="市工业和信息化局", escalates_to=leader)
    local = DistrictDepartmentFactory(
        code="wendeng-gxj", name="文登区工业和信息化局", district=district, escalates_to=city
    )
    coordinator = CityDepartmentFactory(
        code="service-centre",
        name="市企业服务中心",
        kind=Department.Kind.SERVICE_CENTRE,
        is_coordinator=True,
        escalates_to=leader,
    )
    other_city = CityDepartmentFactory(code="city-kjj", name="市科学技术局", escalates_to=leader)
    chief = LeaderOfficeFactory(code="chain-chief-medical", name="医药医疗器械产业链链长办公室")
    chain = ChainFactory(
        code="medical", name="医药医疗器械", chief_office=chief, lead_department=city
    )
    enterprise = EnterpriseFactory(district=district, credit_grade="B")
    RoutingRule.objects.create(
        name="困难问题到区工信局",
        priority=10,
        kind="difficulty",
        target=RoutingRule.Target.DISTRICT_COUNTERPART,
        department=city,
    )
    RoutingRule.objects.create(name="兜底", priority=1000, department=coordinator)
    return SimpleNamespace(
        district=district,
        leader=leader,
        city=city,
        local=local,
        coordinator=coordinator,
        other_city=other_city,
        chief=chief,
        chain=chain,
        enterprise=enterprise,
        owner=enterprise_user(enterprise, username="enterprise-a"),
        handler=staff_user(local, username="local-handler"),
        city_handler=staff_user(city, username="city-handler"),
        leader_user=staff_user(leader, role="leader", username="leader-user"),
        coordinator_user=staff_user(coordinator, role="coordinator", username="coordinator"),
        sla=load_sla(fresh=True),
    )


def make_ticket(world, status: str, *, now: dt.datetime = T0, **fields) -> Ticket:
    """A ticket in `status` at `now`, with the fields the workflow would have set."""
    sla = world.sla
    if status == Status.MERGED and "merged_into" not in fields:
        # The survivor: an open ticket of the same enterprise.
        fields["merged_into"] = make_ticket(
            world,
            Status.IN_PROGRESS,
            now=now,
            enterprise=fields.get("enterprise", world.enterprise),
        )
    department = fields.pop("department", world.local)
    values = {
        "number": fields.pop("number", None) or f"WH-2026-{Ticket.objects.count() + 1:06d}",
        "enterprise": world.enterprise,
        "kind": "difficulty",
        "title": "用电增容审批",
        "description": "新厂房用电增容需要协调。",
        "status": status,
        "created_at": now - dt.timedelta(hours=1),
    }
    if status not in (Status.SUBMITTED, Status.WITHDRAWN, Status.MERGED):
        accept_due, resolve_due = sla.assignment_deadlines("difficulty", department.tier, now)
        values.update(
            department=department,
            level=department.tier,
            assigned_at=now,
            clock_started_at=now,
            accept_due_at=accept_due,
            resolve_due_at=resolve_due,
        )
    if status in (
        Status.IN_PROGRESS,
        Status.ON_HOLD,
        Status.PENDING_REVIEW,
        Status.RESOLVED,
        Status.CLOSED,
    ):
        values["accepted_at"] = now
    if status == Status.ON_HOLD:
        values["held_at"] = now
    if status == Status.PENDING_REVIEW:
        values.update(outcome="explained", outcome_note="政策不允许。", resolved_at=now)
    if status in (Status.RESOLVED, Status.CLOSED):
        values.update(outcome="solved", outcome_note="已协调解决。", resolved_at=now)
    if status == Status.CLOSED:
        values["closed_at"] = now
    if status == Status.RETURNED:
        values.update(department=world.coordinator, return_count=1)
    if status == Status.MERGED:
        values["closed_at"] = now
    values.update(fields)
    ticket = Ticket(**values)
    sla.schedule(ticket)
    for name, value in fields.items():  # explicit values win over the computed schedule
        setattr(ticket, name, value)
    ticket.save()
    if ticket.department_id:
        # What the workflow wrote when it assigned the ticket (scoping relies on it) …
        _setup_event(ticket, "route", to_department_id=ticket.department_id)
    if ticket.department_id and (
        ticket.extension_requested_days or ticket.status == Status.PENDING_REVIEW
    ):
        # … and when it asked the tier above to decide.
        _setup_event(
            ticket,
            "request_extension" if ticket.extension_requested_days else "resolve",
            to_department_id=ticket.department_id,
            reviewer_id=ticket.department.escalates_to_id,
        )
    return ticket


# Marks the events make_ticket writes as set-up, so tests count only what *their* action wrote.
SETUP_NOTE = "（测试预置）"


def _setup_event(ticket: Ticket, action: str, **fields) -> None:
    TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        to_status=ticket.status,
        level=ticket.level,
        note=SETUP_NOTE,
        created_at=ticket.assigned_at or ticket.created_at,
        **fields,
    )


def new_events(ticket: Ticket):
    """The ticket's events other than those make_ticket wrote to set it up."""
    return ticket.events.exclude(note=SETUP_NOTE)
