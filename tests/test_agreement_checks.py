"""The agreement's edges: forecasts outside their year, money leaving every scheme, negative figures,
doubled names and dates, one error per mistake, and equal splits. Each wrong ledger gives its own
plain error at the line that causes it, and nothing raises."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from conftest import line_of, load_text
from rules.position import build_position
from s75.cli import main

BASE = """\
option "operating_currency" "GBP"
plugin "rules.tranches"
plugin "rules.settlement"
plugin "rules.validate"

2025-04-01 open Assets:Pool:Cash GBP
2025-04-01 open Income:Contribution:Council:AdditionalLA GBP
2025-04-01 open Income:Contribution:ICB:MinimumNHS GBP
2025-04-01 open Income:Contribution:ICB:AdditionalNHS GBP
2025-04-01 open Income:Contribution:Trust:MinimumNHS GBP
2025-04-01 open Expenses:Scheme:S01 GBP
2025-04-01 open Expenses:Scheme:S02 GBP
2025-04-01 open Expenses:Suspense GBP

2025-04-01 custom "s75-pool" "T" "Test pool"
  host: "Council"
2025-04-01 custom "s75-partner" "Council" "Test Council"
  kind: "council"
2025-04-01 custom "s75-partner" "ICB" "NHS Test ICB"
  kind: "nhs"
2025-04-01 custom "s75-partner" "Trust" "Test Trust"
  kind: "nhs"
2025-04-01 custom "s75-source" "MinimumNHS" "Minimum NHS contribution"
2025-04-01 custom "s75-source" "AdditionalLA" "Additional council contribution"
2025-04-01 custom "s75-contribution" "2025-26" "Council" "AdditionalLA" 400000.00 GBP ; contribution-council
2025-04-01 custom "s75-contribution" "2025-26" "ICB" "MinimumNHS" 500000.00 GBP ; contribution-icb
  minimum: 500000.00 GBP
2025-04-01 custom "s75-contribution" "2025-26" "Trust" "MinimumNHS" 100000.00 GBP ; contribution-trust
2025-04-01 custom "s75-scheme" "S01" "Teams" Expenses:Scheme:S01 ; scheme-s01
  type: "Integrated care"
  area: "Community health"
  commissioner: "joint"
  split: "ICB 60, Council 40"
  provider: "Test Trust"
  source: "MinimumNHS"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-scheme" "S02" "Reablement" Expenses:Scheme:S02 ; scheme-s02
  type: "Reablement"
  area: "Social care"
  commissioner: "Council"
  provider: "Test Council"
  source: "AdditionalLA"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-budget" "2025-26" "S01" 600000.00 GBP ; budget-s01
2025-04-01 custom "s75-budget" "2025-26" "S02" 400000.00 GBP ; budget-s02
2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional" ; overspend-1
2025-04-01 custom "s75-risk-share" "underspend" 1 "return"

2025-04-20 * "Test Council" "Contribution" ; receipt-council
  Assets:Pool:Cash  400000.00 GBP
  Income:Contribution:Council:AdditionalLA
2025-06-10 * "Test Trust" "June" ; spend-june
  Expenses:Scheme:S01  50000.00 GBP
  Assets:Pool:Cash
"""

METRIC = """
2025-04-01 custom "s75-metric" "NEA" "Non-elective admissions"
  better: "lower"
2025-04-01 custom "s75-metric-plan" "NEA" "2025-26 H1"
  baseline: 10000
  plan: 9700
"""
TRANCHE = """2025-04-01 custom "s75-tranche" "P4P" "ICB" "MinimumNHS" {amount} GBP ; tranche
  metric: "NEA"
  periods: "2025-26 H1"
  method: "all-or-nothing"
  funds: "S02"
  unreleased-to: "S01"
