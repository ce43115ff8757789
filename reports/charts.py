"""Geometry of the dashboard's charts, drawn as inline SVG by the templates.

Server-side and dependency-free: the page works offline, prints, and needs no JavaScript.
Coordinates are in SVG user units; the SVGs scale with their container (viewBox).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from reports.stats import GroupRow, format_percent, format_target

KIND_COLOURS = {
    "difficulty": "#1f4e79",
    "technology": "#2a9d8f",
    "funding": "#e9a23b",
    "supply_chain": "#8e5ea2",
}
OTHER_COLOUR = "#9e9e9e"


def nice_step(value: float) -> int:
    """The smallest 1/2/5×10ⁿ integer step ≥ value (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= value:
            return int(multiple * magnitude)
    return int(10 * magnitude)  # pragma: no cover  (the loop always returns)


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str
    below: bool = False


@dataclass
class Point:
    x: float
    y: float
    title: str
    below: bool


@dataclass
class AxisLabel:
    x: float
    label: str
    sub: str = ""


@dataclass
class TrendChart:
    """Monthly volume (bars, left axis) and resolution rate (line, right axis) with the target."""

    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Bar] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)  # polyline "x,y x,y …" runs
    points: list[Point] = field(default_factory=list)
    count_ticks: list[Tick] = field(default_factory=list)
    rate_ticks: list[Tick] = field(default_factory=list)
    x_labels: list[AxisLabel] = field(default_factory=list)
    target_y: float = 0
    target_label: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.bars


