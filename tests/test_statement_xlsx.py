"""The XLSX statement against hand-worked figures, the position, and a real spreadsheet's recalculation."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
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


def statement(tmp_path, ledger: Path, month: str, values: bool = False) -> tuple[openpyxl.Workbook, str]:
    """The workbook s75 statement writes (its formulas, or with `values` the values stored beside them,
    as pandas or a file preview reads them) and the HTML page."""
    out = tmp_path / "out"
    if not out.exists():
        assert main(["statement", str(ledger), "--month", month, "--out", str(out)]) == 0
    xlsx = next(out.glob("*.xlsx"))
    return openpyxl.load_workbook(xlsx, data_only=values), next(out.glob("*.html")).read_text()


@pytest.fixture
def worked_year_end(tmp_path):
    ledger = tmp_path / "worked.beancount"
    ledger.write_text(WORKED.read_text() + PROPORTIONAL)
    return statement(tmp_path, ledger, "2026-03", values=True)


def test_worked_example_figures_in_the_schemes_sheet(worked_year_end):
    """The forecast variance is a formula over the row (outturn less budget): its stored value is the figure."""
    wb, _ = worked_year_end
    ws = wb["Finance - Schemes"]
    columns, rows, _ = table(ws, "ID")
    expected = {"S01": (6000000, 6500000, 500000), "S02": (4000000, 4400000, 400000),
                "S03": (2000000, 1900000, -100000), "S04": (7500000, 7600000, 100000),
                "S05": (500000, 0, -500000)}
    for scheme, figures in expected.items():
        got = tuple(ws.cell(rows[scheme], columns[h]).value
                    for h in ("Revised budget", "Forecast outturn", "Forecast variance"))
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


SUBTOTAL = re.compile(r"^=SUBTOTAL\(109,([A-Z]+)(\d+):([A-Z]+)(\d+)\)$")


def summed(ws, formula: str) -> D:
    """The value of a =SUBTOTAL(109,Xa:Xb) formula, from the values of the cells it covers."""
    col, first, _, last = SUBTOTAL.match(formula).groups()
    return sum((D(str(ws[f"{col}{r}"].value or 0)) for r in range(int(first), int(last) + 1)), D(0))


def test_example_pool_totals_equal_the_position(tmp_path, capsys):
    """Each total is SUBTOTAL(109, ...) over exactly the rows above it (so a filter changes it), and the
    value stored beside it, like the sum of the values of those rows, is the position's total."""
    wb, _ = statement(tmp_path, EXAMPLE, "2025-09")
    stored, _ = statement(tmp_path, EXAMPLE, "2025-09", values=True)
    capsys.readouterr()
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    ws, values = wb["Finance - Schemes"], stored["Finance - Schemes"]
    columns, rows, header = table(ws, "ID")
    total_row = header + len(rows) + 1
    assert ws.cell(total_row, 1).value == "Total"
    for field, heading in (("annual_budget", "Revised budget"), ("budget_to_date", "Budget to date"),
                           ("actual_to_date", "Actual to date"), ("variance_to_date", "Variance to date"),
                           ("forecast_outturn", "Forecast outturn"), ("forecast_variance", "Forecast variance")):
        formula = ws.cell(total_row, columns[heading]).value
        col = openpyxl.utils.get_column_letter(columns[heading])
        assert formula == f"=SUBTOTAL(109,{col}{header + 1}:{col}{header + len(rows)})"  # exactly the rows above
        assert summed(values, formula) == D(totals["schemes"][field])
        assert D(str(values.cell(total_row, columns[heading]).value)) == D(totals["schemes"][field])
    ws, values = wb["Finance - Summary"], stored["Finance - Summary"]
    columns, rows, header = table(ws, "Partner")
    total_row = header + len(rows) + 1
    for field, heading in (("minimum", "Minimum contribution"), ("agreed", "Agreed contribution"),
                           ("received", "Received to date"), ("outstanding", "Outstanding")):
        formula = ws.cell(total_row, columns[heading]).value
        col = openpyxl.utils.get_column_letter(columns[heading])
        assert formula == f"=SUBTOTAL(109,{col}{header + 1}:{col}{header + len(rows)})"
        assert summed(values, formula) == D(totals["partners"][field])
        assert D(str(values.cell(total_row, columns[heading]).value)) == D(totals["partners"][field])


