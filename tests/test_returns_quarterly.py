"""`s75 quarterly`: the quarterly report to the partners, against figures worked out by hand from the
example ledger's receipts and monthly spend files (docs/returns.md, "The quarterly report")."""
from __future__ import annotations

import datetime
import re
import subprocess
import shutil
import importlib.util
from decimal import Decimal as D

import openpyxl
import pytest

from conftest import EXAMPLE, ROOT
from htmlcells import cells
from reports.ledger import load_ledger
from reports.returns.quarterly import ReturnError, parse_quarter
from rules.position import build_position
from s75.cli import main
from s75.returns_common import quarterly_of

STEM = "EB-BCF-2025-26-Q2-quarterly"
HAS_PDF = importlib.util.find_spec("reports.pdf") is not None
THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"

# Received, worked from ledger/2025-26/receipts.beancount: (in Q2, to 30 September).
RECEIVED = {
    ("Council", "AdditionalLA"): ("0.00", "500000.00"),  # 500,000.00 on 30 April
    ("Council", "DFG"): ("0.00", "2150000.00"),  # in full on 20 May
    ("Council", "IBCF"): ("1325000.00", "2650000.00"),  # 8 April, 8 July
    ("ICB", "AdditionalNHS"): ("150000.00", "300000.00"),  # 22 April, 22 July
    ("ICB", "MinimumNHS"): ("3800000.01", "7600000.02"),  # 1,266,666.67 on the 15th of each month
}
# Spend, worked from ledger/2025-26/spend-2025-0{7,8,9}.beancount (Q2) and 04 to 09 (to date).
SPEND = {
    "S01": ("1423000.00", "2810000.00"), "S02": ("755000.00", "1480000.00"), "S03": ("355500.00", "714000.00"),
    "S04": ("977000.00", "1912000.00"), "S05": ("0.00", "0.00"), "S06": ("588000.00", "1022000.00"),
    "S07": ("231500.00", "466000.00"), "S08": ("660000.00", "1255000.00"), "S09": ("325500.00", "650000.00"),
    "S10": ("231000.00", "462000.00"), "S11": ("143000.00", "274000.00"), "S12": ("162500.00", "325000.00"),
    "S13": ("250000.00", "500000.00"), "S14": ("97000.00", "190000.00"),
}
# Budget in Q2: a quarter of an even budget; S06 and S08 from their profiles (190+200+200, 180+190+200
# thousand); S04 and S05 before the tranche's virement of 30 September, which moves October's budget on.
BUDGET_Q2 = {"S01": "1350000.00", "S04": "900000.00", "S05": "150000.00", "S06": "590000.00", "S08": "570000.00"}
AREAS = {  # (budget in Q2, actual in Q2, actual to date)
    "Social care": ("2535000.00", "2647000.00", "5048000.00"),
    "Community health": ("1950000.00", "2018500.00", "3988000.00"),
    "Acute": ("900000.00", "977000.00", "1912000.00"),
    "Mental health": ("325000.00", "325500.00", "650000.00"),
    "Primary care": ("225000.00", "231000.00", "462000.00"),
    "Other": ("150000.00", "0.00", "0.00"),
}


def money(text: str) -> D:
    text = text.replace(",", "")
    return -D(text[1:-1]) if text.startswith("(") else D(text)


@pytest.fixture(scope="module")
def example():
    loaded = load_ledger(EXAMPLE)
    assert loaded.errors == []
    return loaded


@pytest.fixture(scope="module")
def q2(example):
    return quarterly_of(example, parse_quarter("2025-26-Q2"), datetime.date(2025, 10, 20))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("quarterly")
    assert main(["quarterly", str(EXAMPLE), "--quarter", "2025-26-Q2", "--out", str(out)]) == 0
    return out


def test_income_in_the_quarter_and_to_date_by_partner_and_source(q2):
    got = {(p.partner.partner, line.source): (line.received_in_quarter, line.received_to_date)
           for p in q2.income for line in p.lines}
    assert got == {key: (D(a), D(b)) for key, (a, b) in RECEIVED.items()}
    council, icb = q2.income
    assert council.totals["received_in_quarter"] == D("1325000.00") and council.totals["agreed"] == D("8450000.00")
    assert icb.totals["received_in_quarter"] == D("3950000.01") and icb.totals["received_to_date"] == D("7900000.02")
    assert q2.income_totals == {"agreed": D("24250000.00"), "received_in_quarter": D("5275000.01"),
                                "received_to_date": D("13200000.02"), "outstanding": D("11049999.98")}


