"""The demo and scale data generator (tickets.demo, seed_demo)."""

import datetime as dt
import io
import random
import re
from collections import defaultdict

import holidays
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction

from enterprises import uscc
from enterprises.models import Department, Enterprise
from tests.test_reference_data import wipe_reference_data
from tickets import demo, reference_data
from tickets.calendar import DAY, SHANGHAI, CalendarMissing, WorkCalendar, days_from_holidays
from tickets.calendar_store import invalidate, load_calendar
from tickets.models import SlaPolicy, Ticket, TicketEvent, TicketNumberCounter

pytestmark = pytest.mark.django_db

NOW = demo.DEFAULT_NOW
OPEN_WITH_SCHEDULE = {"assigned", "in_progress", "resolved"}
# Actions after which the ticket's status is the event's to_status.
STATUS_ACTIONS = {
    "submit",
    "route",
    "dispatch",
    "accept",
    "return",
    "hold",
    "resume",
    "resolve",
    "approve_explanation",
    "reject_explanation",
    "confirm",
    "auto_close",
    "reopen",
    "withdraw",
    "escalate",
}


@pytest.fixture(scope="module")
def reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        invalidate()
        reference_data.load()
    yield
    with django_db_blocker.unblock():
        wipe_reference_data()


@pytest.fixture(scope="module")
def scenario(reference, django_db_blocker):
    """The city scenario, seeded (and committed) once for the module's read-only tests."""
    with django_db_blocker.unblock():
        result = demo.seed_scenario()
    yield result
    with django_db_blocker.unblock():
        demo.reset()


# --- what every generated ticket must satisfy ---------------------------------------------------


