"""Performance tranches: DOMAIN.md's non-elective admissions tranche, methods, pending, entries."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from beancount import loader
from beancount.core import data

from conftest import WORKED
from rules.position import build_position

TRANCHE = """
plugin "rules.tranches"
2025-04-01 custom "s75-metric" "NEA" "Non-elective admissions"
  better: "lower"
2025-04-01 custom "s75-metric-plan" "NEA" "2025-26 H1"
  baseline: 10000
  plan: 9700
2025-04-01 custom "s75-tranche" "P4P" "ICB" "MinimumNHS" 447000.00 GBP
  metric: "NEA"
  periods: "2025-26 H1"
  method: "{method}"
  rate: 1490.00 GBP
  funds: "S04"
  unreleased-to: "{target}"
"""
ACTUAL = '2025-10-17 custom "s75-metric-actual" "NEA" "2025-26 H1" {value}\n'


def ledger_text(actual: int | None, method: str = "per-unit", target: str = "S05") -> str:
    text = WORKED.read_text().replace('plugin "rules.validate"', "") + TRANCHE.format(method=method, target=target)
    text += 'plugin "rules.validate"\n'
    if actual is not None:
        text += ACTUAL.format(value=actual)
    return text


def load(actual: int | None, method: str = "per-unit", target: str = "S05"):
    entries, errors, _ = loader.load_string(ledger_text(actual, method, target))
    assert errors == [], errors
    return entries


def status(entries, date=datetime.date(2026, 3, 31)):
    (tranche,) = build_position(entries, date).tranches
    return tranche


@pytest.mark.parametrize("actual, released, redirected, state", [
    (9800, "298000.00", "149000.00", "part released"),   # 200 avoided x 1,490.00
    (9650, "447000.00", "0.00", "released"),             # 350 avoided: never more than the tranche
    (10050, "0.00", "447000.00", "withheld"),            # worse than baseline: nothing
])
def test_domain_per_unit_tranche(actual, released, redirected, state):
    s = status(load(actual))
    assert (f"{s.released:.2f}", f"{s.redirected:.2f}", s.periods[0].status) == (released, redirected, state)
    assert s.released + s.redirected == D("447000.00") and s.pending == 0


@pytest.mark.parametrize("method, actual, released", [
    ("proportional", 9800, "298000.00"),     # 200 of 300 planned: two thirds
    ("proportional", 9910, "134100.00"),     # 90 of 300: 30%
    ("all-or-nothing", 9701, "0.00"),
    ("all-or-nothing", 9700, "447000.00"),
])
def test_other_release_methods(method, actual, released):
    assert f"{status(load(actual, method)).released:.2f}" == released


def test_missing_actual_leaves_the_tranche_pending():
    s = status(load(None))
    assert (s.pending, s.released, s.periods[0].status) == (D("447000.00"), D("0.00"), "pending")


def test_redirect_to_contingency_is_a_virement_from_the_funded_scheme():
    entries = load(9800)
    schemes = {s.scheme.scheme: s for s in build_position(entries, datetime.date(2026, 3, 31)).schemes}
    assert schemes["S04"].annual_budget == D("7500000.00") - D("149000.00")
    assert schemes["S05"].annual_budget == D("500000.00") + D("149000.00")
    # Before the period ends the virement has not happened.
    early = {s.scheme.scheme: s for s in build_position(entries, datetime.date(2025, 9, 29)).schemes}
    assert early["S05"].annual_budget == D("500000.00")


def test_generated_entries_name_rule_and_directive():
    entries = load(9800)
    generated = [e for e in entries if isinstance(e, (data.Transaction, data.Custom))
                 and "rule" in (e.meta or {})]
    kinds = sorted((e.date.isoformat(), getattr(e, "narration", getattr(e, "type", ""))) for e in generated)
    assert kinds == [
        ("2025-04-01", "Tranche P4P held back pending NEA"),
        ("2025-09-30", "Tranche P4P 2025-26 H1 redirected to S05"),
        ("2025-09-30", "Tranche P4P 2025-26 H1 released into the schemes"),
        ("2025-09-30", "s75-virement"),
    ]
    released = next(e for e in generated if "released" in getattr(e, "narration", ""))
    assert released.meta["rule"] == "tranche per-unit"
    text = ledger_text(9800)
    actual_line = next(i for i, line in enumerate(text.splitlines(), 1) if "s75-metric-actual" in line)
    assert released.meta["directive"] == f"<string>:{actual_line}"  # the actual that decided it
    assert "s75-generated" in released.tags
    assert [(p.account, p.units.number) for p in released.postings] == [
        ("Equity:Tranche:P4P", D("298000.00")), ("Equity:Tranche:Contributions", D("-298000.00"))]


def test_redirect_to_a_partner_owes_it_the_money():
    entries = load(9800, target="ICB")
    redirect = next(e for e in entries if isinstance(e, data.Transaction) and "redirected" in e.narration)
    assert ("Liabilities:Partner:ICB", D("-149000.00")) in [(p.account, p.units.number) for p in redirect.postings]
    s04 = next(s for s in build_position(entries, datetime.date(2026, 3, 31)).schemes if s.scheme.scheme == "S04")
    assert s04.annual_budget == D("7351000.00")


def test_example_pool_tranche_at_month_6(example_entries):
    s = status(example_entries, datetime.date(2025, 9, 30))
    # Baseline 10,000, plan 9,700, actual 9,780: 220 avoided x 1,490.00 = 327,800.00; 119,200.00 to S05.
    assert (s.released, s.redirected, s.pending) == (D("327800.00"), D("119200.00"), D("0.00"))
