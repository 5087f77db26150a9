"""Exact allocation: the DOMAIN.md penny cases, and properties over random amounts and weights."""
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.allocation import PENNY, allocate, spread_evenly


def test_domain_penny_cases():
    assert allocate(D("1000.00"), [1, 1, 1]) == [D("333.34"), D("333.33"), D("333.33")]
    assert allocate(D("100.01"), [40, 60]) == [D("40.00"), D("60.01")]
    assert allocate(D("400000.00"), [D("8000000.00"), D("12000000.00")]) == [D("160000.00"), D("240000.00")]


def test_ties_go_to_the_party_declared_first():
    assert allocate(D("0.02"), [1, 1, 1]) == [D("0.01"), D("0.01"), D("0.00")]
    assert allocate(D("-0.01"), [1, 1]) == [D("-0.01"), D("0.00")]


def test_refuses_what_cannot_be_split():
    for amount, weights in ((D("1.005"), [1]), (D("1"), []), (D("1"), [0, 0]), (D("1"), [1, -1])):
        with pytest.raises(ValueError):
            allocate(amount, weights)


amounts = st.integers(min_value=-10**13, max_value=10**13).map(lambda p: D(p) * PENNY)
weights = st.lists(st.one_of(st.integers(0, 10**9).map(D),
                             st.decimals(min_value=0, max_value=10**6, places=2)),
                   min_size=1, max_size=6).filter(lambda ws: sum(ws) > 0)


@settings(max_examples=500)
@given(amounts, weights)
def test_parts_sum_to_the_whole_and_each_is_within_a_penny(amount, ws):
    parts = allocate(amount, ws)
    assert sum(parts) == amount
    total = sum(ws)
    for part, w in zip(parts, ws):
        assert part == part.quantize(PENNY)
        assert abs(part - amount * w / total) < PENNY
        if w == 0:
            assert part == 0


@given(amounts, st.integers(1, 24))
def test_spread_evenly_sums_exactly_and_running_totals_are_pro_rata(amount, periods):
    parts = spread_evenly(amount, periods)
    assert len(parts) == periods and sum(parts) == amount
    running = D(0)
    for k, part in enumerate(parts, 1):
        running += part
        assert abs(running - amount * k / periods) <= PENNY / 2
