"""The pool-position model: contributions, schemes and totals as of a date, computed once.

`build_position(entries, as_of)` reads the Agreement and the books (one pass over the year's
transactions) and returns a frozen `PoolPosition`. The CLI, the statement and the Fava page only
read it; nothing else computes these figures.

Conventions (docs/ledger.md, "The position"):
- received = credits to the contribution account in the year up to the date;
- budget to date = the months of the budget profile ended by the date (a partial month pro rata by day);
- forecast outturn = the latest forecast made on or before the date; with none, the run-rate
  (actual to date / months elapsed x 12), or, for a scheme with orders still committed, the actual
  plus the committed plus the run-rate for the months left; after 31 March, the actual;
- committed = what the scheme's orders raised by the date still hold, not yet drawn down by invoices
  (rules.commitments); actual plus committed, beside it;
- variance = actual or outturn minus budget: positive is an overspend;
- forecast movement = the outturn now less the outturn the position gave at the previous month end (the
  forecast made by then, else the run-rate then); in Month 1, less the annual budget;
- a year is closed from 31 March once it has an s75-close, and settled once the settlement
  rules.settlement wrote for that close is in the entries (never merely because of the close);
- prior-period adjustments: the year's entries to the date that carry `adjusts:` (a correction to a
  locked month, posted in an open month: rules.locks), a row per posting to a scheme's account, to
  suspense or to a contribution account. They count in the month they are posted in, like any entry.
"""
from __future__ import annotations

import bisect
import dataclasses
import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from rules.agreement import Agreement, Partner, Pool, Scheme
from rules.allocation import spread_evenly, to_penny
from rules.budget_history import base_profile
from rules.calendar import FinancialYear, elapsed_months, month_number, year_of
from rules.commitments import CommitmentPosition, commitments_at, committed_by_scheme, draws
from rules.directives import SUSPENSE
from rules.entries import GENERATED
from rules.adjustments import Adjustment, prior_period_adjustments
from rules.books import CARRIED_IN, YearBooks, counted, entry_date, monthly_sums, year_books  # noqa: F401 (used here and by callers)
from rules.reader import read_agreement
from rules.risk_share import RiskShareResult, share_risk, side_of
from rules.tranches import TrancheStatus, assess

SETTLEMENT_RULE = "risk-share"  # how the `rule:` of every entry rules.settlement writes for a close begins

ZERO = Decimal("0.00")


class PositionError(Exception):
    """The position cannot be computed for this date (e.g. outside the pool's years)."""


@dataclass(frozen=True)
class SourceLine:
    source: str
    source_name: str
    account: str
    minimum: Decimal
    agreed: Decimal
    received: Decimal
    outstanding: Decimal


@dataclass(frozen=True)
class PartnerPosition:
    partner: Partner
    host: bool
    sources: tuple[SourceLine, ...]
    minimum: Decimal
    agreed: Decimal
    received: Decimal
    outstanding: Decimal
    share: Decimal  # percent of the pool's agreed contributions, exact
    prior_spend: Decimal | None
    contingency_plan: dict


@dataclass(frozen=True)
class SchemePosition:
    scheme: Scheme
    annual_budget: Decimal
    budget_to_date: Decimal
    actual_to_date: Decimal
    variance_to_date: Decimal
    forecast_outturn: Decimal
    forecast_basis: str  # "forecast", "run-rate", "commitments" (run-rate plus orders), "budget" or "actual"
    forecast_date: datetime.date | None
    forecast_note: str
    forecast_variance: Decimal
    monthly_budget: tuple[Decimal, ...]  # the profile, April first
    monthly_actual: tuple[Decimal, ...]  # spend by month to the date, April first
    # The forecast outturn as the position stood at the previous month end (in Month 1, the annual budget),
    # and the movement since: forecast_outturn - previous_outturn (positive: the outturn went up).
    previous_outturn: Decimal = ZERO
    forecast_movement: Decimal = ZERO
    # The budget first set for the year, and the variations and virements since (rules.budget_history):
    # annual_budget is the revised budget, original_budget + budget_changes.
    original_budget: Decimal = ZERO
    budget_changes: Decimal = ZERO
    # Orders raised and not yet drawn down by invoices (rules.commitments), and the actual with them.
    committed: Decimal = ZERO
    actual_plus_committed: Decimal = ZERO


