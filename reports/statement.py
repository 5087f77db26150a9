"""The monthly pooled-budget statement as data: the position plus what the statement's tabs show
that the position does not (RAG status, subtotals by area of spend, the cumulative spend chart,
provenance). Built once; the HTML, the XLSX and the Fava page only lay it out.

RAG status, on the forecast variance against the annual budget:
  Green  on or under budget;
  Amber  overspend of up to 5% of the annual budget;
  Red    overspend of more than 5% (or any overspend on a nil budget).

What the board reads first: the month's commentary and sign-off (s75-commentary, s75-signoff), the
movement in forecast outturn since the previous month end (rules.position), and the forecast variance
by scheme as bars, adverse (an overspend) apart from favourable.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rules.agreement import AREAS, Commentary, Signoff
from rules.allocation import to_penny
from rules.calendar import month_number, month_title
from rules.position import (BUDGET_FIELDS, COMMITMENT_FIELDS, MOVEMENT_FIELDS, SCHEME_FIELDS, PoolPosition,
                            SchemePosition)

ZERO = Decimal("0.00")
AMBER_LIMIT = Decimal("0.05")  # overspend as a fraction of the annual budget
MONTHS = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")


@dataclass(frozen=True)
class AreaSubtotal:
    area: str
    schemes: int
    values: dict[str, Decimal]


@dataclass(frozen=True)
class ChartPoint:
    month: int  # 1 = April
    label: str
    budget: Decimal  # cumulative profiled budget
    actual: Decimal | None  # cumulative actual, up to the statement's month
    forecast: Decimal | None  # cumulative forecast, from the statement's month to March
    gap: Decimal | None = None  # actual less budget (cumulative): over (+) or (under) profile, to the month
    forecast_gap: Decimal | None = None  # forecast less budget (cumulative), from the month to March


@dataclass(frozen=True)
class VarianceBar:
    """A scheme's forecast variance, for the chart: adverse (an overspend) or favourable."""

    scheme: str
    name: str
    variance: Decimal
    adverse: bool


@dataclass(frozen=True)
class Statement:
    position: PoolPosition
    title: str  # "Month 6, to 30 September 2025"
    generated: datetime.date
    provenance: str  # the ledger's git commit, or a checksum of its files
    sources: tuple[tuple[str, str], ...]  # funding sources with contributions this year, (key, name)
    agreed_by_source: dict[str, dict[str, Decimal]]  # partner -> source -> agreed
    source_totals: dict[str, Decimal]  # source -> agreed, all partners
    shares_total: Decimal  # the partners' risk shares added up
    rag: dict[str, str]  # scheme ID -> Green / Amber / Red
    scheme_account: dict[str, str]  # scheme ID -> the account whose entries explain its spend
    partner_account: dict[str, str]  # partner -> the account whose entries explain its contributions
    areas: tuple[AreaSubtotal, ...]
    chart: tuple[ChartPoint, ...]
    commentary: Commentary | None = None  # the month's s75-commentary
    signoff: Signoff | None = None  # the month's s75-signoff
    movement_since: str = ""  # what forecast movement is measured from: "Month 5", or "the budget" in Month 1
    variance_bars: tuple[VarianceBar, ...] = ()  # most adverse first

    @property
    def stem(self) -> str:
        """File name stem: pool and month, e.g. EB-BCF-2025-09-statement."""
        return f"{self.position.pool.id}-{self.position.as_of:%Y-%m}-statement"


def rag_status(scheme: SchemePosition) -> str:
    variance, budget = scheme.forecast_variance, scheme.annual_budget
    if variance <= 0:
        return "Green"
    if budget > 0 and variance <= budget * AMBER_LIMIT:
        return "Amber"
    return "Red"


