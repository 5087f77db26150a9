"""Geometry of the cumulative spend chart for the HTML statement (inline SVG).

Lays out the statement's chart points (Decimal money) on a fixed canvas: budget, actual and
forecast lines, month labels and a few round y-axis ticks. Pure layout; the figures come from
`reports.statement.chart_points`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from reports.statement import ChartPoint

WIDTH, HEIGHT = Decimal(760), Decimal(320)
LEFT, RIGHT, TOP, BOTTOM = Decimal(90), Decimal(20), Decimal(20), Decimal(40)
ONE_DP = Decimal("0.1")


@dataclass(frozen=True)
class ChartLayout:
    width: Decimal
    height: Decimal
    budget: str  # SVG polyline points
    actual: str
    forecast: str
    x_labels: tuple[tuple[Decimal, str], ...]
    y_ticks: tuple[tuple[Decimal, str], ...]
    left: Decimal
    bottom: Decimal
    right: Decimal


def _nice_top(value: Decimal) -> Decimal:
    """A round upper bound for the y axis, at or above `value`, that divides into four round ticks."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in ("1", "1.2", "1.6", "2", "2.4", "3", "4", "5", "6", "8", "10"):
        if value <= power * Decimal(step):
            return power * Decimal(step)
    return power * 10


def layout(points: tuple[ChartPoint, ...]) -> ChartLayout:
    values = [v for p in points for v in (p.budget, p.actual, p.forecast) if v is not None]
    top = _nice_top(max(values, default=Decimal(0)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(month: int) -> Decimal:
        return (LEFT + plot_w * (month - 1) / 11).quantize(ONE_DP)

    def y(value: Decimal) -> Decimal:
        return (TOP + plot_h - plot_h * value / top).quantize(ONE_DP)

    def line(attr: str) -> str:
        return " ".join(f"{x(p.month)},{y(getattr(p, attr))}" for p in points if getattr(p, attr) is not None)

    ticks = tuple((y(top * k / 4), f"{(top * k / 4 / 1000000).quantize(Decimal('0.1'), ROUND_CEILING)}m")
                  for k in range(5))
    return ChartLayout(WIDTH, HEIGHT, line("budget"), line("actual"), line("forecast"),
                       tuple((x(p.month), p.label) for p in points), ticks, LEFT, TOP + plot_h, WIDTH - RIGHT)
