import dataclasses
from decimal import Decimal

import pytest
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


def stats(group_by, **kwargs):
    kwargs.setdefault("period", PERIOD)
    kwargs.setdefault("now", NOW)
    return resolution_stats(Ticket.objects.all(), group_by=group_by, **kwargs)


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


def test_several_breakdowns_come_from_one_query(world):
    options = Options()  # no StatsConfig read
    with CaptureQueriesContext(connection) as queries:
        results = breakdowns(
            Ticket.objects.all(),
            ["month", "department", "kind"],
            period=PERIOD,
            now=NOW,
            options=options,
        )

    # One aggregate over the tickets, one for the department names; nothing per row. (Only
    # queries on our tables are counted: a fresh connection may run its own setup query.)
    ours = [
        q["sql"]
        for q in queries.captured_queries
        if '"tickets_' in q["sql"] or '"enterprises_' in q["sql"]
    ]
    assert len(ours) == 2
    assert ours[0].startswith("SELECT") and 'FROM "tickets_ticket"' in ours[0]
    assert "GROUP BY" in ours[0]
    assert 'FROM "enterprises_department"' in ours[1]
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
    import datetime as dt

    # Ticket 12 was created 2025-12-31 23:59 local (15:59 UTC): in December, not in 2026.
    december = stats("month", period=Period(dt.date(2025, 12, 31), dt.date(2025, 12, 31)))
    assert [(r.key, r.figures.counts.taken_in) for r in december.rows] == [("2025-12", 1)]
    # Ticket 6 was created 2026-03-01 00:30 local (2026-02-28 16:30 UTC): in March.
    first_of_march = stats("kind", period=Period(dt.date(2026, 3, 1), dt.date(2026, 3, 1)))
    assert first_of_march.overall.counts.taken_in == 1  # ticket 6 (ticket 10 is withdrawn)
    assert stats("kind", period=Period()).overall.counts.taken_in == 11


def test_unbounded_month_rows_run_from_the_first_ticket_to_now(world):
    import datetime as dt

    result = stats("month", period=Period(None, None), now=NOW)

    assert [r.key for r in result.rows] == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert stats("month", period=Period(dt.date(2026, 3, 1), None)).rows[0].key == "2026-03"


def test_a_scope_restricts_every_figure(world):
    result = resolution_stats(
        Ticket.objects.filter(department=world.a), group_by="department", period=PERIOD, now=NOW
    ).as_dict()

    assert result["overall"] == figures(4, 2, (1, 2), (1, 2), 1, 1, 1, 1, 1, (0, 1))
    assert [r["label"] for r in result["rows"]] == ["环翠区工业和信息化局"]


def test_no_tickets_gives_zeros_and_no_rates(db):
    result = resolution_stats(
        Ticket.objects.none(), group_by="department", period=PERIOD, now=NOW
    ).as_dict()

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
