"""How the statement's workbook writes a sheet: cell formats made once each and naming their font
(`Styles`), and `Sheet`, which writes cells by row and column numbered from 1, remembers what it
wrote (to store each formula's value beside it), sizes columns and wrapped heading rows, and sets up
the printed page (A4 landscape, one page wide, heading row repeated, page header and footer).
reports.workbook and reports.workbook_schemes lay the statement out with it.

Figures go to XlsxWriter as the Decimals they are: it writes a number cell's value as the number's
text to 16 significant digits (`{:.16G}`) and a formula's stored value as its text, so a figure's
digits in the file are the ledger's own, with no binary float between (every figure of up to 16
significant digits, 99,999,999,999,999.99, exactly). A spreadsheet reading the file holds it in its
own floating point, which gives back to the penny every figure of up to 15 significant digits
(9,999,999,999,999.99).
"""
from __future__ import annotations

import datetime
import re
import textwrap
from decimal import Decimal

from xlsxwriter.utility import xl_col_to_name

from reports.statement import Statement

FONT, FONT_SIZE, TITLE_SIZE = "Arial", 10, 14
TEXT, NUMBER, PERCENT, DATE, COUNT = "text", "General", "0.00%", "dd/mm/yyyy", "0"
MONEY = "£#,##0.00;(£#,##0.00)"
ZERO = Decimal("0.00")
MAX_WIDTH = 50  # no column is wider
HEADER_WIDTH = 12  # headings longer than this wrap (a long word widens its column)
WRAP_WIDTH = 24  # ledger text in a table longer than this wraps (the scheme register's, SCHEME_WRAP)
SCHEME_WRAP = 13
LINE_HEIGHT = 12.75  # points per line of 10-point Arial, for the heights of wrapped heading rows
HEADER_COLOUR, ADVERSE_COLOUR = "#DDEBF7", "#B00020"
HEADER_RGB = "FF" + HEADER_COLOUR[1:]  # the headings' fill as openpyxl reads it back (s75 verify finds the tables by it)
# The control characters a cell of an .xlsx (XML 1.0) cannot hold: left out of the text written.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
HEADER_LIMIT = 255  # characters Excel allows in a page header or footer


class Styles:
    """The workbook's cell formats, made once each, every one naming its font."""

    def __init__(self, book):
        self.book = book
        self.made: dict[tuple, object] = {}

    def get(self, kind: str = TEXT, bold: bool = False, size: int = FONT_SIZE, fill: str | None = None,
            header: bool = False, total: bool = False, colour: str | None = None, wrap: bool = False):
        key = (kind, bold, size, fill, header, total, colour, wrap)
        if key not in self.made:
            props = {"font_name": FONT, "font_size": size, "bold": bold, "valign": "top"}
            if kind != TEXT:
                props["num_format"] = kind
            if fill:
                props.update(pattern=1, bg_color=fill)
            if header or wrap:
                props["text_wrap"] = True
            if header:
                props["bottom"] = 1
            if total:
                props.update(top=1)
            if colour:
                props["font_color"] = colour
            self.made[key] = self.book.add_format(props)
        return self.made[key]

    def adverse(self):
        """The conditional format of an overspend: red figures (a format for a rule names no font)."""
        if "adverse" not in self.made:
            self.made["adverse"] = self.book.add_format({"font_color": ADVERSE_COLOUR})
        return self.made["adverse"]


