import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import StatsConfig
from reports.periods import Period
from reports.stats import (
    GROUP_BYS,
    Counts,
    Figures,
    Options,
    Rate,
    breakdowns,
    format_percent,
    format_target,
    ranking,
    resolution_stats,
)
from tests.reports.conftest import NOW, PERIOD
from tests.reports.expected import OVERALL, ZERO, expected_rows, figures, rate
from tickets.models import Ticket


def stats(group_by, scope=None, **kwargs):
    """Counted live at NOW (the cached entry point is tested below)."""
    kwargs.setdefault("period", PERIOD)
    kwargs.setdefault("now", NOW)
    scope = Ticket.objects.all() if scope is None else scope
    return breakdowns(scope, [group_by], **kwargs)[group_by]


@pytest.mark.parametrize("group_by", GROUP_BYS)
def test_every_figure_of_every_group_is_exact(world, group_by):
    result = stats(group_by).as_dict()

    assert result["overall"] == OVERALL
    assert result["rows"] == expected_rows(world)[group_by]
    assert result["target"] == 0.9
    assert result["target_display"] == "90%"
    assert (result["since"], result["until"]) == ("2026-01-01", "2026-04-30")


@pytest.mark.parametrize("group_by", GROUP_BYS)
def test_rows_add_up_to_the_overall_figures(world, group_by):
    result = stats(group_by)

    assert Counts.total(row.figures.counts for row in result.rows) == result.overall.counts


def test_empty_groups_and_denominators_have_no_rate(world):
    technology = stats("kind").rows[1]

    assert technology.key == "technology"
    assert technology.figures.resolution_rate.as_dict() == {
        "numerator": 0,
        "denominator": 0,
        "rate": None,
        "display": "—",
        "below_target": False,
    }
    assert technology.figures.below_target is False


def test_several_breakdowns_come_from_two_queries(world):
    options = Options()  # no StatsConfig read
    with CaptureQueriesContext(connection) as queries:
        results = breakdowns(
            Ticket.objects.all(),
            ["month", "department", "kind"],
            period=PERIOD,
            now=NOW,
            options=options,
        )

    # One aggregate over the period's tickets, one over the overdue ones, one for the
    # department names; nothing per row. (Only queries on our tables are counted: a fresh
    # connection may run its own setup query.)
    ours = [
        q["sql"]
        for q in queries.captured_queries
        if '"tickets_' in q["sql"] or '"enterprises_' in q["sql"]
    ]
    assert len(ours) == 3
    for sql in ours[:2]:
        assert 'FROM "tickets_ticket"' in sql and "GROUP BY" in sql
    assert '"tickets_ticket"."created_at" >=' in ours[0]
    assert '"tickets_ticket"."accept_due_at" <' in ours[1]
    assert '"tickets_ticket"."created_at" >=' not in ours[1]
    assert 'FROM "enterprises_department"' in ours[2]
    rows = expected_rows(world)
    for group_by in ("month", "department", "kind"):
        assert results[group_by].as_dict()["rows"] == rows[group_by]
        assert results[group_by].as_dict()["overall"] == OVERALL


def test_basically_solved_can_be_left_out_of_resolved(world):
    config = StatsConfig.load()
    config.count_basically_solved = False
    config.save()

    overall = stats("kind").as_dict()["overall"]

    # Ticket 2 (basically solved, late, rated 3) no longer counts as resolved.
    assert overall == figures(10, 3, (2, 3), (2, 4), 1, 2, 2, 2, 2, (2, 5))


def test_statuses_taken_in_are_configurable(world):
    config = StatsConfig.load()
    config.taken_in_excludes = []
    config.save()

    overall = stats("level").as_dict()["overall"]

    # The withdrawn ticket 10 (returned once) now counts.
    assert overall == figures(11, 4, (2, 4), (2, 4), 2, 2, 2, 2, 2, (2, 5))


def test_satisfied_score_and_target_are_configurable(world):
    config = StatsConfig.load()
    config.satisfied_min_score = 3
    config.target = Decimal("0.5")
    config.save()

    result = stats("level").as_dict()

    assert result["target"] == 0.5
    assert result["target_display"] == "50%"
    assert result["overall"]["satisfaction_rate"] == rate(3, 4, target_percent=50)
    assert result["overall"]["resolution_rate"] == rate(4, 10, target_percent=50)
    assert result["overall"]["resolution_rate"]["below_target"] is True
    assert result["overall"]["city_level_resolution_rate"]["below_target"] is True  # 2/5 < 0.5


