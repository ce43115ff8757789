"""The demo data: the city scenario made by the workflow (tickets.demo) and the set-based
scale data (tickets.demo_scale), through seed_demo."""

import datetime as dt
import io
import re
from collections import defaultdict

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Q

from enterprises import uscc
from enterprises.models import Department, Enterprise
from tests.test_reference_data import wipe_reference_data
from tickets import demo, demo_scale, effects, reference_data
from tickets.calendar import DAY, SHANGHAI
from tickets.calendar_store import invalidate, load_calendar
from tickets.escalation import escalate_overdue
from tickets.models import SlaPolicy, Ticket, TicketEvent, TicketNumberCounter
from tickets.sla import load_sla

pytestmark = pytest.mark.django_db

# The scenario's reference instant in these tests (seed_demo's default is now, to the minute).
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
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
        result = demo.seed_scenario(now=NOW)
    yield result
    with django_db_blocker.unblock():
        demo.reset()


# --- what every generated ticket must satisfy ---------------------------------------------------


def assert_consistent(tickets, *, now=NOW, full_history=True):
    """The per-status invariants of the workflow, the deadlines recomputed with the working
    calendar (not the generator's clock), and the event chain."""
    calendar = load_calendar(fresh=True)
    sla = load_sla(fresh=True)
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
        if status == "in_progress":
            assert t.accepted_at is not None, where
        # The one next-look rule, at the stage the sweep left the ticket in.
        assert t.escalate_at == sla.next_look(t), where
        if status == "on_hold":
            assert t.held_at is not None and t.escalate_at is None, where
        if status == "pending_review":
            assert t.outcome == "explained" and t.resolved_at, where
            assert t.escalate_at is None, where
        if status in ("resolved", "closed"):
            assert t.outcome in ("solved", "basically_solved", "explained"), where
            assert t.outcome_note and t.resolved_at, where
        if status == "closed":
            assert t.closed_at >= t.resolved_at and t.escalate_at is None, where
        if status not in ("resolved", "closed", "pending_review"):
            assert (t.outcome, t.resolved_at) == ("", None), where
        if status in ("returned", "withdrawn", "on_hold", "pending_review", "closed"):
            assert t.escalate_at is None, where
        if status in OPEN_WITH_SCHEDULE:
            assert t.escalate_at is not None or t.sla_stage == 3, where  # 3: supervised
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
    # Inside this test's transaction (rolled back afterwards: the module's scenario stays).
    small = demo.Headline(taken_in=50, city_level=10, city_resolved=7, enterprises=25)
    demo.seed_scenario(now=NOW, reset_first=True, plan=small)
    first = list(Ticket.objects.order_by("number").values_list("number", "status", "level"))

    demo.seed_scenario(now=NOW, reset_first=True, plan=small)

    assert len(first) == 50
    assert list(Ticket.objects.order_by("number").values_list("number", "status", "level")) == (
        first
    )
    assert Enterprise.objects.count() == 25
    with pytest.raises(DatabaseError), transaction.atomic():
        TicketEvent.objects.filter(pk=TicketEvent.objects.first().pk).update(note="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        TicketEvent.objects.filter(pk=TicketEvent.objects.first().pk).delete()


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


def test_first_sweeps_after_seeding_find_nothing_to_do_and_keep_the_headline(scenario):
    before = demo.headline()

    assert escalate_overdue(now=NOW, notify=False).total == 0
    assert escalate_overdue(now=NOW + demo.QUIET, notify=False).total == 0
    assert demo.headline() == before


def test_scenario_lateness_is_realistic_overall_and_per_kind(scenario):
    resolved = Q(outcome__in=["solved", "basically_solved"])
    on_time = resolved & Q(resolved_at__lte=F("resolve_due_at"))
    taken = Ticket.objects.exclude(status="withdrawn")
    overall = taken.aggregate(n=Count("pk", filter=on_time), d=Count("pk", filter=resolved))
    by_kind = taken.values("kind").annotate(
        n=Count("pk", filter=on_time), d=Count("pk", filter=resolved)
    )

    assert 0.5 < overall["n"] / overall["d"] < 1
    assert len(by_kind) == 4
    for row in by_kind:
        assert 0.5 < row["n"] / row["d"] < 1, row
    # Late answers come from the top, after supervision: below it the sweep escalates a ticket
    # at its deadline and the next tier starts a new one.
    late = taken.filter(resolved, resolved_at__gt=F("resolve_due_at"))
    assert set(late.values_list("level", flat=True)) == {"leader"}
    assert all(late.values_list("supervised", flat=True))


def test_every_scenario_event_was_written_by_the_workflow_or_the_sweep(scenario):
    actions = set(TicketEvent.objects.values_list("action", flat=True))

    assert {"submit", "route", "accept", "resolve", "confirm", "auto_close", "rate"} <= actions
    assert {"warn", "remind", "escalate", "supervise", "return", "dispatch"} <= actions
    assert {"hold", "resume", "request_extension", "approve_extension", "reopen"} <= actions
    assert {"approve_explanation"} <= actions
    assert "withdraw" not in actions


def test_seeding_publishes_no_task(reference, monkeypatch):
    published = []

    class App:
        def send_task(self, name, args=()):
            published.append(name)

    monkeypatch.setattr(effects, "current_app", App())
    small = demo.Headline(taken_in=60, city_level=12, city_resolved=8, enterprises=30)

    demo.seed_scenario(now=NOW, reset_first=True, plan=small)

    assert Ticket.objects.count() == 60
    assert published == []
    effects.publish(effects.ROUTE_TICKET, 1)  # and publishing works again afterwards
    assert published == [effects.ROUTE_TICKET]


def test_suppressed_effects_register_no_commit_callback(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, effects.suppressed():
        effects.publish_on_commit(effects.NOTIFY_EVENT, 1)
        assert effects.publish(effects.NOTIFY_EVENT, 1) is False

    assert callbacks == []


def test_the_reference_instant_is_now_to_the_minute():
    with time_machine.travel(dt.datetime(2026, 12, 3, 9, 41, 27, tzinfo=SHANGHAI), tick=False):
        assert demo.reference_now() == dt.datetime(2026, 12, 3, 9, 41, tzinfo=SHANGHAI)
    naive = dt.datetime(2026, 11, 20, 10, 0)  # noqa: DTZ001 - read as Shanghai time
    assert demo.reference_now(naive) == NOW


def test_seed_demo_command_prints_progress_and_the_headline(reference):
    out = io.StringIO()
    small = demo.Headline(taken_in=40, city_level=8, city_resolved=6, enterprises=20)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "SCENARIO", small)
        call_command("seed_demo", "--reset", "--now", NOW.isoformat(), stdout=out)

    text = out.getvalue()
    assert "诉求 40/40" in text
    assert "本期受理企业诉求40件，需市级层面解决的问题8个，其中已基本解决6个" in text
    assert "参考时刻已到期待巡检（escalate_at ≤ now）：0 件" in text


# --- the scale mode (PostgreSQL) -----------------------------------------------------------


def assert_sane(now):
    """What every scale row must satisfy besides the database's own constraints."""
    tickets = Ticket.objects.all()
    assert not tickets.filter(created_at__gt=now).exists()
    assert not tickets.filter(assigned_at__lt=F("created_at")).exists()
    assert not tickets.filter(accept_due_at__lte=F("assigned_at")).exists()
    assert not tickets.filter(resolve_due_at__lte=F("assigned_at")).exists()
    assert not tickets.filter(closed_at__gt=now).exists()
    assert not tickets.filter(resolved_at__gt=now).exists()
    for status in ("returned", "withdrawn", "on_hold", "pending_review", "closed"):
        assert not tickets.filter(status=status, escalate_at__isnull=False).exists(), status
    for status in ("assigned", "in_progress", "resolved"):
        assert not tickets.filter(status=status, escalate_at__isnull=True).exists(), status
    tiers = dict(Department.objects.values_list("id", "tier"))
    for level, department in tickets.exclude(status="returned").values_list(
        "level", "department_id"
    ):
        assert tiers[department] == level
    # A district-level need is handled in the enterprise's own district.
    assert (
        not tickets.filter(department__tier="district")
        .exclude(department__district=F("enterprise__district"))
        .exists()
    )
    submits = TicketEvent.objects.filter(action="submit")
    assert submits.count() == tickets.count()
    assert not submits.exclude(created_at=F("ticket__created_at")).exists()
    routes = TicketEvent.objects.filter(action="route")
    assert routes.count() == tickets.exclude(department=None).count()
    for number in tickets.values_list("number", flat=True)[:500]:
        assert re.fullmatch(r"WH-\d{4}-\d{6,}", number)


@pytest.mark.postgres
def test_small_scale_run_writes_exact_counts_and_exactly_the_overdue_asked_for(reference):
    result = demo_scale.seed_scale(
        enterprises=200, tickets=2000, overdue=50, reset_first=True, now=NOW
    )

    assert (Enterprise.objects.count(), Ticket.objects.count()) == (200, 2000)
    assert (result.enterprises, result.tickets, result.overdue) == (200, 2000, 50)
    assert all(uscc.is_valid(code) for code in Enterprise.objects.values_list("uscc", flat=True))
    overdue = Ticket.objects.filter(escalate_at__lte=NOW)
    assert overdue.count() == 50
    assert set(overdue.values_list("status", flat=True)) == {"in_progress"}
    assert all(t.is_overdue(NOW) for t in overdue)
    assert Ticket.objects.overdue(NOW).count() == 50
    counters = dict(TicketNumberCounter.objects.values_list("year", "last"))
    per_year = defaultdict(list)
    for number in Ticket.objects.values_list("number", flat=True):
        per_year[int(number[3:7])].append(int(number[8:]))
    assert counters == {year: max(seqs) for year, seqs in per_year.items()}
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in per_year.values())
    assert TicketEvent.objects.count() == result.events
    assert {"closed", "resolved", "in_progress", "assigned", "withdrawn"} <= set(result.statuses)
    assert_sane(NOW)