"""
MISSED = '2025-10-17 custom "s75-metric-actual" "NEA" "2025-26 H1" 10050 ; actual\n'


def errors_of(text: str) -> list[tuple[int, str]]:
    _, errors, _ = load_text(text)
    return [(e.source["lineno"], e.message) for e in errors]


def assert_one_error(text: str, marker: str, *words: str) -> str:
    """Exactly one error, at `marker`'s line, containing every one of `words`; returns its message."""
    errors = errors_of(text)
    assert len(errors) == 1, errors
    lineno, message = errors[0]
    assert lineno == line_of(text, marker), (lineno, message)
    for word in words:
        assert word in message, message
    return message


def test_base_ledger_is_clean():
    assert errors_of(BASE) == []


# ---- 1. Forecasts outside their year -------------------------------------------------------------

def test_forecast_dated_after_its_year():
    text = BASE + '2026-04-15 custom "s75-forecast" "2025-26" "S01" 650000.00 GBP ; here\n'
    assert_one_error(text, "; here", "2026-04-15", "after 2025-26 ended on 2026-03-31")


def test_forecast_dated_before_its_year_is_refused_and_not_the_outturn():
    text = BASE + \
        '2025-03-15 custom "s75-forecast" "2025-26" "S01" 9999999.00 GBP ; here\n'
    assert_one_error(text, "; here", "2025-03-15", "before 2025-26 starts on 2025-04-01")
    entries, _, _ = load_text(text)
    s01 = next(s for s in build_position(entries, datetime.date(2025, 9, 30)).schemes if s.scheme.scheme == "S01")
    assert s01.forecast_basis == "run-rate" and s01.forecast_outturn != D("9999999.00")


def test_forecast_dated_before_its_scheme_starts():
    text = BASE.replace('2025-04-01 custom "s75-scheme" "S02"', '2025-06-01 custom "s75-scheme" "S02"')
    text += '2025-05-31 custom "s75-forecast" "2025-26" "S02" 420000.00 GBP ; here\n'
    assert_one_error(text, "; here", "2025-05-31", "before scheme S02 starts on 2025-06-01")


def test_forecast_for_a_year_the_pool_does_not_have():
    text = BASE + '2026-06-30 custom "s75-forecast" "2026-27" "S01" 650000.00 GBP ; here\n'
    assert_one_error(text, "; here", "2026-27", "no contributions or budgets")


def test_forecast_on_the_last_day_of_its_year_is_fine():
    assert errors_of(BASE + '2026-03-31 custom "s75-forecast" "2025-26" "S01" 650000.00 GBP\n') == []


# ---- 2. Money that leaves every scheme -----------------------------------------------------------

def test_spend_on_a_scheme_account_no_scheme_owns():
    text = BASE + ('2025-04-01 open Expenses:Scheme:S99 GBP\n'
                   '2025-07-01 * "Provider" "Unknown scheme" ; here\n'
                   '  Expenses:Scheme:S99  250000.00 GBP\n  Assets:Pool:Cash\n')
    assert_one_error(text, "; here", "Expenses:Scheme:S99", "250,000.00", "no scheme")


def test_spend_on_an_expense_account_outside_the_schemes():
    text = BASE + ('2025-04-01 open Expenses:Travel GBP\n'
                   '2025-07-01 * "Rail" "Tickets" ; here\n'
                   '  Expenses:Travel  120.00 GBP\n  Assets:Pool:Cash\n')
    assert_one_error(text, "; here", "Expenses:Travel", "120.00", "neither a scheme's account nor Expenses:Suspense")


def test_spend_to_suspense_is_not_an_error():
    text = BASE + '2025-07-01 ! "Unknown" "Unmapped cost centre"\n  Expenses:Suspense  10.00 GBP\n  Assets:Pool:Cash\n'
    assert errors_of(text) == []


def test_receipt_into_a_contribution_account_with_no_contribution():
    text = BASE + ('2025-07-01 * "NHS Test ICB" "Additional" ; here\n'
                   '  Assets:Pool:Cash  5000.00 GBP\n  Income:Contribution:ICB:AdditionalNHS\n')
    assert_one_error(text, "; here", "Income:Contribution:ICB:AdditionalNHS", "2025-26", "s75-contribution")