def test_row_variances_are_formulas_over_the_rows_own_cells(tmp_path):
    wb, _ = statement(tmp_path, EXAMPLE, "2025-09")
    ws = wb["Finance - Schemes"]
    columns, rows, _ = table(ws, "ID")
    letter = {h: openpyxl.utils.get_column_letter(c) for h, c in columns.items()}
    for row in rows.values():
        assert ws.cell(row, columns["Variance to date"]).value == \
            f"={letter['Actual to date']}{row}-{letter['Budget to date']}{row}"
        assert ws.cell(row, columns["Forecast variance"]).value == \
            f"={letter['Forecast outturn']}{row}-{letter['Revised budget']}{row}"
        assert ws.cell(row, columns["Changes"]).value == \
            f"={letter['Revised budget']}{row}-{letter['Original budget']}{row}"
    ws = wb["Finance - Summary"]
    columns, rows, _ = table(ws, "Partner")
    letter = {h: openpyxl.utils.get_column_letter(c) for h, c in columns.items()}
    for row in rows.values():
        assert ws.cell(row, columns["Outstanding"]).value == \
            f"={letter['Agreed contribution']}{row}-{letter['Received to date']}{row}"


def without_values(xlsx: Path, to: Path) -> Path:
    """A copy of the workbook with the values stored beside its formulas taken out, so that a spreadsheet
    opening it has to work every formula out (LibreOffice shows stored values as they are)."""
    with zipfile.ZipFile(xlsx) as source, zipfile.ZipFile(to, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", data)
            target.writestr(info, data)
    return to


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def html_money(text: str) -> D:
    """"1,234.50" or "(1,234.50)" (and a run-rate's " r") as a number."""
    text = text.split()[0].replace(",", "")
    return -D(text[1:-1]) if text.startswith("(") else D(text)


def test_libreoffice_recalculates_every_formula_to_the_htmls_figures(tmp_path):
    """With the stored values taken out, LibreOffice works out every formula in the workbook to the value
    s75 stored beside it; the scheme rows' variances, the totals and the area subtotals (planned savings
    included) are the HTML page's figures."""
    wb, html = statement(tmp_path, EXAMPLE, "2025-09")
    stored, _ = statement(tmp_path, EXAMPLE, "2025-09", values=True)
    book = next((tmp_path / "out").glob("*.xlsx"))
    bare = without_values(book, tmp_path / book.name)
    assert openpyxl.load_workbook(bare, data_only=True)["Finance - Schemes"]["J19"].value is None
    recalculated = tmp_path / "recalculated"
    subprocess.run(["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(recalculated), str(bare)],
                   check=True, capture_output=True, timeout=180)
    values = openpyxl.load_workbook(recalculated / book.name, data_only=True)
    formulas = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas += 1
                    got = D(str(values[ws.title][cell.coordinate].value)).quantize(D("0.01"))
                    assert got == D(str(stored[ws.title][cell.coordinate].value)).quantize(D("0.01")), \
                        (ws.title, cell.coordinate, cell.value)
    assert formulas > 80
    got = cells(html).cells
    ws = values["Finance - Schemes"]
    columns, rows, header = table(ws, "ID")
    fields = {"annual_budget": "Revised budget", "actual_to_date": "Actual to date",
              "variance_to_date": "Variance to date", "forecast_variance": "Forecast variance",
              "benefits": "Planned savings"}
    for scheme, row in rows.items():
        for field in ("variance_to_date", "forecast_variance"):
            assert D(str(ws.cell(row, columns[fields[field]]).value)) == html_money(got[(f"scheme={scheme}", field)])
    total_row = header + len(rows) + 1
    for field, heading in fields.items():
        assert D(str(ws.cell(total_row, columns[heading]).value)).quantize(D("0.01")) == \
            html_money(got[("total=schemes", field)]), heading
    subtotals = find_row(ws, "Subtotals by area of spend") + 1
    area_columns = header_columns(ws, subtotals)
    row = subtotals + 1
    while ws.cell(row, 1).value:
        for field, heading in fields.items():
            assert D(str(ws.cell(row, area_columns[heading]).value)).quantize(D("0.01")) == \
                html_money(got[(f"area={ws.cell(row, 1).value}", field)]), (ws.cell(row, 1).value, heading)
        row += 1
    ws = values["Finance - Summary"]
    columns, rows, header = table(ws, "Partner")
    for field, heading in (("received", "Received to date"), ("outstanding", "Outstanding"),
                           ("prior_spend", "Spend on pool schemes in previous year")):
        assert D(str(ws.cell(header + len(rows) + 1, columns[heading]).value)).quantize(D("0.01")) == \
            html_money(got[("total=partners", field)]), heading


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
