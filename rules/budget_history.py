"""A scheme's budget for a year as it was set and changed: the original budget, each variation (a later
`s75-budget` for the same scheme and year) and each virement in or out, with its date, reason and who
approved it, and the revised budget that results.

Pure: reads the Agreement only. The revised budget is the position's annual budget (rules.position
adds the same virements to the budget in force), so `history(...).revised` equals the scheme's
`annual_budget` at the same date; the statement's original and changes columns come from here.

A variation must say who approved it (`approved:`); the original budget, written when the plan is
agreed, need not. `variation_error` is the check rules.reader makes as it reads a budget.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from rules.agreement import Agreement, Budget
from rules.allocation import spread_evenly
from rules.calendar import FinancialYear, month_number
from rules.directives import S75Error, error
from rules.entries import where

ZERO = Decimal("0.00")
ORIGINAL, VARIATION, VIREMENT_IN, VIREMENT_OUT = "original", "variation", "virement in", "virement out"


@dataclass(frozen=True)
class BudgetChange:
    """One line of a scheme's budget history: what changed its budget for the year, by how much, and what
    the budget was after it."""

    date: datetime.date
    kind: str  # original, variation, virement in, virement out
    change: Decimal  # the original budget itself on the first line; + more budget, - less
    budget: Decimal  # the scheme's budget for the year after this line
    counterpart: str  # the scheme or partner a virement moved budget from or to ("" otherwise)
    reason: str
    approved: str  # who approved it, as written; for a generated virement, the agreement's rule
    where: str  # file:line of the directive (for a generated virement, of the directive behind it)


@dataclass(frozen=True)
class BudgetHistory:
    scheme: str
    year: FinancialYear
    original: Decimal
    lines: tuple[BudgetChange, ...]
    revised: Decimal

    @property
    def changes(self) -> Decimal:
        """Revised less original: the variations and virements added up."""
        return self.revised - self.original


def variation_error(agreement: Agreement, entry, year: FinancialYear, scheme: str,
                    profile: list[Decimal] | None = None) -> S75Error | None:
    """An error at a budget set for a scheme and year that already has one from an earlier date (a
    variation) when it does not say who approved it, is dated after the year, or gives a `profile`
    that changes a month before its own."""
    earlier = sorted((b for b in agreement.budgets if b.year == year and b.scheme == scheme and b.date < entry.date),
                     key=lambda b: b.date)
    if not earlier:
        return None
    first = earlier[0]
    if not str(entry.meta.get("approved", "")).strip():
        return error(entry, f"s75-budget: {scheme}'s {year.label} budget was set on {first.date} "
                            f"({where(first.meta)}), so this one is a variation: it needs approved: (who approved "
                            f"it, e.g. \"Health and Wellbeing Board, 20 November 2025\") and, better, reason:")
    if entry.date > year.end:
        return error(entry, f"s75-budget: a variation of {scheme}'s {year.label} budget dated {entry.date}, after the "
                            f"year ended on {year.end}: a closed-off year's budget is not varied")
    if profile is not None and entry.meta.get("profile") is not None:
        before = base_profile(earlier, year, entry.date)
        past = _first_month_changed(year, entry.date)
        moved = [i for i in range(past) if profile[i] != before[i]]
        if moved:
            i = moved[0]
            return error(entry, f"s75-budget: this variation's profile changes month {i + 1} from {before[i]:,.2f} to "
                                f"{profile[i]:,.2f}, a month before the variation: its profile must keep the months "
                                "before it as they were")
    return None


def base_profile(budgets: list[Budget], year: FinancialYear, as_of: datetime.date) -> list[Decimal] | None:
    """The scheme's monthly budget (April first) from its s75-budgets for the year (in date order), before
    virements: the budget first set, then each variation made on or before `as_of`: its change spread
    evenly over the months after its month (as a virement's is; one in March changes March), or, with its
    own `profile:`, the twelve months it gives (which keep the months before it: `variation_error`).
    Months already past keep the budget they had."""
    if not budgets:
        return None
    profile = list(budgets[0].profile)
    for earlier, later in zip(budgets, budgets[1:]):
        if later.date > as_of:
            break
        if later.meta.get("profile") is not None:
            profile = list(later.profile)
            continue
        first = _first_month_changed(year, later.date)
        for month, part in enumerate(spread_evenly(later.amount - earlier.amount, 12 - first), start=first):
            profile[month] += part
    return profile


def _first_month_changed(year: FinancialYear, date: datetime.date) -> int:
    """The index (April 0) of the first month a change dated `date` moves: the month after its month (in
    March, March itself); from April for a change made before the year."""
    return min(month_number(date), 11) if year.contains(date) else 0


def history(agreement: Agreement, year: FinancialYear, scheme: str, as_of: datetime.date) -> BudgetHistory | None:
    """The scheme's budget history for the year up to and including `as_of` (None without a budget).
    Before the first budget's date the original budget is still the first one set, as the position has it."""
    budgets = sorted((b for b in agreement.budgets if b.year == year and b.scheme == scheme), key=lambda b: b.date)
    if not budgets:
        return None
    first = budgets[0]
    events: list[tuple[datetime.date, int, object]] = [(b.date, 0, b) for b in budgets[1:] if b.date <= as_of]
    events += [(v.date, 1, v) for v in agreement.virements
               if v.year == year and v.date <= as_of and scheme in (v.from_scheme, v.to)]
    events.sort(key=lambda event: (event[0], event[1]))
    budget_set, moved = first.amount, ZERO
    lines = [BudgetChange(first.date, ORIGINAL, first.amount, first.amount, "", _text(first.meta, "reason"),
                          _text(first.meta, "approved"), where(first.meta))]
    for date, _, item in events:
        if isinstance(item, Budget):
            change = item.amount - budget_set
            budget_set = item.amount
            lines.append(BudgetChange(date, VARIATION, change, budget_set + moved, "", _text(item.meta, "reason"),
                                      _text(item.meta, "approved"), where(item.meta)))
            continue
        incoming = item.to == scheme
        change = item.amount if incoming else -item.amount
        moved += change
        rule = _text(item.meta, "rule")
        lines.append(BudgetChange(date, VIREMENT_IN if incoming else VIREMENT_OUT, change, budget_set + moved,
                                  item.from_scheme if incoming else item.to,
                                  _text(item.meta, "reason") or _text(item.meta, "note") or _generated_reason(item.meta),
                                  _text(item.meta, "approved") or (f"the agreement ({rule})" if rule else ""),
                                  where(item.meta)))
    return BudgetHistory(scheme, year, first.amount, tuple(lines), budget_set + moved)


def _generated_reason(meta: dict) -> str:
    """A generated virement's reason: the tranche and period it comes from."""
    if meta.get("tranche"):
        period = f" {meta['period']}" if meta.get("period") else ""
        return f"tranche {meta['tranche']}{period}"
    return ""


def _text(meta: dict, key: str) -> str:
    value = meta.get(key)
    return " ".join(str(value).split()) if value not in (None, "") else ""
