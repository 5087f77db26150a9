"""Plugin: year-end settlement of the risk share, once a year is closed.

    2026-03-31 custom "s75-close" "2025-26"

For a closed year the plugin takes the pool position at 31 March (actual outturn against the
budgets after virements: forecasts play no part, so a scheme without one does not hold the close
up), applies the risk-share steps in force on 31 March (rules.risk_share), and writes, dated
31 March and tagged #s75-generated, one transaction per partner:

    overspend share s:  Assets:Pool:Due:<Partner>  s      Income:RiskShare:<Partner>  -s
    underspend share s: Income:RiskShare:<Partner> |s|    Liabilities:Partner:<Partner> -|s|

and, for an underspend carried forward, the carry out at 31 March and the opening entry of the
next year on 1 April:

    2026-03-31  Income:CarryForward:Out   300000.00 GBP    Equity:CarryForward  -300000.00 GBP
    2026-04-01  Equity:CarryForward       300000.00 GBP    Income:CarryForward:In  -300000.00 GBP

so that the year's income less its spend is nil, or what the agreement leaves unallocated. Each
entry names the rule and the close directive (file:line) in its metadata.

Errors, at the close directive: a close dated before 31 March, a balance left in suspense
(Expenses:Suspense) at 31 March, a variance with no risk-share rule in force, and an amount the
agreement leaves with nobody (e.g. above every partner's cap).
"""
from __future__ import annotations

from decimal import Decimal

from rules.calendar import FinancialYear
from rules.directives import S75Error, error
from rules.entries import generated_meta, opened_accounts, openings, transaction
from rules.position import SETTLEMENT_RULE, SUSPENSE, PositionError, build_position, suspense_balance
from rules.reader import read_agreement

__plugins__ = ("settlement",)
ZERO = Decimal("0.00")


def settlement(entries, options_map, config=None):
    agreement, _ = read_agreement(entries)
    new, errors = settlement_entries(entries, agreement, opened_accounts(entries))
    return entries + new, errors


def settlement_entries(entries, agreement, opened: set[str]) -> tuple[list, list]:
    """(new entries, errors) of the plugin, for date-ordered `entries` whose agreement is `agreement`
    and which open the accounts `opened` (rules.pool calls it with what it has read once)."""
    new, errors, wanted = [], [], {}
    for year, close in sorted(agreement.closes.items()):
        found = _close_errors(entries, year, close)
        if found:
            errors.extend(found)
            continue
        try:
            position = build_position(entries, year.end, agreement)
        except PositionError as exc:
            errors.append(error(close, f"s75-close: {exc}"))
            continue
        result = position.risk_share
        if result.side is not None and not result.steps:
            errors.append(error(close, f"s75-close: cannot settle {year.label}: {result.note}"))
            continue
        if result.unallocated:
            errors.append(error(close, f"s75-close: the risk share leaves {result.unallocated:,.2f} of the "
                                       f"{year.label} {result.side} with no partner"))
        new.extend(_settle(year, close, result, wanted))
    new.extend(openings(opened, wanted, "settlement"))
    return new, errors


def _close_errors(entries, year: FinancialYear, close) -> list[S75Error]:
    errors = []
    if close.date < year.end:
        errors.append(error(close, f"s75-close: {year.label} cannot be closed before {year.end}"))
    suspense = suspense_balance(entries, year)
    if suspense:
        errors.append(error(close, f"s75-close: {suspense:,.2f} is still in {SUSPENSE} for {year.label}: "
                                   "map it to schemes before closing"))
    return errors


def _settle(year: FinancialYear, close, result, wanted: dict) -> list:
    steps = ", ".join(f"{s.number} {s.kind}" for s in result.steps)
    rule = f"{SETTLEMENT_RULE} {result.side} settlement ({steps})"
    out = []
    for partner, share in result.shares.items():
        if not share:
            continue
        income = f"Income:RiskShare:{partner}"
        other = f"Assets:Pool:Due:{partner}" if share > 0 else f"Liabilities:Partner:{partner}"
        for account in (income, other):
            wanted.setdefault(account, (year.start, close.meta))
        what = "share of the overspend, due to the pool" if share > 0 else "share of the underspend, due back"
        out.append(transaction(year.end, generated_meta(rule, close.meta, partner=partner), partner,
                               f"{year.label} risk share: {partner}'s {what}",
                               [(other, share), (income, -share)]))
    if result.carried_forward:
        carried = -result.carried_forward  # an underspend is negative: this is money carried
        nxt = year.next()
        for account, date in (("Income:CarryForward:Out", year.start), ("Equity:CarryForward", year.start),
                              ("Income:CarryForward:In", year.start)):
            wanted.setdefault(account, (date, close.meta))
        out.append(transaction(year.end, generated_meta(rule, close.meta), "",
                               f"{year.label} underspend carried forward into {nxt.label}",
                               [("Income:CarryForward:Out", carried), ("Equity:CarryForward", -carried)]))
        out.append(transaction(nxt.start, generated_meta("carry-forward opening", close.meta), "",
                               f"{nxt.label} opening: underspend carried forward from {year.label}",
                               [("Equity:CarryForward", carried), ("Income:CarryForward:In", -carried)]))
    return out
