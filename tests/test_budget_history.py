"""The budget's history: the original budget, each variation (a later s75-budget, which must say who
approved it) and each virement, with date, reason and approver, and the revised budget; shown by
`s75 budget-history` and, as original / changes / revised, in the statement's scheme table.

Figures worked by hand (docs/ledger.md, "Budget variations"): S02's 2025-26 budget is 400,000.00 from
1 April; 20,000.00 is vired to S01 on 30 June (380,000.00); on 1 October the board varies it to
430,000.00, +30,000.00 on the 400,000.00 set (410,000.00 with the virement). Revised 410,000.00,
changes +10,000.00. S01: 600,000.00, +20,000.00 in (620,000.00), varied to 570,000.00 (-30,000.00):
590,000.00, changes -10,000.00. The pool's budgets still total the 1,000,000.00 contributed."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

from conftest import EXAMPLE, line_of, load_text
from rules.budget_history import history
from rules.position import build_position
from rules.reader import read_agreement
from s75.cli import main
from test_agreement_checks import BASE, assert_one_error, errors_of

VARIED = BASE + """
2025-06-30 custom "s75-virement" "2025-26" "S02" "S01" 20000.00 GBP
  note: "Reablement slippage to the teams"
  approved: "Pooled fund manager"
2025-10-01 custom "s75-budget" "2025-26" "S02" 430000.00 GBP ; variation-s02
  approved: "Health and Wellbeing Board, 25 September 2025"
  reason: "Winter discharge pressures"
2025-10-01 custom "s75-budget" "2025-26" "S01" 570000.00 GBP ; variation-s01
  approved: "Health and Wellbeing Board, 25 September 2025"
  reason: "Teams vacancies released to reablement"
