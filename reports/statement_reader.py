"""Read a statement file back: its cover (pool, month, the ledger line) and every figure, keyed by
(tab, table, row, column), from the HTML or the workbook `s75 statement` wrote. `s75 verify` compares
two such readings; a PDF statement would need one more reader here (READERS).
"""
from __future__ import annotations

import datetime
import html.parser
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

ZERO = Decimal("0")
TITLE = re.compile(r"(Month \d+, to (\d{1,2} [A-Z][a-z]+ \d{4}))")
PROVENANCE = re.compile(r"^git (?P<commit>[0-9a-f]{4,40})(?:, (?P<ledger>.+?))?"
                        r"(?P<dirty>(?:,| \+) (?:with )?uncommitted changes.*)?$")
COVER_LINE = re.compile(r"^Ledger: (?P<ledger>.*)\. Generated \d{1,2} [A-Z][a-z]+ \d{4}\.$")
ENTRIES = "Entries behind the figures"  # the HTML's list of entries, after the tabs


class CannotVerify(Exception):
    """Why the file cannot be verified, in one line."""


@dataclass
class StatementFile:
    kind: str  # "html" or "xlsx": what `s75 statement` writes it as
    pool: str  # the pool's name, from the cover
    title: str  # "Month 6, to 30 September 2025"
    as_of: datetime.date
    provenance: str  # what follows "Ledger: " on the cover
    figures: dict[tuple[str, str, str, str], str] = field(default_factory=dict)  # (tab, table, row, column)


def read_statement(path: Path) -> StatementFile:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raise CannotVerify(f"{path}: PDF statements cannot be verified yet; verify the HTML or XLSX statement "
                           "written with it")
    reader = READERS.get(suffix)
    if reader is None:
        raise CannotVerify(f"{path} is not a statement: s75 verify reads the .html or .xlsx files s75 statement "
                           "writes")
    if not path.exists():
        raise CannotVerify(f"{path}: no such file")
    if not path.is_file():
        raise CannotVerify(f"{path} is not a file")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CannotVerify(f"{path} cannot be read: {exc.strerror or exc}") from None
    return reader(path, content)