@dataclass(frozen=True)
class MetricRow:
    """A metric's plan for a period of the year and its latest actual (None until recorded)."""

    metric: str
    name: str
    better: str
    unit: str
    period: str
    period_end: datetime.date
    baseline: Decimal
    plan: Decimal
    actual: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    recorded: datetime.date | None


@dataclass(frozen=True)
class Totals:
    """Sums of the rows above them, by field name."""

    values: dict[str, Decimal]

    def __getitem__(self, key: str) -> Decimal:
        return self.values[key]


@dataclass(frozen=True)
class PoolPosition:
    pool: Pool
    year: FinancialYear
    as_of: datetime.date
    month: int  # month of the financial year, 1 = April
    partners: tuple[PartnerPosition, ...]
    schemes: tuple[SchemePosition, ...]
    partner_totals: Totals
    scheme_totals: Totals
    carried_in: Decimal  # underspend carried forward into this year's pool
    tranches: tuple[TrancheStatus, ...]
    metrics: tuple[MetricRow, ...]
    risk_share: RiskShareResult
    risk_basis: str  # "forecast" during the year, "actual" from 31 March
    closed: bool  # the year has an s75-close and the date is on or after its 31 March
    settled: bool  # closed, and rules.settlement's entries for the close are in the books
    agreement: Agreement
    adjustments: tuple[Adjustment, ...] = ()  # prior-period adjustments in the year to the date: spend, then receipts
    adjustments_total: Decimal = ZERO  # the spend adjustments added up
    adjustments_received: Decimal = ZERO  # the receipt adjustments added up
    previous_date: datetime.date | None = None  # the month end forecast movement is from (None in Month 1: the budget)
    commitments: tuple[CommitmentPosition, ...] = ()  # the orders raised by the date (rules.commitments)
    # the orders added up: "amount", "drawn" and "committed" (what they still hold)
    commitment_totals: Totals = Totals({"amount": ZERO, "drawn": ZERO, "committed": ZERO})


PARTNER_FIELDS = ("minimum", "agreed", "received", "outstanding")
SCHEME_FIELDS = ("annual_budget", "budget_to_date", "actual_to_date", "variance_to_date",
                 "forecast_outturn", "forecast_variance")
MOVEMENT_FIELDS = ("previous_outturn", "forecast_movement")  # also in scheme_totals
BUDGET_FIELDS = ("original_budget", "budget_changes")  # also in scheme_totals
COMMITMENT_FIELDS = ("committed", "actual_plus_committed")  # also in scheme_totals