def assert_consistent(tickets, *, now=NOW, full_history=True):
    """The per-status invariants of the workflow, the deadlines recomputed with the working
    calendar (not the generator's clock), and the event chain."""
    calendar = load_calendar(fresh=True)
    policies = {(p.kind, p.level): p for p in SlaPolicy.objects.all()}
    tiers = dict(Department.objects.values_list("id", "tier"))
    coordinator = Department.objects.get(is_coordinator=True).pk
    events = defaultdict(list)
    for event in TicketEvent.objects.filter(ticket__in=[t.pk for t in tickets]).order_by(
        "created_at", "id"
    ):
        events[event.ticket_id].append(event)
    for t in tickets:
        where = f"{t.number} ({t.status})"
        policy = policies[(t.kind, t.level)]
        status = t.status
        if status == "submitted":
            assert (t.department_id, t.level, t.escalate_at) == (None, "district", None), where
        elif status != "withdrawn":
            assert t.department_id is not None, where
        if status == "returned":
            assert t.department_id == coordinator and t.return_count >= 1, where
        elif t.department_id is not None:
            assert t.level == tiers[t.department_id], where
        if status in ("assigned", "in_progress", "on_hold"):
            assert t.assigned_at and t.clock_started_at, where
            assert t.accept_due_at == calendar.add_working_days(t.assigned_at, policy.accept_days)
            budget = (policy.resolve_days + t.extension_days) * DAY + t.paused_seconds
            expected_due = calendar.add_working_seconds(t.clock_started_at, budget)
            assert t.resolve_due_at == expected_due, where
        if status == "assigned":
            assert t.accepted_at is None, where
            if t.sla_stage == 0:
                assert t.escalate_at == t.accept_due_at, where
            else:
                assert t.sla_stage == 2 and t.escalate_at > t.accept_due_at, where
        if status == "in_progress":
            assert t.accepted_at is not None, where
            if t.sla_stage == 0:
                assert t.escalate_at == calendar.add_working_days(t.resolve_due_at, -1), where
            else:
                assert (t.sla_stage, t.escalate_at) == (1, t.resolve_due_at), where
        if status == "on_hold":
            assert t.held_at is not None and t.escalate_at is None, where
        if status == "pending_review":
            assert t.outcome == "explained" and t.resolved_at, where
            assert t.escalate_at is None, where
        if status in ("resolved", "closed"):
            assert t.outcome in ("solved", "basically_solved", "explained"), where
            assert t.outcome_note and t.resolved_at, where
        if status == "resolved":
            auto_close = calendar.add_working_days(t.resolved_at, policy.auto_close_days)
            assert t.escalate_at == auto_close, where
        if status == "closed":
            assert t.closed_at >= t.resolved_at and t.escalate_at is None, where
        if status not in ("resolved", "closed", "pending_review"):
            assert (t.outcome, t.resolved_at) == ("", None), where
        if status in ("returned", "withdrawn", "on_hold", "pending_review", "closed"):
            assert t.escalate_at is None, where
        if status in OPEN_WITH_SCHEDULE:
            assert t.escalate_at is not None, where
        if t.satisfaction is not None:
            assert status == "closed" and 1 <= t.satisfaction <= 5 and t.rated_at, where
        if t.escalation_count:
            assert t.level in ("city", "leader"), where
        if t.reopen_count >= 2:
            assert t.supervised, where
        assert t.supervised == (t.supervised_at is not None), where
        assert re.fullmatch(r"WH-\d{4}-\d{6}", t.number), where
        assert t.number[3:7] == str(t.created_at.astimezone(SHANGHAI).year), where

        chain = events[t.pk]
        assert chain and chain[0].action == "submit", where
        assert chain[0].created_at == t.created_at, where
        if status != "submitted" and not (status == "withdrawn" and t.department_id is None):
            assert chain[1].action == "route", where
        assert all(a.created_at <= b.created_at for a, b in zip(chain, chain[1:], strict=False)), (
            where
        )
        assert chain[-1].created_at <= now, where
        moves = [e for e in chain if e.action in ("route", "return", "dispatch", "escalate")]
        assert sum(e.action == "return" for e in chain) == t.return_count, where
        assert sum(e.action == "escalate" for e in chain) == t.escalation_count, where
        if moves:
            assert moves[-1].to_department_id == (
                t.department_id if status != "withdrawn" else moves[-1].to_department_id
            ), where
        if full_history:
            steps = [e for e in chain if e.action in STATUS_ACTIONS]
            assert steps[-1].to_status == status, where
            for before, after in zip(steps, steps[1:], strict=False):
                assert after.from_status == before.to_status, (where, after.action)
            for before, after in zip(chain, chain[1:], strict=False):
                assert after.from_department_id == before.to_department_id, (where, after.action)
            assert chain[-1].to_department_id == t.department_id, where
            assert chain[-1].level == t.level, where
            assert sum(e.action == "reopen" for e in chain) == t.reopen_count, where
            assert t.updated_at == chain[-1].created_at, where


def city_level(queryset):
    return queryset.filter(level__in=["city", "leader"])


# --- the scenario --------------------------------------------------------------------------------


def test_scenario_reproduces_the_city_report_headline(scenario):
    tickets = Ticket.objects.all()
    solved = city_level(tickets).filter(
        outcome__in=["solved", "basically_solved"], status__in=["resolved", "closed"]
    )

    assert tickets.count() == 1623
    assert city_level(tickets).count() == 205
    assert solved.count() == 172
    assert not tickets.filter(status="withdrawn").exists()
    assert demo.headline() == (
        "本期受理企业诉求1,623件，需市级层面解决的问题205个，其中已基本解决172个，"
        "占比83.9%（目标90%）"
    )
    assert set(tickets.values_list("kind", flat=True)) == {
        "difficulty",
        "technology",
        "funding",
        "supply_chain",
    }


def test_scenario_enterprises_have_valid_weihai_codes_and_a_spread_of_grades(scenario):
    enterprises = Enterprise.objects.all()

    assert enterprises.count() == 400
    assert all(uscc.is_valid(code) for code in enterprises.values_list("uscc", flat=True))
    assert {code[2:8] for code in enterprises.values_list("uscc", flat=True)} <= set(
        demo.DIVISION_CODES.values()
    )
    assert set(enterprises.values_list("credit_grade", flat=True)) == {"A", "B", "C", "D"}
    assert enterprises.filter(is_chain_leader=True).count() >= 10
    assert enterprises.exclude(programme="").exists()
    assert enterprises.filter(chains__isnull=False).distinct().count() >= 100