def test_expenditure_by_scheme_in_the_quarter_and_to_date(q2):
    got = {s.position.scheme.scheme: (s.values["actual_in_quarter"], s.values["actual_to_date"]) for s in q2.schemes}
    assert got == {key: (D(a), D(b)) for key, (a, b) in SPEND.items()}
    budgets = {s.position.scheme.scheme: s.values["budget_in_quarter"] for s in q2.schemes}
    assert {k: budgets[k] for k in BUDGET_Q2} == {k: D(v) for k, v in BUDGET_Q2.items()}
    s04 = next(s for s in q2.schemes if s.position.scheme.scheme == "S04")
    assert s04.values["variance_in_quarter"] == D("77000.00")
    assert q2.scheme_totals["actual_in_quarter"] == D("6199000.00")
    assert q2.scheme_totals["budget_in_quarter"] == D("6085000.00")
    assert q2.scheme_totals["actual_to_date"] == D("12060000.00")


def test_expenditure_by_area_of_spend(q2):
    got = {a.area: (a.values["budget_in_quarter"], a.values["actual_in_quarter"], a.values["actual_to_date"])
           for a in q2.areas}
    assert got == {area: tuple(D(v) for v in values) for area, values in AREAS.items()}
    assert [a.area for a in q2.areas] == list(AREAS)  # the agreement's order of areas


def test_forecast_risk_share_tranche_and_metrics(q2):
    assert q2.scheme_totals["forecast_outturn"] == D("24504000.00")
    assert q2.scheme_totals["forecast_variance"] == D("254000.00")
    assert q2.risk_share.shares == {"Council": D("126393.81"), "ICB": D("127606.19")}
    (tranche,) = q2.tranches
    assert (tranche.outcome.period.label, tranche.outcome.released, tranche.outcome.redirected) == \
        ("2025-26 H1", D("327800.00"), D("119200.00"))
    assert tranche.decided_in_quarter
    assert [(m.metric, m.period, m.plan, m.actual) for m in q2.metrics] == [
        ("NEA", "2025-26 Q2", D(4850), D(4875)), ("NEA", "2025-26 H1", D(9700), D(9780)),
        ("RES", "2025-26 Q2", D("155.0"), D("153.2")), ("REA", "2025-26 Q2", D("85.0"), D("85.6"))]


def test_quarter_figures_are_the_difference_of_the_two_positions(example, q2):
    """The quarter's figures agree with the position at 30 June taken from the one at 30 September."""
    june = build_position(example.entries, datetime.date(2025, 6, 30))
    before = {s.scheme.scheme: s for s in june.schemes}
    for line in q2.schemes:
        s = line.position
        assert line.values["actual_in_quarter"] == s.actual_to_date - before[s.scheme.scheme].actual_to_date
        assert line.values["budget_in_quarter"] == s.budget_to_date - before[s.scheme.scheme].budget_to_date


def test_the_first_quarter_is_its_figures_to_date(example):
    q1 = quarterly_of(example, parse_quarter("2025-26-Q1"), datetime.date(2025, 7, 20))
    for p in q1.income:
        for line in p.lines:
            assert line.received_in_quarter == line.received_to_date
    for s in q1.schemes:
        assert s.values["actual_in_quarter"] == s.values["actual_to_date"]
    assert q1.scheme_totals["actual_in_quarter"] == D("5861000.00")
    assert q1.income_totals["received_in_quarter"] == D("7925000.01")


def test_writes_html_xlsx_and_pdf_when_there_is_a_renderer(written):
    expected = {f"{STEM}.html", f"{STEM}.xlsx"} | ({f"{STEM}.pdf"} if HAS_PDF else set())
    assert {p.name for p in written.iterdir()} == expected
    if HAS_PDF:
        assert (written / f"{STEM}.pdf").read_bytes().startswith(b"%PDF")


def test_the_html_shows_the_hand_figures(written):
    got = cells((written / f"{STEM}.html").read_text()).cells
    for (partner, source), (quarter, to_date) in RECEIVED.items():
        assert money(got[(f"income={partner}:{source}", "received_in_quarter")]) == D(quarter)
        assert money(got[(f"income={partner}:{source}", "received_to_date")]) == D(to_date)
    for scheme, (quarter, to_date) in SPEND.items():
        assert money(got[(f"scheme={scheme}", "actual_in_quarter")]) == D(quarter)
        assert money(got[(f"scheme={scheme}", "actual_to_date")]) == D(to_date)
    assert money(got[("area=Other", "variance_in_quarter")]) == D("-150000.00")
    # commitments: the example's one order, PO-88120 for S08, raised on 15 September and not yet drawn
    assert money(got[("scheme=S08", "committed")]) == D("180000.00")
    assert money(got[("scheme=S01", "committed")]) == D("0.00")
    assert money(got[("area=Social care", "committed")]) == D("180000.00")
    assert money(got[("total=forecast", "forecast_variance")]) == D("254000.00")
    assert money(got[("total=risk-share", "ICB")]) == D("127606.19")
    assert got[("metric=NEA:2025-26 Q2", "actual")] == "4875"


