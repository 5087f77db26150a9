"""The statement as officers print and read it: the workbook's page setup, fonts and number formats;
money in brackets and overspends (only) in red; planned savings shown positive; and the same content in
the HTML (so the PDF) and the workbook: last year's spend total, planned savings totals and subtotals,
a tranche's pending 0.00, the risk share's working, the title and month on every sheet."""
from __future__ import annotations

import datetime
import io
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal as D

import openpyxl
import pytest
from beancount import loader

from conftest import EXAMPLE
from htmlcells import cells
from reports.html import statement_html
from reports.statement import build_statement
from reports.workbook import MONEY, SHEETS, statement_xlsx
from rules.position import build_position

GENERATED = datetime.date(2025, 10, 20)
TITLE = "Month 6, to 30 September 2025"
POOL = "Example Borough Better Care Fund"


@pytest.fixture(scope="module")
def statement():
    entries, errors, options = loader.load_file(str(EXAMPLE))
    assert errors == []
    return build_statement(build_position(entries, datetime.date(2025, 9, 30)), options["include"], GENERATED,
                           EXAMPLE)


@pytest.fixture(scope="module")
def xlsx(statement) -> bytes:
    return statement_xlsx(statement)


@pytest.fixture(scope="module")
def workbook(xlsx):
    return openpyxl.load_workbook(io.BytesIO(xlsx))


@pytest.fixture(scope="module")
def stored(xlsx):
    """The workbook as a reader that does not calculate sees it: the values stored beside the formulas."""
    return openpyxl.load_workbook(io.BytesIO(xlsx), data_only=True)


@pytest.fixture(scope="module")
def html(statement):
    return cells(statement_html(statement)).cells


def heading_row(ws, first: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == first)


