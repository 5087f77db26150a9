"""The position as pandas DataFrames: the one place that turns the position model into tables.

`position_frames(position)` returns {table name: DataFrame} for a rules.position.PoolPosition:

    pool        one row: the pool, its year, date and month, the risk share's outcome
    partners    a row per partner: contributions, share of the pool, share of the variance
    sources     a row per partner and funding source
    schemes     a row per scheme with a budget in the year: the register and its figures
    monthly     a row per scheme and month of the year: budget and actual spend
    risk_steps  a row per risk-share step and partner
    tranches    a row per tranche and period
    metrics     a row per metric and period planned in the year

Every table starts with `pool_id`, so tables of many pools can be stacked. `COLUMNS` names each
table's columns, in order, with their kind and meaning (docs/analysis.md prints them):

    money    Decimal to the penny (object dtype; never float), None when not recorded
    percent  Decimal to two places (object dtype)
    number   Decimal as recorded (object dtype): metric figures
    date     datetime.date (object dtype), None when none
    int      whole number (int64)
    bool     True/False (bool)
    text     str (None when none)

`s75 export` (s75.export) writes these tables to Parquet as they are; docs/analysis.md gives the Parquet types.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from rules.allocation import to_penny
from rules.periods import period_control
from rules.position import PoolPosition

SCHEMA_VERSION = 1  # bumped when a column is renamed, removed or changes kind; adding columns keeps it

COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "pool": (
        ("pool_id", "text", "the pool's ID (s75-pool)"),
        ("schema_version", "int", "the version of these tables' layout (reports.frames.SCHEMA_VERSION)"),
        ("pool_name", "text", "the pool's name"),
        ("host", "text", "the partner that holds the pooled budget"),
        ("manager", "text", "the pooled fund manager"),
        ("agreement", "text", "the agreement, as named on s75-pool"),
        ("year", "text", "the financial year, e.g. 2025-26"),
        ("as_of", "date", "the date of the position"),
        ("month", "int", "month of the financial year, 1 = April"),
        ("statement_month", "text", "the month of the position as YYYY-MM: the statement it belongs to"),
        ("locked_through", "text", "the latest month locked, by an s75-lock or a closed year, YYYY-MM; empty when the "
                                   "ledger has none (so whether it is locked is not known)"),
        ("risk_basis", "text", "forecast (before 31 March) or actual (from 31 March)"),
        ("side", "text", "overspend, underspend, or empty for a nil variance"),
        ("variance", "money", "the net forecast (or actual) variance shared: positive an overspend"),
        ("in_force_from", "date", "the date of the set of risk-share steps applied"),
        ("carried_forward", "money", "what the risk share carries into next year (signed like the variance)"),
        ("unallocated", "money", "what the agreement leaves with nobody"),
        ("risk_note", "text", "why some of the variance is unallocated, when it is"),
        ("carried_in", "money", "underspend carried into this year from the last"),
        ("closed", "bool", "the year has an s75-close and the date is on or after 31 March"),
        ("settled", "bool", "closed, and the settlement's entries are in the books"),
    ),
    "partners": (
        ("pool_id", "text", "the pool's ID"),
        ("partner", "text", "the partner's short name"),
        ("name", "text", "the partner's name"),
        ("kind", "text", "council or nhs"),
        ("host", "bool", "the partner holds the pooled budget"),
        ("order", "int", "the partner's place in the agreement, from 1"),
        ("share", "percent", "agreed contributions as a percentage of the pool's"),
        ("minimum", "money", "minimum contributions for the year"),
        ("agreed", "money", "agreed contributions for the year"),
        ("received", "money", "received to the date"),
        ("outstanding", "money", "agreed less received"),
        ("prior_spend", "money", "spend on pool schemes last year (s75-prior-spend), empty when not recorded"),
        ("risk_share", "money", "the partner's share of the variance: positive bears an overspend, negative "
                                "receives an underspend"),
    ),
    "sources": (
        ("pool_id", "text", "the pool's ID"),
        ("partner", "text", "the partner's short name"),
        ("source", "text", "the funding source's key"),
        ("source_name", "text", "the funding source's name"),
        ("account", "text", "the contribution account"),
        ("minimum", "money", "minimum contribution"),
        ("agreed", "money", "agreed contribution"),
        ("received", "money", "received to the date"),
        ("outstanding", "money", "agreed less received"),
    ),
    "schemes": (
        ("pool_id", "text", "the pool's ID"),
        ("scheme", "text", "the scheme's ID"),
        ("name", "text", "the scheme's name"),
        ("type", "text", "scheme type"),
        ("area", "text", "area of spend"),
        ("commissioner", "text", "a partner's short name, or joint"),
        ("split", "text", "the commissioners' split as written out, e.g. \"ICB 60.00, Council 40.00\""),
        ("provider", "text", "lead provider"),
        ("source", "text", "funding source"),
        ("recurrent", "bool", "recurrent"),
        ("new", "bool", "new scheme"),
        ("benefits", "money", "planned benefits (negative: savings), empty when not recorded"),
        ("annual_budget", "money", "budget for the year, after virements to the date"),
        ("budget_to_date", "money", "budget profiled to the date"),
        ("actual_to_date", "money", "spend to the date"),
        ("variance_to_date", "money", "actual less budget to date: positive an overspend"),
        ("forecast_outturn", "money", "forecast outturn for the year"),
        ("forecast_variance", "money", "forecast outturn less annual budget"),
        ("forecast_basis", "text", "forecast, run-rate, commitments (run-rate plus orders), budget or actual"),
        ("forecast_date", "date", "when the forecast in use was made, empty for other bases"),
        ("original_budget", "money", "the budget first set for the year"),
        ("budget_changes", "money", "variations and virements to the date: annual_budget less original_budget"),
        ("committed", "money", "what the scheme's orders still hold, not yet invoiced"),
        ("actual_plus_committed", "money", "actual_to_date plus committed"),
    ),
    "monthly": (
        ("pool_id", "text", "the pool's ID"),
        ("scheme", "text", "the scheme's ID"),
        ("month", "int", "month of the financial year, 1 = April"),
        ("month_end", "date", "the month's last day"),
        ("budget", "money", "the month's budget (the profile, with virements)"),
        ("actual", "money", "spend posted in the month; empty for months after the position's"),
    ),
    "risk_steps": (
        ("pool_id", "text", "the pool's ID"),
        ("step", "int", "the step's number"),
        ("kind", "text", "absorb, commissioner, tier, proportional, return, fixed, carry-forward or cap"),
        ("label", "text", "what the step does, as the statement says it"),
        ("variance_in", "money", "what was left to share when the step began"),
        ("variance_out", "money", "what was left after it"),
        ("carried", "money", "what the step carried forward"),
        ("partner", "text", "the partner's short name"),
        ("amount", "money", "the partner's part of this step"),
    ),
    "tranches": (
        ("pool_id", "text", "the pool's ID"),
        ("tranche", "text", "the tranche's ID"),
        ("partner", "text", "the partner whose contribution it is part of"),
        ("source", "text", "funding source"),
        ("metric", "text", "the metric it depends on"),
        ("method", "text", "per-unit, proportional or all-or-nothing"),
        ("funds", "text", "the schemes that carry it, as written"),
        ("unreleased_to", "text", "where withheld money goes: a scheme or a partner"),
        ("period", "text", "the period, e.g. 2025-26 H1"),
        ("period_start", "date", "the period's first day"),
        ("period_end", "date", "the period's last day"),
        ("amount", "money", "the tranche's amount for the period"),
        ("baseline", "number", "the metric's baseline"),
        ("plan", "number", "the metric's plan"),
        ("actual", "number", "the metric's actual in force, empty while pending"),
        ("actual_date", "date", "when that actual was published"),
        ("released", "money", "released to the schemes"),
        ("redirected", "money", "withheld and redirected"),
        ("status", "text", "released, part released, withheld or pending"),
    ),
    "metrics": (
        ("pool_id", "text", "the pool's ID"),
        ("metric", "text", "the metric's key"),
        ("name", "text", "the metric's name"),
        ("better", "text", "lower or higher"),
        ("unit", "text", "unit"),
        ("period", "text", "the period planned"),
        ("period_end", "date", "the period's last day"),
        ("baseline", "number", "baseline"),
        ("plan", "number", "plan"),
        ("actual", "number", "the latest actual for a period ended by the date, empty until recorded"),
        ("numerator", "number", "the actual's numerator, when recorded"),
        ("denominator", "number", "the actual's denominator, when recorded"),
        ("recorded", "date", "when the actual was published"),
    ),
    "orders": (
        ("pool_id", "text", "the pool's ID"),
        ("order", "text", "the order's reference"),
        ("scheme", "text", "the scheme's ID"),
        ("supplier", "text", "supplier"),
        ("raised", "date", "when the order was raised"),
        ("description", "text", "what it is for"),
        ("amount", "money", "the order's amount"),
        ("drawn", "money", "drawn down by invoices and accruals to the date"),
        ("committed", "money", "what the order still holds at the date"),
        ("closed", "date", "when it was closed, empty while open"),
    ),
    "adjustments": (
        ("pool_id", "text", "the pool's ID"),
        ("date", "date", "when it was posted (an open month)"),
        ("adjusts", "text", "the locked month it corrects, YYYY-MM"),
        ("original_date", "date", "the date the finance system gave it, when imported"),
        ("payee", "text", "payee (a payment to a person: its pseudonym)"),
        ("narration", "text", "narration"),
        ("ref", "text", "the finance system's reference"),
        ("scheme", "text", "the scheme whose actual it changes, empty for a receipt"),
        ("partner", "text", "the partner whose received it changes, empty for spend"),
        ("account", "text", "the account posted to"),
        ("amount", "money", "spend as the scheme's actual counts it; for a receipt, money received"),
        ("where", "text", "the entry's file:line in the ledger"),
    ),
}
TABLES = tuple(COLUMNS)
DTYPES = {"int": "int64", "bool": "bool"}


def position_frames(position: PoolPosition, locked_through: str | None = None) -> dict[str, pd.DataFrame]:
    """Every table for the position. `locked_through` (YYYY-MM) is the latest locked month, when the
    ledger records one (see `latest_lock`); the position itself does not hold it."""
    pool_id = position.pool.id
    rows = {
        "pool": [_pool(position, locked_through)],
        "partners": _partners(position),
        "sources": [(p.partner.partner, s.source, s.source_name, s.account, s.minimum, s.agreed, s.received,
                     s.outstanding) for p in position.partners for s in p.sources],
        "schemes": [_scheme(s) for s in position.schemes],
        "monthly": _monthly(position),
        "risk_steps": _risk_steps(position),
        "tranches": _tranches(position),
        "metrics": [(m.metric, m.name, m.better, m.unit, m.period, m.period_end, m.baseline, m.plan, m.actual,
                     m.numerator, m.denominator, m.recorded) for m in position.metrics],
        "orders": [(o.commitment.reference, o.commitment.scheme, o.commitment.supplier, o.commitment.date,
                    o.commitment.description, o.commitment.amount, o.drawn, o.outstanding, o.commitment.closed)
                   for o in position.commitments],
        "adjustments": [(a.date, a.adjusts, a.original_date, a.payee, a.narration, a.ref, a.scheme, a.partner,
                         a.account, a.amount, a.where) for a in position.adjustments],
    }
    return {name: frame(name, [(pool_id, *row) for row in rows[name]]) for name in TABLES}


def frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    """A table's DataFrame from its rows (values in the order of COLUMNS[name]), with its dtypes: money,
    percentages, numbers and dates stay Python objects (Decimal, datetime.date), never floats."""
    columns = COLUMNS[name]
    series = {}
    for index, (column, kind, _) in enumerate(columns):
        values = [row[index] for row in rows]
        series[column] = pd.Series(values, dtype=DTYPES.get(kind, "str" if kind == "text" else "object"))
    return pd.DataFrame(series, columns=[c for c, _, _ in columns])


def latest_lock(entries) -> str | None:
    """The latest month locked ("2025-09"): by an `s75-lock`, or by a closed year (`s75-close`, which
    locks its year to 31 March); None when nothing is locked."""
    end = period_control(entries).locked_to
    return None if end is None else f"{end:%Y-%m}"


def _pool(position: PoolPosition, locked_through: str | None) -> tuple:
    pool, r = position.pool, position.risk_share
    return (SCHEMA_VERSION, pool.name, pool.host, pool.manager, pool.agreement, position.year.label, position.as_of,
            position.month, f"{position.as_of:%Y-%m}", locked_through, position.risk_basis, r.side, r.variance,
            r.in_force_from, r.carried_forward, r.unallocated, r.note or None, position.carried_in, position.closed,
            position.settled)


def _partners(position: PoolPosition) -> list[tuple]:
    zero = Decimal("0.00")
    return [(p.partner.partner, p.partner.name, p.partner.kind, p.host, order, to_penny(p.share), p.minimum,
             p.agreed, p.received, p.outstanding, p.prior_spend, position.risk_share.shares.get(p.partner.partner, zero))
            for order, p in enumerate(position.partners, 1)]


def _scheme(s) -> tuple:
    sc = s.scheme
    split = ", ".join(f"{name} {percent:.2f}" for name, percent in sc.split)
    return (sc.scheme, sc.name, sc.type, sc.area, sc.commissioner, split, sc.provider, sc.source, sc.recurrent,
            sc.new, sc.benefits, s.annual_budget, s.budget_to_date, s.actual_to_date, s.variance_to_date,
            s.forecast_outturn, s.forecast_variance, s.forecast_basis, s.forecast_date, s.original_budget,
            s.budget_changes, s.committed, s.actual_plus_committed)


def _monthly(position: PoolPosition) -> list[tuple]:
    ends = position.year.month_ends()
    return [(s.scheme.scheme, month, ends[month - 1], s.monthly_budget[month - 1],
             s.monthly_actual[month - 1] if month <= position.month else None)
            for s in position.schemes for month in range(1, 13)]


def _risk_steps(position: PoolPosition) -> list[tuple]:
    zero = Decimal("0.00")
    partners = [p.partner.partner for p in position.partners]
    return [(step.number, step.kind, step.label, step.variance_in, step.variance_out, step.carried, partner,
             step.shares.get(partner, zero))
            for step in position.risk_share.steps for partner in partners]


def _tranches(position: PoolPosition) -> list[tuple]:
    rows = []
    for status in position.tranches:
        t = status.tranche
        for o in status.periods:
            rows.append((t.tranche, t.partner, t.source, t.metric, t.method, t.funds, t.unreleased_to, o.period.label,
                         o.period.start, o.period.end, o.amount, o.baseline, o.plan,
                         o.actual.value if o.actual else None, o.actual.date if o.actual else None, o.released,
                         o.redirected, o.status))
    return rows