def test_receipt_in_a_year_with_no_contribution_for_the_account():
    text = BASE + ('2026-04-20 * "Test Council" "Next year" ; here\n'
                   '  Assets:Pool:Cash  5000.00 GBP\n  Income:Contribution:Council:AdditionalLA\n')
    assert_one_error(text, "; here", "Income:Contribution:Council:AdditionalLA", "2026-27")


def test_spend_on_a_scheme_in_error_is_not_reported_again():
    text = BASE.replace('commissioner: "Council"', 'commissioner: "CCG"') + \
        '2025-07-01 * "Provider" "July"\n  Expenses:Scheme:S02  10.00 GBP\n  Assets:Pool:Cash\n'
    assert_one_error(text, "; scheme-s02", 'unknown commissioner "CCG"')


def test_receipt_for_a_contribution_in_error_is_not_reported_again():
    text = BASE.replace('"Council" "AdditionalLA" 400000.00 GBP', '"Council" "AdditionalLA" "lots"')
    assert_one_error(text, "; contribution-council", "agreed")


# ---- 3. Negative figures -------------------------------------------------------------------------

def test_negative_budget():
    text = BASE.replace('"S02" 400000.00 GBP ; budget-s02', '"S02" -400000.00 GBP ; budget-s02')
    assert_one_error(text, "; budget-s02", "negative")


def test_budget_made_negative_by_a_virement():
    text = BASE + '2025-11-30 custom "s75-virement" "2025-26" "S02" "S01" 500000.00 GBP ; here\n'
    assert_one_error(text, "; here", "S02", "negative", "-100,000.00")


def test_negative_virement():
    text = BASE + '2025-11-30 custom "s75-virement" "2025-26" "S02" "S01" -5000.00 GBP ; here\n'
    assert_one_error(text, "; here", "negative")


def test_tranche_larger_than_the_budget_that_carries_it():
    text = BASE + METRIC + TRANCHE.format(amount="450000.00")
    assert_one_error(text, "; tranche", "S02", "400,000.00", "negative")
    # Once redirected, its generated virement takes S02 below nil: still the one error, at the tranche.
    assert_one_error(text + MISSED, "; tranche", "S02", "negative")


def test_budget_made_negative_by_a_redirected_tranche_after_a_virement():
    text = BASE + METRIC + TRANCHE.format(amount="300000.00") + \
        '2025-05-31 custom "s75-virement" "2025-26" "S02" "S01" 200000.00 GBP\n'
    assert errors_of(text) == []
    assert_one_error(text + MISSED, "; tranche", "S02", "negative", "-100,000.00")


def test_negative_forecast():
    text = BASE + '2025-09-30 custom "s75-forecast" "2025-26" "S01" -5.00 GBP ; here\n'
    assert_one_error(text, "; here", "negative")


def test_negative_contribution():
    text = BASE.replace('"Trust" "MinimumNHS" 100000.00 GBP', '"Trust" "MinimumNHS" -100000.00 GBP')
    assert_one_error(text, "; contribution-trust", "negative")


def test_negative_minimum():
    text = BASE.replace("  minimum: 500000.00 GBP", "  minimum: -1.00 GBP")
    assert_one_error(text, "; contribution-icb", "minimum", "negative")


CLOSE = ('2026-03-31 custom "s75-forecast" "2025-26" "S01" 50000.00 GBP\n'
         '2026-03-31 custom "s75-forecast" "2025-26" "S02" 0.00 GBP\n'
         '2026-03-31 custom "s75-close" "2025-26"\n')


