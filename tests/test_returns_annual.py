"""`s75 annual`: the annual return and memorandum account of a closed year, against figures worked out
by hand (docs/returns.md, "The annual return"): the three-year ledger's 2024-25 (an underspend carried
forward) and 2025-26 (an overspend shared after a carry-in), and a small pool that returns its underspend
with a contribution not all received."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import openpyxl
import pytest

from conftest import EXAMPLE, ROOT
from htmlcells import cells
from reports.ledger import load_ledger
from reports.returns.annual import parse_closed_year
from reports.returns.quarterly import ReturnError
from s75.cli import main
from s75.returns_common import annual_of

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"
GENERATED = datetime.date(2026, 5, 1)
RETURNED = """\
option "title" "Returned Pool"
option "operating_currency" "GBP"
plugin "rules.tranches"
plugin "rules.settlement"
plugin "rules.validate"

2025-04-01 custom "s75-pool" "RP" "Returned Pool"
  host: "Council"
2025-04-01 custom "s75-partner" "Council" "Returned Council"
  kind: "council"
  order: 1
2025-04-01 custom "s75-partner" "ICB" "NHS Returned ICB"
  kind: "nhs"
  order: 2
2025-04-01 custom "s75-source" "IBCF" "Improved Better Care Fund grant"
2025-04-01 custom "s75-source" "MinimumNHS" "Minimum NHS contribution"
2025-04-01 open Assets:Pool:Cash GBP
2025-04-01 open Income:Contribution:Council:IBCF GBP
2025-04-01 open Income:Contribution:ICB:MinimumNHS GBP
2025-04-01 open Expenses:Scheme:S01 GBP
2025-04-01 open Expenses:Scheme:S02 GBP
2025-04-01 custom "s75-scheme" "S01" "Reablement" Expenses:Scheme:S01
  type: "Home-based intermediate care services"
  area: "Social care"
  commissioner: "Council"
  provider: "Returned Council"
  source: "IBCF"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-scheme" "S02" "Integrated teams" Expenses:Scheme:S02
  type: "Integrated care planning and navigation"
  area: "Community health"
  commissioner: "joint"
  split: "ICB 50, Council 50"
  provider: "Returned Trust"
  source: "MinimumNHS"
  recurrent: TRUE
  new: FALSE
2025-04-01 custom "s75-risk-share" "underspend" 1 "return"
2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional"
2025-04-01 custom "s75-contribution" "2025-26" "Council" "IBCF" 1000000.00 GBP
2025-04-01 custom "s75-contribution" "2025-26" "ICB" "MinimumNHS" 1500000.00 GBP
2025-04-01 custom "s75-budget" "2025-26" "S01" 1000000.00 GBP
2025-04-01 custom "s75-budget" "2025-26" "S02" 1500000.00 GBP
2025-04-20 * "Returned Council" "Contribution, first part"
  Assets:Pool:Cash  900000.00 GBP
  Income:Contribution:Council:IBCF
2025-04-20 * "NHS Returned ICB" "Contribution"
  Assets:Pool:Cash  1500000.00 GBP
  Income:Contribution:ICB:MinimumNHS
2025-12-31 * "Provider" "S01 spend"
  Expenses:Scheme:S01  950000.00 GBP
  Assets:Pool:Cash
2025-12-31 * "Provider" "S02 spend"
  Expenses:Scheme:S02  1400000.00 GBP
  Assets:Pool:Cash