class Sheet:
    """A worksheet written by row and column numbered from 1, as the sheet shows them. Remembers what
    it wrote (to store each formula's value beside it), each column's width and the heading rows (to
    size them for their wrapped text)."""

    def __init__(self, book, ws, styles: Styles):
        self.book, self.ws, self.styles = book, ws, styles
        self.title = ws.name
        self.values: dict[tuple[int, int], object] = {}
        self.widths: dict[int, float] = {}
        self.headings: dict[int, dict[int, str]] = {}  # row -> {column: label}
        self.wrapped: dict[int, dict[int, str]] = {}  # row -> {column: text} of the cells that wrap
        self.wrap_width = WRAP_WIDTH
        self.repeat: int | None = None  # the heading row repeated on each printed page (0: none)

    # -- writing cells ---------------------------------------------------------------------------

    def text(self, row: int, col: int, value, bold: bool = False, size: int = FONT_SIZE, fill: str | None = None,
             fit: bool = True) -> None:
        """Ledger text as text, never a formula, whatever it starts with; nothing when blank. In a table
        (`fit`), text longer than WRAP_WIDTH wraps in its cell rather than widening the column further."""
        if value is None or value == "":
            return
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        wrap = fit and len(text) > self.wrap_width
        self.ws.write_string(row - 1, col - 1, text, self.styles.get(TEXT, bold, size, fill, wrap=wrap))
        self.values[(row, col)] = text
        if wrap:
            self.wrapped.setdefault(row, {})[col] = text
        if fit:
            self.fit(col, _wrapped_width(text, self.wrap_width))

    def line(self, row: int, text: str, bold: bool = False, size: int = FONT_SIZE) -> None:
        """A line of text in column A that overflows to the right, so it does not widen the column."""
        self.text(row, 1, text, bold, size, fit=False)

    def put(self, row: int, col: int, value, kind: str, bold: bool = False) -> None:
        """A value of the column's kind: text through `text`, figures as numbers in the kind's format."""
        if kind == TEXT:
            self.text(row, col, value, bold)
            return
        if value is None:
            return
        style = self.styles.get(kind, bold)
        if isinstance(value, datetime.date):
            self.ws.write_datetime(row - 1, col - 1, datetime.datetime.combine(value, datetime.time()), style)
        else:
            self.ws.write_number(row - 1, col - 1, value, style)  # a Decimal is written as its own digits
        self.values[(row, col)] = value
        self.fit(col, _shown_width(value, kind))

    def formula(self, row: int, col: int, formula: str, kind: str, value, bold: bool = False,
                total: bool = False, width: int = 0) -> None:
        """A formula we built (the only formula cells in the workbook), with its value stored beside it."""
        self.ws.write_formula(row - 1, col - 1, formula, self.styles.get(kind, bold, total=total), value)
        self.values[(row, col)] = value
        self.fit(col, max(width, _shown_width(value, kind)))

    def number(self, row: int, col: int) -> Decimal:
        value = self.values.get((row, col))
        return value if isinstance(value, Decimal) else Decimal(value) if isinstance(value, int) else ZERO

    def fit(self, col: int, width: float) -> None:
        """Widen the column to the longest entry written in it so far (at most MAX_WIDTH)."""
        self.widths[col] = min(MAX_WIDTH, max(self.widths.get(col, 8.43), width + 1))

    # -- blocks ----------------------------------------------------------------------------------

    def header(self, row: int, labels: dict[int, str]) -> None:
        """A bold, shaded heading row; long labels wrap rather than widen their column."""
        style = self.styles.get(TEXT, True, fill=HEADER_COLOUR, header=True)
        for col, label in labels.items():
            label = ILLEGAL_CHARACTERS_RE.sub("", label)
            self.ws.write_string(row - 1, col - 1, label, style)
            self.values[(row, col)] = label
            self.fit(col, _wrapped_width(label, HEADER_WIDTH) + 1)  # bold
        self.headings[row] = labels
        if self.repeat is None:
            self.repeat = row

    def table(self, top: int, columns, rows) -> int:
        """Heading at `top`, one row per list of values under it; returns the last row (the heading's if none)."""
        self.header(top, {col: label for col, (label, _) in enumerate(columns, 1)})
        row = top
        for row, values in enumerate(rows, top + 1):
            for col, (value, (_, kind)) in enumerate(zip(values, columns), 1):
                self.put(row, col, value, kind)
        return row

    def total_row(self, row: int, first: int, last: int, totals: dict[int, str], label: str = "Total") -> None:
        """`label` and =SUBTOTAL(109, ...) over exactly rows first..last in each of the columns (what a
        filter leaves shown); nothing when there are no rows."""
        if last < first:
            return
        self.text(row, 1, label, bold=True)
        for col, kind in totals.items():
            letter = xl_col_to_name(col - 1)
            value = sum((self.number(r, col) for r in range(first, last + 1)), ZERO)
            self.formula(row, col, f"=SUBTOTAL(109,{letter}{first}:{letter}{last})", kind, value, bold=True,
                         total=True)

    def adverse(self, first: int, last: int, col: int) -> None:
        """Figures in rows first..last of the column red when positive (an overspend)."""
        if last >= first:
            self.ws.conditional_format(first - 1, col - 1, last - 1, col - 1, {
                "type": "cell", "criteria": ">", "value": 0, "format": self.styles.adverse()})

    def titles(self, st: Statement, what: str) -> None:
        """The pool's name and "<what>, Month 6, to 30 September 2025": the first two rows of a sheet."""
        self.line(1, st.position.pool.name, bold=True, size=TITLE_SIZE)
        self.line(2, f"{what}, {st.title}")

    # -- page and print setup --------------------------------------------------------------------

    def finish(self, st: Statement) -> None:
        """Column widths, heights of the heading rows for their wrapped labels, and the print setup:
        A4 landscape, one page wide, the heading row repeated, page header and footer."""
        for col, width in sorted(self.widths.items()):
            self.ws.set_column(col - 1, col - 1, round(width, 2))
        for row in sorted({*self.headings, *self.wrapped}):
            cells = {**self.wrapped.get(row, {}), **self.headings.get(row, {})}
            lines = max(wrapped_lines(text, self.widths.get(col, 8.43), bold=row in self.headings)
                        for col, text in cells.items())
            self.ws.set_row(row - 1, LINE_HEIGHT * lines + 2)
        ws = self.ws
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # one page wide, as many tall as it takes
        ws.set_margins(left=0.3, right=0.3, top=0.75, bottom=0.75)
        if self.repeat:
            ws.repeat_rows(self.repeat - 1)
        header, footer = page_header(st), page_footer(st)
        ws.set_header(header, {"margin": 0.3})
        ws.set_footer(footer, {"margin": 0.3})


