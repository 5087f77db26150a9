"""Read the agreement's performance and risk terms: tranches, virements and risk-share steps.

Handlers for `rules.reader`, and whole-agreement checks that need everything read first:
a tranche against its partner's contribution and its metric's plans, and each set of risk-share
steps for gaps, overlaps, order and coverage. Every error names a directive's file and line.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from rules.agreement import Agreement, RiskStep, Tranche, Virement, natural_key, parse_shares, parse_split
from rules.calendar import parse_period, parse_year
from rules.directives import S75Error, error

METHODS = ("per-unit", "proportional", "all-or-nothing")
PRO_RATA = "pro-rata"
_EQUAL = re.compile(r"\s*equal\b(.*)", re.IGNORECASE | re.DOTALL)
SIDES = ("overspend", "underspend")
SCHEME_LEVEL = ("absorb", "commissioner")
TERMINAL = ("commissioner", "proportional", "return", "fixed", "carry-forward")
KINDS = {
    "overspend": ("absorb", "commissioner", "tier", "proportional", "fixed", "cap"),
    "underspend": ("commissioner", "tier", "proportional", "return", "fixed", "carry-forward"),
}
LABELS = {
    "absorb": "Underspends on {schemes} absorb overspends", "commissioner": "Commissioner bears its schemes' variance",
    "tier": "Tier {band}", "proportional": "In proportion to contributions",
    "return": "Returned in proportion to contributions", "fixed": "Fixed shares {split}",
    "carry-forward": "Carried forward into next year's pool", "cap": "Shares capped at {limits}",
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _scheme_or_partner(agreement: Agreement, name: str) -> bool:
    return agreement.scheme(name) is not None or agreement.partner(name) is not None


def read_tranche(agreement, entry, v, state):
    errors = []
    if agreement.tranche(v["tranche"]):
        errors.append(error(entry, f's75-tranche: tranche "{v["tranche"]}" is declared twice'))
    if agreement.partner(v["partner"]) is None:
        errors.append(error(entry, f's75-tranche: unknown partner "{v["partner"]}"'))
    if v["metric"] not in agreement.metrics:
        errors.append(error(entry, f's75-tranche: unknown metric "{v["metric"]}"'))
    if v["method"] not in METHODS:
        errors.append(error(entry, f's75-tranche: method "{v["method"]}" should be one of {", ".join(METHODS)}'))
    if v["method"] == "per-unit" and "rate" not in v:
        errors.append(error(entry, "s75-tranche: a per-unit tranche needs rate: (money per unit)"))
    shares = _funds(agreement, entry, v, errors)
    if not _scheme_or_partner(agreement, v["unreleased-to"]):
        errors.append(error(entry, f's75-tranche: unreleased-to "{v["unreleased-to"]}" is neither a scheme '
                                   "nor a partner"))
    if v["amount"] <= 0:
        errors.append(error(entry, "s75-tranche: amount should be more than nil"))
    periods = []
    for label in _names(v["periods"]):
        period = parse_period(label)
        if period is None:
            errors.append(error(entry, f's75-tranche: period "{label}" should look like "2025-26 H1"'))
        periods.append(period)
    if periods and len({p.year for p in periods if p}) > 1:
        errors.append(error(entry, "s75-tranche: all periods of a tranche must be in one financial year"))
    if not errors:
        agreement.tranches.append(Tranche(
            v["tranche"], v["partner"], v["source"], v["amount"], v["metric"], tuple(periods), v["method"],
            v.get("rate"), v["funds"], v["unreleased-to"], entry.date, entry.meta, shares))
    return errors


def _funds(agreement, entry, v, errors) -> tuple[tuple[str, Decimal], ...]:
    """The schemes `funds:` names with their weights (see rules.agreement.Tranche.shares): "S04" (that
    scheme, 100), "S01 60, S02 40" (weights summing to 100, in the order written), "equal S01, S02, S03"
    (1 each, in the order of the scheme register). () for "pro-rata" and a bare "equal", which take every
    scheme with a budget for the year but `unreleased-to:` once the budgets are read (`_resolve_funds`),
    and with an error when `funds:` is malformed, names an unknown scheme or one twice, or names the
    scheme that is `unreleased-to:` (what is withheld from it would go back to it)."""
    text, target = v["funds"].strip(), v["unreleased-to"]
    equal = _EQUAL.fullmatch(text)
    if text.lower() == PRO_RATA or (equal and not equal.group(1).strip()):
        return ()
    found = []
    if equal:
        for name in (n.strip() for n in equal.group(1).split(",")):
            if len(name.split()) != 1:
                errors.append(error(entry, f's75-tranche: funds "{text}": "{name}" should be a scheme ID, '
                                           'e.g. "equal S01, S02, S03"'))
                return ()
            found.append((name, Decimal(1)))
    elif len(text.split()) == 1 and "," not in text:
        found.append((text, Decimal(100)))
    else:
        for chunk in (c.strip() for c in text.split(",")):
            words = chunk.split()
            weight = _weight(words[1]) if len(words) == 2 else None
            if weight is None or weight <= 0:
                errors.append(error(entry, f's75-tranche: funds "{text}": "{chunk}" should be a scheme and its '
                                           'weight, more than nil, e.g. "S01 60, S02 40" (or "equal", "pro-rata")'))
                return ()
            found.append((words[0], weight))
        total = sum(w for _, w in found)
        if total != 100:
            errors.append(error(entry, f's75-tranche: funds "{text}": weights sum to {total}, not 100'))
    names = [name for name, _ in found]
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            errors.append(error(entry, f's75-tranche: funds names scheme "{name}" twice'))
        if agreement.scheme(name) is None:
            errors.append(error(entry, f's75-tranche: funds names unknown scheme "{name}"'))
        elif name == target:
            errors.append(error(entry, f's75-tranche: funds names {name}, which is also unreleased-to: what '
                                       "is withheld from it would go back to it"))
    if equal:
        found.sort(key=lambda share: natural_key(share[0]))
    return tuple(found)


def _weight(text: str) -> Decimal | None:
    try:
        weight = Decimal(text.rstrip("%"))
    except InvalidOperation:
        return None
    return weight if weight.is_finite() else None


def _resolve_funds(agreement: Agreement) -> tuple[list[S75Error], set[str]]:
    """Give each "pro-rata" or bare "equal" tranche its schemes once every budget is read: every scheme
    with a budget for the tranche's year (as set on the tranche's date, or as first set if later) but
    `unreleased-to:`, in the order of the scheme register, weighted by that budget (pro-rata) or 1 each
    (equal). A tranche that finds none is an error at its line and is left out (its name is returned,
    so that nothing else reports it as unknown)."""
    errors, kept, dropped = [], [], set()
    for t in agreement.tranches:
        if t.shares:
            kept.append(t)
            continue
        year, pro_rata = t.periods[0].year, t.funds.strip().lower() == PRO_RATA
        shares = []
        for scheme in sorted(agreement.schemes, key=lambda s: natural_key(s.scheme)):
            budget = agreement.budget(year, scheme.scheme, t.date)
            if scheme.scheme == t.unreleased_to or budget is None or (pro_rata and budget.amount <= 0):
                continue
            shares.append((scheme.scheme, budget.amount if pro_rata else Decimal(1)))
        if not shares:
            errors.append(S75Error(t.meta, f's75-tranche: funds "{t.funds}" finds no scheme with a '
                                           f"{year.label} budget{' above nil' if pro_rata else ''} other than "
                                           f"{t.unreleased_to} to carry it", None))
            dropped.add(t.tranche)
            continue
        kept.append(replace(t, shares=tuple(shares)))
    agreement.tranches[:] = kept
    return errors, dropped


def read_virement(agreement, entry, v, state):
    errors = []
    year = parse_year(v["year"])
    if year is None:
        errors.append(error(entry, f's75-virement: year "{v["year"]}" should look like "2025-26"'))
    if agreement.scheme(v["from"]) is None:
        errors.append(error(entry, f's75-virement: unknown scheme "{v["from"]}"'))
    if not _scheme_or_partner(agreement, v["to"]):
        errors.append(error(entry, f's75-virement: "{v["to"]}" is neither a scheme nor a partner'))
    if v["amount"] < 0:
        errors.append(error(entry, f's75-virement: amount {v["amount"]:,.2f} is negative: to move budget the '
                                   "other way, swap the two schemes"))
    if not errors:
        agreement.virements.append(Virement(year, v["from"], v["to"], v["amount"], entry.date, entry.meta))
    return errors


def read_risk_step(agreement, entry, v, state):
    side, kind, errors = v["side"], v["kind"], []
    if side not in SIDES:
        return [error(entry, f's75-risk-share: side "{side}" should be overspend or underspend')]
    if kind not in KINDS[side]:
        return [error(entry, f's75-risk-share: {side} step kind "{kind}" should be one of {", ".join(KINDS[side])}')]
    number = v["step"]
    if number != number.to_integral_value() or number < 1:
        errors.append(error(entry, f"s75-risk-share: step {number} should be a whole number from 1"))
    schemes = _names(v.get("schemes", ""))
    if kind == "absorb":
        if not schemes:
            errors.append(error(entry, 's75-risk-share: absorb needs schemes: "S05"'))
        for scheme in schemes:
            if agreement.scheme(scheme) is None:
                errors.append(error(entry, f's75-risk-share: unknown scheme "{scheme}"'))
    split = _split(agreement, entry, v, kind, errors)
    limits = _limits(agreement, entry, v, errors) if kind == "cap" else ()
    lower, upper = v.get("from", Decimal(0)), v.get("to")
    if kind == "tier" and "from" not in v and "to" not in v:
        errors.append(error(entry, "s75-risk-share: a tier needs its band: from: and/or to: (amounts)"))
    if kind == "tier" and upper is not None and upper <= lower:
        errors.append(error(entry, f"s75-risk-share: tier band from {lower:,.2f} to {upper:,.2f} is empty"))
    if errors:
        return errors
    band = f"{lower:,.2f} to {upper:,.2f}" if upper is not None else f"above {lower:,.2f}"
    shown = v.get("split", "")
    if split and shown.strip().lower().startswith("equal"):
        shown = "equal: " + ", ".join(name for name, _ in split)
    label = v.get("name") or LABELS[kind].format(
        schemes=", ".join(schemes), band=band, limits=v.get("limits", "each partner's contribution"),
        split=shown)
    agreement.risk_steps.append(RiskStep(side, int(number), kind, label, schemes, split, lower, upper, limits,
                                         entry.date, entry.meta))
    return []


def _split(agreement, entry, v, kind, errors):
    if kind not in ("fixed", "tier"):
        return ()
    text = v.get("split", "proportional" if kind == "tier" else None)
    if text is None:
        errors.append(error(entry, 's75-risk-share: fixed shares need split: "Council 50, ICB 50"'))
        return ()
    if text.strip() == "proportional":
        return ()
    split, equal = _partner_figures(agreement, entry, text, "split", errors)
    if not split:
        return ()
    total = sum(p for _, p in split)
    if total != 100 and not equal:
        errors.append(error(entry, f"s75-risk-share: shares sum to {total}%, not 100%"))
    return tuple(split)


def _limits(agreement, entry, v, errors):
    return _partner_figures(agreement, entry, v["limits"], "limits", errors)[0] if "limits" in v else ()


def _partner_figures(agreement, entry, text: str, key: str, errors) -> tuple[tuple, bool]:
    """"Council 50, ICB 50" read for `key:`, each partner declared, and whether it is an equal split
    ("equal", "equal Council, ICB": a split only); () with an error when not."""
    try:
        if key == "split":
            figures, equal = parse_shares(text, [p.partner for p in agreement.partners])
        else:
            figures, equal = parse_split(text), False
    except ValueError as exc:
        errors.append(error(entry, f"s75-risk-share: {key} {exc}"))
        return (), False
    for partner, _ in figures:
        if agreement.partner(partner) is None:
            errors.append(error(entry, f's75-risk-share: unknown partner "{partner}"'))
    return tuple(figures), equal


def check_terms(agreement: Agreement, customs: list, incomplete_sets: set = frozenset()) -> list[S75Error]:
    """Checks needing the whole agreement: tranches against contributions and plans, metric actuals
    naming tranches, and each risk-share set's order, tiers and coverage. A set with a step in error
    (`incomplete_sets`, as (side, date)) is not checked for gaps or coverage: its error is reported."""
    errors, dropped = _resolve_funds(agreement)
    for t in agreement.tranches:
        year = t.periods[0].year
        contribution = next((c for c in agreement.contributions
                             if (c.year, c.partner, c.source) == (year, t.partner, t.source)), None)
        if contribution is None:
            errors.append(S75Error(t.meta, f"s75-tranche: {t.partner} has no {t.source} contribution in "
                                           f"{year.label} for the tranche to belong to", None))
        elif t.amount > contribution.agreed:
            errors.append(S75Error(t.meta, f"s75-tranche: {t.amount:,.2f} is more than {t.partner}'s "
                                           f"{t.source} contribution of {contribution.agreed:,.2f}", None))
        planned = {p.period.label for p in agreement.plans if p.metric == t.metric}
        for period in t.periods:
            if period.label not in planned:
                errors.append(S75Error(t.meta, f"s75-tranche: no s75-metric-plan for {t.metric} in "
                                               f"{period.label}", None))
    for entry in customs:
        name = entry.meta.get("tranche") if entry.type == "s75-metric-actual" else None
        if name is not None and agreement.tranche(name) is None and name not in dropped:
            errors.append(error(entry, f's75-metric-actual: recorded for unknown tranche "{name}"'))
    errors.extend(_check_risk_sets(agreement, incomplete_sets))
    return errors


def _check_risk_sets(agreement: Agreement, incomplete_sets) -> list[S75Error]:
    errors = []
    sets = defaultdict(list)
    for step in agreement.risk_steps:
        sets[(step.side, step.date)].append(step)
    for (side, date), steps in sorted(sets.items()):
        steps.sort(key=lambda s: s.number)
        if (side, date) not in incomplete_sets:
            errors.extend(_check_set(side, steps))
    for year in agreement.years():
        for side in SIDES:
            if any(s == side and d <= year.start for s, d in incomplete_sets):
                continue
            dates = sorted(d for s, d in sets if s == side)
            if dates and not any(d <= year.start for d in dates):
                first = sets[(side, dates[0])][0]
                errors.append(S75Error(first.meta, f"no {side} risk-share rule in force from "
                                                   f"{year.start} until {dates[0]}", None))
    return errors


def _check_set(side: str, steps: list[RiskStep]) -> list[S75Error]:
    errors = []
    seen, finished, pool_level = set(), None, None
    tiers = [s for s in steps if s.kind == "tier"]
    for step in steps:
        if step.number in seen:
            errors.append(S75Error(step.meta, f"{side} step {step.number} is stated twice", None))
        seen.add(step.number)
        if finished is not None and step.kind != "cap":
            errors.append(S75Error(step.meta, f"{side} step {step.number} never applies: step "
                                              f"{finished.number} ({finished.kind}) takes all that is left", None))
        if step.kind in SCHEME_LEVEL and pool_level is not None:
            errors.append(S75Error(step.meta, f"{side} step {step.number} ({step.kind}) works scheme by scheme "
                                              f"and must come before step {pool_level.number} ({pool_level.kind})",
                                   None))
        if step.kind not in SCHEME_LEVEL and step.kind != "cap" and pool_level is None:
            pool_level = step
        if step.kind in TERMINAL or (step.kind == "tier" and step.upper is None):
            finished = finished or step
    previous = None
    for tier in tiers:
        expected = previous.upper if previous else Decimal(0)
        if previous is not None and previous.upper is None:
            errors.append(S75Error(tier.meta, f"{side} tiers overlap: step {previous.number} has no upper "
                                              f"bound, so step {tier.number} never applies", None))
        elif tier.lower < expected:
            errors.append(S75Error(tier.meta, f"{side} tiers overlap: step {tier.number} starts at "
                                              f"{tier.lower:,.2f}, before {expected:,.2f}", None))
        elif tier.lower > expected:
            errors.append(S75Error(tier.meta, f"{side} tiers leave a gap from {expected:,.2f} to "
                                              f"{tier.lower:,.2f}", None))
        previous = tier
    if finished is None and steps:
        last = tiers[-1] if tiers else steps[-1]
        above = f" above {last.upper:,.2f}" if tiers else ""
        errors.append(S75Error(last.meta, f"{side} steps dated {steps[0].date} leave the variance{above} "
                                          "with nobody: end with a step that takes the rest", None))
    return errors