def test_negative_contribution_below_a_negative_minimum_at_a_close(tmp_path, capsys):
    """Accepted before, it then crashed the settlement plugin and `s75 position`: now plain errors."""
    text = BASE.replace('"Trust" "MinimumNHS" 100000.00 GBP ; contribution-trust',
                        '"Trust" "MinimumNHS" -100000.00 GBP ; contribution-trust\n  minimum: -200000.00 GBP')
    errors = errors_of(text + CLOSE)
    assert errors and all(line == line_of(text, "; contribution-trust") for line, _ in errors), errors
    assert all("negative" in message for _, message in errors), errors
    ledger = tmp_path / "pool.beancount"
    ledger.write_text(text + CLOSE)
    for command in (["check", str(ledger)], ["position", str(ledger), "--date", "2026-03-31"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and "Error applying plugin" not in err and "negative" in err


def test_every_contribution_in_error_at_a_close_gives_only_their_errors():
    text = BASE
    for amount in ("400000.00", "500000.00", "100000.00"):
        text = text.replace(f'" {amount} GBP ; contribution-', f'" -{amount} GBP ; contribution-')
    text = text.replace("  minimum: 500000.00 GBP\n", "")
    errors = errors_of(text + CLOSE)
    lines = {line_of(text, f"; contribution-{m}") for m in ("council", "icb", "trust")}
    assert {line for line, _ in errors} == lines, errors
    assert all("negative" in message for _, message in errors), errors


# ---- 4. Doubled names and dates; budgets without contributions -----------------------------------

def test_scheme_split_naming_a_partner_twice():
    text = BASE.replace('"ICB 60, Council 40"', '"ICB 60, ICB 40"')
    assert_one_error(text, "; scheme-s01", '"ICB" twice')


def test_risk_share_split_naming_a_partner_twice():
    text = BASE.replace('"overspend" 1 "proportional" ; overspend-1',
                        '"overspend" 1 "fixed" ; overspend-1\n  split: "Council 50, Council 50"')
    assert_one_error(text, "; overspend-1", '"Council" twice')


def test_two_budgets_for_one_scheme_on_one_date():
    text = BASE + '2025-04-01 custom "s75-budget" "2025-26" "S02" 450000.00 GBP ; here\n'
    assert_one_error(text, "; here", "S02", "2025-26", "2025-04-01", "twice")


def test_a_later_budget_replaces_an_earlier_one():
    assert errors_of(BASE + '2025-10-01 custom "s75-budget" "2025-26" "S02" 400000.00 GBP\n'
                            '  approved: "Health and Wellbeing Board"\n') == []


def test_budgets_for_a_year_with_no_contributions():
    text = BASE + ('2026-04-01 custom "s75-budget" "2026-27" "S01" 600000.00 GBP ; here\n'
                   '2026-04-01 custom "s75-budget" "2026-27" "S02" 400000.00 GBP\n')
    assert_one_error(text, "; here", "2026-27", "no contributions")
    # and closing that year adds nothing to the one mistake
    assert_one_error(text + '2027-03-31 custom "s75-close" "2026-27"\n', "; here", "no contributions")


# ---- 5. One mistake, one error -------------------------------------------------------------------

TIERS = ('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier" ; tier-1\n  to: 250000.00 GBP\n'
         '  split: "{split}"\n'
         '2025-04-01 custom "s75-risk-share" "overspend" 2 "tier"\n  from: 250000.00 GBP\n')


def tiered(split: str) -> str:
    return BASE.replace('2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional" ; overspend-1\n',
                        TIERS.format(split=split))


def test_tiered_base_is_clean():
    assert errors_of(tiered("Council 50, ICB 50")) == []


def test_tier_split_not_summing_to_100_is_one_error():
    assert_one_error(tiered("Council 50, ICB 40"), "; tier-1", "shares sum to 90%, not 100%")


def test_tier_split_naming_an_unknown_partner_is_one_error():
    assert_one_error(tiered("CCG 50, ICB 50"), "; tier-1", 'unknown partner "CCG"')


# ---- 6. Equal splits ----------------------------------------------------------------------------

def year_end(text: str):
    """The year-end position of BASE varied by `text` (schemes spent as the test needs)."""
    entries, errors, _ = load_text(text)
    assert errors == []
    return build_position(entries, datetime.date(2026, 3, 31)).risk_share


def spent(s01: str, s02: str = "400000.00") -> str:
    return (f'2026-03-31 * "Provider" "S01 spend"\n  Expenses:Scheme:S01  {s01} GBP\n  Assets:Pool:Cash\n'
            f'2026-03-31 * "Provider" "S02 spend"\n  Expenses:Scheme:S02  {s02} GBP\n  Assets:Pool:Cash\n')


def figures(shares: dict) -> dict[str, str]:
    return {p: f"{v:,.2f}" for p, v in shares.items()}


def test_equal_tier_between_all_partners():
    """300,000.00 over three partners equally is exactly 100,000.00 each (33.34% would be 100,020.00)."""
    text = tiered("equal").replace("to: 250000.00 GBP", "to: 300000.00 GBP").replace(
        "from: 250000.00 GBP", "from: 300000.00 GBP")
    result = year_end(text + spent("850000.00"))  # S01 900,000.00 with June's: 300,000.00 over
    assert result.variance == D("300000.00")
    assert figures(result.steps[0].shares) == {"Council": "100,000.00", "ICB": "100,000.00", "Trust": "100,000.00"}
    assert figures(result.shares) == {"Council": "100,000.00", "ICB": "100,000.00", "Trust": "100,000.00"}


def test_thirds_written_as_percentages_overcharge_one_partner():
    """The figure docs/risk-share.md gives for why "equal" exists: 33.34% of a 300,000.00 tier is 100,020.00."""
    text = tiered("Council 33.33, ICB 33.33, Trust 33.34").replace("to: 250000.00 GBP", "to: 300000.00 GBP").replace(
        "from: 250000.00 GBP", "from: 300000.00 GBP")
    result = year_end(text + spent("850000.00"))
    assert figures(result.shares) == {"Council": "99,990.00", "ICB": "99,990.00", "Trust": "100,020.00"}


def test_equal_fixed_shares_go_to_the_largest_remainders_first_declared():
    text = BASE.replace('"overspend" 1 "proportional" ; overspend-1',
                        '"overspend" 1 "fixed" ; overspend-1\n  split: "equal"')
    result = year_end(text + spent("551000.00"))  # 1,000.00 over
    assert figures(result.shares) == {"Council": "333.34", "ICB": "333.33", "Trust": "333.33"}


def test_equal_between_the_partners_listed():
    text = BASE.replace('"overspend" 1 "proportional" ; overspend-1',
                        '"overspend" 1 "fixed" ; overspend-1\n  split: "equal Trust, ICB"')
    result = year_end(text + spent("551000.01"))  # 1,000.01 over: the odd penny to ICB, declared before Trust
    assert figures(result.shares) == {"Council": "0.00", "ICB": "500.01", "Trust": "500.00"}


def test_equal_commissioner_split_of_a_joint_scheme():
    text = BASE.replace('split: "ICB 60, Council 40"', 'split: "equal"').replace(
        '"overspend" 1 "proportional" ; overspend-1', '"overspend" 1 "commissioner" ; overspend-1')
    result = year_end(text + spent("551000.00"))
    assert figures(result.shares) == {"Council": "333.34", "ICB": "333.33", "Trust": "333.33"}


@pytest.mark.parametrize("split, words", [
    ("equal CCG, ICB", ['unknown partner "CCG"']),
    ("equal ICB, ICB", ['"ICB" twice']),
])
def test_equal_split_mistakes(split, words):
    text = BASE.replace('"overspend" 1 "proportional" ; overspend-1',
                        f'"overspend" 1 "fixed" ; overspend-1\n  split: "{split}"')
    assert_one_error(text, "; overspend-1", *words)


def test_equal_scheme_split_naming_an_unknown_partner():
    text = BASE.replace('split: "ICB 60, Council 40"', 'split: "equal ICB, CCG"')
    assert_one_error(text, "; scheme-s01", 'unknown partner "CCG"')
