"""The escalation ladder: yellow card, reminder, escalation, supervision, auto-close —
each breach acted on exactly once."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from tests.tickets.conftest import SETUP_NOTE, T0, at, make_ticket
from tickets import sweeps, workflow
from tickets.models import SlaStage, Status, Ticket, TicketEvent


def sweep(now):
    return sweeps.escalate_overdue(now=now, notify=False)


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
    assert sweep(at(2026, 6, 9, 12)).total == 0


def test_missed_accept_deadline_reminds_first_then_escalates(world):
    ticket = make_ticket(world, Status.ASSIGNED)  # accept by Thu 2026-06-04 09:00
    assert dict(sweep(at(2026, 6, 4, 10)).counts) == {"remind": 1}
    ticket.refresh_from_db()
    assert (ticket.department, ticket.sla_stage, ticket.escalate_at) == (
        world.local,
        SlaStage.REMINDED,
        at(2026, 6, 5, 10),
    )
    assert sweep(at(2026, 6, 5, 9)).total == 0
    assert dict(sweep(at(2026, 6, 5, 10)).counts) == {"escalate": 1}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.department, ticket.level, ticket.escalation_count) == (
        Status.ASSIGNED,
        world.city,
        "city",
        1,
    )
    assert ticket.accept_due_at == at(2026, 6, 8, 10)
    assert ticket.resolve_due_at == world.sla.add(at(2026, 6, 5, 10), 10)


def test_sweeping_at_the_same_instant_twice_escalates_nothing_the_second_time(world):
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(5)]
    now = at(2026, 6, 11, 9)  # past the resolve deadline
    first = sweep(now)
    assert dict(first.counts) == {"escalate": 5}
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
    result = sweep(ticket.resolve_due_at + dt.timedelta(hours=1))
    assert dict(result.counts) == {"supervise": 1}
    ticket.refresh_from_db()
    assert ticket.supervised and ticket.level == "leader" and ticket.escalate_at is None
    assert ticket.status == Status.IN_PROGRESS
    assert sweep(ticket.resolve_due_at + dt.timedelta(days=30)).total == 0
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


def test_sweep_touches_only_statuses_the_table_allows(world):
    """Every status with a stale escalate_at: the sweep either takes an allowed step or just
    clears the schedule — never an event the transition table does not allow."""
    past = T0 - dt.timedelta(days=1)
    for status in Status.values:
        make_ticket(world, status, escalate_at=past)
    result = sweep(T0 + dt.timedelta(days=30))
    for event in TicketEvent.objects.exclude(note=SETUP_NOTE):
        sources, target = workflow.TRANSITIONS[event.action]
        assert event.from_status in sources
        assert event.to_status == (target or event.from_status)
    assert result.total == 3  # assigned → remind, in_progress → escalate, resolved → auto_close
    assert not Ticket.objects.filter(escalate_at__lte=T0 + dt.timedelta(days=30)).exists()


def test_a_breach_already_recorded_is_not_acted_on_again(world):
    """The breach key is the database-enforced identity of a step: a replay (e.g. a worker
    that died after writing the event) never escalates twice."""
    ticket = make_ticket(world, Status.IN_PROGRESS, sla_stage=SlaStage.WARNED)
    ticket.escalate_at = ticket.resolve_due_at
    ticket.save(update_fields=["escalate_at"])
    TicketEvent.objects.create(
        ticket=ticket,
        action="escalate",
        from_status="in_progress",
        to_status="assigned",
        level="city",
        breach_key=sweeps.breach_key("escalate", ticket.escalate_at),
    )
    others = [make_ticket(world, Status.IN_PROGRESS) for _ in range(3)]
    result = sweep(ticket.resolve_due_at + dt.timedelta(minutes=5))
    assert dict(result.counts) == {"escalate": 3}
    ticket.refresh_from_db()
    assert ticket.level == "district" and ticket.escalation_count == 0
    assert ticket.escalate_at is not None and ticket.escalate_at > ticket.resolve_due_at
    for other in others:
        other.refresh_from_db()
        assert other.level == "city"


def test_a_step_that_breaks_a_constraint_only_reschedules_its_ticket(world, monkeypatch):
    """On PostgreSQL a batch is one statement without savepoints: a step the database refuses
    aborts the batch, which is then redone step by step — the others still escalate."""
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(3)]
    broken = tickets[1]
    real = sweeps._escalate

    def escalate(row, ctx, reason):
        step = real(row, ctx, reason)
        if row.id == broken.pk:
            step.updates = {**step.updates, "paused_seconds": -1}  # CHECK paused_seconds >= 0
        return step

    monkeypatch.setattr(sweeps, "_escalate", escalate)
    now = at(2026, 6, 11, 9)
    result = sweep(now)
    assert dict(result.counts) == {"escalate": 2}
    broken.refresh_from_db()
    assert broken.level == "district" and broken.paused_seconds == 0
    assert not broken.events.filter(action="escalate").exists()
    assert broken.escalate_at > now  # moved on, not looked at again by every sweep
    for ticket in (tickets[0], tickets[2]):
        ticket.refresh_from_db()
        assert ticket.level == "city"
        assert ticket.events.filter(action="escalate").count() == 1
    assert sweep(now).total == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL setting")
def test_sweep_commits_without_waiting_for_the_wal_flush_and_restores_the_setting(
    world, monkeypatch
):
    make_ticket(world, Status.IN_PROGRESS)

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    seen = []
    real = sweeps.plan

    def plan(row, ctx):
        seen.append(setting())
        return real(row, ctx)

    monkeypatch.setattr(sweeps, "plan", plan)
    with connection.cursor() as cursor:
        # The server's default may already be off (scripts/test's throwaway cluster runs with
        # synchronous_commit=off); start from on so that the restore is visible.
        cursor.execute("SET synchronous_commit TO ON")
    before = setting()
    assert dict(sweep(at(2026, 6, 11, 9)).counts) == {"escalate": 1}
    assert seen == ["off"]
    assert setting() == before != "off"


def test_a_sweep_that_dies_halfway_leaves_nothing_half_done(world, monkeypatch):
    tickets = [make_ticket(world, Status.IN_PROGRESS) for _ in range(4)]
    now = at(2026, 6, 11, 9)
    real = sweeps._apply_grouped

    def crash(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sweeps, "_apply_grouped", crash)
    with pytest.raises(RuntimeError):
        sweep(now)
    assert not TicketEvent.objects.exclude(note=SETUP_NOTE).exists()
    assert set(Ticket.objects.values_list("level", flat=True)) == {"district"}
    monkeypatch.setattr(sweeps, "_apply_grouped", real)
    assert dict(sweep(now).counts) == {"escalate": 4}
    assert sweep(now).total == 0
    assert all(t.events.filter(action="escalate").count() == 1 for t in tickets)


def test_a_ticket_that_breaks_the_sweep_is_pushed_forward_not_crash_looped(world):
    ticket = make_ticket(world, Status.IN_PROGRESS, escalate_at=at(2026, 12, 30, 9))
    Ticket.objects.filter(pk=ticket.pk).update(resolve_due_at=at(2026, 12, 30, 9))
    now = at(2026, 12, 31, 9)  # new deadlines would fall in 2027: no calendar
    result = sweep(now)
    assert result.skipped == 1 and result.total == 0
    ticket.refresh_from_db()
    assert ticket.escalate_at == now + sweeps.RETRY_BAD_ROW_AFTER
    assert ticket.level == "district"


def test_escalate_command_runs_a_sweep_at_the_given_instant(world):
    make_ticket(world, Status.IN_PROGRESS)
    from io import StringIO

    out = StringIO()
    call_command("escalate", "--now", "2026-06-11T09:00:00+08:00", "--no-notify", stdout=out)
    assert "escalate" in out.getvalue() and ": 1" in out.getvalue()
    assert TicketEvent.objects.filter(action="escalate").count() == 1


def test_escalate_command_refuses_a_bad_instant(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("escalate", "--now", "tomorrow")


def test_recompute_deadlines_follows_a_policy_change(world):
    from tickets.models import SlaPolicy

    ticket = make_ticket(world, Status.IN_PROGRESS)
    assert ticket.resolve_due_at == at(2026, 6, 10, 9)
    SlaPolicy.objects.create(kind="difficulty", level="district", accept_days=1, resolve_days=7)
    assert sweeps.recompute_deadlines() == 1
    ticket.refresh_from_db()
    assert ticket.resolve_due_at == at(2026, 6, 12, 9)
    assert ticket.escalate_at == at(2026, 6, 11, 9)
    assert sweeps.recompute_deadlines() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_started_together_escalate_each_of_500_tickets_exactly_once(world):
    from tickets.models import Ticket as T

    base = make_ticket(world, Status.IN_PROGRESS)
    rows = []
    for i in range(499):
        base.pk = None
        base.number = f"WH-2026-9{i:05d}"
        rows.append(T(**{f.attname: getattr(base, f.attname) for f in T._meta.concrete_fields}))
    T.objects.bulk_create(rows)
    assert T.objects.filter(escalate_at__isnull=False).count() == 500
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
    assert T.objects.filter(level="city", escalation_count=1).count() == 500
    per_ticket = TicketEvent.objects.values_list("ticket_id", flat=True)
    assert len(set(per_ticket)) == 500
