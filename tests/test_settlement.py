"""Year-end settlement over three years: carry forward, a tiered rule varied mid-year, nil balances."""
from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal as D

import pytest
from beancount import loader
from beancount.core import data

from rules.calendar import year_of
from rules.position import build_position

from conftest import ROOT

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"


@pytest.fixture(scope="module")
def entries():
    entries, errors, _ = loader.load_file(str(THREE))
    assert errors == []
    return entries


def generated(entries):
    return [e for e in entries if isinstance(e, data.Transaction) and "rule" in e.meta]


def postings(entry):
    return [(p.account, f"{p.units.number:.2f}") for p in entry.postings]


def test_underspend_is_carried_forward_with_an_opening_entry(entries):
    carry = [e for e in generated(entries) if "carried forward" in e.narration]
    assert [(e.date, postings(e)) for e in carry] == [
        (datetime.date(2025, 3, 31), [("Income:CarryForward:Out", "550000.00"), ("Equity:CarryForward", "-550000.00")]),
        (datetime.date(2025, 4, 1), [("Equity:CarryForward", "550000.00"), ("Income:CarryForward:In", "-550000.00")]),
    ]
    close_line = next(i for i, line in enumerate(THREE.read_text().splitlines(), 1)
                      if 's75-close" "2024-25"' in line)
    assert all(e.meta["directive"].endswith(f"three-years.beancount:{close_line}") for e in carry)
    assert build_position(entries, datetime.date(2025, 9, 30)).carried_in == D("550000.00")


def test_overspend_settled_under_the_rule_in_force_on_31_march(entries):
    # In force from 1 October 2025: S03's underspend of 100,000.00 absorbs first (the net stays
    # 450,000.00); the first 100,000.00 is shared 30:70 (30,000 / 70,000); the other 350,000.00 by
    # contributions 4,200,000 : 6,300,000 (140,000 / 210,000). Council 170,000.00, ICB 280,000.00.
    settle = [e for e in generated(entries) if e.date == datetime.date(2026, 3, 31)]
    assert sorted(postings(e)[0] for e in settle) == [("Assets:Pool:Due:Council", "170000.00"),
                                                      ("Assets:Pool:Due:ICB", "280000.00")]
    assert all(e.meta["rule"] == "risk-share overspend settlement (1 absorb, 2 tier, 3 tier)" for e in settle)
    result = build_position(entries, datetime.date(2026, 3, 31)).risk_share
    assert result.in_force_from == datetime.date(2025, 10, 1)


def test_the_forecast_at_month_6_used_the_original_rule(entries):
    # Month 6: S01 forecast 6,800,000 (+300,000), no other forecast and S02/S03 spending to profile.
    position = build_position(entries, datetime.date(2025, 9, 30))
    r = position.risk_share
    assert (position.risk_basis, r.in_force_from) == ("forecast", datetime.date(2024, 4, 1))
    assert r.variance == D("300000.00")
    # First 200,000 equally; 100,000 by 4.2m : 6.3m = 40,000 / 60,000.
    assert {p: f"{v:.2f}" for p, v in r.shares.items()} == {"Council": "140000.00", "ICB": "160000.00"}


def test_each_closed_years_income_less_spend_is_nil(entries):
    net = defaultdict(D)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                if p.account.split(":")[0] in ("Income", "Expenses"):
                    net[year_of(entry.date).label] += p.units.number
    assert net["2024-25"] == 0 and net["2025-26"] == 0


def test_settlement_balances_clear_once_partners_pay(entries):
    balances = defaultdict(D)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                balances[p.account] += p.units.number
    for account in ("Assets:Pool:Due:Council", "Assets:Pool:Due:ICB", "Equity:CarryForward"):
        assert balances[account] == 0, account