@pytest.mark.postgres
def test_scale_run_with_no_overdue_leaves_nothing_due_at_now(reference):
    demo_scale.seed_scale(enterprises=50, tickets=500, overdue=0, reset_first=True, now=NOW)

    assert Ticket.objects.count() == 500
    assert not Ticket.objects.filter(escalate_at__lte=NOW).exists()


@pytest.mark.postgres
def test_escalation_sweep_acts_once_on_each_overdue_ticket_of_a_scale_run(reference):
    demo_scale.seed_scale(enterprises=100, tickets=1000, overdue=30, reset_first=True, now=NOW)

    first = escalate_overdue(now=NOW, notify=False)
    assert first.total == 30
    assert set(first.counts) <= {"escalate", "supervise"}
    assert escalate_overdue(now=NOW, notify=False).total == 0


@pytest.mark.postgres
def test_a_second_scale_run_continues_the_numbers(reference):
    demo_scale.seed_scale(enterprises=20, tickets=100, overdue=0, reset_first=True, now=NOW)
    demo_scale.seed_scale(enterprises=20, tickets=100, overdue=0, now=NOW)

    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 200
    assert sum(TicketNumberCounter.objects.values_list("last", flat=True)) == 200
    assert Enterprise.objects.count() == 40
    assert_sane(NOW)


@pytest.mark.postgres
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


def test_scale_mode_outside_postgresql_is_refused_with_a_clear_message(reference, monkeypatch):
    before = Ticket.objects.count()
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("seed_demo", "--enterprises", "10", "--tickets", "10", stdout=io.StringIO())
    assert Ticket.objects.count() == before


def test_seed_demo_refuses_an_instant_whose_window_leaves_the_calendar(reference):
    # The calendar starts in 2024: half a year before 2024-03-01 is not covered.
    with pytest.raises(CommandError, match="2023"):
        call_command(
            "seed_demo", "--reset", "--now", "2024-03-01T10:00:00+08:00", stdout=io.StringIO()
        )


def test_seed_demo_needs_the_reference_data():
    demo.reset()  # this test's transaction only
    wipe_reference_data()

    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("seed_demo", stdout=io.StringIO())