def test_scenario_shows_open_escalated_supervised_and_reopened_tickets(scenario):
    tickets = Ticket.objects.all()
    statuses = set(tickets.values_list("status", flat=True))

    assert {"assigned", "in_progress", "on_hold", "pending_review", "returned"} <= statuses
    assert {"resolved", "closed"} <= statuses
    assert tickets.filter(escalation_count__gte=1).exists()
    assert tickets.filter(supervised=True).exists()
    assert tickets.filter(reopen_count__gte=1).exists()
    assert tickets.filter(level="district", status__in=["resolved", "closed"]).count() > 1300
    assert not tickets.filter(escalate_at__lte=NOW).exists()


def test_every_scenario_ticket_is_consistent_with_the_workflow(scenario):
    assert_consistent(list(Ticket.objects.all()))
    counters = dict(TicketNumberCounter.objects.values_list("year", "last"))
    assert counters == {2026: 1623}


def test_running_the_scenario_again_changes_nothing(scenario):
    before = (Enterprise.objects.count(), Ticket.objects.count(), TicketEvent.objects.count())
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert "已存在" in out.getvalue()
    after = (Enterprise.objects.count(), Ticket.objects.count(), TicketEvent.objects.count())
    assert after == before


def test_reset_rebuilds_the_same_scenario_and_keeps_events_append_only(scenario):
    numbers = list(Ticket.objects.order_by("number").values_list("number", "status", "level"))

    call_command("seed_demo", "--reset", stdout=io.StringIO())

    assert list(Ticket.objects.order_by("number").values_list("number", "status", "level")) == (
        numbers
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        TicketEvent.objects.filter(pk=TicketEvent.objects.first().pk).update(note="edited")


def test_sweep_events_carry_the_sweeps_own_breach_keys(scenario):
    from tickets.escalation import breach_key

    events = TicketEvent.objects.filter(breach_key__isnull=False)
    assert events.count() > 100
    for event in events:
        action, _at, instant = event.breach_key.partition("@")
        assert action == event.action
        assert event.breach_key == breach_key(action, dt.datetime.fromisoformat(instant))
    assert not TicketEvent.objects.filter(
        breach_key__isnull=True,
        action__in=["warn", "remind", "escalate", "supervise", "auto_close"],
    ).exists()


def test_escalation_sweep_at_the_scenario_instant_finds_nothing_to_do(scenario):
    from tickets.escalation import escalate_overdue

    assert escalate_overdue(now=NOW, notify=False).total == 0


# --- the scale mode ------------------------------------------------------------------------------


def test_small_scale_run_writes_exact_counts_and_exactly_the_overdue_asked_for(reference):
    result = demo.seed_scale(enterprises=200, tickets=2000, overdue=50, reset_first=True)

    assert (Enterprise.objects.count(), Ticket.objects.count()) == (200, 2000)
    assert (result.enterprises, result.tickets, result.overdue) == (200, 2000, 50)
    assert all(uscc.is_valid(code) for code in Enterprise.objects.values_list("uscc", flat=True))
    assert Ticket.objects.filter(escalate_at__lte=NOW).count() == 50
    overdue = Ticket.objects.filter(escalate_at__lte=NOW)
    assert set(overdue.values_list("status", flat=True)) <= {"assigned", "in_progress"}
    assert all(t.is_overdue(NOW) for t in overdue)
    counters = dict(TicketNumberCounter.objects.values_list("year", "last"))
    per_year = defaultdict(list)
    for number in Ticket.objects.values_list("number", flat=True):
        per_year[int(number[3:7])].append(int(number[8:]))
    assert counters == {year: max(seqs) for year, seqs in per_year.items()}
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in per_year.values())
    assert TicketEvent.objects.count() == result.events
    assert TicketEvent.objects.filter(action="submit").count() == 2000
    assert_consistent(list(Ticket.objects.all()), full_history=False)


def test_scale_run_with_no_overdue_leaves_nothing_due_at_now(reference):
    demo.seed_scale(enterprises=50, tickets=500, overdue=0, reset_first=True)

    assert Ticket.objects.count() == 500
    assert not Ticket.objects.filter(escalate_at__lte=NOW).exists()


