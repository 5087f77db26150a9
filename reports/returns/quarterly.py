"""The quarterly report to the partners as data, from two pool positions.

`quarterly_report(end, before, quarter, ...)` is pure. `end` is the position at the quarter's last day
and `before` the position at the previous quarter's last day in the same year (None for Q1, whose
figures to date are its quarter's). Nothing is computed twice:

- received in the quarter = received to date at the quarter's end less received to date at the
  previous quarter's end (the difference of the two positions; the position has no monthly receipts);
- budget and actual in the quarter = the quarter's three months of the end position's monthly
  profile and monthly actuals (the model's monthly figures); variance in the quarter = actual less budget;
- to date, annual budget, forecast outturn and variances, the risk share, tranches and metrics: the
  end position's own figures; subtotals by area of spend and totals add up the rows.

Tranche periods and metric plans are those whose period overlaps the quarter (for Q2 of 2025-26:
"2025-26 Q2", "2025-26 H1" and a whole-year plan). Commitments are not yet in the position model, so
the report has no commitments section.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from rules.agreement import AREAS, Partner
from rules.calendar import Period, parse_period
from rules.position import SCHEME_FIELDS, MetricRow, PoolPosition, SchemePosition
from rules.risk_share import RiskShareResult
from rules.tranches import PeriodOutcome, TrancheStatus

ZERO = Decimal("0.00")
QUARTER = re.compile(r"^(\d{4}-\d{2})-Q([1-4])$")
INCOME_FIELDS = ("agreed", "received_in_quarter", "received_to_date", "outstanding")
QUARTER_FIELDS = ("budget_in_quarter", "actual_in_quarter", "variance_in_quarter")
EXPENDITURE_FIELDS = ("annual_budget", *QUARTER_FIELDS, "budget_to_date", "actual_to_date", "committed",
                      "variance_to_date", "forecast_outturn", "forecast_variance")


class ReturnError(ValueError):
    """A request a return cannot meet (a bad label, an open year): one line, said to the user."""


@dataclass(frozen=True)
class IncomeLine:
    source: str
    source_name: str
    agreed: Decimal
    received_in_quarter: Decimal
    received_to_date: Decimal
    outstanding: Decimal


@dataclass(frozen=True)
class PartnerIncome:
    partner: Partner
    host: bool
    lines: tuple[IncomeLine, ...]
    totals: dict[str, Decimal]  # INCOME_FIELDS added up over the lines


@dataclass(frozen=True)
class SchemeLine:
    position: SchemePosition
    values: dict[str, Decimal]  # EXPENDITURE_FIELDS


@dataclass(frozen=True)
class AreaLine:
    area: str
    schemes: int
    values: dict[str, Decimal]


@dataclass(frozen=True)
class TrancheLine:
    status: TrancheStatus
    outcome: PeriodOutcome
    partner_name: str
    decided_in_quarter: bool  # the period ends in the quarter and its figure is in


@dataclass(frozen=True)
class QuarterlyReport:
    position: PoolPosition  # at the quarter's end
    quarter: Period
    number: int  # 1..4
    title: str  # "Quarter 2 of 2025-26, 1 July to 30 September 2025"
    generated: datetime.date
    provenance: str
    income: tuple[PartnerIncome, ...]
    income_totals: dict[str, Decimal]
    schemes: tuple[SchemeLine, ...]
    scheme_totals: dict[str, Decimal]
    areas: tuple[AreaLine, ...]
    tranches: tuple[TrancheLine, ...]
    metrics: tuple[MetricRow, ...]
    books_to: datetime.date | None = None  # the end of the latest month with entries people wrote

    @property
    def incomplete(self) -> str:
        """A sentence when the books stop before the quarter's end (its later months hold nothing yet),
        else ""."""
        if self.books_to is None or self.books_to >= self.quarter.end:
            return ""
        return (f"The books hold entries to {_day(self.books_to)} only: the quarter's months after it have "
                "none yet, so their actual spend and receipts are nil here.")

    @property
    def risk_share(self) -> RiskShareResult:
        return self.position.risk_share

    @property
    def label(self) -> str:
        """"2025-26-Q2", as the command takes it."""
        return f"{self.quarter.year.label}-Q{self.number}"

    @property
    def stem(self) -> str:
        return f"{self.position.pool.id}-{self.label}-quarterly"


def parse_quarter(text: str) -> Period:
    """"2025-26-Q2" -> the period 1 July to 30 September 2025; ReturnError otherwise."""
    match = QUARTER.match(text or "")
    period = parse_period(f"{match.group(1)} Q{match.group(2)}") if match else None
    if period is None:
        raise ReturnError(f"{text!r} is not a quarter as YYYY-YY-QN, e.g. 2025-26-Q2")
    return period


def quarter_number(quarter: Period) -> int:
    return (quarter.start.month - 4) % 12 // 3 + 1


def previous_quarter_end(quarter: Period) -> datetime.date | None:
    """The last day of the previous quarter of the same year; None for Q1."""
    return None if quarter.start == quarter.year.start else quarter.start - datetime.timedelta(days=1)


def quarterly_report(end: PoolPosition, before: PoolPosition | None, quarter: Period,
                     generated: datetime.date, provenance: str,
                     books_to: datetime.date | None = None) -> QuarterlyReport:
    if end.as_of != quarter.end or (before is not None and before.as_of != previous_quarter_end(quarter)):
        raise ValueError("the positions must be at the quarter's end and the previous quarter's end")
    number = quarter_number(quarter)
    months = range(3 * (number - 1), 3 * number)
    income = tuple(_partner_income(p, before) for p in end.partners)
    schemes = tuple(_scheme_line(s, months) for s in end.schemes)
    scheme_totals = dict(end.scheme_totals.values)
    scheme_totals.update({f: sum((s.values[f] for s in schemes), ZERO) for f in QUARTER_FIELDS})
    return QuarterlyReport(
        position=end, quarter=quarter, number=number,
        title=f"Quarter {number} of {quarter.year.label}, {_day(quarter.start)} to {_day(quarter.end)}",
        generated=generated, provenance=provenance, income=income,
        income_totals={f: sum((p.totals[f] for p in income), ZERO) for f in INCOME_FIELDS},
        schemes=schemes, scheme_totals=scheme_totals, areas=_areas(schemes),
        tranches=_tranches(end, quarter), metrics=metrics_in(end, quarter), books_to=books_to)


def overlaps(label: str, quarter: Period) -> bool:
    period = parse_period(label)
    return period is not None and period.start <= quarter.end and period.end >= quarter.start


def metrics_in(position: PoolPosition, quarter: Period) -> tuple[MetricRow, ...]:
    """The position's metric plans whose period overlaps the quarter, with their actuals."""
    return tuple(m for m in position.metrics if overlaps(m.period, quarter))


