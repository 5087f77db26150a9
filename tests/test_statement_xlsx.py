"""The XLSX statement against hand-worked figures, the position, and a real spreadsheet's recalculation."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from conftest import EXAMPLE, WORKED
from htmlcells import cells
from s75.cli import main

PROPORTIONAL = '\n2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional"\n'


def header_columns(ws, header_row: int) -> dict[str, int]:
    return {ws.cell(header_row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(header_row, c).value}


def find_row(ws, text: str, column: int = 1) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, column).value == text)


def table(ws, header_text: str, key_column: int = 1):
    """(columns by header, {key: row}, header row) of the table whose header row starts with `header_text`."""
    header = find_row(ws, header_text)
    columns = header_columns(ws, header)
    rows, r = {}, header + 1
    while ws.cell(r, key_column).value not in (None, "Total"):
        rows[ws.cell(r, key_column).value] = r
        r += 1
    return columns, rows, header


def statement(tmp_path, ledger: Path, month: str) -> tuple[openpyxl.Workbook, str]:
    out = tmp_path / "out"
    assert main(["statement", str(ledger), "--month", month, "--out", str(out)]) == 0
    xlsx = next(out.glob("*.xlsx"))
    return openpyxl.load_workbook(xlsx), next(out.glob("*.html")).read_text()


@pytest.fixture
def worked_year_end(tmp_path):
    ledger = tmp_path / "worked.beancount"
    ledger.write_text(WORKED.read_text() + PROPORTIONAL)
    return statement(tmp_path, ledger, "2026-03")


def test_worked_example_figures_in_the_schemes_sheet(worked_year_end):
    wb, _ = worked_year_end
    ws = wb["Finance - Schemes"]
    columns, rows, _ = table(ws, "ID")
    expected = {"S01": (6000000, 6500000, 500000), "S02": (4000000, 4400000, 400000),
                "S03": (2000000, 1900000, -100000), "S04": (7500000, 7600000, 100000),
                "S05": (500000, 0, -500000)}
    for scheme, figures in expected.items():
        got = tuple(ws.cell(rows[scheme], columns[h]).value
                    for h in ("Annual budget", "Forecast outturn", "Forecast variance"))
        assert got == tuple(D(f) for f in figures), scheme


def test_worked_example_proportional_risk_share_in_both_sheets(worked_year_end):
    wb, _ = worked_year_end
    ws = wb["Finance - Summary"]
    columns, rows, _ = table(ws, "Partner")
    share = next(c for h, c in columns.items() if h.startswith("Forecast share"))
    assert ws.cell(rows["Worked Example Council"], share).value == D("160000.00")
    assert ws.cell(rows["NHS Worked Example ICB"], share).value == D("240000.00")
    rs = wb["Risk Share"]
    columns, rows, _ = table(rs, "Step")
    assert rs.cell(rows[1], columns["Worked Example Council"]).value == D("160000.00")
    assert rs.cell(rows[1], columns["NHS Worked Example ICB"]).value == D("240000.00")


SUM = re.compile(r"^=SUM\(([A-Z]+)(\d+):([A-Z]+)(\d+)\)$")


def summed(ws, formula: str) -> D:
    """The value of a =SUM(Xa:Xb) formula, from the cells it covers."""
    col, first, _, last = SUM.match(formula).groups()
    return sum((D(str(ws[f"{col}{r}"].value or 0)) for r in range(int(first), int(last) + 1)), D(0))


def test_example_pool_totals_equal_the_position(tmp_path, capsys):
    wb, _ = statement(tmp_path, EXAMPLE, "2025-09")
    capsys.readouterr()
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    ws = wb["Finance - Schemes"]
    columns, rows, header = table(ws, "ID")
    total_row = header + len(rows) + 1
    assert ws.cell(total_row, 1).value == "Total"
    for field, heading in (("annual_budget", "Annual budget"), ("budget_to_date", "Budget to date"),
                           ("actual_to_date", "Actual to date"), ("variance_to_date", "Variance to date"),
                           ("forecast_outturn", "Forecast outturn"), ("forecast_variance", "Forecast variance")):
        formula = ws.cell(total_row, columns[heading]).value
        col = openpyxl.utils.get_column_letter(columns[heading])
        assert formula == f"=SUM({col}{header + 1}:{col}{header + len(rows)})"  # exactly the rows above
        assert summed(ws, formula) == D(totals["schemes"][field])
    ws = wb["Finance - Summary"]
    columns, rows, header = table(ws, "Partner")
    total_row = header + len(rows) + 1
    for field, heading in (("minimum", "Minimum contribution"), ("agreed", "Agreed contribution"),
                           ("received", "Received to date"), ("outstanding", "Outstanding")):
        formula = ws.cell(total_row, columns[heading]).value
        col = openpyxl.utils.get_column_letter(columns[heading])
        assert formula == f"=SUM({col}{header + 1}:{col}{header + len(rows)})"
        assert summed(ws, formula) == D(totals["partners"][field])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculates_the_totals_to_the_models(tmp_path, capsys):
    wb, _ = statement(tmp_path, EXAMPLE, "2025-09")
    capsys.readouterr()
    main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"])
    totals = json.loads(capsys.readouterr().out)["totals"]
    book = next((tmp_path / "out").glob("*.xlsx"))
    recalculated = tmp_path / "recalculated"
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(recalculated), str(book)],
                   check=True, capture_output=True, timeout=180)
    values = openpyxl.load_workbook(recalculated / book.name, data_only=True)
    ws = values["Finance - Schemes"]
    columns, rows, header = table(ws, "ID")
    total_row = header + len(rows) + 1
    for field, heading in (("annual_budget", "Annual budget"), ("actual_to_date", "Actual to date"),
                           ("forecast_variance", "Forecast variance")):
        assert D(str(ws.cell(total_row, columns[heading]).value)).quantize(D("0.01")) == \
            D(totals["schemes"][field])
    ws = values["Finance - Summary"]
    columns, rows, header = table(ws, "Partner")
    assert D(str(ws.cell(header + len(rows) + 1, columns["Received to date"]).value)).quantize(D("0.01")) == \
        D(totals["partners"]["received"])


def test_formula_like_names_come_out_as_text_in_both_outputs(tmp_path):
    hyperlink, at_sum = '=HYPERLINK("http://x","y")', "@SUM(A1)"
    text = WORKED.read_text().replace('"Reablement" Expenses', '"=HYPERLINK(\\"http://x\\",\\"y\\")" Expenses')
    text = text.replace('provider: "Worked Example Equipment Ltd"', 'provider: "@SUM(A1)"')
    ledger = tmp_path / "hostile.beancount"
    ledger.write_text(text + PROPORTIONAL)
    wb, html = statement(tmp_path, ledger, "2026-03")
    ws = wb["Finance - Schemes"]
    columns, rows, _ = table(ws, "ID")
    name, provider = ws.cell(rows["S02"], columns["Scheme"]), ws.cell(rows["S03"], columns["Lead provider"])
    assert (name.value, name.data_type) == (hyperlink, "s")
    assert (provider.value, provider.data_type) == (at_sum, "s")
    texts = "".join(cells(html).texts)
    assert hyperlink in texts and at_sum in texts
    # no link but the page's own, between a figure and the entries behind it further down
    assert all(tag.startswith('<a href="#') for tag in re.findall(r"<a\b[^>]*>", html))
