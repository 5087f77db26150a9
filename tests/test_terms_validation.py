"""Misconfigured tranches, risk shares and closes: each gives its error at the right line."""
from __future__ import annotations

from beancount import loader

from conftest import WORKED

PLUGINS = 'plugin "rules.tranches"\nplugin "rules.settlement"\nplugin "rules.validate"'
METRIC = """
2025-04-01 custom "s75-metric" "NEA" "Non-elective admissions"
  better: "lower"
2025-04-01 custom "s75-metric-plan" "NEA" "2025-26 H1"
  baseline: 10000
  plan: 9700
"""
TRANCHE = """2025-04-01 custom "s75-tranche" "P4P" "ICB" "MinimumNHS" 447000.00 GBP ; tranche
  metric: "{metric}"
  periods: "2025-26 H1"
  method: "per-unit"
  rate: 1490.00 GBP
  funds: "{funds}"
  unreleased-to: "S05"
"""
FORECASTS = "".join(f'2026-03-31 custom "s75-forecast" "2025-26" "{s}" {a} GBP\n' for s, a in
                    (("S01", "6500000.00"), ("S02", "4400000.00"), ("S03", "1900000.00"),
                     ("S04", "7600000.00"), ("S05", "0.00")))
PROPORTIONAL = '2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional"\n'


def errors_at(extra: str, marker: str) -> list[str]:
    """Load the worked example plus `extra`; return the messages of errors on `marker`'s line."""
    text = WORKED.read_text().replace('plugin "rules.validate"', PLUGINS) + "\n" + extra
    _, errors, _ = loader.load_string(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if marker in l)
    assert all(e.source["lineno"] == line for e in errors), [(e.source["lineno"], e.message) for e in errors]
    return [e.message for e in errors]


def test_fixed_shares_not_summing_to_100():
    messages = errors_at('2025-04-01 custom "s75-risk-share" "overspend" 1 "fixed" ; here\n'
                         '  split: "Council 50, ICB 40"\n', "; here")
    assert messages == ["s75-risk-share: shares sum to 90%, not 100%"]


def test_tiers_that_overlap():
    messages = errors_at('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"\n  to: 250000.00 GBP\n'
                         '2025-04-01 custom "s75-risk-share" "overspend" 2 "tier" ; here\n  from: 200000.00 GBP\n',
                         "; here")
    assert messages == ["overspend tiers overlap: step 2 starts at 200,000.00, before 250,000.00"]


def test_tiers_that_leave_a_gap():
    messages = errors_at('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"\n  to: 250000.00 GBP\n'
                         '2025-04-01 custom "s75-risk-share" "overspend" 2 "tier" ; here\n  from: 300000.00 GBP\n',
                         "; here")
    assert messages == ["overspend tiers leave a gap from 250,000.00 to 300,000.00"]


def test_tiers_that_stop_short_with_nothing_after():
    messages = errors_at('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier" ; here\n  to: 250000.00 GBP\n',
                         "; here")
    assert messages == ["overspend steps dated 2025-04-01 leave the variance above 250,000.00 with nobody: "
                        "end with a step that takes the rest"]


def test_no_rule_in_force_on_the_date():
    messages = errors_at('2025-07-01 custom "s75-risk-share" "overspend" 1 "proportional" ; here\n', "; here")
    assert messages == ["no overspend risk-share rule in force from 2025-04-01 until 2025-07-01"]


def test_scheme_level_step_after_a_pool_level_one():
    messages = errors_at('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"\n  to: 100.00 GBP\n'
                         '2025-04-01 custom "s75-risk-share" "overspend" 2 "commissioner" ; here\n', "; here")
    assert messages == ["overspend step 2 (commissioner) works scheme by scheme and must come before step 1 (tier)"]


def test_tranche_naming_an_unknown_metric():
    messages = errors_at(METRIC + TRANCHE.format(metric="NEL", funds="S04"), "; tranche")
    assert messages == ['s75-tranche: unknown metric "NEL"']


def test_tranche_naming_an_unknown_scheme():
    messages = errors_at(METRIC + TRANCHE.format(metric="NEA", funds="S09"), "; tranche")
    assert messages == ['s75-tranche: funds names unknown scheme "S09"']


def test_tranche_larger_than_its_contribution():
    text = METRIC + TRANCHE.format(metric="NEA", funds="S04").replace("447000.00 GBP", "12000000.01 GBP")
    assert errors_at(text, "; tranche") == \
        ["s75-tranche: 12,000,000.01 is more than ICB's MinimumNHS contribution of 12,000,000.00"]


def test_metric_recorded_for_an_unknown_tranche():
    text = METRIC + '2025-10-17 custom "s75-metric-actual" "NEA" "2025-26 H1" 9800 ; here\n  tranche: "P4Q"\n'
    assert errors_at(text, "; here") == ['s75-metric-actual: recorded for unknown tranche "P4Q"']


def test_closed_year_with_unreconciled_suspense():
    text = (PROPORTIONAL + FORECASTS + "2025-04-01 open Expenses:Suspense GBP\n"
            '2025-06-01 ! "Unknown" "Unmapped cost centre 9999"\n  Expenses:Suspense  10.00 GBP\n'
            "  Assets:Pool:Cash\n" + '2026-03-31 custom "s75-close" "2025-26" ; close\n')
    assert errors_at(text, "; close") == ["s75-close: 10.00 is still in Expenses:Suspense for 2025-26: "
                                          "map it to schemes before closing"]


def test_closed_year_with_no_rule_for_its_variance():
    text = FORECASTS + '2026-03-31 custom "s75-close" "2025-26" ; close\n'
    assert errors_at(text, "; close") == ["s75-close: cannot settle 2025-26: the agreement has no risk share: "
                                          "the variance stays with the pool"]


def test_clean_close_settles():
    text = WORKED.read_text().replace('plugin "rules.validate"', PLUGINS) + PROPORTIONAL + FORECASTS + \
        '2026-03-31 custom "s75-close" "2025-26"\n'
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    settled = sorted((p.account, f"{p.units.number:.2f}") for e in entries
                     if "rule" in getattr(e, "meta", {}) and hasattr(e, "postings") for p in e.postings)
    assert settled == [("Assets:Pool:Due:Council", "160000.00"), ("Assets:Pool:Due:ICB", "240000.00"),
                       ("Income:RiskShare:Council", "-160000.00"), ("Income:RiskShare:ICB", "-240000.00")]
