"""The escalation ladder: yellow card, reminder, escalation, supervision, auto-close —
each breach acted on exactly once, every step one the transition table allows."""

import datetime as dt
import logging
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.tickets.conftest import SETUP_NOTE, T0, at, make_ticket, new_events
from tickets import effects, escalation, workflow
from tickets.escalation import RETRY_BAD_ROW_AFTER, breach_key, escalate_overdue
from tickets.models import SlaPolicy, SlaStage, Status, Ticket, TicketEvent
from tickets.sla import REMINDER_GRACE_DAYS, recompute_deadlines


def sweep(now):
    return escalate_overdue(now=now, notify=False)


@pytest.fixture
def published(monkeypatch):
    """What the code under test publishes to the broker (effects.publish)."""
    calls = []
    monkeypatch.setattr(effects, "publish", lambda name, *args: calls.append((name, args)))
    return calls


def test_yellow_card_one_working_day_before_the_resolve_deadline(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)  # due Wed 2026-06-10 09:00
    assert ticket.escalate_at == at(2026, 6, 9, 9)
    assert sweep(at(2026, 6, 9, 8, 59)).total == 0
    result = sweep(at(2026, 6, 9, 9, 0))
    assert dict(result.counts) == {"warn": 1}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.sla_stage, ticket.escalate_at) == (
        Status.IN_PROGRESS,
        SlaStage.WARNED,
        at(2026, 6, 10, 9),
    )
    event = new_events(ticket).get()
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "warn",
        "in_progress",
        "in_progress",
        "距办结时限不足1个工作日（时限 2026-06-10 09:00）",
    )
    assert event.breach_key == breach_key("warn", at(2026, 6, 9, 9))
    assert sweep(at(2026, 6, 9, 12)).total == 0


def test_missed_accept_deadline_reminds_first_then_escalates_a_working_day_later(world):
    ticket = make_ticket(world, Status.ASSIGNED)  # accept by Thu 2026-06-04 09:00
    assert dict(sweep(at(2026, 6, 4, 10)).counts) == {"remind": 1}
    ticket.refresh_from_db()
    # The grace runs from the accept deadline, not from when the sweep got to it.
    assert REMINDER_GRACE_DAYS == 1
    assert (ticket.department, ticket.sla_stage, ticket.escalate_at) == (
        world.local,
        SlaStage.REMINDED,
        at(2026, 6, 5, 9),
    )
    assert sweep(at(2026, 6, 5, 8, 59)).total == 0
    assert dict(sweep(at(2026, 6, 5, 9)).counts) == {"escalate": 1}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.department, ticket.level, ticket.escalation_count) == (
        Status.ASSIGNED,
        world.city,
        "city",
        1,
    )
    assert (ticket.assigned_at, ticket.accepted_at, ticket.sla_stage) == (
        at(2026, 6, 5, 9),
        None,
        SlaStage.FRESH,
    )
    assert ticket.accept_due_at == ticket.escalate_at == at(2026, 6, 8, 9)
    assert ticket.resolve_due_at == world.sla.add(at(2026, 6, 5, 9), 10)
    assert [
        (e.action, e.from_department_id, e.to_department_id, e.level, e.note)
        for e in new_events(ticket)
    ] == [
        ("remind", world.local.pk, world.local.pk, "district", "超过签收时限仍未签收，催办"),
        (
            "escalate",
            world.local.pk,
            world.city.pk,
            "city",
            "催办后仍未签收，升级至市工业和信息化局",
        ),
    ]


def test_a_reminder_whose_grace_ran_out_while_the_sweep_was_down_escalates_next_sweep(world):
    """One step per ticket per sweep: the department hears of the reminder first."""
    ticket = make_ticket(world, Status.ASSIGNED)  # accept by Thu 06-04 09:00, grace to Fri 09:00
    down_until = at(2026, 6, 8, 10)  # Monday
    assert dict(sweep(down_until).counts) == {"remind": 1}
    assert sweep(down_until).total == 0
    assert dict(sweep(down_until + dt.timedelta(minutes=1)).counts) == {"escalate": 1}
    ticket.refresh_from_db()
    assert (ticket.department, ticket.escalation_count) == (world.city, 1)