def build_position(entries, as_of: datetime.date, agreement: Agreement | None = None,
                   books: "YearBooks | None" = None) -> PoolPosition:
    """The pool's position at the end of `as_of`, from loaded entries. `books`, the year's monthly
    sums made once per load (`year_books`), saves the pass over the entries at a month end."""
    if agreement is None:
        agreement, _ = read_agreement(entries)
    if agreement.pool is None:
        raise PositionError("the ledger declares no pool (custom \"s75-pool\")")
    year = year_of(as_of)
    if year not in agreement.years():
        known = ", ".join(y.label for y in agreement.years()) or "none"
        raise PositionError(f"{as_of} is in {year.label}, which is not one of the pool's years ({known})")

    if books is not None and books.year == year and as_of == year.month_end(month_number(min(as_of, year.end))):
        monthly = books.to_month(month_number(as_of))
    elif books is not None and books.year == year and as_of >= year.end:
        monthly = books.to_month(12)
    else:
        monthly = monthly_sums(entries, year, as_of, counted(agreement))
    if books is not None and books.year == year and books.adjustments is not None:
        adjustments = tuple(a for a in books.adjustments if a.date <= as_of)
    else:
        adjustments = prior_period_adjustments(entries, year, as_of, agreement)
    partners = _partners(agreement, year, monthly)
    previous = previous_month_end(year, as_of)
    found = draws(entries, agreement) if agreement.commitments else None
    orders = commitments_at(entries, agreement, as_of, found)
    committed = committed_by_scheme(orders)
    committed_before = committed_by_scheme(commitments_at(entries, agreement, previous, found)) if previous else {}
    schemes = tuple(_with_movement(_scheme(agreement, s, year, as_of, monthly, committed.get(s.scheme, ZERO)),
                                   agreement, year, previous, monthly, committed_before.get(s.scheme, ZERO))
                    for s in agreement.schemes if agreement.budget(year, s.scheme, as_of) is not None)
    return PoolPosition(
        pool=agreement.pool, year=year, as_of=as_of, month=month_number(min(as_of, year.end)),
        partners=partners, schemes=schemes,
        partner_totals=_totals(partners, PARTNER_FIELDS),
        scheme_totals=_totals(schemes, SCHEME_FIELDS + MOVEMENT_FIELDS + BUDGET_FIELDS + COMMITMENT_FIELDS),
        carried_in=-sum(monthly.get(CARRIED_IN, ()), ZERO),
        tranches=tuple(assess(t, agreement, as_of) for t in agreement.tranches if t.periods[0].year == year),
        metrics=metric_rows(agreement, year, as_of),
        risk_share=risk_share(agreement, year, as_of, schemes),
        risk_basis="actual" if as_of >= year.end else "forecast",
        closed=year in agreement.closes and as_of >= year.end,
        settled=as_of >= year.end and settlement_written(entries, year, agreement.closes.get(year)),
        agreement=agreement, adjustments=adjustments,
        adjustments_total=sum((a.amount for a in adjustments if not a.receipt), ZERO),
        adjustments_received=sum((a.amount for a in adjustments if a.receipt), ZERO), previous_date=previous,
        commitments=orders, commitment_totals=Totals({
            "amount": sum((o.commitment.amount for o in orders), ZERO), "drawn": sum((o.drawn for o in orders), ZERO),
            "committed": sum((o.outstanding for o in orders), ZERO)}))


def previous_month_end(year: FinancialYear, as_of: datetime.date) -> datetime.date | None:
    """The month end before the month of `as_of` (from 31 March, the end of February), in the same year;
    None in April, whose outturn moves from the budget."""
    month = month_number(min(as_of, year.end))
    return year.month_end(month - 1) if month > 1 else None


def _with_movement(position: "SchemePosition", agreement: Agreement, year: FinancialYear,
                   previous: datetime.date | None, monthly, committed: Decimal = ZERO) -> "SchemePosition":
    """The scheme's position with its forecast outturn at the `previous` month end, by the same rules as
    at the date (the forecast made by then, else the run-rate on the spend to then), and the movement
    since. The spend to then is the months of `monthly` ended by `previous`: no further pass over the
    books. In Month 1 (`previous` None) the outturn moves from the annual budget as the year began."""
    scheme = position.scheme
    if previous is None:
        before = sum(budget_profile(agreement, scheme.scheme, year, year.start) or (), ZERO)
    else:
        months = month_number(previous)
        earlier = {account: list(row[:months]) + [ZERO] * (12 - months) for account, row in monthly.items()
                   if scheme.owns(account)}
        before = _scheme(agreement, scheme, year, previous, earlier, committed).forecast_outturn
    return dataclasses.replace(position, previous_outturn=before,
                               forecast_movement=position.forecast_outturn - before)