def trend_chart(rows: list[GroupRow], target: Decimal, *, width=680, height=300) -> TrendChart:
    chart = TrendChart(width, height, left=52, right=width - 58, top=26, bottom=height - 46)
    plot_h = chart.bottom - chart.top
    step = nice_step(max((r.figures.counts.taken_in for r in rows), default=0) / 4)
    count_max = step * 4
    chart.count_ticks = [Tick(chart.bottom - plot_h * i / 4, f"{step * i:,}") for i in range(5)]
    chart.target_y = chart.bottom - plot_h * float(target)
    # Right-axis labels give way to the target's label where they would overlap it.
    chart.rate_ticks = [
        Tick(y, f"{25 * i}%")
        for i in range(5)
        if abs((y := chart.bottom - plot_h * i / 4) - chart.target_y) >= 14
    ]
    chart.target_label = _("目标%(target)s") % {"target": format_target(target)}
    if not rows:
        return chart
    slot = (chart.right - chart.left) / len(rows)
    bar_w = min(slot * 0.56, 44)
    label_every = max(1, math.ceil(len(rows) / 12))
    run: list[str] = []
    for i, row in enumerate(rows):
        counts = row.figures.counts
        rate = row.figures.resolution_rate
        cx = chart.left + slot * (i + 0.5)
        h = plot_h * counts.taken_in / count_max
        chart.bars.append(
            Bar(
                x=round(cx - bar_w / 2, 1),
                y=round(chart.bottom - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label=f"{counts.taken_in:,}",
                title=_("%(label)s：受理%(taken)s件，已解决%(resolved)s件，解决率%(rate)s")
                % {
                    "label": row.label,
                    "taken": f"{counts.taken_in:,}",
                    "resolved": f"{counts.resolved:,}",
                    "rate": rate.percent,
                },
            )
        )
        if rate.value is None:
            if len(run) > 1:
                chart.segments.append(" ".join(run))
            run = []
        else:
            y = round(chart.bottom - plot_h * float(rate.value), 1)
            run.append(f"{cx:.1f},{y}")
            chart.points.append(
                Point(
                    x=round(cx, 1),
                    y=y,
                    title=_("%(label)s：解决率%(rate)s（%(n)s/%(d)s）")
                    % {
                        "label": row.label,
                        "rate": rate.percent,
                        "n": rate.numerator,
                        "d": rate.denominator,
                    },
                    below=rate.below_target,
                )
            )
        if i % label_every == 0:
            year, month = str(row.key).split("-")
            sub = _("%(year)s年") % {"year": year} if i == 0 or month == "01" else ""
            label = _("%(month)s月") % {"month": int(month)}
            chart.x_labels.append(AxisLabel(round(cx, 1), label, sub))
    if len(run) > 1:
        chart.segments.append(" ".join(run))
    return chart


@dataclass
class HBar:
    y: float
    width: float
    label: str
    short_label: str
    value: str
    title: str
    below: bool
    has_rate: bool


@dataclass
class DepartmentChart:
    """Resolution rate per department as horizontal bars, with the target as a vertical line."""

    width: int
    height: int
    x0: float
    bar_width: float
    row_height: int
    bar_height: int
    top: float
    plot_bottom: float = 0
    bars: list[HBar] = field(default_factory=list)
    grid: list[Tick] = field(default_factory=list)
    target_x: float = 0
    target_label: str = ""
    hidden: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.bars


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def department_chart(
    rows: list[GroupRow], target: Decimal, *, width=760, limit=40, row_height=26
) -> DepartmentChart:
    """Departments with tickets, best rate first (no rate last); at most ``limit`` bars."""
    ranked = [r for r in rows if r.figures.counts.taken_in]
    ranked.sort(
        key=lambda r: (
            r.figures.resolution_rate.value is None,
            -(r.figures.resolution_rate.value or 0),
            -r.figures.counts.taken_in,
        )
    )
    shown = ranked[:limit]
    top = 30
    chart = DepartmentChart(
        width=width,
        height=int(top + row_height * len(shown) + 30),
        x0=190,
        bar_width=width - 190 - 110,
        row_height=row_height,
        bar_height=16,
        top=top,
        hidden=len(ranked) - len(shown),
        plot_bottom=top + row_height * len(shown) + 4,
    )
    chart.grid = [Tick(chart.x0 + chart.bar_width * i / 4, f"{25 * i}%") for i in range(5)]
    chart.target_x = round(chart.x0 + chart.bar_width * float(target), 1)
    chart.target_label = _("目标%(target)s") % {"target": format_target(target)}
    for i, row in enumerate(shown):
        rate = row.figures.resolution_rate
        value = rate.value
        chart.bars.append(
            HBar(
                y=top + row_height * i,
                width=round(chart.bar_width * float(value or 0), 1),
                label=str(row.label),
                short_label=_shorten(str(row.label), 13),
                value=rate.percent,
                title=_("%(label)s：解决率%(rate)s（已解决%(n)s/受理%(d)s），按时办结率%(on_time)s")
                % {
                    "label": row.label,
                    "rate": rate.percent,
                    "n": rate.numerator,
                    "d": rate.denominator,
                    "on_time": row.figures.on_time_rate.percent,
                },
                below=rate.below_target,
                has_rate=value is not None,
            )
        )
    return chart


@dataclass
class Slice:
    paths: list[str]
    colour: str
    title: str


@dataclass
class DonutChart:
    size: int
    centre: float
    slices: list[Slice] = field(default_factory=list)
    total: int = 0


def _arc_path(cx: float, cy: float, outer: float, inner: float, a0: float, a1: float) -> str:
    """An annulus segment from angle a0 to a1 (radians, clockwise from 12 o'clock), ≤ π."""

    def at(radius, angle):
        return f"{cx + radius * math.sin(angle):.2f},{cy - radius * math.cos(angle):.2f}"

    large = 1 if a1 - a0 > math.pi else 0
    return (
        f"M{at(outer, a0)} A{outer},{outer} 0 {large} 1 {at(outer, a1)} "
        f"L{at(inner, a1)} A{inner},{inner} 0 {large} 0 {at(inner, a0)} Z"
    )


def kind_donut(rows: list[GroupRow], *, size=200) -> DonutChart:
    """Share of tickets taken in per kind (四张清单)."""
    centre = size / 2
    outer, inner = size / 2 - 4, size / 2 - 36
    chart = DonutChart(size=size, centre=centre)
    chart.total = sum(r.figures.counts.taken_in for r in rows)
    if not chart.total:
        return chart
    angle = 0.0
    for row in rows:
        count = row.figures.counts.taken_in
        if not count:
            continue
        sweep = 2 * math.pi * count / chart.total
        # A segment over half the circle is drawn as two arcs (an SVG arc cannot close a
        # full circle, and this keeps the large-arc flag unambiguous).
        cuts = (
            [angle, angle + sweep / 2, angle + sweep] if sweep > math.pi else [angle, angle + sweep]
        )
        chart.slices.append(
            Slice(
                paths=[
                    _arc_path(centre, centre, outer, inner, a, b)
                    for a, b in zip(cuts, cuts[1:], strict=False)
                ],
                colour=KIND_COLOURS.get(str(row.key), OTHER_COLOUR),
                title=_("%(label)s：%(count)s件（%(share)s）")
                % {
                    "label": row.label,
                    "count": f"{count:,}",
                    "share": format_percent(Decimal(count) / chart.total),
                },
            )
        )
        angle += sweep
    return chart