def test_sweeping_at_the_same_instant_twice_escalates_nothing_the_second_time(world):
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(5)]
    now = at(2026, 6, 11, 9)  # past the resolve deadline
    first = sweep(now)
    assert dict(first.counts) == {"escalate": 5}
    assert len(first.event_ids) == 5
    second = sweep(now)
    assert second.total == 0
    assert TicketEvent.objects.filter(action="escalate").count() == 5
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.level == "city" and ticket.escalation_count == 1


def test_district_ticket_overdue_twice_reaches_the_leader_tier(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    sweep(at(2026, 6, 11, 9))  # resolve deadline missed → city
    workflow.accept_ticket(ticket_id=ticket.pk, actor=world.city_handler, now=at(2026, 6, 11, 10))
    ticket.refresh_from_db()
    sweep(ticket.resolve_due_at + dt.timedelta(minutes=1))  # missed again → leader
    ticket.refresh_from_db()
    assert (ticket.level, ticket.department, ticket.escalation_count) == ("leader", world.leader, 2)
    steps = list(
        ticket.events.filter(action="escalate").values_list(
            "from_department", "to_department", "level"
        )
    )
    assert steps == [
        (world.local.pk, world.city.pk, "city"),
        (world.city.pk, world.leader.pk, "leader"),
    ]


def test_at_the_top_tier_an_overdue_ticket_is_supervised_and_stays_on_the_list(world):
    ticket = make_ticket(world, Status.IN_PROGRESS, department=world.leader)
    now = ticket.resolve_due_at + dt.timedelta(hours=1)
    result = sweep(now)
    assert dict(result.counts) == {"supervise": 1}
    ticket.refresh_from_db()
    assert (ticket.supervised, ticket.supervised_at, ticket.sla_stage, ticket.escalate_at) == (
        True,
        now,
        SlaStage.SUPERVISED,
        None,
    )
    assert (ticket.status, ticket.level) == (Status.IN_PROGRESS, "leader")
    assert new_events(ticket).get().note == "超过办结时限，已在市领导层级，列入督办"
    assert sweep(ticket.resolve_due_at + dt.timedelta(days=30)).total == 0
    # Recomputing deadlines (after a calendar edit) does not put it back on the sweep.
    assert recompute_deadlines() == 0
    assert Ticket.objects.filter(supervised=True).count() == 1


def test_chain_linked_ticket_goes_to_its_chain_chief_at_the_top_step(world):
    ticket = make_ticket(world, Status.IN_PROGRESS, department=world.city, chain=world.chain)
    sweep(ticket.resolve_due_at)
    ticket.refresh_from_db()
    assert (ticket.department, ticket.level) == (world.chief, "leader")
    plain = make_ticket(world, Status.IN_PROGRESS, department=world.city)
    sweep(plain.resolve_due_at)
    plain.refresh_from_db()
    assert plain.department == world.leader


def test_resolved_ticket_without_reply_closes_automatically(world):
    ticket = make_ticket(world, Status.RESOLVED)
    assert ticket.escalate_at == world.sla.add(T0, 5)
    assert dict(sweep(ticket.escalate_at).counts) == {"auto_close": 1}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at, ticket.escalate_at) == (
        Status.CLOSED,
        world.sla.add(T0, 5),
        None,
    )
    event = new_events(ticket).get()
    assert (event.action, event.from_status, event.to_status, event.note) == (
        "auto_close",
        "resolved",
        "closed",
        "办结后企业未在规定时间内反馈，自动关闭",
    )


