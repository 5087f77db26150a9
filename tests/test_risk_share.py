"""Risk share: DOMAIN.md's worked examples through the ledger, and properties of the engine."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

from beancount import loader
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import WORKED
from rules.agreement import RiskStep
from rules.allocation import PENNY
from rules.position import build_position
from rules.risk_share import share_risk

YEAR_END = datetime.date(2026, 3, 31)


def year_end_risk_share(steps: str, replace: tuple[str, str] | None = None):
    text = WORKED.read_text()
    if replace:
        text = text.replace(*replace)
    entries, errors, _ = loader.load_string(text + "\n" + steps)
    assert errors == []
    return build_position(entries, YEAR_END).risk_share


def shares(result) -> dict[str, str]:
    return {p: f"{v:.2f}" for p, v in result.shares.items()}


def test_proportional_to_contributions():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional"')
    assert (r.side, r.variance) == ("overspend", D("400000.00"))
    assert shares(r) == {"Council": "160000.00", "ICB": "240000.00"}


def test_fixed_fifty_fifty():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "overspend" 1 "fixed"\n'
                            '  split: "Council 50, ICB 50"')
    assert shares(r) == {"Council": "200000.00", "ICB": "200000.00"}


def test_tiered_first_250k_equal_then_proportional():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"\n'
                            '  to: 250000.00 GBP\n  split: "Council 50, ICB 50"\n'
                            '2025-04-01 custom "s75-risk-share" "overspend" 2 "tier"\n  from: 250000.00 GBP')
    assert shares(r) == {"Council": "185000.00", "ICB": "215000.00"}
    tier1, tier2 = r.steps
    assert {p: f"{v:.2f}" for p, v in tier1.shares.items()} == {"Council": "125000.00", "ICB": "125000.00"}
    assert {p: f"{v:.2f}" for p, v in tier2.shares.items()} == {"Council": "60000.00", "ICB": "90000.00"}


def test_contingency_first_then_commissioner():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "overspend" 1 "absorb"\n  schemes: "S05"\n'
                            '2025-04-01 custom "s75-risk-share" "overspend" 2 "commissioner"')
    absorb, commissioner = r.steps
    assert {k: f"{v:.2f}" for k, v in absorb.schemes.items()} == \
        {"S01": "-250000.00", "S02": "-200000.00", "S04": "-50000.00", "S05": "500000.00"}
    assert {k: f"{v:.2f}" for k, v in commissioner.schemes.items()} == \
        {"S01": "250000.00", "S02": "200000.00", "S03": "-100000.00", "S04": "50000.00"}
    assert shares(r) == {"Council": "250000.00", "ICB": "150000.00"}


UNDERSPEND = ("Reablement for the year\"\n  Expenses:Scheme:S02                       4400000.00 GBP",
              "Reablement for the year\"\n  Expenses:Scheme:S02                       3700000.00 GBP")


def test_underspend_returned_in_proportion():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "underspend" 1 "return"', UNDERSPEND)
    assert (r.side, r.variance) == ("underspend", D("-300000.00"))
    assert shares(r) == {"Council": "-120000.00", "ICB": "-180000.00"}


def test_underspend_carried_forward_gives_nobody_anything():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "underspend" 1 "carry-forward"', UNDERSPEND)
    assert shares(r) == {"Council": "0.00", "ICB": "0.00"}
    assert r.carried_forward == D("-300000.00")


def test_cap_passes_the_excess_to_the_others_and_leaves_what_nobody_can_take():
    r = year_end_risk_share('2025-04-01 custom "s75-risk-share" "overspend" 1 "fixed"\n'
                            '  split: "Council 50, ICB 50"\n'
                            '2025-04-01 custom "s75-risk-share" "overspend" 2 "cap"\n'
                            '  limits: "Council 150000, ICB 230000"')
    assert shares(r) == {"Council": "150000.00", "ICB": "230000.00"}
    assert r.unallocated == D("20000.00")


def test_no_risk_share_leaves_the_variance_with_the_pool():
    r = year_end_risk_share("")
    assert r.steps == () and r.unallocated == D("400000.00")
    assert "no risk share" in r.note


def test_penny_cases_three_ways():
    step = RiskStep("overspend", 1, "fixed", "thirds", split=(("A", D(1)), ("B", D(1)), ("C", D(1))))
    r = share_risk([step], [("S1", D("1000.00"))], {"S1": (("A", D(100)),)},
                   {"A": D(1), "B": D(1), "C": D(1)})
    assert [f"{v:.2f}" for v in r.shares.values()] == ["333.34", "333.33", "333.33"]
    step = RiskStep("overspend", 1, "proportional", "p")
    r = share_risk([step], [("S1", D("100.01"))], {"S1": (("A", D(100)),)}, {"A": D(40), "B": D(60)})
    assert [f"{v:.2f}" for v in r.shares.values()] == ["40.00", "60.01"]


# Properties: for every rule type, the shares (+ carried + unallocated) sum exactly to the variance.
PARTNERS = ["P1", "P2", "P3", "P4", "P5", "P6"]
money = st.integers(-10**11, 10**11).map(lambda p: D(p) * PENNY)


@st.composite
def pools(draw):
    n = draw(st.integers(1, 6))
    partners = PARTNERS[:n]
    contributions = {p: D(draw(st.integers(0, 10**10))) * PENNY for p in partners}
    if not any(contributions.values()):
        contributions[partners[0]] = D("1.00")
    schemes = [f"S{i}" for i in range(draw(st.integers(1, 8)))]
    variances = [(s, draw(money)) for s in schemes]
    splits = {}
    for s in schemes:
        weights = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n).filter(any))
        splits[s] = tuple((p, D(w)) for p, w in zip(partners, weights) if w)
    return partners, contributions, variances, splits


def percent_split(draw, partners):
    weights = draw(st.lists(st.integers(0, 100), min_size=len(partners), max_size=len(partners)).filter(any))
    return tuple((p, D(w)) for p, w in zip(partners, weights) if w)


@settings(max_examples=300, deadline=None)
@given(pools(), st.sampled_from(["proportional", "fixed", "commissioner", "tiers", "absorb", "cap", "carry"]),
       st.data())
def test_shares_always_sum_to_the_variance(pool, rule, data):
    partners, contributions, variances, splits = pool
    net = sum(v for _, v in variances)
    side = "overspend" if net > 0 else "underspend"
    cap = D(data.draw(st.integers(1, 10**8)))
    steps = {
        "proportional": [RiskStep(side, 1, "proportional", "")],
        "fixed": [RiskStep(side, 1, "fixed", "", split=percent_split(data.draw, partners))],
        "commissioner": [RiskStep(side, 1, "commissioner", "")],
        "tiers": [RiskStep(side, 1, "tier", "", split=percent_split(data.draw, partners), upper=cap),
                  RiskStep(side, 2, "tier", "", lower=cap)],
        "absorb": [RiskStep(side, 1, "absorb", "", schemes=(variances[0][0],)),
                   RiskStep(side, 2, "commissioner", "")],
        "cap": [RiskStep(side, 1, "proportional", ""), RiskStep(side, 2, "cap", "")],
        "carry": [RiskStep(side, 1, "tier", "", upper=cap), RiskStep(side, 2, "carry-forward", "")],
    }[rule]
    result = share_risk(steps, variances, splits, contributions)
    assert sum(result.shares.values()) + result.carried_forward + result.unallocated == net
    for value in result.shares.values():
        assert value == value.quantize(PENNY)
    if rule != "cap" and net:
        assert result.unallocated == 0
    if rule == "cap":
        assert all(result.shares[p] <= contributions[p] for p in partners if result.shares[p] > 0)


def test_an_absorb_step_says_the_amount_to_share_is_unchanged(example_entries):
    """The contingency's underspend is in the net variance already: its step moves variance between schemes,
    so its To share and Left are the same figure, and the working says why."""
    import datetime

    from rules.position import build_position
    step = build_position(example_entries, datetime.date(2025, 9, 30)).risk_share.steps[0]
    assert dict(step.working)["absorbed"] == "719,200.00"
    assert ("the underspend was already in the net variance, so the amount to share", "is unchanged") in step.working
