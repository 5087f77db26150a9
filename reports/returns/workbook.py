"""Writing the returns' workbooks: cells of a kind, tables and the same bytes for the same figures.

Money is written as a number (the exact Decimal) with a pound format, brackets for negatives; text
from the ledger is always a string cell, never a formula, whatever it starts with; a workbook saved
twice from the same figures gives the same bytes (fixed document dates and zip entry times).
"""
from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

TEXT, NUMBER, DATE, PERCENT = "text", "General", "dd/mm/yyyy", "0.00"
MONEY = '"£"#,##0.00;("£"#,##0.00)'
BOLD, TITLE = Font(bold=True), Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
MAX_WIDTH, HEADER_WIDTH = 50, 24
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def put(ws, row: int, col: int, value, kind: str = TEXT, font: Font | None = None):
    """Write a value of its kind: text as a string cell, figures as numbers with their format; blank for None."""
    if value is None or (kind == TEXT and value == ""):
        return None
    cell = ws.cell(row, col)
    if kind == TEXT:
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.data_type = "s"  # openpyxl would make a string starting "=" a formula
        width = len(cell.value)
    else:
        cell.value = value
        cell.number_format = kind
        width = len(f"{value:,.2f}") + 3 if isinstance(value, Decimal) and kind == MONEY else \
            10 if kind == DATE else len(str(value))
    if font is not None:
        cell.font = font
    fit(ws, col, width)
    return cell


def line(ws, row: int, text: str, font: Font | None = None) -> None:
    """Text in column A that overflows to the right without widening the column."""
    cell = ws.cell(row, 1)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(text))
    cell.data_type = "s"
    if font is not None:
        cell.font = font


def fit(ws, col: int, width: int) -> None:
    dim = ws.column_dimensions[get_column_letter(col)]
    dim.width = min(MAX_WIDTH, max(dim.width or 0, width + 2))


def header(ws, row: int, labels) -> None:
    """A bold, shaded header row from column A; long labels wrap."""
    for col, label in enumerate(labels, 1):
        cell = ws.cell(row, col)
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(label))
        cell.data_type = "s"
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        fit(ws, col, min(len(label), HEADER_WIDTH))


def table(ws, top: int, columns, rows, total: list | None = None) -> int:
    """`columns` is [(heading, kind)]; a header at `top`, a row per list of values, then `total` (values
    in bold, None for a blank) if given. Returns the last row written."""
    header(ws, top, [label for label, _ in columns])
    row = top
    for row, values in enumerate(rows, top + 1):
        for col, (value, (_, kind)) in enumerate(zip(values, columns), 1):
            put(ws, row, col, value, kind)
    if total is not None:
        row += 1
        for col, (value, (_, kind)) in enumerate(zip(total, columns), 1):
            put(ws, row, col, value, kind, BOLD)
    return row


def workbook_bytes(wb: Workbook, generated: datetime.date) -> bytes:
    """The workbook's .xlsx bytes, the same for the same content on every call."""
    stamp = datetime.datetime.combine(generated, datetime.time())
    wb.properties.creator = "s75"
    wb.properties.created = wb.properties.modified = stamp
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()  # not wb.save(), which stamps the time of saving
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.create_system, fixed.external_attr = 3, 0o100600 << 16
            target.writestr(fixed, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