def columns(ws, row: int) -> dict[str, int]:
    return {ws.cell(row, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value}


FIRST_HEADING = {"Finance - Summary": "Partner", "Finance - Schemes": "ID", "Risk Share": "Step",
                 "Tranches": "Tranche", "Metrics": "Metric"}


# -- the workbook's print setup ------------------------------------------------------------------

def test_every_sheet_prints_on_a4_landscape_one_page_wide_with_its_heading_row_repeated(workbook):
    assert workbook.sheetnames == list(SHEETS)
    for ws in workbook.worksheets:
        setup = ws.page_setup
        assert (setup.paperSize, setup.orientation) == (9, "landscape"), ws.title  # 9: A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title  # 1 wide (the default), any tall
        if ws.title == "Finance - Summary":
            continue  # below
        row = heading_row(ws, FIRST_HEADING[ws.title])
        assert ws.print_title_rows == f"${row}:${row}", ws.title


def test_the_summarys_charts_page_is_not_headed_with_the_partner_tables_headings(workbook):
    """The summary's partner table ends on its first page and its charts start the next (a page break):
    repeated there, the partner headings ("Minimum contribution", ...) would stand over the chart data."""
    ws = workbook["Finance - Summary"]
    assert ws.print_title_rows is None
    assert [brk.id for brk in ws.row_breaks.brk] == [heading_row(ws, "Cumulative spend") - 1]


def test_every_sheets_page_header_and_footer(workbook, statement):
    footer = (f"Generated 20 October 2025. Ledger: {statement.provenance}.").replace("&", "&&")
    for ws in workbook.worksheets:
        assert (ws.oddHeader.left.text, ws.oddHeader.left.font) == (POOL, "Arial,Bold"), ws.title
        assert ws.oddHeader.right.text == f"Pooled budget statement, 2025-26: {TITLE}", ws.title
        assert ws.oddFooter.left.text == footer, ws.title
        assert ws.oddFooter.right.text == "Page &P of &N", ws.title


def test_every_sheet_starts_with_the_pool_and_the_month(workbook):
    for ws in workbook.worksheets:
        assert ws["A1"].value == POOL and ws["A1"].font.b, ws.title
        assert any(isinstance(ws.cell(r, 1).value, str) and ws.cell(r, 1).value.endswith(TITLE)
                   for r in range(2, 5)), ws.title


def test_every_style_names_its_font(xlsx, workbook):
    """No font without a name (LibreOffice showed those, bold headings and totals, in a serif font)."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        styles = archive.read("xl/styles.xml").decode()
    fonts = re.search(r"<fonts[^>]*>(.*?)</fonts>", styles, re.S).group(1)
    assert re.findall(r"<font>.*?</font>", fonts, re.S)
    assert all('<name val="Arial"/>' in font for font in re.findall(r"<font>.*?</font>", fonts, re.S))
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    assert cell.font.name == "Arial", (ws.title, cell.coordinate)


def test_heading_rows_are_high_enough_for_their_wrapped_labels(workbook):
    for ws in workbook.worksheets:
        row = heading_row(ws, FIRST_HEADING[ws.title])
        assert (ws.row_dimensions[row].height or ws.sheet_format.defaultRowHeight) >= 12.75, ws.title
        for col in range(1, ws.max_column + 1):
            assert ws.cell(row, col).value is None or ws.cell(row, col).alignment.wrap_text, (ws.title, col)
    ws = workbook["Finance - Summary"]  # "Agreed: Improved Better Care Fund grant" and the like take 3 lines or more
    assert ws.row_dimensions[heading_row(ws, "Partner")].height >= 3 * 12.75


@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and poppler-utils are needed")
def test_libreoffice_prints_the_schemes_one_page_wide_on_a4_landscape(tmp_path, xlsx):
    book = tmp_path / "statement.xlsx"
    book.write_bytes(xlsx)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(book)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "statement.pdf"
    info = subprocess.run(["pdfinfo", "-l", "99", str(pdf)], capture_output=True, text=True, check=True).stdout
    sizes = re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", info)
    assert sizes and all(round(float(w)) == 842 and round(float(h)) == 595 for w, h in sizes)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")[:-1]
    assert len(pages) <= 2 * len(SHEETS)
    schemes = [page for page in pages if "Schemes, " + TITLE in page]
    assert len(schemes) == 1  # the scheme register, first column to last, on one page
    assert all(text in schemes[0] for text in ("Scheme type", "Original", "Revised", "Planned", "RAG", "S01", "S14", "Amber"))
    assert all(page.lstrip().startswith(POOL) and "Page " in page for page in pages)


# -- money as officers write it ------------------------------------------------------------------

def test_money_is_in_pounds_with_negatives_in_brackets(workbook, xlsx):
    ws = workbook["Finance - Schemes"]
    header = heading_row(ws, "ID")
    heads = columns(ws, header)
    total = heading_row(ws, "Total")
    for heading in ("Revised budget", "Budget to date", "Actual to date", "Variance to date", "Forecast outturn",
                    "Forecast variance", "Planned savings"):
        for row in list(range(header + 1, total + 1)):
            cell = ws.cell(row, heads[heading])
            if cell.value is not None:
                assert cell.number_format == MONEY == "£#,##0.00;(£#,##0.00)", (heading, cell.coordinate)
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert "Red" not in cell.number_format and not cell.number_format.startswith("#,##0.00;-")
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        assert "[Red]" not in archive.read("xl/styles.xml").decode()


def test_only_overspends_are_red(workbook, html):
    """In the workbook a rule makes a positive variance red, in the scheme rows, the total and the area
    subtotals; in the HTML only a positive variance is marked adverse (and CSS makes it red)."""
    ws = workbook["Finance - Schemes"]
    heads = columns(ws, heading_row(ws, "ID"))
    red = {}
    for rule_range in ws.conditional_formatting:
        for rule in rule_range.rules:
            assert (rule.type, rule.operator, rule.formula) == ("cellIs", "greaterThan", ["0"])
            assert rule.dxf.font.color.rgb == "FFB00020"
            red.setdefault(str(rule_range.sqref)[0], []).append(str(rule_range.sqref))
    letters = {openpyxl.utils.get_column_letter(heads[h]) for h in ("Variance to date", "Forecast variance")}
    assert set(red) == letters
    for other in workbook.worksheets:
        assert other.title == ws.title or not list(other.conditional_formatting)


def test_html_marks_positive_variances_adverse_and_never_an_underspend(statement):
    page = statement_html(statement)
    style = page[page.index("<style>"):page.index("</style>")]
    assert re.search(r"\.adverse \{ color: #b00020; \}", style)
    marked = re.findall(r'<td class="num adverse" data-field="(\w+)">([^<]*)<', page)
    assert marked and {field for field, _ in marked} == {"variance_to_date", "forecast_variance"}
    assert all(not text.startswith("(") and text != "0.00" for _, text in marked)
    plain = re.findall(r'<td class="num" data-field="(?:variance_to_date|forecast_variance)">([^<]*)<', page)
    assert plain and all(text.startswith("(") or text == "0.00" for text in plain)


def test_planned_benefits_show_as_positive_planned_savings(workbook, stored, html, statement):
    s04 = next(s for s in statement.position.schemes if s.scheme.scheme == "S04")
    assert s04.scheme.benefits == D("-900000.00")  # as the ledger records it
    assert html[("scheme=S04", "benefits")] == "900,000.00"
    ws = workbook["Finance - Schemes"]
    header = heading_row(ws, "ID")
    heads = columns(ws, header)
    assert "Planned savings" in heads and "Planned benefits" not in heads
    row = next(r for r in range(header + 1, ws.max_row) if ws.cell(r, 1).value == "S04")
    assert ws.cell(row, heads["Planned savings"]).value == 900000


# -- the same content in every format ------------------------------------------------------------

def money(text: str) -> D:
    return -D(text[1:-1].replace(",", "")) if text.startswith("(") else D(text.replace(",", ""))


def test_last_years_spend_is_totalled_in_both(stored, html):
    ws = stored["Finance - Summary"]
    header = heading_row(ws, "Partner")
    column = columns(ws, header)["Spend on pool schemes in previous year"]
    total = heading_row(ws, "Total")
    assert D(str(ws.cell(total, column).value)) == money(html[("total=partners", "prior_spend")]) \
        == D("22990000.00")


def test_planned_savings_are_totalled_and_subtotalled_by_area_in_both(stored, html, statement):
    ws = stored["Finance - Schemes"]
    column = columns(ws, heading_row(ws, "ID"))["Planned savings"]
    assert D(str(ws.cell(heading_row(ws, "Total"), column).value)) == money(html[("total=schemes", "benefits")]) \
        == -sum(s.scheme.benefits for s in statement.position.schemes if s.scheme.benefits is not None)
    for area in statement.areas:
        row = next(r for r in range(heading_row(ws, "Subtotals by area of spend"), ws.max_row + 1)
                   if ws.cell(r, 1).value == area.area)
        assert D(str(ws.cell(row, column).value)) == money(html[(f"area={area.area}", "benefits")]), area.area


def test_a_tranche_with_nothing_pending_shows_0_00_in_both(stored, html):
    assert html[("tranche=P4P", "pending")] == "0.00"
    ws = stored["Tranches"]
    header = heading_row(ws, "Tranche")
    assert ws.cell(header + 1, columns(ws, header)["Pending"]).value == 0


def test_the_risk_share_working_is_in_both(workbook, statement):
    ws = workbook["Risk Share"]
    header = heading_row(ws, "Step")
    heads = columns(ws, header)
    assert list(heads)[:4] == ["Step", "Rule", "Working", "To share"]
    page = statement_html(statement)
    for offset, step in enumerate(statement.position.risk_share.steps, 1):
        working = "; ".join(f"{what} {figure}" for what, figure in step.working)
        assert ws.cell(header + offset, heads["Working"]).value == (working or None)
        assert f"<td class=\"working\">{working}</td>" in page