def test_overdue_is_counted_at_the_given_instant(world):
    from tests.reports.conftest import at

    # By 03-26 ticket 7's accept deadline (03-25) has passed too; ticket 8's (04-01) has not.
    assert stats("kind", now=at(3, 26)).overall.counts.overdue == 3
    assert stats("kind", now=at(4, 2)).overall.counts.overdue == 4
    # Before ticket 3's deadline (02-10) nothing was overdue.
    assert stats("kind", now=at(2, 9)).overall.counts.overdue == 0


def test_period_bounds_are_midnight_in_shanghai(world):
    # Ticket 12 was created 2025-12-31 23:59 local (15:59 UTC): in December, not in 2026.
    december = stats("month", period=Period(dt.date(2025, 12, 31), dt.date(2025, 12, 31)))
    assert [(r.key, r.figures.counts.taken_in) for r in december.rows] == [("2025-12", 1)]
    # Ticket 6 was created 2026-03-01 00:30 local (2026-02-28 16:30 UTC): in March.
    first_of_march = stats("kind", period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1)))
    assert first_of_march.overall.counts.taken_in == 1  # ticket 6 (ticket 10 is withdrawn)
    assert stats("kind", period=Period()).overall.counts.taken_in == 11


def test_unbounded_month_rows_run_from_the_first_ticket_to_now(world):
    result = stats("month", period=Period(None, None), now=NOW)

    assert [r.key for r in result.rows] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert stats("month", period=Period(dt.date(2026, 3, 1), None)).rows[0].key == "2026-03"


def test_a_scope_restricts_every_figure(world):
    result = stats("department", Ticket.objects.filter(department=world.a)).as_dict()

    assert result["overall"] == figures(4, 2, (1, 2), (1, 2), 1, 1, 1, 1, 1, (0, 1))
    assert [r["label"] for r in result["rows"]] == ["环翠区工业和信息化局"]


def test_no_tickets_gives_zeros_and_no_rates(db):
    result = stats("department", Ticket.objects.none()).as_dict()

    assert result["overall"] == figures(*ZERO)
    assert result["rows"] == []


def test_unknown_group_by_is_refused(db):
    with pytest.raises(ValueError, match="unknown group_by"):
        resolution_stats(Ticket.objects.all(), group_by="enterprise")


@pytest.mark.parametrize(
    ("numerator", "denominator", "shown"),
    [
        (172, 205, "83.9%"),
        (1, 3, "33.3%"),
        (2, 3, "66.7%"),
        (1, 16, "6.3%"),  # 6.25: half up, not to even
        (9, 10, "90.0%"),
        (0, 7, "0.0%"),
        (0, 0, "—"),
    ],
)
def test_percentages_round_half_up(numerator, denominator, shown):
    assert Rate(numerator, denominator, Decimal("0.9")).percent == shown


def test_target_comparison_is_exact():
    target = Decimal("0.9")
    assert Rate(9, 10, target).below_target is False
    assert Rate(899, 1000, target).below_target is True
    assert Rate(0, 0, target).below_target is False
    assert format_target(Decimal("0.925")) == "92.5%"
    assert format_percent(None) == "—"


def test_ranking_orders_by_resolution_then_on_time_and_skips_small_departments():
    target = Decimal("0.9")

    def row(label, taken, resolved, on_time):
        counts = Counts(taken_in=taken, resolved=resolved, on_time=on_time)
        return type("Row", (), {"key": label, "label": label, "figures": Figures(counts, target)})

    rows = [
        row("甲", 10, 9, 9),
        row("乙", 10, 9, 5),
        row("丙", 10, 5, 5),
        row("丁", 4, 4, 4),  # below the minimum volume of 5
        row("戊", 20, 20, 10),
        row("己", 5, 1, 1),
    ]
    result = type(
        "Result", (), {"rows": rows, "options": dataclasses.replace(Options(), target=target)}
    )

    red, black = ranking(result, size=10)

    assert [(rank, r.label) for rank, r in red] == [(1, "戊"), (2, "甲"), (3, "乙")]
    assert [(rank, r.label) for rank, r in black] == [(5, "己"), (4, "丙")]
    red, black = ranking(result, size=1)
    assert [r.label for _, r in red] == ["戊"]
    assert [r.label for _, r in black] == ["己"]