def test_escalation_sweep_acts_once_on_each_overdue_ticket_of_a_scale_run(reference):
    from tickets.escalation import escalate_overdue

    demo.seed_scale(enterprises=100, tickets=1000, overdue=30, reset_first=True)

    first = escalate_overdue(now=NOW, notify=False)
    assert first.total == 30
    assert set(first.counts) <= {"remind", "escalate", "supervise"}
    assert escalate_overdue(now=NOW, notify=False).total == 0


def test_full_history_scale_run_has_a_complete_event_chain(reference):
    result = demo.seed_scale(
        enterprises=60, tickets=600, overdue=6, reset_first=True, history="full"
    )

    assert result.events / result.tickets > 5
    assert_consistent(list(Ticket.objects.all()), full_history=True)


def test_a_second_scale_run_continues_the_numbers(reference):
    demo.seed_scale(enterprises=20, tickets=100, overdue=0, reset_first=True)
    demo.seed_scale(enterprises=20, tickets=100, overdue=0)

    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 200
    assert sum(TicketNumberCounter.objects.values_list("last", flat=True)) == 200
    assert Enterprise.objects.count() == 40


def test_seed_demo_command_in_scale_mode(reference):
    out = io.StringIO()

    call_command(
        "seed_demo",
        "--reset",
        "--enterprises",
        "30",
        "--tickets",
        "300",
        "--overdue",
        "3",
        "--now",
        "2026-10-15T09:00:00+08:00",
        stdout=out,
        stderr=io.StringIO(),
    )

    now = dt.datetime(2026, 10, 15, 9, tzinfo=SHANGHAI)
    assert Ticket.objects.count() == 300
    assert Ticket.objects.filter(escalate_at__lte=now).count() == 3
    assert not Ticket.objects.filter(created_at__gt=now).exists()
    assert "诉求 300 件" in out.getvalue()


def test_seed_demo_refuses_an_instant_whose_deadlines_leave_the_calendar(reference):
    with pytest.raises(CommandError, match="2027"):
        call_command(
            "seed_demo", "--reset", "--now", "2026-12-30T10:00:00+08:00", stdout=io.StringIO()
        )


def test_seed_demo_needs_the_reference_data():
    demo.reset()  # this test's transaction only
    wipe_reference_data()

    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("seed_demo", stdout=io.StringIO())


# --- the generator's working-time arithmetic --------------------------------------------------


def _outcome(compute, *args):
    """Epoch seconds, or the missing year when the computation ran off the calendar's data."""
    try:
        value = compute(*args)
    except CalendarMissing as missing:
        return ("missing", missing.year)
    return demo.to_epoch(value) if isinstance(value, dt.datetime) else value


def test_fast_clock_agrees_with_the_work_calendar_to_the_second():
    years = [2024, 2025, 2026]
    china = holidays.China(years=years)
    calendar = WorkCalendar(days_from_holidays(years, set(china), set(china.weekend_workdays)))
    clock = demo.FastClock(calendar, 2026)
    rng = random.Random(7)
    start = demo.to_epoch(dt.datetime(2024, 1, 1, tzinfo=SHANGHAI))
    end = demo.to_epoch(dt.datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI))

    for _ in range(5000):
        moment = rng.randint(start, end)
        days = rng.choice([1, 2, 5, 10, 15, -1, 0.5, 1.9, 2.5])
        aware = dt.datetime.fromtimestamp(moment, SHANGHAI)
        ours = _outcome(clock.add, moment, days)
        theirs = _outcome(calendar.add_working_days, aware, days)
        assert ours == theirs, (aware, days)
        other = rng.randint(start, end)
        assert clock.between(moment, other) == calendar.working_seconds_between(
            aware, dt.datetime.fromtimestamp(other, SHANGHAI)
        )
    with pytest.raises(CalendarMissing) as missing:
        clock.add(demo.to_epoch(dt.datetime(2026, 12, 20, tzinfo=SHANGHAI)), 30)
    assert missing.value.year == 2027