def _day(date: datetime.date) -> str:
    return f"{date.day} {date:%B %Y}"


def _partner_income(partner, before: PoolPosition | None) -> PartnerIncome:
    earlier = {}
    if before is not None:
        for p in before.partners:
            if p.partner.partner == partner.partner.partner:
                earlier = {line.source: line.received for line in p.sources}
    lines = tuple(IncomeLine(line.source, line.source_name, line.agreed,
                             line.received - earlier.get(line.source, ZERO), line.received, line.outstanding)
                  for line in partner.sources)
    return PartnerIncome(partner.partner, partner.host, lines,
                         {f: sum((getattr(line, f) for line in lines), ZERO) for f in INCOME_FIELDS})


def _scheme_line(scheme: SchemePosition, months: range) -> SchemeLine:
    budget = sum((scheme.monthly_budget[m] for m in months), ZERO)
    actual = sum((scheme.monthly_actual[m] for m in months), ZERO)
    values = {f: getattr(scheme, f) for f in SCHEME_FIELDS + ("committed",)}
    values.update(budget_in_quarter=budget, actual_in_quarter=actual, variance_in_quarter=actual - budget)
    return SchemeLine(scheme, values)


def _areas(schemes: tuple[SchemeLine, ...]) -> tuple[AreaLine, ...]:
    rows = []
    for area in AREAS:
        lines = [s for s in schemes if s.position.scheme.area == area]
        if lines:
            rows.append(AreaLine(area, len(lines),
                                 {f: sum((s.values[f] for s in lines), ZERO) for f in EXPENDITURE_FIELDS}))
    return tuple(rows)


def _tranches(position: PoolPosition, quarter: Period) -> tuple[TrancheLine, ...]:
    rows = []
    for status in position.tranches:
        partner = position.agreement.partner(status.tranche.partner)
        for outcome in status.periods:
            if outcome.period.start <= quarter.end and outcome.period.end >= quarter.start:
                rows.append(TrancheLine(status, outcome, partner.name if partner else status.tranche.partner,
                                        quarter.start <= outcome.period.end <= quarter.end
                                        and outcome.status != "pending"))
    return tuple(rows)
