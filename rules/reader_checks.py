"""Checks over the whole agreement once `rules.reader` has read every directive: the pool and its
host, the pool's years (budgets need contributions; forecasts need a year the pool has), and the
budgets that carry virements and tranches (never below nil).

Each error names the file and line of the directive that causes it. What is refused is taken out
of the Agreement, as a directive in error is, so that the position, the tranches and the
settlement never compute with it; and what one error explains is not reported again.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from rules.agreement import Agreement
from rules.directives import S75Error, error
from rules.entries import GENERATED, where

ZERO = Decimal("0.00")


def _order(meta: dict) -> tuple:
    return str(meta.get("filename")), meta.get("lineno", 0)


def check_pool(agreement: Agreement, customs: list, state) -> list[S75Error]:
    """The pool is declared, and its host is one of its partners."""
    errors = []
    anchor = customs[0] if customs else None
    if agreement.pool is None:
        if anchor is not None and not any(kind == "s75-pool" for kind, _ in state.rejected):
            errors.append(error(anchor, 'no s75-pool directive: declare the pool, e.g. '
                                        '2025-04-01 custom "s75-pool" "EB-BCF" "Example Borough BCF"'))
    elif agreement.partner(agreement.pool.host) is None:
        entry = next(e for e in customs if e.type == "s75-pool")
        errors.append(error(entry, f's75-pool: unknown host partner "{agreement.pool.host}"'))
    return errors


def check_actuals(agreement: Agreement) -> list[S75Error]:
    """One figure per metric and period, and revisions of it said as such: a second figure without
    `revises:` is an error at it (which counts would otherwise be decided by row order), and so is a
    revision whose `revises:` names no figure of that period or is not before it. Figures in error
    are taken out of the agreement."""
    errors, keep = [], []
    by_period = defaultdict(list)
    for actual in agreement.actuals:
        by_period[(actual.metric, actual.period)].append(actual)
    for (metric, period), figures in by_period.items():
        figures.sort(key=lambda a: (a.date, _order(a.meta)))
        originals = [a for a in figures if a.revises is None]
        dates = {a.date for a in figures}
        for actual in figures:
            if actual.revises is None and actual is not originals[0]:
                first = originals[0]
                errors.append(S75Error(actual.meta, f"a second figure for {metric} {period.label} ({actual.value}; "
                                    f"the first, {first.value}, at {where(first.meta)}): a revised figure "
                                    f"needs revises: {first.date}, the date of the figure it revises", None))
            elif actual.revises is not None and (actual.revises not in dates or actual.revises >= actual.date):
                errors.append(S75Error(actual.meta, f"{metric} {period.label}: revises: {actual.revises} names no "
                                    "earlier figure of the period (give the published date of the figure it "
                                    "revises, before this one's date)", None))
            else:
                keep.append(actual)
    agreement.actuals[:] = keep
    return errors


def check_years(agreement: Agreement, state) -> list[S75Error]:
    """Budgets for a year whose agreed contributions are missing or total nil: an error at the year's
    first budget, and the year's budgets and close are left out (nothing could share its variance).
    Then forecasts for a year the pool does not have: an error at each, left out."""
    errors = []
    funding: dict = defaultdict(lambda: ZERO)
    for c in agreement.contributions:
        funding[c.year] += c.agreed
    unfunded = sorted({b.year for b in agreement.budgets if funding.get(b.year, ZERO) <= 0})
    for year in unfunded:
        budgets = sorted((b for b in agreement.budgets if b.year == year), key=lambda b: (b.date, *_order(b.meta)))
        if ("s75-contribution", year.label) not in state.rejected:  # else that contribution's error explains it
            why = ("its agreed contributions total nil, so nobody could share its over- or underspend"
                   if year in funding else f"no contributions: add each partner's s75-contribution for {year.label}")
            errors.append(S75Error(budgets[0].meta, f"s75-budget: {year.label} has budgets but {why}", None))
        agreement.budgets = [b for b in agreement.budgets if b.year != year]
        agreement.closes.pop(year, None)
        state.incomplete_years.add(year)
    years = set(agreement.years())
    kept = []
    for forecast in agreement.forecasts:
        if forecast.year in years:
            kept.append(forecast)
        elif forecast.year not in state.incomplete_years:
            errors.append(S75Error(forecast.meta, f"s75-forecast: the pool has no {forecast.year.label} (no "
                                                  f"contributions or budgets for it)", None))
    agreement.forecasts = kept
    return errors


def check_carrying_budgets(agreement: Agreement, state) -> list[S75Error]:
    """No scheme's budget for a year goes below nil: a tranche may not take from a scheme it funds more
    than that scheme's budget (its part of the tranche withheld in full, split as the tranche's
    redirections are: error at the tranche), and the virements out of a scheme, written or generated by
    a tranche's redirection or revision, may not take more than its budget (error at the virement that
    does, or the tranche that generated it, or the budget that was set below what had been moved)."""
    errors, reported = [], set()
    for t in agreement.tranches:
        year = t.periods[0].year
        contribution = next((c.agreed for c in agreement.contributions
                             if (c.year, c.partner, c.source) == (year, t.partner, t.source)), None)
        if contribution is None or t.amount > contribution:  # reported as the tranche's error already
            reported.add(t.tranche)
            continue
        if {year, "all"} & state.incomplete_years:
            continue
        found = _tranche_below_nil(agreement, t, year)
        if found is not None:
            reported.add(t.tranche)
            errors.append(found)
    for year, scheme in sorted({(v.year, v.from_scheme) for v in agreement.virements}):
        if {year, "all"} & state.incomplete_years:
            continue
        found = _below_nil(agreement, year, scheme, reported)
        if found is not None:
            errors.append(found)
    return errors


def _tranche_below_nil(agreement: Agreement, t, year) -> S75Error | None:
    """The tranche withheld in full, each funded scheme gives up its part of every period's amount: an
    error at the tranche when a part is more than that scheme's budget for the year (as last set)."""
    parts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for amount in t.period_amounts():
        for scheme, part in t.split(amount):
            parts[scheme] += part
    if len(parts) == 1:  # one scheme carries the whole tranche
        (scheme,) = parts
        budget = agreement.budget(year, scheme, year.end)
        if budget is None or t.amount <= budget.amount:
            return None
        return S75Error(t.meta, f"s75-tranche: {t.amount:,.2f} is more than {scheme}'s {year.label} budget of "
                                f"{budget.amount:,.2f}, which carries it: redirecting it would leave that budget "
                                "negative", None)
    over = []
    for scheme, part in parts.items():
        budget = agreement.budget(year, scheme, year.end)
        if budget is None:
            over.append(f"{scheme}'s part, {part:,.2f}, has no {year.label} budget to carry it")
        elif part > budget.amount:
            over.append(f"{scheme}'s part, {part:,.2f}, is more than its {year.label} budget of "
                        f"{budget.amount:,.2f}")
    if not over:
        return None
    return S75Error(t.meta, f"s75-tranche: withheld in full, {t.amount:,.2f} taken from the schemes it funds "
                            f"({t.funds}) would leave a budget negative: {'; '.join(over)}", None)