def test_the_workbook_holds_money_as_exact_numbers_in_pounds(written):
    wb = openpyxl.load_workbook(written / f"{STEM}.xlsx")
    assert wb.sheetnames == ["Income", "Expenditure", "Areas of spend", "Forecast outturn", "Risk share",
                             "Tranches and metrics"]
    ws = wb["Income"]
    row = next(r for r in ws.iter_rows() if r[1].value == "Minimum NHS contribution")
    assert [D(str(c.value)) for c in row[2:6]] == [D("15200000.00"), D("3800000.01"), D("7600000.02"),
                                                   D("7599999.98")]
    assert all(c.data_type == "n" and "£" in c.number_format for c in row[2:6])
    ws = wb["Expenditure"]
    total = next(r for r in ws.iter_rows() if r[0].value == "Total")
    assert [D(str(c.value)) for c in total[4:7]] == [D("6085000.00"), D("6199000.00"), D("114000.00")]


def test_two_runs_give_the_same_bytes(written, tmp_path):
    assert main(["quarterly", str(EXAMPLE), "--quarter", "2025-26-Q2", "--out", str(tmp_path)]) == 0
    for path in written.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("args, message", [
    (["--quarter", "2025-26-Q5"], "'2025-26-Q5' is not a quarter as YYYY-YY-QN, e.g. 2025-26-Q2"),
    (["--quarter", "2025/26 Q2"], "is not a quarter as YYYY-YY-QN"),
    (["--quarter", "2026-27-Q1"], "2026-27, which is not one of the pool's years (2025-26); no quarterly report written"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, message, tmp_path, capsys):
    assert main(["quarterly", str(EXAMPLE), *args, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_folder_for_the_ledger_is_one_line(tmp_path, capsys):
    assert main(["quarterly", str(EXAMPLE.parent), "--quarter", "2025-26-Q2", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "is a folder, not a ledger file" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_an_out_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "out").write_text("not a folder")
    assert main(["quarterly", str(EXAMPLE), "--quarter", "2025-26-Q2", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "cannot write into" in err and "it is a file, not a folder" in err and err.count("\n") == 1


def test_ledger_text_is_written_as_text_never_a_formula(tmp_path):
    ledger = tmp_path / "main.beancount"
    ledger.write_text(THREE.read_text().replace('"S02" "Reablement"', '"S02" "=HYPERLINK(\\"http://x\\",\\"y\\")"')
                      .replace('provider: "Three Year Council"', 'provider: "=1+1"', 1))
    assert main(["quarterly", str(ledger), "--quarter", "2025-26-Q2", "--out", str(tmp_path / "out")]) == 0
    wb = openpyxl.load_workbook(next((tmp_path / "out").glob("*.xlsx")))
    names = [c for r in wb["Expenditure"].iter_rows() for c in r if str(c.value).startswith("=HYPERLINK")]
    assert names and all(c.data_type == "s" for c in names)
    html = next((tmp_path / "out").glob("*.html")).read_text()
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html


def test_parse_quarter():
    q = parse_quarter("2025-26-Q4")
    assert (q.start, q.end) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    with pytest.raises(ReturnError):
        parse_quarter("2025-27-Q1")



@pytest.mark.skipif(not HAS_PDF or shutil.which("pdftotext") is None, reason="no PDF renderer or pdftotext")
def test_the_pdf_prints_each_total_once_not_at_the_foot_of_every_page(written):
    """A table running over two pages shows its Total row once, under its last row (a grand total under a
    page's part of the rows would read as a subtotal that does not add up)."""
    text = subprocess.run(["pdftotext", "-layout", str(written / f"{STEM}.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    totals = sum(1 for line in text.splitlines() if line.strip().startswith("Total"))
    html = (written / f"{STEM}.html").read_text()
    rows = re.findall(r'<tr class="total"[^>]*>\s*<td[^>]*>Total</td>', html)
    assert len(rows) >= 3 and totals == len(rows)


def test_a_quarter_ending_after_the_books_says_so(tmp_path, capsys, written):
    """Q3 of the example (books to 30 September) is written, but says its later months hold nothing yet."""
    assert "books-to" not in (written / f"{STEM}.html").read_text()  # Q2: the books run to its end
    out = tmp_path / "q3"
    assert main(["quarterly", str(EXAMPLE), "--quarter", "2025-26-Q3", "--out", str(out)]) == 0
    html = (out / "EB-BCF-2025-26-Q3-quarterly.html").read_text()
    assert "The books hold entries to 30 September 2025 only" in html
    ws = openpyxl.load_workbook(out / "EB-BCF-2025-26-Q3-quarterly.xlsx").worksheets[0]
    assert any(str(ws.cell(r, 1).value).startswith("The books hold entries to 30 September 2025") for r in range(1, 9))
