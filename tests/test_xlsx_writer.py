"""The statement's Excel workbook: its sheets, formulas, safety with ledger text and determinism."""
from __future__ import annotations

import dataclasses
import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from beancount import loader

from conftest import EXAMPLE
from reports.statement import build_statement
from reports.xlsx import statement_xlsx
from rules.position import build_position

SHEETS = ["Finance - Summary", "Finance - Schemes", "Risk Share", "Tranches", "Metrics"]
# On Finance - Schemes, for the example (which has an order, so Committed and Actual plus committed follow
# Actual to date): original budget to planned savings, but not the forecast basis (S).
MONEY_COLUMNS = "JKLMNOPQRTU"
GENERATED = datetime.date(2025, 10, 20)


@pytest.fixture(scope="module")
def example():
    entries, errors, options = loader.load_file(str(EXAMPLE))
    assert errors == []
    position = build_position(entries, datetime.date(2025, 9, 30))
    return position, options["include"]


@pytest.fixture(scope="module")
def statement(example):
    position, files = example
    return build_statement(position, files, GENERATED)


@pytest.fixture(scope="module")
def workbook(statement):
    return openpyxl.load_workbook(io.BytesIO(statement_xlsx(statement)))


def scheme_rows(ws, count: int) -> tuple[int, int, int]:
    """Header row, first and last scheme rows of the scheme block."""
    header = next(row for row in range(1, 20) if ws.cell(row, 1).value == "ID")
    return header, header + 1, header + count


def test_five_sheets_in_order(workbook):
    assert workbook.sheetnames == SHEETS


def test_scheme_total_row_subtotals_exactly_the_scheme_rows(workbook, statement):
    ws = workbook["Finance - Schemes"]
    _, first, last = scheme_rows(ws, len(statement.position.schemes))
    assert ws[f"A{last + 1}"].value == "Total"
    assert ws[f"J{last + 1}"].value == f"=SUBTOTAL(109,J{first}:J{last})"
    for col in MONEY_COLUMNS:
        assert ws[f"{col}{last + 1}"].value == f"=SUBTOTAL(109,{col}{first}:{col}{last})"


def test_scheme_rows_carry_the_positions_budgets_in_order(workbook, statement):
    ws = workbook["Finance - Schemes"]
    schemes = statement.position.schemes
    _, first, last = scheme_rows(ws, len(schemes))
    assert [ws[f"A{row}"].value for row in range(first, last + 1)] == [s.scheme.scheme for s in schemes]
    assert [Decimal(str(ws[f"J{row}"].value)) for row in range(first, last + 1)] == \
        [s.original_budget for s in schemes]
    assert [Decimal(str(ws[f"L{row}"].value)) for row in range(first, last + 1)] == \
        [s.annual_budget for s in schemes]


def test_scheme_block_is_plain_and_filterable(workbook, statement):
    ws = workbook["Finance - Schemes"]
    header, first, last = scheme_rows(ws, len(statement.position.schemes))
    assert not ws.merged_cells.ranges
    assert ws.auto_filter.ref == f"A{header}:Y{last}"  # to the forecast note
    area_row = next(row for row in range(last + 1, ws.max_row + 1) if ws[f"A{row}"].value == statement.areas[0].area)
    assert ws[f"J{area_row}"].value == f"=SUMIF($D${first}:$D${last},A{area_row},J${first}:J${last})"


def test_partner_total_row_subtotals_the_partner_rows(workbook, statement):
    ws = workbook["Finance - Summary"]
    header = next(row for row in range(1, 20) if ws.cell(row, 1).value == "Partner")
    first, last = header + 1, header + len(statement.position.partners)
    assert ws[f"A{last + 1}"].value == "Total"
    assert ws[f"C{last + 1}"].value == f"=SUBTOTAL(109,C{first}:C{last})"
    assert ws[f"A{first}"].value == statement.position.partners[0].partner.name


def test_every_sheet_has_frozen_panes(workbook):
    for ws in workbook.worksheets:
        assert ws.freeze_panes, ws.title


def test_same_statement_gives_identical_bytes(statement):
    first, second = statement_xlsx(statement), statement_xlsx(statement)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_document_properties_are_fixed(workbook):
    assert workbook.properties.creator == "s75"
    assert workbook.properties.created == workbook.properties.modified == datetime.datetime(2025, 10, 20)


def test_ledger_text_that_looks_like_a_formula_stays_text(example):
    position, files = example
    name, provider = '=HYPERLINK("http://x","y")', "@SUM(A1)"
    first = position.schemes[0]
    hostile = dataclasses.replace(first, scheme=dataclasses.replace(first.scheme, name=name, provider=provider))
    position = dataclasses.replace(position, schemes=(hostile,) + position.schemes[1:])
    data = statement_xlsx(build_statement(position, files, GENERATED))
    ws = openpyxl.load_workbook(io.BytesIO(data))["Finance - Schemes"]
    _, row, _ = scheme_rows(ws, len(position.schemes))
    assert (ws[f"B{row}"].value, ws[f"B{row}"].data_type) == (name, "s")
    assert (ws[f"F{row}"].value, ws[f"F{row}"].data_type) == (provider, "s")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>HYPERLINK" not in sheet and "<f>@" not in sheet


def test_a_figure_is_written_into_its_cell_as_its_own_digits_and_read_back_to_the_penny():
    import xlsxwriter

    from reports.workbook_sheet import NUMBER, Sheet, Styles
    figures = ("24250000.01", "9999999999999.99", "99999999999999.99", "0.01", "-1234567.89", "1073200.00")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = Sheet(book, book.add_worksheet("Figures"), Styles(book))
    for row, text in enumerate(figures, start=1):
        sheet.put(row, 1, Decimal(text), NUMBER)
        sheet.formula(row, 2, f"=A{row}", NUMBER, Decimal(text))
    book.close()
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    for text in figures:
        assert xml.count(f"<v>{text}</v>") == 2  # the number and the formula's stored value, digit for digit
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Figures"]
    for row, text in enumerate(figures, start=1):  # a reader's float holds 15 significant digits to the penny
        if text != "99999999999999.99":
            assert Decimal(repr(ws.cell(row, 1).value)).quantize(Decimal("0.01")) == Decimal(text)
