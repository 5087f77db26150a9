"""The position as readable terminal tables (rich). Lays out the model's figures; computes none."""
from __future__ import annotations

import shutil
import sys
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from rules.position import PoolPosition
from rules.allocation import to_penny
from rules.calendar import month_title

BASIS_MARK = {"forecast": "", "run-rate": " r", "commitments": " c", "budget": " b", "actual": ""}


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{to_penny(value):,.2f}"


def print_position(position: PoolPosition, file=None) -> None:
    width = shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 200
    console = Console(file=file, width=max(width, 120), highlight=False)
    console.print(f"[bold]{position.pool.name}[/bold] ({position.pool.id}), {position.year.label}: "
                  f"{month_title(position.as_of)}")
    console.print(f"Host: {position.pool.host}")
    console.print(contributions_table(position))
    console.print(schemes_table(position))
    if position.commitments:
        console.print(orders_table(position))
    if position.adjustments:
        console.print(adjustments_table(position))
    if position.tranches:
        console.print(tranches_table(position))
    console.print(risk_share_table(position))
    bases = {s.forecast_basis for s in position.schemes}
    if "run-rate" in bases:
        console.print(" r  no forecast recorded: outturn is the run-rate (actual to date / months x 12)")
    if "commitments" in bases:
        console.print(" c  no forecast recorded: outturn is actual + committed + the run-rate for the months left")
    if "budget" in bases:
        console.print(" b  no forecast and no spend yet: outturn is the budget")


def contributions_table(position: PoolPosition) -> Table:
    table = Table(title="Contributions", title_justify="left")
    for name in ("Partner", "Source", "Minimum", "Agreed", "Received", "Outstanding", "Share %"):
        table.add_column(name, justify="left" if name in ("Partner", "Source") else "right")
    for p in position.partners:
        host = " (host)" if p.host else ""
        for i, s in enumerate(p.sources):
            table.add_row(p.partner.partner + host if i == 0 else "", s.source_name, money(s.minimum),
                          money(s.agreed), money(s.received), money(s.outstanding), "")
        table.add_row("", "[i]total[/i]", money(p.minimum), money(p.agreed), money(p.received),
                      money(p.outstanding), f"{to_penny(p.share):.2f}", end_section=True)
    t = position.partner_totals
    table.add_row("[b]Pool[/b]", "", money(t["minimum"]), money(t["agreed"]), money(t["received"]),
                  money(t["outstanding"]), "100.00")
    return table


def schemes_table(position: PoolPosition) -> Table:
    """The schemes, with Committed and Actual plus committed when the pool has orders raised."""
    table = Table(title="Schemes", title_justify="left")
    orders = bool(position.commitments)
    fields = ("annual_budget", "budget_to_date", "actual_to_date") + (
        ("committed", "actual_plus_committed") if orders else ()) + ("variance_to_date", "forecast_outturn",
                                                                     "forecast_variance")
    names = {"annual_budget": "Budget", "budget_to_date": "Budget to date", "actual_to_date": "Actual to date",
             "committed": "Committed", "actual_plus_committed": "Actual + committed",
             "variance_to_date": "Variance to date", "forecast_outturn": "Forecast outturn",
             "forecast_variance": "Forecast variance"}
    for name in ("ID", "Scheme", "Commissioner"):
        table.add_column(name, justify="left")
    for field in fields:
        table.add_column(names[field], justify="right")
    for s in position.schemes:
        sc = s.scheme
        commissioner = sc.commissioner if sc.commissioner != "joint" else \
            "joint " + "/".join(f"{p} {pct:g}%" for p, pct in sc.split)
        table.add_row(sc.scheme, sc.name, commissioner,
                      *(money(getattr(s, f)) + (BASIS_MARK[s.forecast_basis] if f == "forecast_outturn" else "")
                        for f in fields))
    t = position.scheme_totals
    table.add_section()
    table.add_row("", "[b]Total[/b]", "", *(money(t[f]) for f in fields))
    return table


def adjustments_table(position: PoolPosition) -> Table:
    """The prior-period adjustments in the year to the date: corrections to locked months, posted in an
    open month (they count in the month they are posted in)."""
    table = Table(title="Prior-period adjustments", title_justify="left")
    for name in ("Posted", "Corrects", "Entry", "Scheme or partner", "Amount", "Where"):
        table.add_column(name, justify="right" if name == "Amount" else "left")
    for a in position.adjustments:
        said = ": ".join(part for part in (a.payee, a.narration) if part)
        table.add_row(str(a.date), a.adjusts, said, a.scheme or (f"{a.partner} (received)" if a.partner else a.account),
                      money(a.amount), a.where)
    table.add_section()
    table.add_row("", "", "[b]Total spend[/b]", "", money(position.adjustments_total), "")
    if position.adjustments_received:
        table.add_row("", "", "[b]Total received[/b]", "", money(position.adjustments_received), "")
    return table


def orders_table(position: PoolPosition) -> Table:
    """The orders raised by the date: amount, drawn down, still committed."""
    table = Table(title="Orders (commitments)", title_justify="left")
    for name in ("Order", "Scheme", "Supplier", "Raised", "Amount", "Drawn down", "Committed", "Closed"):
        table.add_column(name, justify="right" if name in ("Amount", "Drawn down", "Committed") else "left")
    for o in position.commitments:
        c = o.commitment
        table.add_row(c.reference, c.scheme, c.supplier, str(c.date), money(c.amount), money(o.drawn),
                      money(o.outstanding), str(c.closed or ""))
    table.add_section()
    t = position.commitment_totals
    table.add_row("", "", "[b]Total[/b]", "", money(t["amount"]), money(t["drawn"]), money(t["committed"]), "")
    return table


def tranches_table(position: PoolPosition) -> Table:
    table = Table(title="Performance tranches", title_justify="left")
    for name in ("Tranche", "Period", "Metric", "Baseline", "Plan", "Actual", "Amount", "Released",
                 "Redirected", "Status"):
        table.add_column(name, justify="right" if name in ("Amount", "Released", "Redirected") else "left")
    for status in position.tranches:
        t = status.tranche
        for o in status.periods:
            table.add_row(f"{t.tranche} ({t.partner})", o.period.label, t.metric, str(o.baseline or ""),
                          str(o.plan or ""), str(o.actual.value) if o.actual else "",
                          money(o.amount), money(o.released),
                          money(o.redirected) + (f" to {t.unreleased_to}" if o.redirected else ""), o.status)
    return table


def risk_share_table(position: PoolPosition) -> Table:
    r = position.risk_share
    basis = "actual outturn" if position.risk_basis == "actual" else "forecast outturn"
    title = f"Risk share on the {basis}: net {r.side or 'variance'} {money(r.variance)}"
    if r.in_force_from:
        title += f" (agreement in force from {r.in_force_from})"
    partners = list(r.shares)
    table = Table(title=title, title_justify="left", caption=r.note or None, caption_justify="left")
    table.add_column("Step")
    table.add_column("Rule")
    table.add_column("To share", justify="right")
    for partner in partners:
        table.add_column(partner, justify="right")
    table.add_column("Left", justify="right")
    for step in r.steps:
        table.add_row(str(step.number), step.label, money(step.variance_in),
                      *(money(step.shares.get(p)) for p in partners), money(step.variance_out))
    table.add_section()
    table.add_row("", "[b]Share of the variance[/b]", money(r.variance), *(money(r.shares[p]) for p in partners),
                  money(r.unallocated))
    if r.carried_forward:
        table.add_row("", "Carried forward into next year", money(r.carried_forward), *("" for _ in partners), "")
    return table
