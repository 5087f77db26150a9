"""A tranche funding several schemes (`funds:` with weights, "equal", "pro-rata"): what each scheme gives
up, the virements that say so, the statement and position that show it, the checks at the tranche's
line, and a single scheme exactly as before. Figures worked by hand (docs/risk-share.md)."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal as D

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import line_of, load_text
from reports.html import statement_html
from reports.position_json import position_to_json
from reports.statement import build_statement
from reports.xlsx import statement_xlsx
from rules.agreement import Agreement, Metric, MetricActual, MetricPlan, Tranche
from rules.calendar import parse_period
from rules.position import build_position
from rules.tranches import assess
from s75.cli import main

# Four schemes: S01-S03 carry the tranche, S04 is the contingency it is redirected to. Budgets
# 850,000 + 1,250,000 + 2,900,000 + 1,000,000 = 6,000,000.00, the partners' contributions.
BASE = """\
option "operating_currency" "GBP"
plugin "rules.tranches"
plugin "rules.settlement"
plugin "rules.validate"

2025-04-01 open Assets:Pool:Cash GBP
2025-04-01 open Income:Contribution:Council:AdditionalLA GBP
2025-04-01 open Income:Contribution:ICB:MinimumNHS GBP
2025-04-01 open Expenses:Scheme:S01 GBP
2025-04-01 open Expenses:Scheme:S02 GBP
2025-04-01 open Expenses:Scheme:S03 GBP
2025-04-01 open Expenses:Scheme:S04 GBP
2025-04-01 open Expenses:Suspense GBP

2025-04-01 custom "s75-pool" "T" "Test pool"
  host: "Council"
2025-04-01 custom "s75-partner" "Council" "Test Council"
  kind: "council"
2025-04-01 custom "s75-partner" "ICB" "NHS Test ICB"
  kind: "nhs"
2025-04-01 custom "s75-source" "MinimumNHS" "Minimum NHS contribution"
2025-04-01 custom "s75-source" "AdditionalLA" "Additional council contribution"
2025-04-01 custom "s75-contribution" "2025-26" "Council" "AdditionalLA" 1000000.00 GBP
2025-04-01 custom "s75-contribution" "2025-26" "ICB" "MinimumNHS" 5000000.00 GBP
  minimum: 5000000.00 GBP
2025-04-01 custom "s75-scheme" "S01" "Community equipment" Expenses:Scheme:S01
  type: "Assistive technologies and equipment"
  area: "Community health"
  commissioner: "ICB"
  provider: "Test Trust"
  source: "MinimumNHS"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-scheme" "S02" "Reablement" Expenses:Scheme:S02
  type: "Reablement"
  area: "Social care"
  commissioner: "Council"
  provider: "Test Council"
  source: "AdditionalLA"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-scheme" "S03" "Integrated teams" Expenses:Scheme:S03
  type: "Integrated care"
  area: "Community health"
  commissioner: "ICB"
  provider: "Test Trust"
  source: "MinimumNHS"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-scheme" "S04" "Contingency" Expenses:Scheme:S04
  type: "Contingency"
  area: "Other"
  commissioner: "ICB"
  provider: "Test Trust"
  source: "MinimumNHS"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-budget" "2025-26" "S01" 850000.00 GBP
2025-04-01 custom "s75-budget" "2025-26" "S02" 1250000.00 GBP
2025-04-01 custom "s75-budget" "2025-26" "S03" 2900000.00 GBP
2025-04-01 custom "s75-budget" "2025-26" "S04" 1000000.00 GBP
2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional"
2025-04-01 custom "s75-risk-share" "underspend" 1 "return"

2025-04-01 custom "s75-metric" "NEA" "Non-elective admissions"
  better: "lower"
2025-04-01 custom "s75-metric-plan" "NEA" "2025-26 H1"
  baseline: 10000
  plan: 9700
"""
TRANCHE = """2025-04-01 custom "s75-tranche" "P4P" "ICB" "MinimumNHS" {amount} GBP ; tranche
  metric: "NEA"
  periods: "2025-26 H1"
  method: "{method}"
  rate: 1490.00 GBP
  funds: "{funds}"
  unreleased-to: "{target}"
