"""Geometry of the statement's charts for the HTML statement (inline SVG).

Two charts, side by side: the forecast variance by scheme as horizontal bars (adverse to the right,
favourable to the left, in the colours the workbook uses too), and cumulative spend against the
profiled budget with the forecast to March, over a second panel that draws the gap between them on
its own scale: on a cumulative axis from zero the gap (a few per cent of the year's spend) would be
a pixel or two wide. Pure layout; the figures come from `reports.statement` (chart points and
variance bars).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from reports.statement import ChartPoint, VarianceBar

ONE_DP = Decimal("0.1")

# The charts' colours, shared with the workbook (reports.xlsx): budget grey and dashed, actual blue
# and solid, forecast orange and dotted; an adverse variance red, a favourable one green.
BUDGET, ACTUAL, FORECAST = "768692", "005EB8", "ED8B00"
ADVERSE, FAVOURABLE = "D5281B", "007F3B"

WIDTH = Decimal(560)
LEFT, RIGHT, TOP = Decimal(64), Decimal(16), Decimal(24)
SPEND_H, GAP_TOP, GAP_H, BOTTOM = Decimal(190), Decimal(40), Decimal(100), Decimal(28)
HEIGHT = TOP + SPEND_H + GAP_TOP + GAP_H + BOTTOM

BAR_WIDTH, BAR_LABELS, BAR_RIGHT, BAR_ROW, BAR_TOP = Decimal(460), Decimal(196), Decimal(58), Decimal(20), Decimal(24)
NAME_CHARACTERS = 25  # a scheme's name is cut to this on the bar chart (in full in its tooltip)


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
    bottom: Decimal  # foot of the cumulative panel
    right: Decimal
    top: Decimal
    axis_note: str  # what the cumulative axis starts from, said on it
    month_x: Decimal | None  # the statement's month, marked on both panels
    gap_top: Decimal  # the gap panel
    gap_bottom: Decimal
    gap_zero: Decimal
    gap_actual: str
    gap_forecast: str
    gap_ticks: tuple[tuple[Decimal, str], ...]
    labels_y: Decimal  # month labels, under the gap panel


@dataclass(frozen=True)
class Bar:
    y: Decimal
    x: Decimal
    width: Decimal
    colour: str
    label: str  # the scheme, as on the axis
    title: str  # the scheme and its variance in full, as a tooltip
    value: str  # the variance, short: "£359k", "(£719k)"
    value_x: Decimal
    value_anchor: str
    adverse: bool
    scheme: str


@dataclass(frozen=True)
class BarsLayout:
    width: Decimal
    height: Decimal
    zero: Decimal
    top: Decimal
    bottom: Decimal
    bars: tuple[Bar, ...]
    labels_x: Decimal


def _nice_top(value: Decimal) -> Decimal:
    """A round upper bound for the y axis, at or above `value`, that divides into four round ticks."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in ("1", "1.2", "1.6", "2", "2.4", "3", "4", "5", "6", "8", "10"):
        if value <= power * Decimal(step):
            return power * Decimal(step)
    return power * 10


def _nice_step(span: Decimal) -> Decimal:
    """A round tick step dividing `span` into at most four parts."""
    if span <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(span))) - 1)
    for step in (Decimal("0.1"), Decimal("0.2"), Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal(2),
                 Decimal("2.5"), Decimal(5), Decimal(10)):
        if span / (power * step) <= 4:
            return power * step
    return power * 10


def short_money(value: Decimal) -> str:
    """£359k, (£719k), £1.2m, £0: a figure short enough to label a bar or an axis (brackets below zero)."""
    size = abs(value)
    if size >= 1000000:
        text = f"£{(size / 1000000).quantize(ONE_DP, ROUND_HALF_UP)}m"
    elif size >= 1000:
        text = f"£{(size / 1000).quantize(Decimal(1), ROUND_HALF_UP):,}k"
    else:
        text = f"£{size.quantize(Decimal(1), ROUND_HALF_UP)}"
    return f"({text})" if value < 0 else text