2026-03-31 custom "s75-close" "2025-26"
"""


def money(text: str) -> D:
    text = text.replace(",", "")
    return -D(text[1:-1]) if text.startswith("(") else D(text)


def lines(items) -> dict[str, D]:
    return {line.key: line.amount for line in items}


@pytest.fixture(scope="module")
def three():
    loaded = load_ledger(THREE)
    assert loaded.errors == []
    return loaded


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    path = tmp_path_factory.mktemp("returned") / "main.beancount"
    path.write_text(RETURNED)
    loaded = load_ledger(path)
    assert loaded.errors == []
    return loaded


def test_2025_26_each_partner(three):
    """Contributions 4,200,000 and 6,300,000; spend S01 6,900,000 (ICB 60 / Council 40), S02 4,150,000
    (Council), S03 450,000 (50 / 50); overspend 450,000: S03's 100,000 underspend absorbs it first (the net
    is unchanged), the first 100,000 is shared 30:70, the other 350,000 by contributions 40:60."""
    report = annual_of(three, parse_closed_year("2025-26"), GENERATED)
    council, icb = report.partners
    assert [(s.source, s.agreed, s.received) for s in council.sources] == \
        [("AdditionalLA", D("4200000.00"), D("4200000.00"))]
    assert [(s.source, s.agreed, s.received) for s in icb.sources] == [("MinimumNHS", D("6300000.00"), D("6300000.00"))]
    assert council.spend == (D("2760000.00"), D("4150000.00"), D("225000.00"))
    assert icb.spend == (D("4140000.00"), D("0.00"), D("225000.00"))
    assert (council.spend_total, icb.spend_total) == (D("7135000.00"), D("4365000.00"))
    assert (council.settlement, icb.settlement) == (D("170000.00"), D("280000.00"))
    assert (council.net_due, icb.net_due) == (D("170000.00"), D("280000.00"))
    assert (council.due_to, icb.due_to) == (D("0.00"), D("0.00"))
    assert report.carried_in == D("550000.00") and report.carried_forward == D("0.00")


def test_2025_26_income_and_expenditure_and_balance_sheet(three):
    report = annual_of(three, parse_closed_year("2025-26"), GENERATED)
    assert lines(report.income) == {"contribution:Council:AdditionalLA": D("4200000.00"),
                                    "contribution:ICB:MinimumNHS": D("6300000.00"), "carried-in": D("550000.00")}
    assert report.income_total == D("11050000.00") and report.expenditure_total == D("11500000.00")
    assert report.before_settlement == D("-450000.00")
    assert lines(report.settlement) == {"share:Council": D("170000.00"), "share:ICB": D("280000.00")}
    assert report.after_settlement == D("0.00")
    # 550,000 carried in + 10,500,000 received - 11,500,000 spent: overdrawn until the partners pay in April.
    assert lines(report.assets) == {"cash:Assets:Pool:Cash": D("-450000.00"), "due:Council": D("170000.00"),
                                    "due:ICB": D("280000.00")}
    assert lines(report.liabilities) == {}
    assert report.net_assets == D("0.00") == report.funds_total
    assert lines(report.funds) == {"unsettled": D("0.00")}


def test_2024_25_carries_its_underspend_forward(three):
    """Contributions 4,000,000 and 6,000,000; spend 5,900,000 and 3,550,000; 550,000 underspent and carried."""
    report = annual_of(three, parse_closed_year("2024-25"), GENERATED)
    council, icb = report.partners
    assert (council.spend_total, icb.spend_total) == (D("5910000.00"), D("3540000.00"))
    assert (council.settlement, icb.settlement, council.net_due, icb.net_due) == (D("0.00"),) * 4
    assert report.before_settlement == D("550000.00")
    assert lines(report.settlement) == {"carried-forward": D("-550000.00")}
    assert report.carried_forward == D("550000.00") and report.after_settlement == D("0.00")
    assert lines(report.assets) == {"cash:Assets:Pool:Cash": D("550000.00")}
    assert lines(report.funds) == {"carried-forward": D("550000.00"), "unsettled": D("0.00")}
    assert report.net_assets == report.funds_total == D("550000.00")


def test_a_returned_underspend_and_a_contribution_not_all_received(returned):
    """Council agreed 1,000,000 and paid 900,000; ICB 1,500,000. Spend S01 (Council) 950,000, S02 (joint
    50/50) 1,400,000: 150,000 underspent, returned 40:60 by contributions, 60,000 and 90,000."""
    report = annual_of(returned, parse_closed_year("2025-26"), GENERATED)
    council, icb = report.partners
    assert (council.outstanding, council.settlement, council.due_from, council.due_to, council.net_due) == \
        (D("100000.00"), D("-60000.00"), D("100000.00"), D("60000.00"), D("40000.00"))
    assert (icb.settlement, icb.due_from, icb.due_to, icb.net_due) == \
        (D("-90000.00"), D("0.00"), D("90000.00"), D("-90000.00"))
    assert (council.spend_total, icb.spend_total) == (D("1650000.00"), D("700000.00"))
    assert report.income_total == D("2500000.00") and report.before_settlement == D("150000.00")
    assert report.after_settlement == D("0.00")
    assert lines(report.assets) == {"cash:Assets:Pool:Cash": D("50000.00"), "contributions:Council": D("100000.00")}
    assert lines(report.liabilities) == {"owed:Council": D("60000.00"), "owed:ICB": D("90000.00")}
    assert report.net_assets == D("0.00") == report.funds_total


@pytest.mark.parametrize("year", ["2024-25", "2025-26"])
def test_the_reconciliation_is_nil_after_settlement(three, year):
    report = annual_of(three, parse_closed_year(year), GENERATED)
    checks = lines(report.reconciliation())
    assert checks["after"] == checks["check-variance"] == checks["check-balance"] == D("0.00")
    assert checks["before"] == -report.position.risk_share.variance


def test_the_command_writes_html_and_xlsx_with_the_hand_figures(tmp_path, capsys):
    assert main(["annual", str(THREE), "--year", "2025-26", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TY-2025-26-annual-return.html",
                                                          "TY-2025-26-annual-return.xlsx"]
    got = cells((tmp_path / "TY-2025-26-annual-return.html").read_text()).cells
    assert money(got[("partner-account=Council", "net_due")]) == D("170000.00")
    assert money(got[("partner-account=ICB", "spend_total")]) == D("4365000.00")
    assert money(got[("scheme=S01", "ICB")]) == D("4140000.00")
    assert money(got[("total=before", "amount")]) == D("-450000.00")
    assert money(got[("total=after", "amount")]) == D("0.00")
    assert money(got[("asset=cash:Assets:Pool:Cash", "amount")]) == D("-450000.00")
    wb = openpyxl.load_workbook(tmp_path / "TY-2025-26-annual-return.xlsx")
    assert wb.sheetnames == ["Partners", "Share of spend", "Income and expenditure", "Balance sheet", "Reconciliation"]
    ws = wb["Income and expenditure"]
    values = {r[0].value: r[1] for r in ws.iter_rows() if r[0].value and r[1].value is not None}
    assert D(str(values["Income less expenditure before settlement"].value)) == D("-450000.00")
    assert values["Income less expenditure after settlement"].value == 0
    assert all(c.data_type == "n" and "£" in c.number_format for c in values.values())
    again = tmp_path / "again"
    assert main(["annual", str(THREE), "--year", "2025-26", "--out", str(again)]) == 0
    for path in again.iterdir():
        assert path.read_bytes() == (tmp_path / path.name).read_bytes()


@pytest.mark.parametrize("ledger, year, message", [
    (THREE, "2026-27", '2026-27 is not closed: the annual return is made once the year is closed and settled '
                       '(custom "s75-close" "2026-27", dated 2027-03-31 or later); no annual return written'),
    (EXAMPLE, "2025-26", "2025-26 is not closed"),
    (THREE, "2023-24", "2024-03-31 is in 2023-24, which is not one of the pool's years"),
    (THREE, "2025", "s75 annual: '2025' is not a financial year as YYYY-YY, e.g. 2025-26"),
    (THREE, "2025-27", "is not a financial year as YYYY-YY"),
    (EXAMPLE.parent, "2025-26", "is a folder, not a ledger file"),
])
def test_refused_in_one_line_writing_nothing(ledger, year, message, tmp_path, capsys):
    assert main(["annual", str(ledger), "--year", year, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_parse_closed_year():
    assert parse_closed_year("2025-26").start == datetime.date(2025, 4, 1)
    with pytest.raises(ReturnError):
        parse_closed_year("25-26")