"""
ACTUAL = '2025-10-17 custom "s75-metric-actual" "NEA" "2025-26 H1" {value} ; actual\n'
REVISION = '2026-02-16 custom "s75-metric-actual" "NEA" "2025-26 H1" {value} ; revision\n  revises: 2025-10-17\n'
YEAR_END = datetime.date(2026, 3, 31)


def ledger(funds: str, actual: int | None = None, amount: str = "447000.00", method: str = "per-unit",
           target: str = "S04", more: str = "") -> str:
    text = BASE + TRANCHE.format(amount=amount, method=method, funds=funds, target=target)
    return text + (ACTUAL.format(value=actual) if actual is not None else "") + more


def load(text: str):
    entries, errors, _ = load_text(text)
    assert errors == [], [e.message for e in errors]
    return entries


def virements(entries, date=None) -> list[tuple[str, str, D]]:
    """(from, to, amount) of the generated virements, on `date` when given, in the order written."""
    return [(e.values[1].value, e.values[2].value, e.values[3].value.number) for e in entries
            if getattr(e, "type", "") == "s75-virement" and (date is None or e.date == date)]


def budgets(entries, date=YEAR_END) -> dict[str, D]:
    return {s.scheme.scheme: s.annual_budget for s in build_position(entries, date).schemes}


def given_up(entries, date=YEAR_END) -> list[tuple[str, D]]:
    (status,) = build_position(entries, date).tranches
    (period,) = status.periods
    return list(period.given_up)


# Weights: the DOMAIN tranche, 447,000.00 at 1,490.00 an admission avoided; 9,800 avoids 200 of the 300
# planned, so 298,000.00 is released and 149,000.00 withheld: 60% is 89,400.00, 40% 59,600.00.

def test_weights_split_the_withheld_money_and_each_part_is_a_virement_naming_the_tranche():
    text = ledger("S01 60, S02 40", 9800)
    entries = load(text)
    assert given_up(entries) == [("S01", D("89400.00")), ("S02", D("59600.00"))]
    assert virements(entries) == [("S01", "S04", D("89400.00")), ("S02", "S04", D("59600.00"))]
    moved = [e for e in entries if getattr(e, "type", "") == "s75-virement"]
    for virement, share in zip(moved, ("S01 60 of 100", "S02 40 of 100")):
        assert (virement.meta["tranche"], virement.meta["period"], virement.meta["share"]) == \
            ("P4P", "2025-26 H1", share)
        assert virement.meta["funds"] == "S01 60, S02 40"
        assert virement.meta["directive"] == f"<string>:{line_of(text, '; actual')}"
    assert budgets(entries) == {"S01": D("760600.00"), "S02": D("1190400.00"), "S03": D("2900000.00"),
                                "S04": D("1149000.00")}
    # Released money changes no budget: before the period ends nothing has moved.
    assert budgets(entries, datetime.date(2025, 9, 29))["S01"] == D("850000.00")


def test_weights_are_taken_in_the_order_written_for_the_odd_pennies():
    # 0.01 withheld by weights 50:50: the penny goes to the scheme written first.
    tranche = Tranche("T", "ICB", "MinimumNHS", D("1.00"), "NEA", (), "per-unit", None, "S02 50, S01 50", "S04",
                      datetime.date(2025, 4, 1), {}, (("S02", D(50)), ("S01", D(50))))
    assert tranche.split(D("0.01")) == (("S02", D("0.01")), ("S01", D("0.00")))


# Equal: all-or-nothing 100,000.00 missed (9,701 against a plan of 9,700): 10,000,000 pennies in three is
# 3,333,333 each and one over, which goes to S01, first in the scheme register, though listed second.

@pytest.mark.parametrize("funds", ["equal S03, S01, S02", "equal"])
def test_equal_shares_with_the_odd_penny_to_the_scheme_first_in_the_register(funds):
    entries = load(ledger(funds, 9701, amount="100000.00", method="all-or-nothing"))
    assert given_up(entries) == [("S01", D("33333.34")), ("S02", D("33333.33")), ("S03", D("33333.33"))]
    assert budgets(entries)["S04"] == D("1100000.00")


def test_equal_between_the_schemes_listed_only():
    entries = load(ledger("equal S01, S03", 9701, amount="100000.01", method="all-or-nothing"))
    assert given_up(entries) == [("S01", D("50000.01")), ("S03", D("50000.00"))]
    assert budgets(entries)["S02"] == D("1250000.00")


# Pro-rata, docs/risk-share.md's worked figures: proportional 100,000.00, 9,780 avoids 220 of 300, so
# 73,333.33 released and 26,666.67 withheld (2,666,667 pennies, odd). Budgets 850,000 : 1,250,000 :
# 2,900,000 are 17% : 25% : 58%: 4,533.3339, 6,666.6675, 15,466.6686; rounded down 26,666.65; the two
# pennies left go to the largest remainders, S03 (0.86) and S02 (0.75), not S01 (0.39).

PRO_RATA = [("S01", D("4533.33")), ("S02", D("6666.67")), ("S03", D("15466.67"))]


def test_pro_rata_over_three_schemes_by_their_budgets():
    entries = load(ledger("pro-rata", 9780, amount="100000.00", method="proportional"))
    (status,) = build_position(entries, YEAR_END).tranches
    assert (status.released, status.redirected) == (D("73333.33"), D("26666.67"))
    assert given_up(entries) == PRO_RATA
    assert status.tranche.shares == (("S01", D("850000.00")), ("S02", D("1250000.00")), ("S03", D("2900000.00")))
    assert virements(entries) == [(scheme, "S04", part) for scheme, part in PRO_RATA]
    assert budgets(entries) == {"S01": D("845466.67"), "S02": D("1243333.33"), "S03": D("2884533.33"),
                                "S04": D("1026666.67")}
    share = next(e for e in entries if getattr(e, "type", "") == "s75-virement").meta["share"]
    assert share == "S01 850000.00 of 5000000.00"


def test_pro_rata_redirected_to_a_partner_takes_every_scheme():
    # 149,000.00 withheld over all four budgets (850 : 1,250 : 2,900 : 1,000 of 6,000): 21,108.33,
    # 31,041.67, 72,016.67, 24,833.33 exactly as 14,900,000 pennies give them (remainders .33 .67 .67 .33).
    entries = load(ledger("pro-rata", 9800, target="ICB"))
    assert given_up(entries) == [("S01", D("21108.33")), ("S02", D("31041.67")), ("S03", D("72016.67")),
                                 ("S04", D("24833.33"))]
    assert {to for _, to, _ in virements(entries)} == {"ICB"}


def test_a_revision_moves_each_schemes_difference_on_its_date():
    # docs/risk-share.md: the revision to 9,750 withholds 16,666.67, of which S01 2,833.33, S02 4,166.67,
    # S03 9,666.67; each scheme gets back the difference from its part of 26,666.67.
    revised = REVISION.format(value=9750)
    entries = load(ledger("pro-rata", 9780, amount="100000.00", method="proportional", more=revised))
    assert virements(entries, datetime.date(2026, 2, 16)) == [
        ("S04", "S01", D("1700.00")), ("S04", "S02", D("2500.00")), ("S04", "S03", D("5800.00"))]
    assert given_up(entries) == [("S01", D("2833.33")), ("S02", D("4166.67")), ("S03", D("9666.67"))]
    assert given_up(entries, datetime.date(2026, 1, 31)) == PRO_RATA  # as issued before the revision
    assert budgets(entries)["S01"] == D("850000.00") - D("2833.33")


@pytest.mark.parametrize("revision, moved", [
    (9650, [("S04", "S01", D("89400.00")), ("S04", "S02", D("59600.00"))]),   # all released: all back
    (9900, [("S01", "S04", D("89400.00")), ("S02", "S04", D("59600.00"))]),   # 100 avoided: 298,000 withheld
])
def test_a_revision_of_a_weighted_tranche(revision, moved):
    entries = load(ledger("S01 60, S02 40", 9800, more=REVISION.format(value=revision)))
    assert virements(entries, datetime.date(2026, 2, 16)) == moved


# A single scheme, as before.

def test_a_single_scheme_carries_it_all_as_before():
    entries = load(ledger("S02", 9800))
    assert given_up(entries) == [("S02", D("149000.00"))]
    (moved,) = [e for e in entries if getattr(e, "type", "") == "s75-virement"]
    assert "share" not in moved.meta and "funds" not in moved.meta
    assert virements(entries) == [("S02", "S04", D("149000.00"))]


def test_the_example_pools_p4p_figures_do_not_move(capsys):
    assert main(["position", "ledger/main.beancount", "--date", "2025-09-30", "--json"]) == 0
    (tranche,) = json.loads(capsys.readouterr().out)["tranches"]
    assert tranche.pop("funded") == [{"scheme": "S04", "weight": "100"}]
    (period,) = tranche.pop("periods")
    assert period.pop("given_up") == [{"scheme": "S04", "amount": "119200.00"}]
    assert tranche == {
        "tranche": "P4P", "partner": "ICB", "source": "MinimumNHS", "amount": "447000.00", "metric": "NEA",
        "method": "per-unit", "rate": "1490.00", "funds": "S04", "unreleased_to": "S05",
        "released": "327800.00", "redirected": "119200.00", "pending": "0.00"}
    assert period == {
        "period": "2025-26 H1", "start": "2025-04-01", "end": "2025-09-30", "amount": "447000.00",
        "baseline": "10000", "plan": "9700", "actual": "9780", "actual_date": "2025-10-17",
        "planned_improvement": "300", "achieved_improvement": "220", "released": "327800.00",
        "redirected": "119200.00", "status": "part released", "revised_from": None}


# The statement (HTML, the Fava page's layout, XLSX) and the position JSON show what each scheme gave up.

def weighted_statement(folder):
    path = folder / "main.beancount"
    path.write_text(ledger("S01 60, S02 40", 9800))
    entries = load(path.read_text())
    return build_statement(build_position(entries, YEAR_END), [str(path)], datetime.date(2026, 4, 20))


def test_the_tranches_tab_and_the_fava_page_show_each_schemes_part(tmp_path):
    statement = weighted_statement(tmp_path)
    for html in (statement_html(statement), statement_html(statement, "statement/fava_page.html",
                                                           link=lambda account: "#")):
        row = html[html.index('data-tranche="P4P"'):]
        row = row[:row.index("</tr>")]
        assert '<span data-scheme="S01">S01 89,400.00</span>;<br><span data-scheme="S02">S02 59,600.00</span>' \
            in row
        assert "Given up by scheme" in html


def test_the_workbook_has_a_totalled_column_per_funded_scheme(tmp_path):
    path = tmp_path / "statement.xlsx"
    path.write_bytes(statement_xlsx(weighted_statement(tmp_path)))
    ws = openpyxl.load_workbook(path)["Tranches"]
    top = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Tranche")  # under the title and month
    header = {ws.cell(top, c).value: c for c in range(1, ws.max_column + 1)}
    assert [h for h in header if str(h).startswith("Given up by")] == ["Given up by S01", "Given up by S02"]
    assert (ws.cell(top + 1, header["Given up by S01"]).value, ws.cell(top + 1, header["Given up by S02"]).value) \
        == (D("89400.00"), D("59600.00"))
    letter = openpyxl.utils.get_column_letter(header["Given up by S02"])
    assert (ws.cell(top + 2, 1).value, ws.cell(top + 2, header["Given up by S02"]).value) == \
        ("Total", f"=SUBTOTAL(109,{letter}{top + 1}:{letter}{top + 1})")


def test_the_position_json_lists_the_funded_schemes_and_their_parts():
    data = position_to_json(build_position(load(ledger("S01 60, S02 40", 9800)), YEAR_END))
    (tranche,) = data["tranches"]
    assert tranche["funds"] == "S01 60, S02 40"
    assert tranche["funded"] == [{"scheme": "S01", "weight": "60"}, {"scheme": "S02", "weight": "40"}]
    assert tranche["periods"][0]["given_up"] == [{"scheme": "S01", "amount": "89400.00"},
                                                 {"scheme": "S02", "amount": "59600.00"}]


# The checks: each an error at the tranche's line, the one error for the mistake.

def errors_of(text: str) -> list[tuple[int, str]]:
    _, errors, _ = load_text(text)
    return [(e.source["lineno"], e.message) for e in errors]


@pytest.mark.parametrize("funds, message", [
    ("S01 60, S02 30", 's75-tranche: funds "S01 60, S02 30": weights sum to 90, not 100'),
    ("S01 60, S09 40", 's75-tranche: funds names unknown scheme "S09"'),
    ("equal S01, S09", 's75-tranche: funds names unknown scheme "S09"'),
    ("S09", 's75-tranche: funds names unknown scheme "S09"'),
    ("S01 60, S04 40", "s75-tranche: funds names S04, which is also unreleased-to: what is withheld from it "
                       "would go back to it"),
    ("equal S01, S04", "s75-tranche: funds names S04, which is also unreleased-to: what is withheld from it "
                       "would go back to it"),
    ("S01 60, S01 40", 's75-tranche: funds names scheme "S01" twice'),
    ("S01 100, S02 0", 's75-tranche: funds "S01 100, S02 0": "S02 0" should be a scheme and its weight, more '
                       'than nil, e.g. "S01 60, S02 40" (or "equal", "pro-rata")'),
    ("S01, S02", 's75-tranche: funds "S01, S02": "S01" should be a scheme and its weight, more than nil, e.g. '
                 '"S01 60, S02 40" (or "equal", "pro-rata")'),
])
def test_funds_in_error_at_the_tranche(funds, message):
    text = ledger(funds, 9800)
    assert errors_of(text) == [(line_of(text, "; tranche"), message)]


def test_below_nil_for_a_funded_schemes_part_even_while_pending():
    # 1,500,000.00 by 70:30: S01's part, 1,050,000.00, is more than its 850,000.00.
    message = ("s75-tranche: withheld in full, 1,500,000.00 taken from the schemes it funds (S01 70, S02 30) "
               "would leave a budget negative: S01's part, 1,050,000.00, is more than its 2025-26 budget of "
               "850,000.00")
    for actual in (None, 10050):  # pending; then withheld in full: still the one error
        text = ledger("S01 70, S02 30", actual, amount="1500000.00", method="all-or-nothing")
        assert errors_of(text) == [(line_of(text, "; tranche"), message)]


def test_below_nil_for_pro_rata_after_a_virement_out_of_a_funded_scheme():
    # A hand virement leaves S01 20,000.00; the pro-rata redirection takes 21,108.33 from it (the
    # partner example above).
    hand = '2025-06-01 custom "s75-virement" "2025-26" "S01" "S03" 830000.00 GBP ; hand\n'
    text = ledger("pro-rata", 9800, target="ICB", more=hand)
    assert errors_of(text) == [(line_of(text, "; tranche"),
                                "s75-tranche: redirecting 21,108.33 of tranche P4P from S01 on 2025-09-30 leaves "
                                "S01's 2025-26 budget at -1,108.33: negative")]


def test_equal_or_pro_rata_with_no_scheme_to_carry_it():
    text = BASE.replace('"S01" 850000.00', '"S01" 0.00').replace('"S02" 1250000.00', '"S02" 0.00') \
        .replace('"S03" 2900000.00', '"S03" 0.00').replace('"S04" 1000000.00', '"S04" 6000000.00')
    text += TRANCHE.format(amount="100.00", method="per-unit", funds="pro-rata", target="S04")
    assert errors_of(text) == [(line_of(text, "; tranche"), 's75-tranche: funds "pro-rata" finds no scheme '
                                                            "with a 2025-26 budget above nil other than S04 to "
                                                            "carry it")]


# Property: whatever the weights, amounts and outcome, each period's parts sum exactly to what it withheld.

H1, H2 = parse_period("2025-26 H1"), parse_period("2025-26 H2")


@settings(max_examples=300, deadline=None)
@given(pennies=st.integers(1, 10**11), periods=st.sampled_from([(H1,), (H1, H2)]),
       weights=st.lists(st.one_of(st.integers(1, 10**9).map(D), st.decimals(min_value=D("0.01"), max_value=10**7,
                                                                             places=2)),
                        min_size=1, max_size=8),
       achieved=st.lists(st.integers(-50, 400), min_size=2, max_size=2),
       method=st.sampled_from(["per-unit", "proportional", "all-or-nothing"]))
def test_each_schemes_parts_sum_exactly_to_what_is_withheld(pennies, periods, weights, achieved, method):
    amount = D(pennies) / 100
    shares = tuple((f"S{i:02}", w) for i, w in enumerate(weights, 1))
    tranche = Tranche("T", "ICB", "MinimumNHS", amount, "NEA", periods, method, D("1490.00"), "", "S99",
                      datetime.date(2025, 4, 1), {}, shares)
    agreement = Agreement(metrics={"NEA": Metric("NEA", "NEA", "lower", "")})
    for period, avoided in zip(periods, achieved):
        agreement.plans.append(MetricPlan("NEA", period, D(10000), D(9700)))
        agreement.actuals.append(MetricActual("NEA", period, D(10000 - avoided), None, None, period.end, {}))
    status = assess(tranche, agreement)
    for outcome in status.periods:
        parts = [part for _, part in outcome.given_up]
        assert sum(parts, D(0)) == outcome.redirected
        assert all(part >= 0 and part == part.quantize(D("0.01")) for part in parts)
        assert outcome.given_up == () or [s for s, _ in outcome.given_up] == [s for s, _ in shares]
    assert sum((p for o in status.periods for _, p in o.given_up), D(0)) == status.redirected


@settings(max_examples=300, deadline=None)
@given(before=st.integers(0, 10**10), after=st.integers(0, 10**10),
       weights=st.lists(st.integers(1, 10**6).map(D), min_size=1, max_size=8))
def test_a_revisions_moves_per_scheme_sum_exactly_to_the_change(before, after, weights):
    tranche = Tranche("T", "ICB", "MinimumNHS", D(10**9), "NEA", (H1,), "per-unit", None, "", "S99",
                      datetime.date(2025, 4, 1), {}, tuple((f"S{i:02}", w) for i, w in enumerate(weights, 1)))
    old, new = dict(tranche.split(D(before) / 100)), dict(tranche.split(D(after) / 100))
    moves = [new.get(s, D(0)) - old.get(s, D(0)) for s in tranche.schemes]
    assert sum(moves, D(0)) == (D(after) - D(before)) / 100
