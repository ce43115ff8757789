"""Routing through a real Celery worker on the Redis broker."""

import datetime as dt
import logging
import time

import pytest
from celery.signals import after_task_publish

from enterprises.models import Department
from tests.broker import broker_back, broker_down, wait_for
from tests.factories import CityDepartmentFactory
from tickets import workflow
from tickets.models import RoutingRule, Status, Ticket

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def routed_world(world):
    bank = CityDepartmentFactory(
        code="bank-wh", name="威海市商业银行", kind=Department.Kind.BANK, escalates_to=world.leader
    )
    platform = CityDepartmentFactory(
        code="platform-carbon",
        name="碳纤维及复合材料创新平台",
        kind=Department.Kind.PLATFORM,
        escalates_to=world.leader,
    )
    RoutingRule.objects.create(
        name="信用AB到银行", priority=20, kind="funding", credit_grades="AB", department=bank
    )
    RoutingRule.objects.create(
        name="新材料到平台",
        priority=30,
        kind="technology",
        category="new_materials",
        department=platform,
    )
    RoutingRule.objects.create(
        name="配套到链牵头部门",
        priority=40,
        kind="supply_chain",
        target=RoutingRule.Target.CHAIN_LEAD,
    )
    world.enterprise.chains.add(world.chain)
    world.bank, world.platform = bank, platform
    return world


def submit(world, kind, **extra):
    ticket, _created = workflow.submit_ticket(
        enterprise=world.enterprise,
        kind=kind,
        title=f"{kind} 诉求",
        description="需要协调。",
        actor=world.owner,
        now=dt.datetime(2026, 6, 3, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        **extra,
    )
    return ticket


def test_worker_routes_each_of_the_four_kinds_to_the_expected_department(
    routed_world, celery_worker
):
    w = routed_world
    expected = {
        submit(w, "difficulty", category="permit").pk: w.local,
        submit(w, "technology", category="new_materials").pk: w.platform,
        submit(w, "funding", category="loan", amount="300").pk: w.bank,
        submit(w, "supply_chain", category="supplier").pk: w.city,  # the chain's lead department
    }
    wait_for(
        lambda: not Ticket.objects.filter(pk__in=expected, status=Status.SUBMITTED).exists(),
        message="the worker to route four tickets",
    )
    for pk, department in expected.items():
        ticket = Ticket.objects.get(pk=pk)
        assert (ticket.status, ticket.department_id, ticket.level) == (
            Status.ASSIGNED,
            department.pk,
            department.tier,
        )
        assert list(ticket.events.values_list("action", flat=True)) == ["submit", "route"]


def test_with_the_broker_down_the_ticket_is_saved_and_the_sweep_routes_it_later(
    routed_world, celery_broker, celery_worker, caplog
):
    from weihai.celery import app

    published = []

    def record(sender=None, **kwargs):
        published.append(sender)

    broker_down()
    # Celery sends after_task_publish once the broker has taken a message.
    after_task_publish.connect(record, weak=False)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="tickets.effects"):
            ticket = submit(routed_world, "difficulty", category="permit")
        assert time.monotonic() - started < 10  # a failed publish costs seconds, not a hang
    finally:
        after_task_publish.disconnect(record)
    assert published == []  # the routing task never reached the broker …
    assert "could not publish tickets.route_ticket" in caplog.text  # … and that was logged
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED
    broker_back(celery_broker)
    later = ticket.created_at + dt.timedelta(minutes=10)
    app.send_task("tickets.reroute_sweep", args=(later.isoformat(),))
    wait_for(
        lambda: Ticket.objects.get(pk=ticket.pk).status == Status.ASSIGNED,
        message="the re-route sweep to assign the stranded ticket",
    )
    ticket.refresh_from_db()
    assert ticket.department == routed_world.local
    assert list(ticket.events.values_list("action", flat=True)) == ["submit", "route"]