def layout(points: tuple[ChartPoint, ...]) -> ChartLayout:
    """The cumulative chart: spend, budget and forecast from zero, and under it the gap of actual and
    forecast from the budget, on a scale of its own around zero."""
    values = [v for p in points for v in (p.budget, p.actual, p.forecast) if v is not None]
    top = _nice_top(max(values, default=Decimal(0)))
    plot_w = WIDTH - LEFT - RIGHT
    spend_bottom = TOP + SPEND_H
    gap_top = spend_bottom + GAP_TOP
    gap_bottom = gap_top + GAP_H

    def x(month: int) -> Decimal:
        return (LEFT + plot_w * (month - 1) / 11).quantize(ONE_DP)

    def y(value: Decimal) -> Decimal:
        return (spend_bottom - SPEND_H * value / top).quantize(ONE_DP)

    def line(attr: str, place) -> str:
        return " ".join(f"{x(p.month)},{place(getattr(p, attr))}" for p in points if getattr(p, attr) is not None)

    ticks = tuple((y(top * k / 4), f"£{(top * k / 4 / 1000000).quantize(ONE_DP, ROUND_CEILING)}m") for k in range(5))

    gaps = [v for p in points for v in (p.gap, p.forecast_gap) if v is not None]
    low, high = min(gaps + [Decimal(0)]), max(gaps + [Decimal(0)])
    step = _nice_step(high - low)
    low = (low / step).to_integral_value(ROUND_FLOOR) * step
    high = (high / step).to_integral_value(ROUND_CEILING) * step
    if high == low:
        high = low + step

    def gy(value: Decimal) -> Decimal:
        return (gap_bottom - GAP_H * (value - low) / (high - low)).quantize(ONE_DP)

    count = int((high - low) / step)
    gap_ticks = tuple((gy(low + step * k), short_money(low + step * k)) for k in range(count + 1))
    month = next((p.month for p in points if p.actual is not None and (p.forecast is not None or p.month == 12)), None)
    return ChartLayout(WIDTH, HEIGHT, line("budget", y), line("actual", y), line("forecast", y),
                       tuple((x(p.month), p.label) for p in points), ticks, LEFT, spend_bottom, WIDTH - RIGHT, TOP,
                       "from £0", x(month) if month else None, gap_top, gap_bottom, gy(Decimal(0)),
                       line("gap", gy), line("forecast_gap", gy), gap_ticks, gap_bottom + 18)


def bars_layout(bars: tuple[VarianceBar, ...]) -> BarsLayout:
    """Horizontal bars from a zero line: adverse (red) to the right, favourable (green) to the left, each
    labelled with its scheme and its variance."""
    low = min([b.variance for b in bars] + [Decimal(0)])
    high = max([b.variance for b in bars] + [Decimal(0)])
    plot_left, plot_right = BAR_LABELS + Decimal(52) if low < 0 else BAR_LABELS + 8, BAR_WIDTH - BAR_RIGHT
    span = (high - low) or Decimal(1)

    def x(value: Decimal) -> Decimal:
        return (plot_left + (plot_right - plot_left) * (value - low) / span).quantize(ONE_DP)

    zero = x(Decimal(0))
    out = []
    for index, bar in enumerate(bars):
        top = BAR_TOP + BAR_ROW * index
        end = x(bar.variance)
        left, width = min(zero, end), abs(end - zero)
        name = bar.name if len(bar.name) <= NAME_CHARACTERS else bar.name[:NAME_CHARACTERS - 1].rstrip() + "…"
        kind = "overspend" if bar.adverse else "underspend" if bar.variance < 0 else "on budget"
        out.append(Bar(top + 3, left, width, ADVERSE if bar.adverse else FAVOURABLE, f"{bar.scheme} {name}",
                       f"{bar.scheme} {bar.name}: forecast {kind} {abs(bar.variance):,.2f}", short_money(bar.variance),
                       end + 4 if bar.variance >= 0 else end - 4, "start" if bar.variance >= 0 else "end",
                       bar.adverse, bar.scheme))
    bottom = BAR_TOP + BAR_ROW * len(bars)
    return BarsLayout(BAR_WIDTH, bottom + 8, zero, BAR_TOP, bottom, tuple(out), BAR_LABELS)
