"""The validation plugin: each misconfiguration gives its named error at the right file line."""
from __future__ import annotations

import pytest

from conftest import line_of, load_text

BASE = """\
option "operating_currency" "GBP"
plugin "rules.validate"

2025-04-01 open Assets:Pool:Cash GBP
2025-04-01 open Income:Contribution:Council:AdditionalLA GBP
2025-04-01 open Income:Contribution:ICB:MinimumNHS GBP
2025-04-01 open Expenses:Scheme:S01 GBP
2025-04-01 open Expenses:Scheme:S02 GBP

2025-04-01 custom "s75-pool" "T" "Test pool"
  host: "Council"
2025-04-01 custom "s75-partner" "Council" "Test Council"
  kind: "council"
2025-04-01 custom "s75-partner" "ICB" "NHS Test ICB"
  kind: "nhs"
2025-04-01 custom "s75-source" "MinimumNHS" "Minimum NHS contribution"
2025-04-01 custom "s75-source" "AdditionalLA" "Additional council contribution"
2025-04-01 custom "s75-contribution" "2025-26" "Council" "AdditionalLA" 400.00 GBP
2025-04-01 custom "s75-contribution" "2025-26" "ICB" "MinimumNHS" 600.00 GBP ; contribution-icb
  minimum: 600.00 GBP
2025-04-01 custom "s75-scheme" "S01" "Teams" Expenses:Scheme:S01 ; scheme-s01
  type: "Integrated care"
  area: "Community health"
  commissioner: "joint"
  split: "ICB 60, Council 40" ; split-s01
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
  end: 2025-12-31
2025-04-01 custom "s75-budget" "2025-26" "S01" 600.00 GBP ; budget-s01
2025-04-01 custom "s75-budget" "2025-26" "S02" 400.00 GBP ; budget-s02

2025-06-10 * "Test Trust" "June"
  Expenses:Scheme:S01  50.00 GBP
  Assets:Pool:Cash
"""


def errors_of(text: str) -> list[tuple[int, str]]:
    _, errors, _ = load_text(text)
    return [(e.source["lineno"], e.message) for e in errors]


def test_base_ledger_is_clean():
    assert errors_of(BASE) == []