# --- "currently overdue" is a figure of the instant -----------------------------------------


def test_overdue_counts_tickets_submitted_before_the_period(world):
    # June 2025: nothing taken in, but tickets 3 (February) and 6 (March) are overdue now.
    june = stats("department", period=Period(dt.date(2025, 6, 1), dt.date(2025, 6, 30)))

    assert (june.overall.counts.taken_in, june.overall.counts.overdue) == (0, 2)
    assert [(r.key, r.figures.counts.taken_in, r.figures.counts.overdue) for r in june.rows] == [
        (str(world.b.pk), 0, 1),
        (str(world.a.pk), 0, 1),
    ]
    assert june.overall.counts.overdue == Ticket.objects.overdue(NOW).count()


def test_by_month_an_overdue_ticket_counts_in_the_month_it_was_submitted(world):
    march = stats("month", period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)))

    # Ticket 6 (March) is in March's row; ticket 3 (February) only in the overall figure.
    assert [(r.key, r.figures.counts.overdue) for r in march.rows] == [("2026-03", 1)]
    assert march.overall.counts.overdue == 2


def test_overdue_ignores_the_statuses_left_out_of_taken_in(world):
    config = StatsConfig.load()
    config.taken_in_excludes = ["withdrawn", "assigned"]
    config.save()

    overall = stats("kind").overall.counts

    # Ticket 6 (assigned) is no longer taken in, but it is still overdue.
    assert (overall.taken_in, overall.overdue) == (8, 2)


# --- the cached entry point -------------------------------------------------------------------


def cached(group_by="kind", scope=None, **kwargs):
    scope = Ticket.objects.all() if scope is None else scope
    return resolution_stats(scope, group_by=group_by, period=PERIOD, **kwargs)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_cached_figures_are_the_live_ones_and_say_when_they_were_counted(world, frozen):
    result = cached("department")

    assert result.as_dict() == stats("department").as_dict()
    assert result.as_of == NOW


def test_cached_figures_are_reused_until_they_expire(world, frozen, settings):
    settings.STATS_CACHE_SECONDS = 120
    assert cached().overall.counts.taken_in == 10
    Ticket.objects.filter(pk=world.t[9].pk).update(status="withdrawn")

    frozen.shift(dt.timedelta(seconds=119))
    again = cached()
    assert (again.overall.counts.taken_in, again.as_of) == (10, NOW)

    frozen.shift(dt.timedelta(seconds=2))
    fresh = cached()
    assert (fresh.overall.counts.taken_in, fresh.as_of) == (9, NOW + dt.timedelta(seconds=121))


def test_cache_entries_are_per_scope_period_and_options(world, frozen):
    assert cached().overall.counts.taken_in == 10
    assert cached(scope=Ticket.objects.filter(department=world.a)).overall.counts.taken_in == 4
    assert cached(scope=Ticket.objects.none()).overall.counts.taken_in == 0
    january = resolution_stats(
        Ticket.objects.all(),
        group_by="kind",
        period=Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
    )
    assert january.overall.counts.taken_in == 3
    # A changed formula shows at once: the options are part of the key.
    config = StatsConfig.load()
    config.count_basically_solved = False
    config.save()
    assert cached().overall.counts.resolved == 3
    assert cached(options=Options()).overall.counts.resolved == 4


def test_with_zero_seconds_every_request_counts_live(world, frozen, settings):
    settings.STATS_CACHE_SECONDS = 0
    assert cached().overall.counts.taken_in == 10
    Ticket.objects.filter(pk=world.t[9].pk).update(status="withdrawn")

    assert cached().overall.counts.taken_in == 9


def test_a_cache_outage_means_counting_live(world, frozen, monkeypatch, caplog):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)

    assert cached("department").as_dict() == stats("department").as_dict()
    assert "statistics cache unavailable; counting live" in caplog.text