def test_sweep_touches_only_statuses_the_table_allows(world):
    """Every status with a stale escalate_at: the sweep either takes a step the transition
    table allows or just moves the schedule — never an event the table does not allow."""
    past = T0 - dt.timedelta(days=1)
    for status in Status.values:
        # A merged ticket's survivor is closed here, so the sweep has nothing to do with it.
        extra = (
            {"merged_into": make_ticket(world, Status.CLOSED)} if status == Status.MERGED else {}
        )
        make_ticket(world, status, escalate_at=past, **extra)
    now = T0 + dt.timedelta(days=30)
    result = sweep(now)
    events = list(TicketEvent.objects.exclude(note=SETUP_NOTE))
    assert sorted((e.from_status, e.action) for e in events) == [
        ("assigned", "remind"),
        ("in_progress", "escalate"),
        ("resolved", "auto_close"),
    ]
    for event in events:
        sources, target = workflow.TRANSITIONS[event.action]
        assert event.from_status in sources
        assert event.to_status == (target or event.from_status)
    assert result.total == 3
    assert not Ticket.objects.filter(escalate_at__lte=now).exists()
    # Only the reminded ticket and the escalated one (now assigned at the city) stay scheduled.
    scheduled = Ticket.objects.exclude(escalate_at=None)
    assert sorted(scheduled.values_list("status", "level")) == [
        ("assigned", "city"),
        ("assigned", "district"),
    ]


def test_transitions_sweep_and_recompute_agree_on_the_next_look(world):
    """escalate_at has one rule (Sla.next_look): after transitions and sweep steps,
    recomputing every open ticket's schedule changes nothing."""
    warned = make_ticket(world, Status.IN_PROGRESS)  # yellow card due Tue 06-09 09:00
    reminded = make_ticket(world, Status.ASSIGNED, now=at(2026, 6, 8, 9))  # accept by 06-09
    escalated = make_ticket(world, Status.IN_PROGRESS, now=T0 - dt.timedelta(days=7))
    supervised = make_ticket(
        world, Status.IN_PROGRESS, department=world.leader, now=at(2026, 5, 11, 9)
    )
    resolved = make_ticket(world, Status.IN_PROGRESS)
    workflow.resolve_ticket(
        ticket_id=resolved.pk, actor=world.handler, outcome="solved", reply="已解决", now=T0
    )
    held = make_ticket(world, Status.IN_PROGRESS)
    workflow.hold_ticket(ticket_id=held.pk, actor=world.handler, reason="等材料", now=T0)
    result = sweep(at(2026, 6, 9, 9, 30))
    assert dict(result.counts) == {"warn": 1, "remind": 1, "escalate": 1, "supervise": 1}
    assert {(t.pk, t.sla_stage) for t in Ticket.objects.all()} == {
        (warned.pk, SlaStage.WARNED),
        (reminded.pk, SlaStage.REMINDED),
        (escalated.pk, SlaStage.FRESH),
        (supervised.pk, SlaStage.SUPERVISED),
        (resolved.pk, SlaStage.FRESH),
        (held.pk, SlaStage.FRESH),
    }
    assert recompute_deadlines() == 0


def test_a_breach_already_recorded_only_moves_the_schedule_on(world, caplog):
    """The breach key is the database-enforced identity of a step: a replay (e.g. a ticket
    change lost after its event was written) never escalates twice, and the batch it was in
    is redone step by step so the others still escalate."""
    ticket = make_ticket(world, Status.IN_PROGRESS, sla_stage=SlaStage.WARNED)
    ticket.escalate_at = ticket.resolve_due_at
    ticket.save(update_fields=["escalate_at"])
    TicketEvent.objects.create(
        ticket=ticket,
        action="escalate",
        from_status="in_progress",
        to_status="assigned",
        level="city",
        breach_key=breach_key("escalate", ticket.escalate_at),
    )
    others = [make_ticket(world, Status.IN_PROGRESS) for _ in range(3)]
    now = ticket.resolve_due_at + dt.timedelta(minutes=5)
    with caplog.at_level(logging.WARNING, logger="tickets.escalation"):
        result = sweep(now)
    assert dict(result.counts) == {"escalate": 3}
    assert result.skipped == 0
    assert "already recorded; moving its schedule on" in caplog.text
    ticket.refresh_from_db()
    assert (ticket.level, ticket.escalation_count) == ("district", 0)
    assert ticket.escalate_at == world.sla.add(now, 1)  # the step's own next look
    assert ticket.events.filter(action="escalate").count() == 1
    for other in others:
        other.refresh_from_db()
        assert other.level == "city"
    assert sweep(now).total == 0