def assert_one_error(text: str, marker: str, *words: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    lineno, message = errors[0]
    assert lineno == line_of(text, marker), (lineno, message)
    for word in words:
        assert word in message, message


def test_unknown_partner_in_contribution():
    text = BASE.replace('"Council" "AdditionalLA" 400.00 GBP', '"Counsil" "AdditionalLA" 400.00 GBP ; bad')
    assert_one_error(text, "; bad", 'unknown partner "Counsil"')


def test_unknown_commissioner():
    text = BASE.replace('commissioner: "Council"', 'commissioner: "CCG"')
    assert_one_error(text, "; scheme-s02", 'unknown commissioner "CCG"')


def test_joint_split_not_summing_to_100():
    text = BASE.replace('"ICB 60, Council 40"', '"ICB 60, Council 30"')
    assert_one_error(text, "; scheme-s01", "joint split sums to 90%, not 100%")


def test_joint_scheme_without_split():
    text = BASE.replace('  split: "ICB 60, Council 40" ; split-s01\n', "")
    assert_one_error(text, "; scheme-s01", "joint scheme needs split")


def test_scheme_without_expense_account():
    text = BASE.replace('"Teams" Expenses:Scheme:S01 ; scheme-s01', '"Teams" ; scheme-s01')
    assert_one_error(text, "; scheme-s01", "missing accounts")


def test_scheme_account_not_opened():
    text = BASE.replace("2025-04-01 open Expenses:Scheme:S02 GBP\n", "")
    assert_one_error(text, "; scheme-s02", "Expenses:Scheme:S02 is not opened")


def test_spend_outside_scheme_life():
    text = BASE + '\n2026-01-05 * "Test Council" "January"\n  Expenses:Scheme:S02  10.00 GBP ; late\n  Assets:Pool:Cash\n'
    errors = errors_of(text)
    assert len(errors) == 1, errors
    assert errors[0][0] == line_of(text, '"January"')
    assert "after the scheme ended on 2025-12-31" in errors[0][1]


def test_spend_before_scheme_starts():
    text = BASE.replace('2025-06-10 * "Test Trust" "June"', '2025-04-01 open Expenses:Early GBP\n'
                        '2025-03-10 * "Test Trust" "March"').replace("Expenses:Scheme:S01  50.00 GBP",
                                                                  "Expenses:Scheme:S01  50.00 GBP")
    text = text.replace("2025-04-01 open Expenses:Scheme:S01 GBP", "2025-03-01 open Expenses:Scheme:S01 GBP")
    text = text.replace("2025-04-01 open Assets:Pool:Cash GBP", "2025-03-01 open Assets:Pool:Cash GBP")
    errors = errors_of(text)
    assert len(errors) == 1, errors
    assert errors[0][0] == line_of(text, '"March"')
    assert "before the scheme starts on 2025-04-01" in errors[0][1]


def test_agreed_contribution_below_minimum():
    text = BASE.replace("  minimum: 600.00 GBP", "  minimum: 700.00 GBP")
    assert_one_error(text, "; contribution-icb", "below its minimum 700.00")


def test_duplicate_scheme_id():
    text = BASE.replace('"S02" "Reablement"', '"S01" "Reablement"').replace(
        '"S02" 400.00 GBP ; budget-s02', '"S01" 400.00 GBP ; budget-s02')
    errors = errors_of(text)
    assert (line_of(text, "; scheme-s02"), 'duplicate scheme ID "S01"') in errors


def test_budget_profile_not_summing_to_budget():
    text = BASE.replace("; budget-s01", "; budget-s01\n  profile: \"50 50 50 50 50 50 50 50 50 50 50 40\"")
    assert_one_error(text, "; budget-s01", "budget profile sums to 590.00, not the annual budget 600.00")


def test_budget_profile_with_eleven_months():
    text = BASE.replace("; budget-s01", "; budget-s01\n  profile: \"50 50 50 50 50 50 50 50 50 50 100\"")
    assert_one_error(text, "; budget-s01", "profile has 11 months, not 12")


def test_missing_required_metadata():
    text = BASE.replace('  provider: "Test Council"\n', "")
    assert_one_error(text, "; scheme-s02", "missing metadata provider")


def test_wrongly_typed_value():
    text = BASE.replace('"S01" 600.00 GBP ; budget-s01', '"S01" "six hundred" ; budget-s01')
    errors = errors_of(text)
    assert (line_of(text, "; budget-s01"), "s75-budget: amount should be an amount in GBP, e.g. 1000.00 GBP") \
        in errors


def test_wrongly_typed_metadata():
    text = BASE.replace("  recurrent: TRUE\n  new: FALSE\n  end:", '  recurrent: "yes"\n  new: FALSE\n  end:')
    assert_one_error(text, "; scheme-s02", "recurrent should be TRUE or FALSE")


def test_amount_in_another_currency():
    text = BASE.replace('"S02" 400.00 GBP ; budget-s02', '"S02" 400.00 EUR ; budget-s02')
    errors = errors_of(text)
    assert any(line == line_of(text, "; budget-s02") and "EUR" in msg for line, msg in errors), errors


def test_unknown_directive_type():
    text = BASE + '2025-04-01 custom "s75-schem" "S03"\n'
    assert_one_error(text, '"s75-schem"', 'unknown directive "s75-schem"')


def test_budgets_not_matching_contributions():
    text = BASE.replace('"S02" 400.00 GBP ; budget-s02', '"S02" 450.00 GBP ; budget-s02')
    assert_one_error(text, "; budget-s02", "scheme budgets for 2025-26 total 1,050.00",
                     "agreed contributions total 1,000.00")


def test_bad_year_label():
    text = BASE.replace('"2025-26" "S02" 400.00', '"2025/26" "S02" 400.00')
    errors = errors_of(text)
    assert (line_of(text, "; budget-s02"), 's75-budget: year "2025/26" should look like "2025-26"') in errors


def test_unknown_split_partner():
    text = BASE.replace('"ICB 60, Council 40"', '"CCG 60, Council 40"')
    assert_one_error(text, "; scheme-s01", 'unknown partner "CCG"')


def test_unknown_host():
    text = BASE.replace('host: "Council"', 'host: "Borough"')
    assert_one_error(text, '"s75-pool"', 'unknown host partner "Borough"')


@pytest.mark.parametrize("kind", ["hospital", "NHS"])
def test_partner_kind_must_be_council_or_nhs(kind):
    text = BASE.replace('kind: "nhs"', f'kind: "{kind}"')
    errors = errors_of(text)
    assert any(line == line_of(text, '"s75-partner" "ICB"') and "should be one of council, nhs" in msg
               for line, msg in errors), errors


@pytest.mark.parametrize("pool", ["../EB", "EB/BCF", "EB\\\\BCF", ".EB", "EB..BCF", "EB BCF", ""])
def test_pool_id_unsafe_in_a_file_name(pool):
    """The pool ID names the statement's files: a path or hidden name there is refused where it is declared."""
    text = BASE.replace('custom "s75-pool" "T" "Test pool"', f'custom "s75-pool" "{pool}" "Test pool" ; pool')
    shown = pool.replace("\\\\", "\\")
    assert_one_error(text, "; pool", f's75-pool: pool ID "{shown}" is not safe in a file name')


@pytest.mark.parametrize("pool", ["EB-BCF", "eb_bcf.2025", "7"])
def test_pool_id_safe_in_a_file_name(pool):
    assert errors_of(BASE.replace('"s75-pool" "T"', f'"s75-pool" "{pool}"')) == []
