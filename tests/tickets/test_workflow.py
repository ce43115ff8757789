"""Behaviour of individual workflow actions: deadlines, guards, permissions, side effects."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from tests.factories import EnterpriseFactory, UserFactory, enterprise_user
from tests.tickets.conftest import T0, at, make_ticket, new_events
from tickets import effects, workflow
from tickets.errors import (
    CalendarUnavailable,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
)
from tickets.models import Status, Ticket, TicketEvent, TicketNumberCounter


def test_submit_saves_submitted_writes_one_event_and_queues_routing_after_commit(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr(effects, "publish", lambda name, *args: published.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        ticket, created = workflow.submit_ticket(
            enterprise=world.enterprise,
            kind="funding",
            title="流动资金贷款",
            description="需要500万元流动资金。",
            category="loan",
            amount="500",
            actor=world.owner,
            now=T0,
        )
    assert created is True
    assert ticket.status == Status.SUBMITTED
    assert ticket.department is None
    assert ticket.number == "WH-2026-000001"
    assert ticket.amount == Decimal("500.00")
    assert list(ticket.events.values_list("action", "to_status")) == [("submit", "submitted")]
    assert published == [(effects.ROUTE_TICKET, (ticket.pk,))]


def test_numbers_count_per_year_without_gaps(world):
    first, _ = workflow.submit_ticket(
        enterprise=world.enterprise, kind="difficulty", title="a", description="b", now=T0
    )
    with pytest.raises(InvalidInput):
        workflow.submit_ticket(
            enterprise=world.enterprise, kind="difficulty", title="", description="b", now=T0
        )
    second, _ = workflow.submit_ticket(
        enterprise=world.enterprise, kind="difficulty", title="c", description="d", now=T0
    )
    assert (first.number, second.number) == ("WH-2026-000001", "WH-2026-000002")
    assert TicketNumberCounter.objects.get(year=2026).last == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "complaint"}, "kind"),
        ({"title": "  "}, "标题"),
        ({"title": "x" * 201}, "标题"),
        ({"description": "x" * 5001}, "诉求内容"),
        ({"category": "loan"}, "category"),  # a funding category on a difficulty
        ({"amount": "100"}, "amount"),  # amounts only for funding needs
        ({"kind": "funding", "amount": "-1"}, "amount"),
        ({"kind": "funding", "amount": "abc"}, "amount"),
        ({"kind": "funding", "amount": "1e20"}, "amount"),
        ({"kind": "funding", "amount": "NaN"}, "amount"),
    ],
)
def test_submit_refuses_bad_input_and_saves_nothing(world, fields, field):
    values = {"kind": "difficulty", "title": "标题", "description": "内容", **fields}
    with pytest.raises(InvalidInput) as refused:
        workflow.submit_ticket(enterprise=world.enterprise, now=T0, **values)
    assert field in (refused.value.field or "") or field in refused.value.message
    assert Ticket.objects.count() == 0 and TicketEvent.objects.count() == 0


def test_same_idempotency_key_returns_the_first_ticket_and_other_body_conflicts(world):
    values = {"kind": "difficulty", "title": "用地", "description": "需要用地指标"}
    first, created = workflow.submit_ticket(
        enterprise=world.enterprise, idempotency_key="k-1", now=T0, **values
    )
    again, created_again = workflow.submit_ticket(
        enterprise=world.enterprise, idempotency_key="k-1", now=T0, **values
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    with pytest.raises(IdempotencyConflict):
        workflow.submit_ticket(
            enterprise=world.enterprise,
            idempotency_key="k-1",
            now=T0,
            **{**values, "description": "另一个问题"},
        )
    # Keys are per enterprise.
    other = EnterpriseFactory(district=world.district)
    theirs, created_other = workflow.submit_ticket(
        enterprise=other, idempotency_key="k-1", now=T0, **values
    )
    assert created_other and theirs.pk != first.pk
    assert Ticket.objects.count() == 2


def test_route_assigns_by_rule_sets_deadlines_and_level(world):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    routed = workflow.route_ticket(ticket_id=ticket.pk, now=T0)
    assert routed.department == world.local  # the 文登区 counterpart of the city bureau
    assert routed.level == "district"
    assert routed.accept_due_at == at(2026, 6, 4, 9)  # 1 working day
    assert routed.resolve_due_at == at(2026, 6, 10, 9)  # 5 working days
    assert routed.escalate_at == routed.accept_due_at
    event = routed.events.get()
    assert (event.action, event.to_department_id, event.level) == (
        "route",
        world.local.pk,
        "district",
    )


def test_route_falls_back_to_the_coordinating_office(world):
    ticket = make_ticket(world, Status.SUBMITTED, department=None, kind="technology")
    routed = workflow.route_ticket(ticket_id=ticket.pk, now=T0)
    assert routed.department == world.coordinator
    assert routed.level == "city"
    assert routed.resolve_due_at == at(2026, 6, 17, 9)  # 10 working days at city level


def test_route_twice_is_refused_the_second_time(world):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=T0)
    with pytest.raises(IllegalTransition):
        workflow.route_ticket(ticket_id=ticket.pk, now=T0)
    assert ticket.events.count() == 1


def test_hold_three_working_days_then_resume_moves_the_deadline_by_three_working_days(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)  # assigned Wed 2026-06-03 09:00
    due = ticket.resolve_due_at
    assert due == at(2026, 6, 10, 9)
    workflow.hold_ticket(
        ticket_id=ticket.pk, actor=world.handler, reason="等待材料", now=at(2026, 6, 4, 9)
    )
    held = Ticket.objects.get(pk=ticket.pk)
    assert held.status == Status.ON_HOLD and held.escalate_at is None
    # Thu 4 June → Tue 9 June is 3 working days (Thu, Fri, Mon).
    resumed = workflow.resume_ticket(
        ticket_id=ticket.pk, actor=world.handler, now=at(2026, 6, 9, 9)
    )
    assert resumed.resolve_due_at == world.sla.add(due, 3) == at(2026, 6, 15, 9)
    assert resumed.paused_seconds == 3 * 86400
    assert resumed.escalate_at == at(2026, 6, 12, 9)  # yellow card one working day before


def test_hold_over_a_holiday_week_pauses_only_working_time(world):
    ticket = make_ticket(world, Status.IN_PROGRESS, now=at(2026, 9, 28, 9))
    due = ticket.resolve_due_at
    workflow.hold_ticket(
        ticket_id=ticket.pk, actor=world.handler, reason="国庆", now=at(2026, 9, 30, 9)
    )
    resumed = workflow.resume_ticket(
        ticket_id=ticket.pk, actor=world.handler, now=at(2026, 10, 8, 9)
    )
    # Paused: 30 Sep 09:00–24:00 (15 h) and 8 Oct 00:00–09:00 (9 h); 1–7 October are rest days.
    assert resumed.paused_seconds == 24 * 3600
    assert resumed.resolve_due_at == world.sla.add(due, 1)


def test_return_within_window_goes_to_coordinator_and_after_window_is_refused(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    with pytest.raises(InvalidInput):
        workflow.return_ticket(ticket_id=ticket.pk, actor=world.handler, reason=" ", now=T0)
    returned = workflow.return_ticket(
        ticket_id=ticket.pk, actor=world.handler, reason="属于科技局职责", now=at(2026, 6, 5, 8)
    )
    assert (returned.status, returned.department, returned.return_count) == (
        Status.RETURNED,
        world.coordinator,
        1,
    )
    late = make_ticket(world, Status.IN_PROGRESS)
    with pytest.raises(IllegalTransition, match="退单期限"):
        workflow.return_ticket(
            ticket_id=late.pk, actor=world.handler, reason="不归我们", now=at(2026, 6, 5, 10)
        )
    assert not new_events(late).exists()


def test_coordinator_redispatches_a_returned_ticket_but_not_back_to_the_returner(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    workflow.return_ticket(ticket_id=ticket.pk, actor=world.handler, reason="非本单位", now=T0)
    with pytest.raises(NotPermitted):
        workflow.dispatch_ticket(
            ticket_id=ticket.pk, actor=world.handler, department_id=world.other_city.pk, now=T0
        )
    dispatched = workflow.dispatch_ticket(
        ticket_id=ticket.pk,
        actor=world.coordinator_user,
        department_id=world.other_city.pk,
        note="转科技局",
        now=T0,
    )
    assert (dispatched.status, dispatched.department, dispatched.level) == (
        Status.ASSIGNED,
        world.other_city,
        "city",
    )


def test_extension_needs_a_reason_a_limit_and_the_tier_above(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    due = ticket.resolve_due_at
    with pytest.raises(InvalidInput):
        workflow.request_extension(
            ticket_id=ticket.pk, actor=world.handler, days=11, reason="x", now=T0
        )
    workflow.request_extension(
        ticket_id=ticket.pk, actor=world.handler, days=4, reason="需要勘查", now=T0
    )
    with pytest.raises(IllegalTransition, match="待审核"):
        workflow.request_extension(
            ticket_id=ticket.pk, actor=world.handler, days=1, reason="再延", now=T0
        )
    with pytest.raises(NotPermitted):  # the handler cannot approve its own extension
        workflow.approve_extension(ticket_id=ticket.pk, actor=world.handler, now=T0)
    approved = workflow.approve_extension(ticket_id=ticket.pk, actor=world.city_handler, now=T0)
    assert approved.resolve_due_at == world.sla.add(due, 4)
    assert (approved.extension_days, approved.extension_requested_days) == (4, None)
    # 6 more is the most left of the 10-day cap.
    with pytest.raises(InvalidInput, match="1 到 6"):
        workflow.request_extension(
            ticket_id=ticket.pk, actor=world.handler, days=7, reason="x", now=T0
        )


def test_extension_must_be_asked_before_the_deadline(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    with pytest.raises(IllegalTransition, match="之前"):
        workflow.request_extension(
            ticket_id=ticket.pk, actor=world.handler, days=2, reason="晚了", now=at(2026, 6, 11, 9)
        )


def test_explained_outcome_waits_for_the_tier_above(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    pending = workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="explained", reply="不符合政策", now=T0
    )
    assert pending.status == Status.PENDING_REVIEW and pending.escalate_at is None
    with pytest.raises(NotPermitted):
        workflow.approve_explanation(ticket_id=ticket.pk, actor=world.handler, now=T0)
    rejected = workflow.reject_explanation(
        ticket_id=ticket.pk, actor=world.city_handler, note="请再协调", now=T0
    )
    assert (rejected.status, rejected.outcome, rejected.resolved_at) == (
        Status.IN_PROGRESS,
        "",
        None,
    )
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="explained", reply="确实无法", now=T0
    )
    approved = workflow.approve_explanation(ticket_id=ticket.pk, actor=world.city_handler, now=T0)
    assert approved.status == Status.RESOLVED and approved.outcome == "explained"


def test_leader_tier_explanations_are_approved_by_leaders(world):
    ticket = make_ticket(world, Status.PENDING_REVIEW, department=world.leader)
    with pytest.raises(NotPermitted):
        workflow.approve_explanation(ticket_id=ticket.pk, actor=world.city_handler, now=T0)
    assert (
        workflow.approve_explanation(ticket_id=ticket.pk, actor=world.leader_user, now=T0).status
        == "resolved"
    )


def test_resolve_needs_a_note_and_a_known_outcome(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    with pytest.raises(InvalidInput):
        workflow.resolve_ticket(
            ticket_id=ticket.pk, actor=world.handler, outcome="solved", reply="", now=T0
        )
    with pytest.raises(InvalidInput):
        workflow.resolve_ticket(
            ticket_id=ticket.pk, actor=world.handler, outcome="refused", reply="x", now=T0
        )
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    assert not new_events(ticket).exists()


def test_second_reopen_marks_the_ticket_supervised(world):
    ticket = make_ticket(world, Status.RESOLVED)
    first = workflow.reopen_ticket(ticket_id=ticket.pk, actor=world.owner, reason="没解决", now=T0)
    assert (first.status, first.reopen_count, first.supervised) == (Status.IN_PROGRESS, 1, False)
    assert first.resolve_due_at == world.sla.add(T0, 5)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=world.handler, outcome="solved", reply="再办", now=T0
    )
    second = workflow.reopen_ticket(
        ticket_id=ticket.pk, actor=world.owner, reason="仍没解决", now=T0
    )
    assert (second.reopen_count, second.supervised, second.supervised_at) == (2, True, T0)
    event = second.events.filter(action="reopen").last()
    assert "督办" in event.note
    assert second.events.filter(action="reopen").count() == 2


def test_only_the_owner_confirms_withdraws_and_the_handler_cannot_rate(world):
    ticket = make_ticket(world, Status.RESOLVED)
    stranger = enterprise_user(EnterpriseFactory(district=world.district), username="other-ent")
    with pytest.raises(NotPermitted):
        workflow.confirm_ticket(ticket_id=ticket.pk, actor=stranger, now=T0)
    with pytest.raises(NotPermitted):
        workflow.rate_ticket(ticket_id=ticket.pk, actor=world.handler, score=5, now=T0)
    # The coordinator records the phone follow-up (回访) …
    rated = workflow.rate_ticket(ticket_id=ticket.pk, actor=world.coordinator_user, score=4, now=T0)
    assert rated.satisfaction == 4
    # … once.
    with pytest.raises(IllegalTransition, match="已评价"):
        workflow.rate_ticket(ticket_id=ticket.pk, actor=world.owner, score=5, now=T0)
    with pytest.raises(InvalidInput):
        workflow.rate_ticket(
            ticket_id=make_ticket(world, Status.CLOSED).pk, actor=world.owner, score=6, now=T0
        )


def test_other_departments_and_anonymous_users_cannot_handle(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    for actor in (world.city_handler, UserFactory(username="nobody"), world.owner):
        with pytest.raises(NotPermitted):
            workflow.accept_ticket(ticket_id=ticket.pk, actor=actor, now=T0)
    assert not new_events(ticket).exists()


def test_a_deadline_in_a_year_not_even_provisional_fails_clearly_and_alerts_staff(
    world, monkeypatch
):
    # The holidays package ends with 2100: 2101 is neither confirmed nor provisional.
    alerts = []
    monkeypatch.setattr(effects, "publish", lambda name, *args: alerts.append((name, args)))
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    with pytest.raises(CalendarUnavailable, match="2101"):
        workflow.route_ticket(ticket_id=ticket.pk, now=at(2100, 12, 28, 9))
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SUBMITTED
    assert not new_events(ticket).exists()
    assert [(name, args[0]) for name, args in alerts] == [
        (effects.ALERT_STAFF, "calendar-missing:2101:2100-12-28")
    ]


def test_staff_alert_is_sent_once_per_key(world, mailoutbox, settings):
    from tickets import notifications

    settings.STAFF_ALERT_EMAILS = ["ops@weihai.example"]
    assert notifications.alert_staff("calendar-missing:2027:2026-12-28", "缺少日历", "请补录")
    assert not notifications.alert_staff("calendar-missing:2027:2026-12-28", "缺少日历", "请补录")
    assert len(mailoutbox) == 1
    assert set(mailoutbox[0].to) == {"ops@weihai.example", world.coordinator.email}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_resolving_one_ticket_exactly_one_wins(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    handler = world.handler
    barrier = threading.Barrier(20)
    outcomes = []
    lock = threading.Lock()

    def resolve(i):
        try:
            barrier.wait()
            workflow.resolve_ticket(
                ticket_id=ticket.pk, actor=handler, outcome="solved", reply=f"第{i}个", now=T0
            )
            result = "ok"
        except IllegalTransition:
            result = "illegal"
        except Exception as error:  # pragma: no cover - shows up in the assertion
            result = repr(error)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=resolve, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["illegal"] * 19 + ["ok"]
    assert TicketEvent.objects.filter(ticket=ticket, action="resolve").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submissions_with_one_key_create_one_ticket(world):
    barrier = threading.Barrier(20)
    ids, created_flags = [], []
    lock = threading.Lock()

    def submit():
        try:
            barrier.wait()
            ticket, created = workflow.submit_ticket(
                enterprise=world.enterprise,
                kind="difficulty",
                title="同一诉求",
                description="重试",
                idempotency_key="retry-1",
                now=T0,
            )
            with lock:
                ids.append(ticket.pk)
                created_flags.append(created)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 20 and len(set(ids)) == 1
    assert created_flags.count(True) == 1
    assert Ticket.objects.count() == 1
    assert TicketNumberCounter.objects.get(year=2026).last == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_consecutive_numbers_and_replays_use_none(world):
    # 20 new needs and 4 replays of them, all at once: the number counter, the ticket
    # and its event are one transaction, so 20 tickets numbered 1–20, each with one event,
    # and no number used up by a replay.
    barrier = threading.Barrier(24)
    results, lock = [], threading.Lock()

    def submit(key: str):
        try:
            barrier.wait()
            ticket, created = workflow.submit_ticket(
                enterprise=world.enterprise,
                kind="difficulty",
                title=f"诉求 {key}",
                description="并发提交",
                idempotency_key=key,
                now=T0,
            )
            with lock:
                results.append((key, ticket.pk, ticket.number, created))
        finally:
            connection.close()

    keys = [f"k-{n}" for n in range(20)] + ["k-0", "k-1", "k-2", "k-3"]
    threads = [threading.Thread(target=submit, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 24
    assert sum(created for *_, created in results) == 20
    assert {key: {pk for k, pk, *_ in results if k == key} for key in set(keys)} == {
        key: {Ticket.objects.get(idempotency_key=key).pk} for key in set(keys)
    }
    numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == [f"WH-2026-{n:06d}" for n in range(1, 21)]
    assert TicketNumberCounter.objects.get(year=2026).last == 20
    assert TicketEvent.objects.filter(action="submit").count() == 20


def test_the_tier_above_sees_a_ticket_once_asked_to_decide(world):
    from tests.factories import staff_user
    from tickets.selectors import visible_tickets

    ticket = make_ticket(world, Status.IN_PROGRESS)
    bystander = staff_user(world.other_city, username="bystander")
    assert not visible_tickets(world.city_handler).filter(pk=ticket.pk).exists()
    workflow.request_extension(
        ticket_id=ticket.pk, actor=world.handler, days=2, reason="需要勘查", now=T0
    )
    event = new_events(ticket).get()
    assert event.reviewer == world.city
    assert visible_tickets(world.city_handler).filter(pk=ticket.pk).exists()
    assert not visible_tickets(bystander).filter(pk=ticket.pk).exists()
    assert visible_tickets(world.handler).filter(pk=ticket.pk).exists()


def test_department_staff_keep_seeing_tickets_that_passed_through(world):
    from tickets.selectors import visible_tickets

    ticket = make_ticket(world, Status.ASSIGNED)
    workflow.return_ticket(ticket_id=ticket.pk, actor=world.handler, reason="非本单位", now=T0)
    workflow.dispatch_ticket(
        ticket_id=ticket.pk, actor=world.coordinator_user, department_id=world.other_city.pk, now=T0
    )
    assert visible_tickets(world.handler).filter(pk=ticket.pk).exists()  # its history
    assert visible_tickets(world.coordinator_user).filter(pk=ticket.pk).exists()