class _HtmlFigures(html.parser.HTMLParser):
    """The statement page's cover, and every table cell keyed by section, table, row and column, with
    the paragraphs of each section (the chart's drawing aside: its figures are in the table below it)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cover: list[tuple[str, str]] = []  # (tag, text) of the cover's lines
        self.figures: dict[tuple[str, str, str, str], str] = {}
        self.marked = False  # the page is an s75 statement (div.s75-statement)
        self._stack: list[str] = []
        self._skip = 0  # inside <svg>, <style>, <script>, <title>, <head>
        self._in_cover = False
        self._section, self._heading, self._tables = "", "", 0
        self._text: list[str] | None = None  # text of the element being read (a cover line, a cell, a paragraph)
        self._cell_col = 0
        self._headers: list[str] = []
        self._row: list[tuple[int, int, str]] | None = None  # (column, span, text)
        self._row_is_header = False
        self._span = 1
        self._rows_seen: dict[tuple[str, str], int] = {}
        self._paragraphs = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("svg", "style", "script", "title", "head"):
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "div" and "s75-statement" in (attrs.get("class") or "").split():
            self.marked = True
        if tag == "div" and attrs.get("id") == "cover":
            self._in_cover = True
        if tag in ("h1", "h2", "h3", "p", "th", "td"):
            self._text = []
        if tag == "section":
            self._section, self._heading, self._tables, self._paragraphs = attrs.get("id", ""), "", 0, 0
        elif tag == "table":
            self._tables += 1
            self._headers = []
        elif tag == "tr":
            self._row, self._row_is_header, self._cell_col = [], False, 0
        elif tag in ("th", "td"):
            span = attrs.get("colspan") or "1"
            self._span = max(1, int(span)) if span.isdigit() else 1
            self._row_is_header = self._row_is_header or (tag == "th")
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("svg", "style", "script", "title", "head"):
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        text = " ".join("".join(self._text).split()) if self._text is not None else ""
        if self._in_cover and tag in ("h1", "p"):
            self.cover.append((tag, text))
            self._text = None
        elif tag == "h2":
            self._section, self._text = text or self._section, None
        elif tag == "h3":
            self._heading, self._text = text, None
        elif tag in ("th", "td") and self._row is not None:
            self._row.append((self._cell_col, self._span, text))
            self._cell_col += self._span
            self._text = None
        elif tag == "tr" and self._row is not None:
            self._end_row()
        elif tag == "p" and not self._in_cover and "table" not in self._stack:
            if text and self._section:
                self._paragraphs += 1
                self.figures[(self._section, self._heading, "text", str(self._paragraphs))] = text
            self._text = None
        if tag == "div" and self._in_cover:  # the cover holds no other div
            self._in_cover = False
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()
        elif tag in self._stack:
            del self._stack[len(self._stack) - 1 - self._stack[::-1].index(tag):]

    def handle_data(self, data):
        if not self._skip and self._text is not None:
            self._text.append(data)

    def _end_row(self):
        cells, self._row = self._row, None
        if self._row_is_header:
            self._headers = []
            for _, span, text in cells:
                self._headers += [text] * span
            return
        if not cells:
            return
        table = self._heading or f"table {self._tables}"
        label = cells[0][2] or "(blank)"
        seen = self._rows_seen.get((self._section, table, label), 0) + 1
        self._rows_seen[(self._section, table, label)] = seen
        if seen > 1:
            label = f"{label} ({seen})"
        for column, span, text in cells[1:]:
            header = self._headers[column] if column < len(self._headers) else f"column {column + 1}"
            self.figures[(self._section, table, label, header)] = text


def read_html(path: Path, content: bytes) -> StatementFile:
    parser = _HtmlFigures()
    try:
        parser.feed(content.decode("utf-8", errors="replace"))
        parser.close()
    except Exception:  # html.parser is lenient; anything it cannot take is not our statement
        raise CannotVerify(f"{path} is not a statement: not a page s75 statement wrote") from None
    pool = next((text for tag, text in parser.cover if tag == "h1"), "")
    title = next((m.group(1) for _, text in parser.cover for m in [TITLE.search(text)] if m), "")
    ledger = next((m.group("ledger") for _, text in parser.cover for m in [COVER_LINE.match(text)] if m), None)
    return _statement(path, "html", pool, title, ledger, parser.figures, parser.marked)


def read_xlsx(path: Path, content: bytes) -> StatementFile:
    import io
    import warnings

    from openpyxl import load_workbook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(io.BytesIO(content))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise CannotVerify(f"{path} is not a statement: not a workbook s75 statement wrote") from None
    if "Finance - Summary" not in wb.sheetnames:
        raise CannotVerify(f"{path} is not a statement: it has no Finance - Summary sheet")
    summary = wb["Finance - Summary"]
    lines = [summary.cell(row, 1).value for row in range(1, 10)]
    lines = [line if isinstance(line, str) else "" for line in lines]
    title = next((m.group(1) for line in lines for m in [TITLE.fullmatch(line)] if m), "")
    ledger = next((line[len("Ledger: "):] for line in lines if line.startswith("Ledger: ")), None)
    figures = {}
    for ws in wb.worksheets:
        figures.update(_sheet_figures(ws))
    return _statement(path, "xlsx", lines[0], title, ledger, figures, True)


def _statement(path, kind, pool, title, ledger, figures, marked) -> StatementFile:
    match = TITLE.fullmatch(title) if title else None
    if not marked or not pool or match is None or ledger is None:
        raise CannotVerify(f"{path} is not a statement: its cover does not name a pool, a month and the ledger "
                           "it was made from")
    try:
        as_of = datetime.datetime.strptime(match.group(2), "%d %B %Y").date()
    except ValueError:
        raise CannotVerify(f"{path} is not a statement: {match.group(2)!r} is not a date") from None
    return StatementFile(kind, pool, title, as_of, ledger, figures)


def _sheet_figures(ws) -> dict[tuple[str, str, str, str], str]:
    """Every cell of a sheet keyed by the table it is in (named by its header's first column), its
    row (the first column's text) and its column's header; formulas by their value. The cover's
    ledger and generation lines are left out."""
    from openpyxl.utils import get_column_letter

    from reports.workbook_sheet import HEADER_RGB as header_colour
    figures, headers, table, seen = {}, {}, "", {}
    values = _Values(ws)
    for row in ws.iter_rows():
        cells = [c for c in row if c.value is not None]
        if not cells:
            continue
        if any(c.fill is not None and c.fill.fill_type == "solid" and c.fill.fgColor.rgb == header_colour
               for c in row):
            headers = {c.column: str(c.value) for c in cells}
            table = _table_name(ws, row[0].row) or f"#{headers.get(1, '')}"  # "#...": not shown
            continue
        first = ws.cell(row[0].row, 1).value
        label = _shown(ws.cell(row[0].row, 1), values) if first is not None else f"row {row[0].row}"
        if ws.title == "Finance - Summary" and not table and isinstance(first, str) \
                and (first.startswith("Ledger: ") or first.startswith("Generated ")):
            continue
        count = seen[(table, label)] = seen.get((table, label), 0) + 1
        if count > 1:
            label = f"{label} ({count})"
        for cell in cells:
            if cell.column == 1 and first is not None:
                continue
            column = headers.get(cell.column) or f"column {get_column_letter(cell.column)}"
            figures[(ws.title, table, label, column)] = _shown(cell, values)
    return figures


def _table_name(ws, header: int) -> str:
    """The bold line just above a table's header ("Contingency plan", "Subtotals by area of spend"), if any."""
    if header < 2:
        return ""
    above = [c for c in ws[header - 1] if c.value is not None]
    if len(above) == 1 and above[0].column == 1 and isinstance(above[0].value, str) and above[0].font is not None \
            and above[0].font.b and (above[0].font.sz or 11) < 14:
        return above[0].value
    return ""


class _Values:
    """Cell values with the workbook's formulas worked out: SUM, SUBTOTAL(109 or 9), COUNTIF and SUMIF
    over ranges and one cell less another, the only ones s75 statement writes (SUBTOTAL as over
    unfiltered rows). Another formula stays as its text."""

    RANGE = re.compile(r"^\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)$")
    DIFFERENCE = re.compile(r"^=\$?([A-Z]+\$?\d+)-\$?([A-Z]+\$?\d+)$")

    def __init__(self, ws):
        self.ws = ws

    def value(self, cell):
        value = cell.value
        if isinstance(value, str) and cell.data_type == "f":
            return self.formula(value)
        return value

    def formula(self, text: str):
        difference = self.DIFFERENCE.match(text)
        if difference:
            return _number(self.ref(difference.group(1))) - _number(self.ref(difference.group(2)))
        match = re.fullmatch(r"=(SUM|SUBTOTAL|COUNTIF|SUMIF)\((.*)\)", text)
        if not match:
            return text
        args = [a.strip() for a in match.group(2).split(",")]
        try:
            if match.group(1) == "SUM" and len(args) == 1:
                return sum((_number(v) for v in self.range(args[0])), ZERO)
            if match.group(1) == "SUBTOTAL" and len(args) == 2 and args[0] in ("9", "109"):
                return sum((_number(v) for v in self.range(args[1])), ZERO)
            if match.group(1) == "COUNTIF" and len(args) == 2:
                wanted = self.ref(args[1])
                return Decimal(sum(1 for v in self.range(args[0]) if v == wanted))
            if match.group(1) == "SUMIF" and len(args) == 3:
                wanted = self.ref(args[1])
                return sum((_number(v) for c, v in zip(self.range(args[0]), self.range(args[2])) if c == wanted),
                           ZERO)
        except (ValueError, KeyError):
            pass
        return text

    def range(self, text: str) -> list:
        match = self.RANGE.match(text)
        if not match:
            raise ValueError(text)
        from openpyxl.utils import column_index_from_string
        first_col, last_col = column_index_from_string(match.group(1)), column_index_from_string(match.group(3))
        out = []
        for row in range(int(match.group(2)), int(match.group(4)) + 1):
            for col in range(first_col, last_col + 1):
                out.append(self.value(self.ws.cell(row, col)))
        return out

    def ref(self, text: str):
        return self.value(self.ws[text.replace("$", "")])


def _number(value) -> Decimal:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return ZERO


def _shown(cell, values: _Values) -> str:
    """A cell as its format shows it: money to the penny with commas, percentages, dates as YYYY-MM-DD."""
    value = values.value(cell)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number, fmt = Decimal(str(value)), cell.number_format or ""
        if "%" in fmt:
            return f"{number * 100:.2f}%"
        if "0.00" in fmt:
            return f"{number:,.2f}"
        return f"{number.normalize():f}" if number == number.to_integral() else str(number)
    return str(value)


READERS = {".html": read_html, ".htm": read_html, ".xlsx": read_xlsx}


# -- where it came from --------------------------------------------------------------------------

SECTIONS = {  # the reader's section keys, as an officer names them
   "finance-summary": "Finance - Summary", "chart": "Cumulative spend", "finance-schemes":
             "Finance - Schemes", "risk-share": "Risk share", "tranches": "Tranches", "metrics": "Metrics",
             "entries": ENTRIES}
