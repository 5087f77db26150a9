"""Produce the month's statement files (HTML, XLSX and PDF) from a loaded ledger, and write them safely.

`render_statement` is the one path from ledger to statement bytes: the `s75 statement` command and
the Fava page's downloads both call it, so their files are byte-identical. The PDF is printed from
the same template and model as the HTML file, without the entries behind the figures (which the
page does not print either) and so without links to them. The entries behind the figures and the
position's monthly sums come from one pass over the year's books (rules.trace.traces_and_books). `write_files` replaces
the month's files all together or not at all, even if the command is stopped or killed part way.

The workbook's writer (reports.workbook, and through it XlsxWriter, openpyxl and numpy) is imported
when a statement is rendered, not with this module: the Fava page imports this module on every
start, and `s75 trace` for `month_end`, and neither writes a workbook. (WeasyPrint likewise waits
for the PDF: reports.pdf imports it when it prints.)
"""
from __future__ import annotations

import calendar
import datetime
import os  # noqa: F401 -- tests reach os.replace through this module
from pathlib import Path

from reports.atomic_files import replace_files
from reports.html import ENTRIES_LISTED, statement_html
from reports.ledger import Loaded
from reports.pdf import statement_pdf
from reports.statement import build_statement
from rules.calendar import year_of
from rules.position import build_position
from rules.reader import read_agreement
from rules.trace import traces_and_books


def month_end(text: str) -> datetime.date:
    """"2025-09" -> 30 September 2025; ValueError when not YYYY-MM."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return datetime.date(year, month, calendar.monthrange(year, month)[1])
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"{text!r} is not a month as YYYY-MM") from None


def render_statement(loaded: Loaded, as_of: datetime.date, generated: datetime.date) -> dict[str, bytes]:
    """{file name: bytes} for the statement to `as_of`. Raises PositionError for a date outside the pool."""
    from reports.workbook import statement_xlsx  # only when a workbook is written (see above)

    agreement, _ = read_agreement(loaded.entries)
    traces = books = None
    if agreement.pool is not None and year_of(as_of) in agreement.years():  # else build_position says why not
        # the entries behind the figures and the position's monthly sums come from one pass
        traces, books = traces_and_books(loaded.entries, agreement, as_of, base=loaded.path.parent,
                                         limit=ENTRIES_LISTED)
    position = build_position(loaded.entries, as_of, agreement, books)
    statement = build_statement(position, loaded.options.get("include", [str(loaded.path)]), generated,
                                loaded.path)
    return {f"{statement.stem}.html": statement_html(statement, traces=traces).encode("utf-8"),
            f"{statement.stem}.xlsx": statement_xlsx(statement),
            f"{statement.stem}.pdf": statement_pdf(statement, statement_html(statement))}


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write all `files` into `folder`, replacing those there, all together or not at all (see
    reports.atomic_files for what holds if the process is stopped or killed part way)."""
    return replace_files(folder, files)