"""
OCTOBER = datetime.date(2025, 10, 31)


def test_a_variation_without_approved_is_an_error_at_it():
    text = BASE + '2025-10-01 custom "s75-budget" "2025-26" "S02" 400000.00 GBP ; here\n'
    assert_one_error(text, "; here", "S02", "2025-26", "variation", "approved:", "2025-04-01")


def test_the_budget_first_set_needs_no_approval_and_a_varied_ledger_is_clean():
    assert errors_of(BASE) == []
    assert errors_of(VARIED) == []


def test_the_history_of_s02_worked_by_hand():
    entries, errors, _ = load_text(VARIED)
    assert errors == []
    agreement, _ = read_agreement(entries)
    found = history(agreement, agreement.years()[0], "S02", OCTOBER)
    rows = [(line.date.isoformat(), line.kind, line.change, line.budget, line.counterpart, line.reason, line.approved)
            for line in found.lines]
    assert rows == [
        ("2025-04-01", "original", D("400000.00"), D("400000.00"), "", "", ""),
        ("2025-06-30", "virement out", D("-20000.00"), D("380000.00"), "S01", "Reablement slippage to the teams",
         "Pooled fund manager"),
        ("2025-10-01", "variation", D("30000.00"), D("410000.00"), "", "Winter discharge pressures",
         "Health and Wellbeing Board, 25 September 2025"),
    ]
    assert (found.original, found.changes, found.revised) == (D("400000.00"), D("10000.00"), D("410000.00"))
    assert found.lines[2].where.endswith(f":{line_of(VARIED, '; variation-s02')}")


def test_the_history_stops_at_its_date():
    entries, _, _ = load_text(VARIED)
    agreement, _ = read_agreement(entries)
    found = history(agreement, agreement.years()[0], "S02", datetime.date(2025, 9, 30))
    assert [line.kind for line in found.lines] == ["original", "virement out"]
    assert found.revised == D("380000.00")


def test_the_position_shows_original_changes_and_revised_and_they_agree_with_the_history():
    entries, _, _ = load_text(VARIED)
    position = build_position(entries, OCTOBER)
    got = {s.scheme.scheme: (s.original_budget, s.budget_changes, s.annual_budget) for s in position.schemes}
    assert got == {"S01": (D("600000.00"), D("-10000.00"), D("590000.00")),
                   "S02": (D("400000.00"), D("10000.00"), D("410000.00"))}
    totals = position.scheme_totals
    assert (totals["original_budget"], totals["budget_changes"], totals["annual_budget"]) == (
        D("1000000.00"), D("0.00"), D("1000000.00"))


def test_every_scheme_of_the_example_agrees_with_its_history(example_entries):
    """The example's virements (a tranche withheld into the contingency): revised = the position's budget."""
    position = build_position(example_entries, datetime.date(2025, 9, 30))
    for s in position.schemes:
        found = history(position.agreement, position.year, s.scheme.scheme, position.as_of)
        assert (found.original, found.revised) == (s.original_budget, s.annual_budget), s.scheme.scheme
    s04 = next(s for s in position.schemes if s.scheme.scheme == "S04")
    assert (s04.original_budget, s04.budget_changes, s04.annual_budget) == (
        D("3600000.00"), D("-119200.00"), D("3480800.00"))


def test_budget_history_command_lists_the_lines(tmp_path, capsys):
    ledger = tmp_path / "varied.beancount"
    ledger.write_text(VARIED)
    assert main(["budget-history", str(ledger), "--scheme", "S02", "--date", "2025-10-31"]) == 0
    out = capsys.readouterr().out
    for text in ("original", "virement out", "variation", "400,000.00", "(20,000.00)", "30,000.00", "410,000.00",
                 "Winter discharge pressures", "Health and Wellbeing Board, 25 September 2025", "to S01",
                 f"varied.beancount:{line_of(VARIED, '; variation-s02')}", "Revised budget", "Budget after"):
        assert text in out, text


def test_budget_history_command_refuses_an_unknown_scheme_in_one_line(tmp_path, capsys):
    ledger = tmp_path / "varied.beancount"
    ledger.write_text(VARIED)
    assert main(["budget-history", str(ledger), "--scheme", "S99", "--date", "2025-10-31"]) == 1
    err = capsys.readouterr().err
    assert "S99" in err and "S01, S02" in err and "Traceback" not in err


def test_a_variation_changes_the_months_after_its_month_not_those_before():
    """S02's +30,000.00 on 1 October moves November to March, 6,000.00 a month, as a virement would: the
    budget to date at 31 October is what it was without the variation, at 30 November 6,000.00 more."""
    without = VARIED.replace("2025-10-01 custom \"s75-budget\" \"2025-26\" \"S02\" 430000.00 GBP ; variation-s02",
                             "2025-10-01 custom \"s75-budget\" \"2025-26\" \"S02\" 400000.00 GBP ; variation-s02")
    without = without.replace('"S01" 570000.00 GBP', '"S01" 600000.00 GBP')

    def budget_to_date(text, date):
        entries, errors, _ = load_text(text)
        assert errors == []
        return next(s.budget_to_date for s in build_position(entries, date).schemes if s.scheme.scheme == "S02")

    assert budget_to_date(VARIED, OCTOBER) == budget_to_date(without, OCTOBER)
    november = datetime.date(2025, 11, 30)
    assert budget_to_date(VARIED, november) - budget_to_date(without, november) == D("6000.00")


def test_a_variation_with_a_profile_may_not_restate_the_months_before_it():
    from rules.allocation import spread_evenly
    even = spread_evenly(D("400000.00"), 12)
    kept = even[:7] + [m + D("6000.00") for m in even[7:]]  # April to October as they were: accepted
    moved = even[:6] + [even[6] + D("1000.00")] + [m + D("5800.00") for m in even[7:11]] + [even[11] + D("5800.00")]
    assert sum(kept) == sum(moved) == D("430000.00")

    text = BASE + ('2025-10-01 custom "s75-budget" "2025-26" "S02" 430000.00 GBP ; here\n  approved: "Board"\n'
                   '  profile: "{}"\n'
                   '2025-10-01 custom "s75-budget" "2025-26" "S01" 570000.00 GBP\n  approved: "Board"\n')
    assert errors_of(text.format(" ".join(str(m) for m in kept))) == []
    assert_one_error(text.format(" ".join(str(m) for m in moved)), "; here", "profile changes month 7",
                     "before the variation")


def test_a_variation_after_its_year_ends_is_an_error():
    text = BASE + '2026-05-01 custom "s75-budget" "2025-26" "S02" 400000.00 GBP ; here\n  approved: "Board"\n'
    assert_one_error(text, "; here", "after the year ended", "2026-03-31")


def test_an_amount_with_fractions_of_a_penny_or_too_many_digits_is_an_error():
    text = BASE.replace('"S02" 400000.00 GBP ; budget-s02', '"S02" 400000.005 GBP ; budget-s02')
    assert_one_error(text, "; budget-s02", "more than two decimal places")
    text = BASE.replace('"S02" 400000.00 GBP ; budget-s02', '"S02" 9999999999999999999.00 GBP ; budget-s02')
    assert any("too large" in message for _, message in errors_of(text))


def test_budget_history_of_a_ledger_without_transactions_asks_for_a_date_in_one_line(tmp_path, capsys):
    ledger = tmp_path / "plan-only.beancount"
    ledger.write_text(BASE[:BASE.index("2025-04-20 *")])
    assert main(["budget-history", str(ledger), "--scheme", "S02"]) == 1
    err = capsys.readouterr().err
    assert "no transactions yet; give --date" in err and "Traceback" not in err
    assert main(["budget-history", str(ledger), "--scheme", "S02", "--date", "2025-06-30"]) == 0
