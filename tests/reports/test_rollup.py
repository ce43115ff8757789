"""The stored monthly counts (reports.rollup): city-wide figures read from them must be exactly
the live figures, whatever changed since the build."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import F

from reports import rollup
from reports.cube import Options, live_cube
from reports.models import MonthlyCounts, RollupState, StatsConfig
from reports.periods import Period
from reports.stats import GROUP_BYS, resolution_stats
from tests.factories import enterprise_user
from tests.reports.conftest import NOW, PERIOD, at
from tests.reports.expected import OVERALL, expected_rows, figures
from tickets import workflow
from tickets.models import Ticket, TicketEvent

PERIODS = [
    PERIOD,
    Period(),
    Period(dt.date(2026, 1, 15), dt.date(2026, 3, 10)),  # partial months at both ends
    Period(None, dt.date(2026, 2, 28)),
    Period(dt.date(2026, 3, 1), None),
]


def city(group_by, period=PERIOD):
    return resolution_stats(Ticket.objects.all(), group_by=group_by, period=period, now=NOW)


def live(group_by, period):
    """What the live GROUP BY alone answers (no rollup involved)."""
    return live_cube(
        Ticket.objects.all(), [group_by], options=Options.load(), period=period, now=NOW
    )


def from_rollup(group_by, period):
    cube = rollup.cube(
        Ticket.objects.all(), [group_by], options=Options.load(), period=period, now=NOW
    )
    assert cube is not None
    return {key: counts for key, counts in cube.items() if any(vars(counts).values())}


@pytest.mark.parametrize("group_by", GROUP_BYS)
def test_figures_from_the_rollup_are_the_hand_computed_ones(world, group_by):
    state = rollup.build(now=NOW)

    result = city(group_by).as_dict()

    assert state.rows == MonthlyCounts.objects.count() > 0
    assert state.months == ["2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01"]
    assert result["overall"] == OVERALL
    assert result["rows"] == expected_rows(world)[group_by]


@pytest.mark.parametrize("period", PERIODS, ids=lambda period: period.label())
@pytest.mark.parametrize("group_by", GROUP_BYS)
def test_rollup_and_live_agree_for_every_period(world, group_by, period):
    rollup.build(now=NOW)

    assert from_rollup(group_by, period) == live(group_by, period)


def test_unchanged_months_are_read_from_the_stored_counts(world):
    rollup.build(now=NOW)
    # Tamper with February's stored counts: a figure read from them shows it, which proves
    # no ticket of February was counted live.
    MonthlyCounts.objects.filter(month=dt.date(2026, 2, 1)).update(taken_in=F("taken_in") + 100)

    rows = MonthlyCounts.objects.filter(month=dt.date(2026, 2, 1)).count()

    assert city("kind").overall.taken_in == OVERALL["taken_in"] + 100 * rows


def test_a_department_slice_never_uses_the_rollup(world):
    rollup.build(now=NOW)
    MonthlyCounts.objects.update(taken_in=F("taken_in") + 100)

    result = resolution_stats(
        Ticket.objects.filter(department=world.a), group_by="kind", period=PERIOD, now=NOW
    )

    assert result.overall.taken_in == 4  # tickets 1, 2, 3, 8 (10 is withdrawn)


def test_a_change_through_the_workflow_after_the_build_is_counted_at_once(world):
    state = rollup.build(now=NOW)
    MonthlyCounts.objects.update(rated=F("rated") + 100)  # stale everywhere on purpose

    # Ticket 11 (January, resolved, not yet rated) is rated 5 by its enterprise.
    workflow.rate_ticket(
        ticket_id=world.t[11].pk, actor=enterprise_user(world.e2), score=5, now=at(3, 20)
    )

    assert rollup.changed_months(state) == {dt.date(2026, 1, 1)}
    january = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert from_rollup("kind", january) == live("kind", january)
    # January is counted live (satisfaction 2 of 3 now); February and March still come from
    # the tampered stored counts.
    by_month = {row.key: row.figures for row in city("month").rows}
    assert by_month["2026-01"].satisfaction_rate.as_dict()["numerator"] == 2
    assert by_month["2026-01"].rated == 3
    february_rows = MonthlyCounts.objects.filter(month=dt.date(2026, 2, 1)).count()
    assert by_month["2026-02"].rated == 2 + 100 * february_rows  # tickets 4 and 5


def test_a_ticket_added_after_the_build_is_counted(world):
    rollup.build(now=NOW)
    Ticket.objects.create(
        number="WH-2026-000099",
        enterprise=world.e1,
        kind="difficulty",
        title="新增",
        description="—",
        department=world.a,
        created_at=at(2, 10),
        status="assigned",
    )

    assert city("kind").overall.taken_in == OVERALL["taken_in"] + 1
    assert from_rollup("department", PERIOD) == live("department", PERIOD)


def test_a_rebuild_folds_the_changes_back_in(world):
    first = rollup.build(now=NOW)
    TicketEvent.objects.create(ticket=world.t[3], action="remind", level="city", note="催办")

    second = rollup.build(now=NOW)

    assert second.event_horizon > first.event_horizon
    assert rollup.changed_months(second) == set()
    assert from_rollup("department", PERIOD) == live("department", PERIOD)


def test_options_changed_since_the_build_leave_the_rollup_unused(world):
    rollup.build(now=NOW)
    config = StatsConfig.load()
    config.count_basically_solved = False
    config.save()

    assert (
        rollup.cube(Ticket.objects.all(), ["kind"], options=Options.load(), period=PERIOD, now=NOW)
        is None
    )
    # Ticket 2 (basically solved) no longer counts as resolved: as without a rollup.
    assert city("kind").as_dict()["overall"] == figures(
        10, 3, (2, 3), (2, 4), 1, 2, 2, 2, 2, (2, 5)
    )

    state = rollup.build(now=NOW)

    assert state.options["count_basically_solved"] is False
    assert from_rollup("kind", PERIOD) == live("kind", PERIOD)


def test_an_enterprise_moving_district_drops_the_rollup(world):
    rollup.build(now=NOW)
    world.e2.district = world.d3
    world.e2.save()

    assert not RollupState.objects.exists()
    districts = {row.key: row.figures.taken_in for row in city("district").rows}
    assert districts == {str(world.d1.pk): 6, str(world.d2.pk): 0, str(world.d3.pk): 4}


def test_saving_an_enterprise_in_place_keeps_the_rollup(world):
    rollup.build(now=NOW)
    world.e2.name = "威海乙公司（更名）"
    world.e2.save()

    assert RollupState.objects.exists()


def test_no_tickets_builds_an_empty_rollup(db):
    state = rollup.build()

    assert (state.rows, state.months, state.event_horizon, state.ticket_horizon) == (0, [], 0, 0)
    assert resolution_stats(Ticket.objects.all(), group_by="kind").overall.taken_in == 0


def test_refresh_stats_command_reports_what_it_built(world, capsys):
    call_command("refresh_stats")

    out = capsys.readouterr().out
    assert "统计汇总已更新：" in out
    assert f"{MonthlyCounts.objects.count():,} 行，4 个月" in out


def test_refresh_task_is_scheduled_and_returns_the_rows(world, settings):
    from reports.tasks import refresh_rollup

    assert settings.CELERY_BEAT_SCHEDULE["stats-rollup"]["task"] == "reports.refresh_rollup"
    assert refresh_rollup.run() == MonthlyCounts.objects.count() > 0


# --- the horizon (real transactions) ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_build_waits_for_an_uncommitted_event_and_counts_it(world):
    ticket = world.t[7]
    inserted = threading.Event()
    release = threading.Event()
    writer_event = {}

    def writer():
        # A workflow-like transaction: the event is inserted, the commit comes later.
        from django.db import transaction

        try:
            with transaction.atomic():
                Ticket.objects.filter(pk=ticket.pk).update(status="in_progress")
                event = TicketEvent.objects.create(
                    ticket=ticket, action="accept", level="district", note="签收"
                )
                writer_event["id"] = event.pk
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    def waiting_for_lock() -> bool:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND relation = 'tickets_ticketevent'::regclass"
            )
            return cursor.fetchone()[0] > 0

    built = {}

    def builder():
        try:
            built["state"] = rollup.build(now=NOW)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert inserted.wait(10)
    build_thread = threading.Thread(target=builder)
    build_thread.start()
    for _ in range(200):
        if waiting_for_lock():
            break
        threading.Event().wait(0.02)
    else:
        release.set()
        pytest.fail("the build did not wait for the uncommitted event")
    release.set()
    thread.join(10)
    build_thread.join(20)

    state = built["state"]
    assert state.event_horizon >= writer_event["id"]
    # The accepted ticket (March) is counted as the writer left it: in progress, not overdue.
    assert rollup.changed_months(state) == set()
    assert from_rollup("kind", PERIOD) == live("kind", PERIOD)


@pytest.mark.django_db(transaction=True)
def test_a_second_build_while_one_runs_skips(world):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [rollup.BUILD_LOCK_KEY])
        assert rollup.build(now=NOW) is None
        assert not RollupState.objects.exists()
    finally:
        other.close()
    assert rollup.build(now=NOW) is not None
