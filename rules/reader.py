"""Build the Agreement from a ledger's `custom "s75-..."` directives, checking cross-references.

Pure: `read_agreement(entries)` returns (Agreement, errors). Directives in error are left out of
the Agreement, so what is right still counts. Every message names the directive's file and line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from beancount.core import account as account_lib
from beancount.core import data

from rules import budget_history, directives, reader_checks, reader_commitments, reader_statements, reader_terms
from rules.agreement import (AREAS, JOINT, KINDS, Agreement, Budget, Contribution, Forecast, Metric,
                             MetricActual, MetricPlan, Partner, Pool, Scheme, natural_key, parse_shares)
from rules.allocation import spread_evenly
from rules.calendar import parse_period, parse_year
from rules.commitments import order_key
from rules.directives import S75Error, error
from rules.entries import where

# A pool ID names the statement's files, so it must be safe as (part of) a file name anywhere.
SAFE_POOL_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


# Directives others refer to are read first, whatever their dates.
FIRST = ("s75-pool", "s75-partner", "s75-source", "s75-metric", "s75-scheme", "s75-commitment")


def s75_customs(entries: Iterable[Any]) -> list[data.Custom]:
    return [e for e in entries if isinstance(e, data.Custom) and e.type.startswith("s75-")]


@dataclass
class _State:
    """What reading has seen so far: partner order keys, and what was rejected, so that one
    mistake gives one error rather than a cascade (a rejected scheme is not also "unknown")."""

    partner_keys: dict = field(default_factory=dict)
    rejected: set = field(default_factory=set)  # (directive type, first value)
    incomplete_years: set = field(default_factory=set)  # years with a rejected contribution or budget
    incomplete_risk_sets: set = field(default_factory=set)  # (side, date) of sets with a step in error


def read_agreement(entries: Iterable[Any]) -> tuple[Agreement, list[S75Error]]:
    customs = s75_customs(entries)
    customs.sort(key=lambda e: (e.type not in FIRST, FIRST.index(e.type) if e.type in FIRST else 0,
                                e.date, str(e.meta.get("filename")), e.meta.get("lineno", 0)))
    agreement, errors, state = Agreement(), [], _State()
    for entry in customs:
        values, problems = directives.read(entry)
        errors.extend(problems)
        try:
            found = _HANDLERS[entry.type](agreement, entry, values, state) if values is not None else []
        except _Skip:
            found = [None]
        if problems or found:
            found = [e for e in found if e is not None]
            errors.extend(found)
            _reject(entry, state, agreement)
    agreement.schemes.sort(key=lambda s: natural_key(s.scheme))
    errors.extend(reader_checks.check_years(agreement, state))
    errors.extend(reader_checks.check_pool(agreement, customs, state))
    errors.extend(reader_checks.check_actuals(agreement))
    errors.extend(reader_terms.check_terms(agreement, customs, state.incomplete_risk_sets))
    errors.extend(reader_checks.check_carrying_budgets(agreement, state))
    errors.extend(reader_statements.check_statement_months(agreement))
    agreement.incomplete_years = set(state.incomplete_years)
    return agreement, errors


def _reject(entry, state: _State, agreement: Agreement) -> None:
    """Remember what a directive left out for its errors named, so nothing else reports it again."""
    raw = [v.value for v in entry.values]
    first = raw[0] if raw else None
    state.rejected.add((entry.type, first))
    if entry.type in ("s75-contribution", "s75-budget", "s75-scheme"):
        year = parse_year(first) if isinstance(first, str) else None
        state.incomplete_years.add(year if entry.type != "s75-scheme" else "all")
        if entry.type == "s75-scheme":  # its accounts, and the usual one for its ID if they are unreadable
            named = [a for a in raw[2:] if isinstance(a, str) and account_lib.is_valid(a)]
            usual = [f"Expenses:Scheme:{first}"] if isinstance(first, str) else []
            agreement.unread_accounts.update(a for a in named + usual if account_lib.is_valid(a))
        elif entry.type == "s75-contribution" and len(raw) > 2:
            account = entry.meta.get("account", f"Income:Contribution:{raw[1]}:{raw[2]}")
            agreement.unread_receipts.add((year, account))
    if entry.type == "s75-risk-share":
        state.incomplete_risk_sets.add((first, entry.date))
    if entry.type == "s75-commitment" and len(raw) > 2 and isinstance(raw[2], str):
        agreement.unread_orders.add(order_key(raw[2]))


class _Skip(Exception):
    """The directive refers to one already rejected (and reported): skip it without a new error."""


def _refer(state: _State, kind: str, key: str) -> None:
    if (kind, key) in state.rejected:
        raise _Skip


def _year(entry, values, errors):
    year = parse_year(values["year"])
    if year is None:
        errors.append(error(entry, f'{entry.type}: year "{values["year"]}" should look like "2025-26"'))
    return year


def _known_partner(agreement, entry, short, errors, state, what="partner"):
    _refer(state, "s75-partner", short)
    if agreement.partner(short) is None:
        known = ", ".join(p.partner for p in agreement.partners) or "none declared"
        errors.append(error(entry, f'{entry.type}: unknown {what} "{short}" (partners: {known})'))
        return False
    return True


def _pool(agreement, entry, v, state):
    if agreement.pool is not None:
        return [error(entry, "s75-pool: the pool is declared twice")]
    if not SAFE_POOL_ID.fullmatch(v["id"]) or ".." in v["id"]:
        return [error(entry, f's75-pool: pool ID "{v["id"]}" is not safe in a file name (the statement\'s files '
                             'are named for it): use letters, digits, "-", "_" and "." (not first), and no ".."')]
    agreement.pool = Pool(v["id"], v["name"], v["host"], v.get("manager", ""), v.get("agreement", ""),
                          v.get("cash", "Assets:Pool:Cash"))
    return []


def _partner(agreement, entry, v, state):
    if agreement.partner(v["partner"]):
        return [error(entry, f's75-partner: partner "{v["partner"]}" is declared twice')]
    if v["kind"] not in KINDS:
        return [error(entry, f's75-partner: kind "{v["kind"]}" should be one of {", ".join(KINDS)}')]
    order = v.get("order", Decimal(10**9))
    state.partner_keys[v["partner"]] = (order, str(entry.meta.get("filename")), entry.meta.get("lineno", 0))
    agreement.partners.append(Partner(v["partner"], v["name"], v["kind"], order))
    agreement.partners.sort(key=lambda p: state.partner_keys[p.partner])  # declared order, for "equal"
    return []


def _source(agreement, entry, v, state):
    if v["source"] in agreement.sources:
        return [error(entry, f's75-source: funding source "{v["source"]}" is declared twice')]
    agreement.sources[v["source"]] = v["name"]
    return []


def _metric(agreement, entry, v, state):
    if v["metric"] in agreement.metrics:
        return [error(entry, f's75-metric: metric "{v["metric"]}" is declared twice')]
    if v["better"] not in ("lower", "higher"):
        return [error(entry, f's75-metric: better "{v["better"]}" should be "lower" or "higher"')]
    agreement.metrics[v["metric"]] = Metric(v["metric"], v["name"], v["better"], v.get("unit", ""))
    return []


def _scheme(agreement, entry, v, state):
    errors = []
    if agreement.scheme(v["scheme"]):
        errors.append(error(entry, f'duplicate scheme ID "{v["scheme"]}"'))
    area = next((a for a in AREAS if a.lower() == v["area"].lower()), None)
    if area is None:
        errors.append(error(entry, f's75-scheme: area "{v["area"]}" should be one of {", ".join(AREAS)}'))
    for account in v["accounts"]:
        if not account.startswith("Expenses:"):
            errors.append(error(entry, f"s75-scheme: {account} should be an Expenses account"))
    if v["source"] not in agreement.sources:
        errors.append(error(entry, f's75-scheme: unknown funding source "{v["source"]}"'))
    split: list = []
    commissioner = v["commissioner"]
    if commissioner == JOINT:
        if "split" not in v:
            errors.append(error(entry, 's75-scheme: a joint scheme needs split: "ICB 60, Council 40"'))
        else:
            equal = False
            try:
                split, equal = parse_shares(v["split"], [p.partner for p in agreement.partners])
            except ValueError as exc:
                errors.append(error(entry, f"s75-scheme: split {exc}"))
            for partner, _ in split:
                _known_partner(agreement, entry, partner, errors, state)
            total = sum((p for _, p in split), Decimal(0))
            if split and not equal and total != 100:
                errors.append(error(entry, f"s75-scheme: joint split sums to {total}%, not 100%"))
    elif _known_partner(agreement, entry, commissioner, errors, state, "commissioner"):
        split = [(commissioner, Decimal(100))]
    if errors:
        return errors
    agreement.schemes.append(Scheme(
        v["scheme"], v["name"], v["accounts"], v["type"], area, commissioner, tuple(split), v["provider"],
        v["source"], v["recurrent"], v["new"], v.get("benefits"), entry.date, v.get("end"), entry.meta))
    return []


def _contribution(agreement, entry, v, state):
    errors = []
    year = _year(entry, v, errors)
    _known_partner(agreement, entry, v["partner"], errors, state)
    if v["source"] not in agreement.sources:
        errors.append(error(entry, f's75-contribution: unknown funding source "{v["source"]}"'))
    minimum = v.get("minimum", Decimal("0.00"))
    what = f'from {v["partner"]} ({v["source"]})'
    if v["agreed"] < 0:
        errors.append(error(entry, f's75-contribution: agreed contribution {v["agreed"]:,.2f} {what} is negative'))
    if minimum < 0:
        errors.append(error(entry, f"s75-contribution: minimum {minimum:,.2f} {what} is negative"))
    if 0 <= minimum and 0 <= v["agreed"] < minimum:
        errors.append(error(entry, f'agreed contribution {v["agreed"]:,.2f} from {v["partner"]} '
                                   f'({v["source"]}) is below its minimum {minimum:,.2f}'))
    if errors:
        return errors
    if any(c.year == year and c.partner == v["partner"] and c.source == v["source"]
           for c in agreement.contributions):
        return [error(entry, f'contribution {v["partner"]} {v["source"]} {year.label} is stated twice')]
    account = v.get("account", f'Income:Contribution:{v["partner"]}:{v["source"]}')
    agreement.contributions.append(
        Contribution(year, v["partner"], v["source"], v["agreed"], minimum, account, entry.meta))
    return []


def _profile(entry, amount, text):
    """Twelve monthly amounts: "even" (default) or twelve numbers separated by spaces or commas."""
    if text is None or text.strip().lower() == "even":
        return spread_evenly(amount, 12), []
    try:
        months = [Decimal(x) for x in text.replace(",", " ").split()]
    except InvalidOperation:
        return None, [error(entry, f's75-budget: profile "{text}" should be "even" or twelve amounts')]
    if len(months) != 12:
        return None, [error(entry, f"s75-budget: profile has {len(months)} months, not 12")]
    if sum(months) != amount:
        return None, [error(entry, f"budget profile sums to {sum(months):,.2f}, "
                                   f"not the annual budget {amount:,.2f}")]
    return months, []


def _budget(agreement, entry, v, state):
    errors = []
    year = _year(entry, v, errors)
    _refer(state, "s75-scheme", v["scheme"])
    if agreement.scheme(v["scheme"]) is None:
        errors.append(error(entry, f'{entry.type}: unknown scheme "{v["scheme"]}"'))
    if v["amount"] < 0:
        errors.append(error(entry, f's75-budget: budget {v["amount"]:,.2f} for {v["scheme"]} is negative'))
    profile, problems = _profile(entry, v["amount"], v.get("profile"))
    errors.extend(problems)
    twice = next((b for b in agreement.budgets if (b.year, b.scheme, b.date) == (year, v["scheme"], entry.date)),
                 None)
    if twice is not None and not errors:
        errors.append(error(entry, f's75-budget: {v["scheme"]}\'s {year.label} budget is set twice on '
                                   f'{entry.date} (also at {where(twice.meta)}): keep one; a change is dated '
                                   'from when it holds'))
    variation = budget_history.variation_error(agreement, entry, year, v["scheme"], profile) if not errors else None
    if variation is not None:
        errors.append(variation)
    if not errors:
        agreement.budgets.append(Budget(year, v["scheme"], v["amount"], tuple(profile), entry.date, entry.meta))
    return errors


def _forecast(agreement, entry, v, state):
    errors = []
    year = _year(entry, v, errors)
    _refer(state, "s75-scheme", v["scheme"])
    scheme = agreement.scheme(v["scheme"])
    if scheme is None:
        errors.append(error(entry, f'{entry.type}: unknown scheme "{v["scheme"]}"'))
    if v["amount"] < 0:
        errors.append(error(entry, f's75-forecast: forecast outturn {v["amount"]:,.2f} for {v["scheme"]} is negative'))
    if errors:
        return errors
    dated = f"s75-forecast for {v['scheme']} in {year.label} is dated {entry.date}"
    if entry.date > year.end:
        return [error(entry, f"{dated}, after {year.label} ended on {year.end}: from 31 March the outturn is "
                             "the actual spend")]
    if entry.date < year.start:
        return [error(entry, f"{dated}, before {year.label} starts on {year.start}")]
    if entry.date < scheme.start:
        return [error(entry, f"{dated}, before scheme {scheme.scheme} starts on {scheme.start}")]
    agreement.forecasts.append(Forecast(year, v["scheme"], v["amount"], entry.date, v.get("note", ""), entry.meta))
    return []


def _metric_period(agreement, entry, v, errors, state):
    _refer(state, "s75-metric", v["metric"])
    if v["metric"] not in agreement.metrics:
        errors.append(error(entry, f'{entry.type}: unknown metric "{v["metric"]}"'))
    period = parse_period(v["period"])
    if period is None:
        errors.append(error(entry, f'{entry.type}: period "{v["period"]}" should look like '
                                   '"2025-26", "2025-26 H1", "2025-26 Q1" or "2025-26 M01"'))
    return period


def _metric_plan(agreement, entry, v, state):
    errors = []
    period = _metric_period(agreement, entry, v, errors, state)
    if not errors:
        agreement.plans.append(MetricPlan(v["metric"], period, v["baseline"], v["plan"]))
    return errors


def _metric_actual(agreement, entry, v, state):
    errors = []
    period = _metric_period(agreement, entry, v, errors, state)
    if not errors:
        agreement.actuals.append(MetricActual(v["metric"], period, v["value"], v.get("numerator"),
                                              v.get("denominator"), entry.date, entry.meta, v.get("revises")))
    return errors


def _prior_spend(agreement, entry, v, state):
    errors = []
    year = _year(entry, v, errors)
    if _known_partner(agreement, entry, v["partner"], errors, state) and not errors:
        agreement.prior_spend[(year, v["partner"])] = v["amount"]
    return errors


def _contingency_plan(agreement, entry, v, state):
    errors = []
    year = _year(entry, v, errors)
    if _known_partner(agreement, entry, v["partner"], errors, state) and not errors:
        agreement.contingency_plans[(year, v["partner"])] = {
            k: v[k] for k in ("savings", "support", "note") if k in v}
    return errors


def _close(agreement, entry, v, state):
    errors = []
    year = _year(entry, v, errors)
    if year is not None and year in agreement.closes:
        errors.append(error(entry, f"s75-close: {year.label} is closed twice"))
    if not errors:
        agreement.closes[year] = entry
    return errors


_HANDLERS = {
    "s75-pool": _pool, "s75-partner": _partner, "s75-source": _source, "s75-metric": _metric,
    "s75-scheme": _scheme, "s75-contribution": _contribution, "s75-budget": _budget,
    "s75-forecast": _forecast, "s75-metric-plan": _metric_plan, "s75-metric-actual": _metric_actual,
    "s75-tranche": reader_terms.read_tranche, "s75-virement": reader_terms.read_virement,
    "s75-risk-share": reader_terms.read_risk_step, "s75-prior-spend": _prior_spend,
    "s75-contingency-plan": _contingency_plan, "s75-close": _close,
    "s75-commentary": reader_statements.read_commentary, "s75-signoff": reader_statements.read_signoff,
    "s75-commitment": reader_commitments.read_commitment, "s75-accrual": reader_commitments.read_accrual,
    "s75-lock": lambda agreement, entry, values, state: [],  # not part of the agreement: rules.locks
}