def build_statement(position: PoolPosition, files: list[str], generated: datetime.date,
                    ledger: str | Path | None = None) -> Statement:
    """The statement of `position`. `files` are the ledger's files and `ledger` its main file, for
    the cover's provenance."""
    sources, by_source, source_totals = [], {}, {}
    for partner in position.partners:
        by_source[partner.partner.partner] = {line.source: line.agreed for line in partner.sources}
        for line in partner.sources:
            if (line.source, line.source_name) not in sources:
                sources.append((line.source, line.source_name))
            source_totals[line.source] = source_totals.get(line.source, ZERO) + line.agreed
    return Statement(
        position=position, title=month_title(position.as_of), generated=generated,
        provenance=provenance(files, ledger), sources=tuple(sources), agreed_by_source=by_source,
        source_totals=source_totals, shares_total=sum(position.risk_share.shares.values(), ZERO),
        rag={s.scheme.scheme: rag_status(s) for s in position.schemes},
        scheme_account={s.scheme.scheme: common_account(s.scheme.accounts) for s in position.schemes},
        partner_account={p.partner.partner: common_account([line.account for line in p.sources])
                         for p in position.partners},
        areas=area_subtotals(position), chart=chart_points(position),
        commentary=position.agreement.commentaries.get(f"{position.as_of:%Y-%m}"),
        signoff=position.agreement.signoffs.get(f"{position.as_of:%Y-%m}"),
        movement_since=(f"Month {month_number(position.previous_date)}" if position.previous_date else "the budget"),
        variance_bars=variance_bars(position))


def variance_bars(position: PoolPosition) -> tuple[VarianceBar, ...]:
    """Each scheme's forecast variance, the largest overspend first and the largest underspend last
    (equal variances in the register's order)."""
    rows = sorted(position.schemes, key=lambda s: -s.forecast_variance)
    return tuple(VarianceBar(s.scheme.scheme, s.scheme.name, s.forecast_variance, s.forecast_variance > 0)
                 for s in rows)


def common_account(accounts) -> str:
    """The deepest account containing all of `accounts` ("" when they share no root)."""
    parts = [a.split(":") for a in accounts]
    if not parts:
        return ""
    common = []
    for names in zip(*parts):
        if len(set(names)) != 1:
            break
        common.append(names[0])
    return ":".join(common)


def area_subtotals(position: PoolPosition) -> tuple[AreaSubtotal, ...]:
    rows = []
    for area in AREAS:
        schemes = [s for s in position.schemes if s.scheme.area == area]
        if schemes:
            rows.append(AreaSubtotal(area, len(schemes),
                                     {f: sum((getattr(s, f) for s in schemes), ZERO)
                                      for f in SCHEME_FIELDS + MOVEMENT_FIELDS + BUDGET_FIELDS + COMMITMENT_FIELDS}))
    return tuple(rows)


def chart_points(position: PoolPosition) -> tuple[ChartPoint, ...]:
    """Cumulative budget and actual by month; the forecast runs straight from the actual to date at the
    statement's month to the forecast outturn at March; and the gap of each from the budget."""
    month = position.month
    budget = [sum((s.monthly_budget[m] for s in position.schemes), ZERO) for m in range(12)]
    actual = [sum((s.monthly_actual[m] for s in position.schemes), ZERO) for m in range(12)]
    to_date = position.scheme_totals["actual_to_date"]
    outturn = position.scheme_totals["forecast_outturn"]
    points, cum_budget, cum_actual = [], ZERO, ZERO
    for m in range(1, 13):
        cum_budget += budget[m - 1]
        cum_actual += actual[m - 1]
        forecast = None
        if m >= month and month < 12:
            forecast = to_penny(to_date + (outturn - to_date) * (m - month) / (12 - month))
        shown = cum_actual if m <= month else None
        points.append(ChartPoint(m, MONTHS[m - 1], cum_budget, shown, forecast,
                                 None if shown is None else shown - cum_budget,
                                 None if forecast is None else forecast - cum_budget))
    return tuple(points)


def provenance(files: list[str], ledger: str | Path | None = None) -> str:
    """"git 1a2b3c4d5e6f, ledger/main.beancount": the commit, and the main file's path in the repository
    (when `ledger` is given), from which `s75 verify` rebuilds the statement; followed by
    ", with uncommitted changes (sha256 ...)" when the ledger's files differ from the commit (changed,
    new or ignored by git). "sha256 ..." of the ledger's files when they are not in git."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(Path(name).read_bytes())
    checksum = f"sha256 {digest.hexdigest()[:16]}"
    if not files:
        return checksum
    folder = Path(ledger).parent if ledger else Path(sorted(files)[0]).parent
    try:
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short=12", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        top = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--ignored", "--",
                                *sorted(files)], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return checksum
    text = f"git {commit}"
    if ledger:
        text += f", {Path(os.path.relpath(Path(ledger).resolve(), Path(top).resolve())).as_posix()}"
    return text + (f", with uncommitted changes ({checksum})" if dirty else "")