@pytest.mark.postgres
def test_a_step_the_database_refuses_only_pushes_its_own_ticket_forward(world, caplog):
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(3)]
    refused = tickets[1]
    with connection.cursor() as cursor:
        # Data the sweep cannot change: the step breaks a (new, not yet validated) CHECK.
        # (ALTER TABLE first needs the set-up's deferred foreign-key checks done.)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE tickets_ticket ADD CONSTRAINT test_stays_district "
            f"CHECK (id <> {refused.pk} OR level = 'district') NOT VALID"
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    now = at(2026, 6, 11, 9)
    with caplog.at_level(logging.WARNING, logger="tickets.escalation"):
        result = sweep(now)
    assert (dict(result.counts), result.skipped) == ({"escalate": 2}, 1)
    assert f"ticket {refused.pk} refused escalate" in caplog.text
    refused.refresh_from_db()
    assert refused.level == "district"
    assert not refused.events.filter(action="escalate").exists()
    assert refused.escalate_at == now + RETRY_BAD_ROW_AFTER  # not looked at by every sweep
    for ticket in (tickets[0], tickets[2]):
        ticket.refresh_from_db()
        assert ticket.level == "city"
        assert ticket.events.filter(action="escalate").count() == 1
    assert sweep(now).total == 0


def test_a_sweep_that_dies_halfway_leaves_nothing_half_done(world):
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(4)]
    now = at(2026, 6, 11, 9)

    def die_at_the_ticket_update(execute, sql, params, many, context):
        if sql.startswith('UPDATE "tickets_ticket"'):
            raise RuntimeError("worker killed")
        return execute(sql, params, many, context)

    with pytest.raises(RuntimeError), connection.execute_wrapper(die_at_the_ticket_update):
        sweep(now)
    assert not TicketEvent.objects.exclude(note=SETUP_NOTE).exists()
    assert set(Ticket.objects.values_list("level", flat=True)) == {"district"}
    assert dict(sweep(now).counts) == {"escalate": 4}
    assert sweep(now).total == 0
    assert all(t.events.filter(action="escalate").count() == 1 for t in tickets)


def test_a_ticket_with_bad_data_is_pushed_forward_and_logged_not_crash_looped(world, caplog):
    bad = make_ticket(world, Status.IN_PROGRESS)
    good = make_ticket(world, Status.IN_PROGRESS)
    Ticket.objects.filter(pk=bad.pk).update(resolve_due_at=None)  # no deadline to act on
    now = at(2026, 6, 11, 9)
    with caplog.at_level(logging.ERROR, logger="tickets.escalation"):
        result = sweep(now)
    assert (dict(result.counts), result.skipped) == ({"escalate": 1}, 1)
    assert f"cannot plan ticket {bad.pk}" in caplog.text
    bad.refresh_from_db()
    assert (bad.level, bad.escalate_at) == ("district", now + RETRY_BAD_ROW_AFTER)
    good.refresh_from_db()
    assert good.level == "city"
    assert sweep(now + dt.timedelta(minutes=59)).total == 0


def test_a_missing_calendar_year_retries_the_ticket_in_an_hour_and_alerts_staff_once(
    world, published
):
    tickets = [
        make_ticket(world, Status.IN_PROGRESS, escalate_at=at(2100, 12, 30, 9)) for _ in range(2)
    ]
    Ticket.objects.update(resolve_due_at=at(2100, 12, 30, 9))
    # New deadlines would fall in 2101: not confirmed, and past what the holidays package can
    # produce even provisionally (it ends with 2100).
    now = at(2100, 12, 31, 9)
    result = sweep(now)
    assert (result.skipped, result.total) == (2, 0)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert (ticket.level, ticket.escalate_at) == ("district", now + RETRY_BAD_ROW_AFTER)
    assert [(name, args[0]) for name, args in published] == [
        (effects.ALERT_STAFF, "calendar-missing:2101:2100-12-31")
    ]