def _escape(text: str) -> str:
    """Text for an Excel page header or footer, where & starts a code."""
    return " ".join(text.split()).replace("&", "&&")


def page_header(st: Statement) -> str:
    """The printed page's header: the pool on the left, the month on the right."""
    pool = _escape(st.position.pool.name)[:100]
    month = _escape(f"Pooled budget statement, {st.position.year.label}: {st.title}")[:100]
    return f'&L&9&"{FONT},Bold"{pool}&R&9&"{FONT},Regular"{month}'


def page_footer(st: Statement) -> str:
    """The printed page's footer: generation date and the ledger's commit on the left, page x of y on
    the right; the ledger line is shortened to keep within Excel's 255 characters."""
    start = f'&L&8&"{FONT},Regular"'
    end = f'&R&8&"{FONT},Regular"Page &P of &N'
    text = _escape(f"Generated {st.generated.day} {st.generated:%B %Y}. Ledger: {st.provenance}.")
    room = HEADER_LIMIT - len(start) - len(end)
    if len(text) > room:
        text = text[:room - 3].rstrip("&") + "..."
    return start + text + end


def _wrapped_width(text: str, width: int) -> int:
    """The width a column needs for `text` wrapped at `width` characters (more for a longer word)."""
    return min(len(text), max([width] + [len(word) for word in text.split()]))


def wrapped_lines(text: str, width: float, bold: bool = False) -> int:
    """Roughly how many lines `text` takes wrapped in a column `width` characters wide (a column's
    width counts digits; letters are narrower on average, bold ones less so)."""
    return max(1, len(textwrap.wrap(text, max(4, int(width * (0.95 if bold else 1.1))))))


def _shown_width(value, kind: str) -> int:
    """Roughly how many characters the value takes when shown in its format."""
    if kind == MONEY:
        return len(f"£{abs(value):,.2f}") + (2 if value < 0 else 0)  # brackets round a negative
    if kind == PERCENT:
        return len(f"{value * 100:,.2f}") + 1
    return 10 if kind == DATE else len(str(value))


def kinds(columns, *kinds: str) -> dict[int, str]:
    """Column number -> kind, for the columns of the given kinds."""
    return {col: kind for col, (_, kind) in enumerate(columns, 1) if kind in kinds}


def column(columns, heading: str) -> int:
    return next(col for col, (label, _) in enumerate(columns, 1) if label == heading)


# -- Finance - Summary ---------------------------------------------------------------------------