def _below_nil(agreement: Agreement, year, scheme: str, reported: set) -> S75Error | None:
    """The first change that takes the scheme's budget for the year below nil, as an error at its cause."""
    budgets = [b for b in agreement.budgets if b.year == year and b.scheme == scheme]
    moves = [v for v in agreement.virements if v.year == year and scheme in (v.from_scheme, v.to)]
    for date in sorted({b.date for b in budgets} | {v.date for v in moves}):
        budget = agreement.budget(year, scheme, date)
        moved = sum(((v.amount if v.to == scheme else ZERO) - (v.amount if v.from_scheme == scheme else ZERO)
                     for v in moves if v.date <= date), ZERO)
        left = (budget.amount if budget is not None else ZERO) + moved
        if left >= 0:
            continue
        outs = sorted((v for v in moves if v.date == date and v.from_scheme == scheme and v.to != scheme),
                      key=lambda v: _order(v.meta))
        if outs:
            cause = outs[-1]
            if cause.meta.get(GENERATED) and agreement.tranche(cause.meta.get("tranche")) is not None:
                tranche = agreement.tranche(cause.meta["tranche"])
                if tranche.tranche in reported:
                    return None
                return S75Error(tranche.meta, f"s75-tranche: redirecting {cause.amount:,.2f} of tranche "
                                              f"{tranche.tranche} from {scheme} on {date} leaves {scheme}'s "
                                              f"{year.label} budget at {left:,.2f}: negative", None)
            return S75Error(cause.meta, f"s75-virement: moving {cause.amount:,.2f} from {scheme} on {date} leaves "
                                        f"its {year.label} budget at {left:,.2f}: negative", None)
        if budget is not None and budget.date == date:
            return S75Error(budget.meta, f"s75-budget: {scheme}'s {year.label} budget of {budget.amount:,.2f} is "
                                         f"less than the {-moved:,.2f} moved out of it by virements, leaving "
                                         f"{left:,.2f}: negative", None)
    return None