def settlement_written(entries, year: FinancialYear, close) -> bool:
    """Whether the entries hold a settlement entry rules.settlement generated for `close` (dated the
    year's 31 March; a copy pasted into a ledger file does not count). A year with nothing to settle
    (a nil variance) has none."""
    if close is None:
        return False
    first = bisect.bisect_left(entries, year.end, key=entry_date)
    last = bisect.bisect_right(entries, year.end, key=entry_date)
    for index in range(first, last):
        meta = entries[index].meta
        if (type(entries[index]) is data.Transaction and meta.get(GENERATED)
                and str(meta.get("rule", "")).startswith(SETTLEMENT_RULE + " ")
                and meta.get("filename") == close.meta.get("filename")
                and meta.get("lineno") == close.meta.get("lineno")):
            return True
    return False


def risk_share(agreement: Agreement, year: FinancialYear, as_of: datetime.date,
               schemes: tuple["SchemePosition", ...]) -> RiskShareResult:
    """The agreement's risk share applied to the schemes' forecast (or, from 31 March, actual) variances."""
    variances = [(s.scheme.scheme, s.forecast_variance) for s in schemes]
    side = side_of(sum((v for _, v in variances), ZERO))
    steps = agreement.risk_steps_in_force(side, min(as_of, year.end)) if side else []
    contributions = {p.partner: ZERO for p in agreement.partners}
    for c in agreement.contributions_for(year):
        contributions[c.partner] += c.agreed
    result = share_risk(steps, variances, {s.scheme.scheme: s.scheme.split for s in schemes}, contributions)
    if side and not steps:
        note = ("the agreement has no risk share: the variance stays with the pool"
                if not agreement.risk_steps else f"no {side} rule in force on {min(as_of, year.end)}")
        result = RiskShareResult(result.side, result.variance, (), result.shares, ZERO, result.variance,
                                 None, note)
    return result


def metric_rows(agreement: Agreement, year: FinancialYear, as_of: datetime.date) -> tuple[MetricRow, ...]:
    """Plans for periods of the year, with the latest actual for periods ended by `as_of` (an actual is
    published after its period ends; like a tranche, it belongs to the period)."""
    rows = []
    for plan in sorted((p for p in agreement.plans if p.period.year == year),
                       key=lambda p: (list(agreement.metrics).index(p.metric), p.period.end,
                                      -p.period.start.toordinal())):
        metric = agreement.metrics[plan.metric]
        actuals = [a for a in agreement.actuals if a.metric == plan.metric and a.period == plan.period]
        actual = max(actuals, key=lambda a: a.date) if actuals and plan.period.end <= as_of else None
        rows.append(MetricRow(metric.metric, metric.name, metric.better, metric.unit, plan.period.label,
                              plan.period.end, plan.baseline, plan.plan, actual and actual.value,
                              actual and actual.numerator, actual and actual.denominator, actual and actual.date))
    return tuple(rows)


def budget_profile(agreement: Agreement, scheme_id: str, year: FinancialYear,
                   as_of: datetime.date) -> tuple[Decimal, ...] | None:
    """The scheme's monthly budget: the budget first set, with each variation (rules.budget_history.base_profile)
    and virement made on or before `as_of` spread evenly over the months after its month (one in March
    falls in March)."""
    profile = base_profile([b for b in agreement.budgets if b.year == year and b.scheme == scheme_id], year, as_of)
    if profile is None:
        return None
    for v in agreement.virements:
        if v.year != year or v.date > as_of or scheme_id not in (v.from_scheme, v.to):
            continue
        amount = v.amount if v.to == scheme_id else -v.amount
        first = min(month_number(v.date), 11) if year.contains(v.date) else 0
        for month, part in enumerate(spread_evenly(amount, 12 - first), start=first):
            profile[month] += part
    return tuple(profile)


