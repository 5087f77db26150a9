"""`s75 budget-history LEDGER --scheme S01 [--date D]`: a scheme's budget for the year and how it got there.

The original budget, then each variation (a later s75-budget, with who approved it) and each virement in
or out (with its reason and approver; a virement the rules wrote for a tranche names the tranche), in
date order, with the budget after each, and the revised budget: the position's annual budget for the
scheme on that date (rules.budget_history; checked against rules.position, and the command says so and
exits 1 if they ever differ).
"""
from __future__ import annotations

import sys

from rules.allocation import to_penny
from rules.budget_history import history


def run_budget_history(args) -> int:
    from s75.cli import ledger_position
    found = ledger_position(args)
    if found is None:
        return 1
    position = found[1]
    as_of = position.as_of
    row = next((s for s in position.schemes if s.scheme.scheme == args.scheme), None)
    if row is None:
        known = ", ".join(s.scheme.scheme for s in position.schemes)
        print(f"{args.ledger}: no scheme {args.scheme} with a {position.year.label} budget (schemes: {known})",
              file=sys.stderr)
        return 1
    found = history(position.agreement, position.year, args.scheme, as_of)
    print(f"{args.scheme} {row.scheme.name}: {position.year.label} budget to {as_of} ({position.pool.name})")
    print()
    width = max(len(_money(line.budget)) for line in found.lines)
    kind = max(len(line.kind) for line in found.lines)
    print(f"{'Date':<10}  {'Change':<{kind}}  {'Amount':>{width}}  {'Budget after':>{width}}  Where, why, approved by")
    for line in found.lines:
        said = [line.reason] if line.reason else []
        if line.counterpart:
            said.insert(0, f"{'from' if line.change > 0 else 'to'} {line.counterpart}")
        if line.kind != "original":
            said.append(f"approved: {line.approved or 'not recorded'}")
        print(f"{line.date}  {line.kind:<{kind}}  {_money(line.change):>{width}}  {_money(line.budget):>{width}}  "
              f"{line.where}" + (f"  {'; '.join(said)}" if said else ""))
    print()
    print(f"Original budget  {_money(found.original):>{width}}")
    print(f"Changes          {_money(found.changes):>{width}}")
    print(f"Revised budget   {_money(found.revised):>{width}}")
    if found.revised != row.annual_budget:
        print(f"s75 budget-history: these lines come to {_money(found.revised)} but the position's annual budget "
              f"for {args.scheme} is {_money(row.annual_budget)}", file=sys.stderr)
        return 1
    return 0


def _money(value) -> str:
    value = to_penny(value)
    return f"({-value:,.2f})" if value < 0 else f"{value:,.2f}"