def test_a_sweep_sends_one_digest_of_its_events(world, published):
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(2)]
    result = escalate_overdue(now=at(2026, 6, 11, 9))
    assert published == [(effects.SEND_DIGEST, (result.sweep_id, result.event_ids))]
    assert sorted(TicketEvent.objects.filter(pk__in=result.event_ids).values_list("ticket_id")) == [
        (tickets[0].pk,),
        (tickets[1].pk,),
    ]
    published.clear()
    escalate_overdue(now=at(2026, 6, 11, 9))
    assert published == []  # nothing done, nothing sent


def test_batches_follow_the_schedule_order_and_cover_every_due_ticket(world, monkeypatch):
    monkeypatch.setattr(escalation, "BATCH_SIZE", 2)
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(5)]
    result = sweep(at(2026, 6, 11, 9))
    assert dict(result.counts) == {"escalate": 5}
    escalated = TicketEvent.objects.filter(pk__in=result.event_ids).order_by("pk")
    assert [e.ticket_id for e in escalated] == [t.pk for t in tickets]


def test_escalate_command_runs_a_sweep_at_the_given_instant(world):
    make_ticket(world, Status.IN_PROGRESS)
    out = StringIO()
    call_command("escalate", "--now", "2026-06-11T09:00:00+08:00", "--no-notify", stdout=out)
    assert "升级（红牌） (escalate): 1" in out.getvalue()
    assert TicketEvent.objects.filter(action="escalate").count() == 1


def test_escalate_command_refuses_a_bad_instant(world):
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("escalate", "--now", "tomorrow")


def test_recompute_deadlines_follows_a_policy_change(world):
    ticket = make_ticket(world, Status.IN_PROGRESS)
    assert ticket.resolve_due_at == at(2026, 6, 10, 9)
    SlaPolicy.objects.create(kind="difficulty", level="district", accept_days=1, resolve_days=7)
    assert recompute_deadlines() == 1
    ticket.refresh_from_db()
    assert ticket.resolve_due_at == at(2026, 6, 12, 9)
    assert ticket.escalate_at == at(2026, 6, 11, 9)
    assert recompute_deadlines() == 0


def test_recompute_moves_a_reminded_tickets_grace_with_the_calendar(world):
    from tickets.calendar_store import invalidate
    from tickets.models import CalendarDay

    ticket = make_ticket(world, Status.ASSIGNED)
    sweep(at(2026, 6, 4, 10))  # reminded; escalation due Fri 06-05 09:00
    CalendarDay.objects.filter(date=dt.date(2026, 6, 5)).update(is_working=False)
    invalidate()
    assert recompute_deadlines() == 1
    ticket.refresh_from_db()
    assert (ticket.sla_stage, ticket.escalate_at) == (SlaStage.REMINDED, at(2026, 6, 8, 9))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_started_together_escalate_each_of_500_tickets_exactly_once(world):
    base = make_ticket(world, Status.IN_PROGRESS)
    rows = []
    for i in range(499):
        base.pk = None
        base.number = f"WH-2026-9{i:05d}"
        rows.append(
            Ticket(**{f.attname: getattr(base, f.attname) for f in Ticket._meta.concrete_fields})
        )
    Ticket.objects.bulk_create(rows)
    assert Ticket.objects.filter(escalate_at__isnull=False).count() == 500
    now = at(2026, 6, 11, 9)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(sweep(now))
        except Exception as error:  # a deadlock would land here
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(r.counts["escalate"] for r in results) == 500
    assert TicketEvent.objects.filter(action="escalate").count() == 500
    assert Ticket.objects.filter(level="city", escalation_count=1).count() == 500
    per_ticket = TicketEvent.objects.filter(action="escalate").values_list("ticket_id", flat=True)
    assert len(set(per_ticket)) == 500