def _partners(agreement: Agreement, year: FinancialYear, monthly) -> tuple[PartnerPosition, ...]:
    contributions = agreement.contributions_for(year)
    pool_total = sum((c.agreed for c in contributions), ZERO)
    rows = []
    for partner in agreement.partners:
        lines = []
        for c in contributions:
            if c.partner != partner.partner:
                continue
            received = -sum(monthly.get(c.account, ()), ZERO)
            lines.append(SourceLine(c.source, agreement.sources.get(c.source, c.source), c.account,
                                    c.minimum, c.agreed, received, c.agreed - received))
        sums = {f: sum((getattr(line, f) for line in lines), ZERO) for f in PARTNER_FIELDS}
        share = sums["agreed"] * 100 / pool_total if pool_total else ZERO
        rows.append(PartnerPosition(
            partner=partner, host=agreement.pool.host == partner.partner, sources=tuple(lines), share=share,
            prior_spend=agreement.prior_spend.get((year, partner.partner)),
            contingency_plan=agreement.contingency_plans.get((year, partner.partner), {}), **sums))
    return tuple(rows)


def _scheme(agreement: Agreement, scheme: Scheme, year: FinancialYear, as_of: datetime.date,
            monthly, committed: Decimal = ZERO) -> SchemePosition:
    profile = budget_profile(agreement, scheme.scheme, year, as_of)
    annual = sum(profile, ZERO)
    original = agreement.budget(year, scheme.scheme, datetime.date.min).amount
    actual_by_month = [ZERO] * 12
    for account, months in monthly.items():
        if scheme.owns(account):
            actual_by_month = [a + m for a, m in zip(actual_by_month, months)]
    actual = sum(actual_by_month, ZERO)
    whole, partial_end = elapsed_months(year, as_of)
    budget_to_date = sum(profile[:whole], ZERO)
    elapsed = Decimal(whole)
    if partial_end is not None:
        fraction = Decimal(as_of.day) / Decimal(partial_end.day)
        budget_to_date = to_penny(budget_to_date + profile[whole] * fraction)
        elapsed += fraction

    forecast = agreement.forecast(year, scheme.scheme, as_of)
    if as_of >= year.end:
        outturn, basis, date, note = actual, "actual", None, ""
    elif forecast is not None:
        outturn, basis, date, note = forecast.amount, "forecast", forecast.date, forecast.note
    elif elapsed > 0 and actual and committed:
        outturn = to_penny(actual + committed + actual * (12 - elapsed) / elapsed)
        basis, date, note = "commitments", None, ""
    elif elapsed > 0 and actual:
        outturn, basis, date, note = to_penny(actual * 12 / elapsed), "run-rate", None, ""
    else:
        outturn, basis, date, note = annual, "budget", None, ""
    return SchemePosition(
        scheme=scheme, annual_budget=annual, budget_to_date=budget_to_date, actual_to_date=actual,
        variance_to_date=actual - budget_to_date, forecast_outturn=outturn, forecast_basis=basis,
        forecast_date=date, forecast_note=note, forecast_variance=outturn - annual,
        monthly_budget=profile, monthly_actual=tuple(actual_by_month), original_budget=original,
        budget_changes=annual - original, committed=committed, actual_plus_committed=actual + committed)


def _totals(rows, fields) -> Totals:
    return Totals({f: sum((getattr(r, f) for r in rows), ZERO) for f in fields})


def suspense_postings(entries, year: FinancialYear | None = None) -> list[tuple[data.Transaction, data.Posting]]:
    """(transaction, posting) for each posting to Expenses:Suspense (or a sub-account), in `year` or over
    all time."""
    found, transaction, below = [], data.Transaction, SUSPENSE + ":"
    for entry in entries:
        if type(entry) is not transaction or (year is not None and not year.contains(entry.date)):
            continue
        for posting in entry.postings:
            account = posting.account
            if account == SUSPENSE or account.startswith(below):
                found.append((entry, posting))
    return found


def suspense_balance(entries, year: FinancialYear | None = None) -> Decimal:
    """What Expenses:Suspense (and its sub-accounts) holds, in `year` or over all time."""
    return sum((posting.units.number for _, posting in suspense_postings(entries, year)), ZERO)
