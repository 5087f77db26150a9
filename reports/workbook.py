"""The monthly statement as an Excel workbook, written with XlsxWriter: five sheets laying out a
`Statement`'s figures, ready to print and to filter.

`statement_xlsx(statement)` returns the .xlsx file's bytes. It computes nothing of its own:

- totals are `SUBTOTAL(109, ...)` over exactly the rows above them, so filtering the schemes changes
  them; subtotals by area of spend are `SUMIF`s over the scheme rows; each scheme's variances (and each
  partner's outstanding) are formulas over the row's own cells;
- every formula is stored with its value beside it (the statement's own figure), so a reader that does
  not calculate (pandas, a file preview, a mail client) shows the totals; Excel and LibreOffice work
  them out again on opening. This is why the workbook is written with XlsxWriter: openpyxl can write a
  formula but not its value, and the figures are blank until a spreadsheet opens the file;
- money is shown as officers write it, `£#,##0.00;(£#,##0.00)`, and an overspend (a positive variance
  on spend) is red; an underspend never is. Planned benefits, negative in the ledger (less spend),
  are shown as positive planned savings;
- every sheet starts with the pool and the month, and prints on A4 landscape, one page wide, its
  table's heading row repeated on each page, the pool and month at the head of each page and the
  generation date, the ledger's commit and "Page x of y" at its foot; every style names its font
  (Arial), so no spreadsheet falls back to another for headings and totals.

Text from the ledger is always written as text (a scheme called "=HYPERLINK(...)" stays a name), and
the same Statement always gives the same bytes (fixed document dates and zip entry times).
"""
from __future__ import annotations

import datetime
import io
import textwrap
import zipfile
from decimal import Decimal

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import PatternFill
from xlsxwriter.utility import xl_col_to_name

from reports.chart import ADVERSE, FAVOURABLE
from reports.statement import Statement
from rules.agreement import JOINT

SHEETS = ("Finance - Summary", "Finance - Schemes", "Risk Share", "Tranches", "Metrics")
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
HEADER_FILL = PatternFill("solid", fgColor="FFDDEBF7")  # the headings' fill as openpyxl reads it back (s75 verify)
RAG_COLOURS = {"Green": "#C6EFCE", "Amber": "#FFEB9C", "Red": "#FFC7CE"}
RAG_NOTE = "RAG: Green on or under budget; Amber overspend up to 5% of annual budget; Red overspend above 5%."
VARIANCE_NOTE = ("Variance is actual or outturn less budget: positive is an overspend (in red), (brackets) an "
                 "underspend. Planned savings are the scheme's planned benefits, as less spend.")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
HEADER_LIMIT = 255  # characters Excel allows in a page header or footer

SCHEME_TOP = 4  # header row of the scheme block on "Finance - Schemes"
TABLE_TOP = 4  # header row of the table on "Tranches" and "Metrics", under the title and month
SCHEME_COLUMNS = (
    ("ID", TEXT), ("Scheme", TEXT), ("Scheme type", TEXT), ("Area of spend", TEXT), ("Commissioner", TEXT),
    ("Lead provider", TEXT), ("Funding source", TEXT), ("Recurrent", TEXT), ("New/existing", TEXT),
    ("Original budget", MONEY), ("Changes", MONEY), ("Revised budget", MONEY), ("Budget to date", MONEY),
    ("Actual to date", MONEY),
    ("Variance to date", MONEY), ("Forecast outturn", MONEY), ("Forecast basis", TEXT),
    ("Forecast variance", MONEY), ("Planned savings", MONEY), ("RAG", TEXT),
    ("Outturn at previous month end", MONEY), ("Movement in outturn", MONEY), ("Forecast note", TEXT))
AREA_COLUMN = 4  # "Area of spend" in SCHEME_COLUMNS
ADVERSE_COLUMNS = ("Variance to date", "Forecast variance")  # red when positive (an overspend)
# A scheme row's formulas over its own cells: column -> (minuend, subtrahend), by heading.
SCHEME_FORMULAS = {"Changes": ("Revised budget", "Original budget"),
                   "Variance to date": ("Actual to date", "Budget to date"),
                   "Forecast variance": ("Forecast outturn", "Revised budget"),
                   "Movement in outturn": ("Forecast outturn", "Outturn at previous month end")}
TRANCHE_COLUMNS = (
    ("Tranche", TEXT), ("Partner", TEXT), ("Metric", TEXT), ("Method", TEXT), ("Period", TEXT),
    ("Amount", MONEY), ("Baseline", NUMBER), ("Target (plan)", NUMBER), ("Latest actual", NUMBER),
    ("Released", MONEY), ("Redirected", MONEY), ("Redirected to", TEXT), ("Pending", MONEY), ("Status", TEXT))
GIVEN_UP = "Given up by"  # then a column per funded scheme, "Given up by S01": its part of what was redirected
METRIC_COLUMNS = (
    ("Metric", TEXT), ("Name", TEXT), ("Better", TEXT), ("Unit", TEXT), ("Period", TEXT), ("Baseline", NUMBER),
    ("Plan", NUMBER), ("Actual", NUMBER), ("Numerator", NUMBER), ("Denominator", NUMBER), ("Recorded on", DATE))
CONTINGENCY_COLUMNS = (("Partner", TEXT), ("Planned savings if targets are met", MONEY),
                       ("Support needed if not", MONEY), ("Note", TEXT))
ADJUSTMENT_COLUMNS = (("Date", DATE), ("Entry", TEXT), ("Reference", TEXT), ("Corrects", TEXT), ("Scheme", TEXT),
                      ("Partner", TEXT), ("Amount", MONEY), ("Original date", DATE))
ADJUSTMENT_AMOUNT = 7  # "Amount" in ADJUSTMENT_COLUMNS
SHARE_COLUMN = 4  # "To share" on "Risk Share": step, rule, working, to share, then a column per partner
CHART_COLUMNS = (("Month", TEXT), ("Profiled budget (cumulative)", MONEY), ("Actual (cumulative)", MONEY),
                 ("Forecast (cumulative)", MONEY), ("Actual less profile", MONEY), ("Forecast less profile", MONEY))
VARIANCE_COLUMNS = (("ID", TEXT), ("Scheme", TEXT), ("Forecast variance", MONEY))
# Forecast variance by scheme as bars, in the HTML statement's colours: red for an overspend (adverse), green
# for an underspend (favourable).
ADVERSE_BAR, FAVOURABLE_BAR = f"#{ADVERSE}", f"#{FAVOURABLE}"
COMMENTARY_WIDTH = 150  # characters across the columns the commentary's paragraphs are merged over
# The chart's lines as the HTML statement draws them: colour, dash, width in points.
CHART_LINES = (("#768692", "dash", 1.5), ("#005EB8", "solid", 2.25), ("#ED8B00", "round_dot", 1.75))


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as .xlsx bytes, identical for the same Statement on every call."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "default_format_properties": {"font_name": FONT, "font_size": FONT_SIZE}})
    book.set_properties({"author": "s75", "created": datetime.datetime.combine(statement.generated, datetime.time())})
    styles = _Styles(book)
    for name, build in zip(SHEETS, (_summary, _schemes, _risk_share, _tranches, _metrics)):
        sheet = _Sheet(book, book.add_worksheet(name), styles)
        build(sheet, statement)
        sheet.finish(statement)
    book.close()
    return _fixed_zip(buffer.getvalue())


class _Styles:
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


class _Sheet:
    """A worksheet written by row and column numbered from 1, as the sheet shows them. Remembers what
    it wrote (to store each formula's value beside it), each column's width and the heading rows (to
    size them for their wrapped text)."""

    def __init__(self, book, ws, styles: _Styles):
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
            self.ws.write_number(row - 1, col - 1, float(value), style)
        self.values[(row, col)] = value
        self.fit(col, _shown_width(value, kind))

    def formula(self, row: int, col: int, formula: str, kind: str, value, bold: bool = False,
                total: bool = False, width: int = 0) -> None:
        """A formula we built (the only formula cells in the workbook), with its value stored beside it."""
        self.ws.write_formula(row - 1, col - 1, formula, self.styles.get(kind, bold, total=total), float(value))
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
            lines = max(_lines(text, self.widths.get(col, 8.43), bold=row in self.headings)
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


def _lines(text: str, width: float, bold: bool = False) -> int:
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


def _kinds(columns, *kinds: str) -> dict[int, str]:
    """Column number -> kind, for the columns of the given kinds."""
    return {col: kind for col, (_, kind) in enumerate(columns, 1) if kind in kinds}


def _column(columns, heading: str) -> int:
    return next(col for col, (label, _) in enumerate(columns, 1) if label == heading)


# -- Finance - Summary ---------------------------------------------------------------------------

def _summary(sheet: _Sheet, st: Statement) -> None:
    """Cover block, partner contributions, contingency plans and the cumulative spend chart."""
    top = _board(sheet, st, _cover(sheet, st) + 2) + 2
    columns = _partner_columns(st)
    rows = [_partner_values(p, st) for p in st.position.partners]
    last = sheet.table(top, columns, rows)
    agreed, received, outstanding = (_column(columns, h) for h in ("Agreed contribution", "Received to date",
                                                                    "Outstanding"))
    for row, p in enumerate(st.position.partners, top + 1):  # outstanding: agreed less received, in the row
        sheet.formula(row, outstanding, f"={xl_col_to_name(agreed - 1)}{row}-{xl_col_to_name(received - 1)}{row}",
                      MONEY, p.outstanding)
    sheet.ws.freeze_panes(top, 0)
    sheet.total_row(last + 1, top + 1, last, _kinds(columns, MONEY, PERCENT))
    _cumulative(sheet, st, _contingency(sheet, st, last + 3))


def _cover(sheet: _Sheet, st: Statement) -> int:
    """Pool, agreement, year, period, host, ledger and date generated; returns the last row used."""
    pos, pool = st.position, st.position.pool
    host = next((p.partner.name for p in pos.partners if p.host), pool.host)
    lines = (f"Agreement: {pool.agreement}", f"Financial year {pos.year.label}", st.title,
             f"Host: {host}; pooled fund manager: {pool.manager}", f"Ledger: {st.provenance}",
             f"Generated {st.generated.day} {st.generated:%B %Y}")
    sheet.line(1, pool.name, bold=True, size=TITLE_SIZE)
    for row, text in enumerate(lines, 2):
        sheet.line(row, text)
    return len(lines) + 1


def _partner_columns(st: Statement):
    """The partner table's columns: one "Agreed:" column per funding source with contributions."""
    return ((("Partner", TEXT), ("Holds the pooled budget", TEXT), ("Minimum contribution", MONEY))
            + tuple((f"Agreed: {name}", MONEY) for _, name in st.sources)
            + (("Agreed contribution", MONEY), ("Received to date", MONEY), ("Outstanding", MONEY),
               ("Share of pool", PERCENT), ("Spend on pool schemes in previous year", MONEY),
               ("Forecast share of over/(under)spend", MONEY)))


def _partner_values(p, st: Statement) -> list:
    """A partner's row, in `_partner_columns` order (blank for a source the partner has none of)."""
    agreed = {line.source: line.agreed for line in p.sources}
    return ([p.partner.name, "Y" if p.host else "N", p.minimum]
            + [agreed.get(key) for key, _ in st.sources]
            + [p.agreed, p.received, None, p.share / 100, p.prior_spend,
               st.position.risk_share.shares.get(p.partner.partner)])


def _contingency(sheet: _Sheet, st: Statement, row: int) -> int:
    """The partners' contingency plans, if any; returns the next row free for a block."""
    plans = [(p.partner.name, p.contingency_plan) for p in st.position.partners if p.contingency_plan]
    if not plans:
        return row
    sheet.line(row, "Contingency plan", bold=True)
    last = sheet.table(row + 1, CONTINGENCY_COLUMNS,
                       [[name, plan.get("savings"), plan.get("support"), plan.get("note")] for name, plan in plans])
    return last + 2


def _cumulative(sheet: _Sheet, st: Statement, row: int) -> None:
    """The chart's data block and, to its right, the line chart drawn from it."""
    sheet.line(row, "Cumulative spend", bold=True)
    top = row + 1
    last = sheet.table(top, CHART_COLUMNS, [[p.label, p.budget, p.actual, p.forecast, p.gap, p.forecast_gap]
                                            for p in st.chart])
    sheet.ws.set_h_pagebreaks([row - 1])  # the charts start a printed page, so that none is cut by a page's end
    sheet.repeat = 0  # none (the partner table ends before it: its headings over the charts would mislabel them)
    if last > top:
        sheet.ws.insert_chart(row - 1, len(CHART_COLUMNS) + 1, _line_chart(sheet, top, last))
        sheet.ws.insert_chart(row + 16, len(CHART_COLUMNS) + 1, _gap_chart(sheet, top, last))
    _variance_bars(sheet, st, last + 2, row + 28)


def _gap_chart(sheet: _Sheet, top: int, last: int):
    """Actual and forecast less profile, cumulative, from the chart's data block: the gap between the lines
    of the cumulative chart, on an axis of its own around zero (on the cumulative axis it is a sliver)."""
    chart = sheet.book.add_chart({"type": "line"})
    name = sheet.title
    for col, (colour, dash, width) in ((5, CHART_LINES[1]), (6, CHART_LINES[2])):
        chart.add_series({
            "name": [name, top - 1, col - 1], "categories": [name, top, 0, last - 1, 0],
            "values": [name, top, col - 1, last - 1, col - 1],
            "line": {"color": colour, "dash_type": dash, "width": width}, "marker": {"type": "none"}})
    font = {"name": FONT, "size": 9}
    chart.set_title({"name": "Gap: actual and forecast less profile (own scale)", "name_font": {"name": FONT, "size": 11}})
    chart.set_y_axis({"num_format": "£#,##0;(£#,##0)", "num_font": font,
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E5E8"}}})
    chart.set_x_axis({"num_font": font, "label_position": "low"})
    chart.set_legend({"position": "bottom", "font": font})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 680, "height": 220})
    return chart


def _variance_bars(sheet: _Sheet, st: Statement, row: int, chart_row: int) -> None:
    """Forecast variance by scheme, the largest overspend first, as a block and as bars beside the charts
    above: red for an overspend, green for an underspend."""
    sheet.line(row, "Forecast variance by scheme", bold=True)
    top = row + 1
    bars = st.variance_bars
    last = sheet.table(top, VARIANCE_COLUMNS, [[b.scheme, b.name, b.variance] for b in bars])
    if last <= top:
        return
    chart = sheet.book.add_chart({"type": "bar"})
    name = sheet.title
    chart.add_series({
        "name": [name, top - 1, 2], "categories": [name, top, 0, last - 1, 0], "values": [name, top, 2, last - 1, 2],
        "points": [{"fill": {"color": ADVERSE_BAR if b.adverse else FAVOURABLE_BAR}, "border": {"none": True}}
                   for b in bars],
        "invert_if_negative": False, "gap": 60})
    font = {"name": FONT, "size": 9}
    chart.set_title({"name": "Forecast variance by scheme: red overspend, green underspend",
                     "name_font": {"name": FONT, "size": 11}})
    chart.set_y_axis({"reverse": True, "num_font": font, "label_position": "low"})  # the categories, top down
    chart.set_x_axis({"num_format": "£#,##0;(£#,##0)", "num_font": font,
                      "major_gridlines": {"visible": True, "line": {"color": "#E0E5E8"}}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 680, "height": 60 + 22 * len(bars)})
    sheet.ws.insert_chart(chart_row, len(CHART_COLUMNS) + 1, chart)


def _board(sheet: _Sheet, st: Statement, row: int) -> int:
    """The month's commentary (a row for each paragraph, merged across the sheet and wrapped), the headline
    figures and the sign-off; returns the last row used."""
    totals = st.position.scheme_totals
    sheet.line(row, "Commentary", bold=True)
    paragraphs = st.commentary.paragraphs if st.commentary else (
        f"No commentary is recorded for this month (custom \"s75-commentary\" \"{st.position.as_of:%Y-%m}\" \"...\").",)
    style = sheet.styles.get(TEXT, wrap=True)
    last = len(_partner_columns(st))
    for row, text in enumerate(paragraphs, row + 1):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
        sheet.ws.merge_range(row - 1, 0, row - 1, last - 1, "", style)
        sheet.ws.write_string(row - 1, 0, text, style)
        sheet.values[(row, 1)] = text
        sheet.ws.set_row(row - 1, LINE_HEIGHT * len(textwrap.wrap(text, COMMENTARY_WIDTH)) + 3)
    variance = totals["forecast_variance"]
    row += 1
    sheet.line(row, f"Forecast outturn {totals['forecast_outturn']:,.2f} against annual budgets of "
                    f"{totals['annual_budget']:,.2f}: a forecast "
                    f"{'overspend' if variance > 0 else 'underspend' if variance < 0 else 'variance'} of "
                    f"{_brackets(variance)}. Movement in forecast outturn since {st.movement_since}: "
                    f"{_brackets(totals['forecast_movement'])}.")
    row += 1
    if st.signoff is None:
        sheet.text(row + 1, 1, "Sign-off", bold=True, fit=False)
        sheet.text(row + 1, 2, f"Not signed off: no s75-signoff for {st.position.as_of:%Y-%m} in the ledger.", fit=False)
        return row + 1
    for row, (label, value) in enumerate((("Prepared by", st.signoff.prepared_by), ("Reviewed by", st.signoff.reviewed_by),
                                          ("Date", st.signoff.signed)), row + 1):
        sheet.text(row, 1, label, bold=True, fit=False)
        if label == "Date":
            sheet.put(row, 2, value, DATE)
        else:
            sheet.text(row, 2, value, fit=False)
    return row


def _brackets(value: Decimal) -> str:
    """1,234.50, or (1,234.50) below nil, as the statement writes figures in text."""
    return f"({-value:,.2f})" if value < 0 else f"{value:,.2f}"


def _line_chart(sheet: _Sheet, top: int, last: int):
    """Cumulative budget, actual and forecast by month, from the block with its heading at `top`, in the
    HTML statement's colours and line styles."""
    chart = sheet.book.add_chart({"type": "line"})
    name = sheet.title
    for col, (colour, dash, width) in enumerate(CHART_LINES, 2):
        chart.add_series({
            "name": [name, top - 1, col - 1], "categories": [name, top, 0, last - 1, 0],
            "values": [name, top, col - 1, last - 1, col - 1],
            "line": {"color": colour, "dash_type": dash, "width": width}, "marker": {"type": "none"}})
    font = {"name": FONT, "size": 9}
    chart.set_title({"name": "Cumulative spend against profiled budget", "name_font": {"name": FONT, "size": 11}})
    chart.set_y_axis({"num_format": "£#,##0", "num_font": font, "major_gridlines": {"visible": True,
                                                                                     "line": {"color": "#E0E5E8"}}})
    chart.set_x_axis({"num_font": font})
    chart.set_legend({"position": "bottom", "font": font})
    chart.show_blanks_as("gap")
    chart.set_size({"width": 680, "height": 340})
    return chart


# -- Finance - Schemes ---------------------------------------------------------------------------

def _schemes(sheet: _Sheet, st: Statement) -> None:
    """One plain, filterable row per scheme, a Total row, subtotals by area of spend and the notes."""
    sheet.titles(st, "Schemes")
    sheet.line(3, f"Movement in outturn: since {st.movement_since}"
                  + (f" ({st.position.previous_date.day} {st.position.previous_date:%B %Y})" if st.position.previous_date
                     else "") + "; forecast note: as recorded with the scheme's forecast.")
    sheet.wrap_width = SCHEME_WRAP
    first = SCHEME_TOP + 1
    last = sheet.table(SCHEME_TOP, SCHEME_COLUMNS, [_scheme_values(s, st) for s in st.position.schemes])
    for row, s in enumerate(st.position.schemes, first):
        for heading, (plus, minus) in SCHEME_FORMULAS.items():
            col = _column(SCHEME_COLUMNS, heading)
            a, b = (xl_col_to_name(_column(SCHEME_COLUMNS, h) - 1) for h in (plus, minus))
            value = {"Changes": s.budget_changes, "Variance to date": s.variance_to_date, "Forecast variance": s.forecast_variance,
                     "Movement in outturn": s.forecast_movement}[heading]
            sheet.formula(row, col, f"={a}{row}-{b}{row}", MONEY, value)
        rag = st.rag.get(s.scheme.scheme)
        if rag in RAG_COLOURS:
            sheet.text(row, _column(SCHEME_COLUMNS, "RAG"), rag, fill=RAG_COLOURS[rag])
    sheet.ws.autofilter(SCHEME_TOP - 1, 0, last - 1, len(SCHEME_COLUMNS) - 1)
    sheet.ws.freeze_panes(SCHEME_TOP, 2)
    money = _kinds(SCHEME_COLUMNS, MONEY)
    sheet.total_row(last + 1, first, last, money)
    end = _areas(sheet, st, last + 3, first, last, money)
    for heading in ADVERSE_COLUMNS:
        col = _column(SCHEME_COLUMNS, heading)
        sheet.adverse(first, last + 1, col)
        sheet.adverse(last + 5, end, col)
    sheet.line(end + 2, VARIANCE_NOTE)
    sheet.line(end + 3, RAG_NOTE)
    _adjustments(sheet, st, end + 5)


def _scheme_values(s, st: Statement) -> list:
    """A scheme's row, in SCHEME_COLUMNS order (its variances are then written as formulas)."""
    sc = s.scheme
    return [sc.scheme, sc.name, sc.type, sc.area, _commissioner(sc), sc.provider,
            st.position.agreement.sources.get(sc.source, sc.source),
            "Recurrent" if sc.recurrent else "Non-recurrent", "New" if sc.new else "Existing",
            s.original_budget, s.budget_changes, s.annual_budget, s.budget_to_date, s.actual_to_date, s.variance_to_date, s.forecast_outturn,
            s.forecast_basis, s.forecast_variance, None if sc.benefits is None else -sc.benefits, st.rag.get(sc.scheme),
            s.previous_outturn, s.forecast_movement, s.forecast_note]


def _commissioner(scheme) -> str:
    """The commissioning partner, or for a joint scheme its split: "Joint: ICB 60% / Council 40%"."""
    if scheme.commissioner != JOINT:
        return scheme.commissioner
    return "Joint: " + " / ".join(f"{partner} {pct.normalize():f}%" for partner, pct in scheme.split)


def _areas(sheet: _Sheet, st: Statement, row: int, first: int, last: int, money: dict[int, str]) -> int:
    """Subtotals by area of spend as COUNTIF/SUMIF over the scheme block; returns the last row used."""
    sheet.line(row, "Subtotals by area of spend", bold=True)
    header = row + 1
    sheet.header(header, {1: "Area of spend", 2: "Schemes", **{c: SCHEME_COLUMNS[c - 1][0] for c in money}})
    area = xl_col_to_name(AREA_COLUMN - 1)
    criteria = f"${area}${first}:${area}${last}"
    for row, subtotal in enumerate(st.areas, header + 1):
        sheet.text(row, 1, subtotal.area)
        rows = [r for r in range(first, last + 1) if sheet.values.get((r, AREA_COLUMN)) == subtotal.area]
        sheet.formula(row, 2, f"=COUNTIF({criteria},A{row})", COUNT, len(rows), width=6)
        for col in money:
            letter = xl_col_to_name(col - 1)
            sheet.formula(row, col, f"=SUMIF({criteria},A{row},{letter}${first}:{letter}${last})", MONEY,
                          sum((sheet.number(r, col) for r in rows), ZERO))
    return header + len(st.areas)


def _adjustments(sheet: _Sheet, st: Statement, row: int) -> None:
    """The prior-period adjustments in the year to the statement's date: spend, then receipts, each
    with a Total row; or a line saying there are none."""
    pos = st.position
    sheet.line(row, "Prior-period adjustments", bold=True)
    if not pos.adjustments:
        sheet.line(row + 1, f"No prior-period adjustments in {pos.year.label} to {pos.as_of.day} {pos.as_of:%B %Y}.")
        return
    rows = [[a.date, f"{a.payee}: {a.narration}" if a.payee and a.narration else a.payee or a.narration, a.ref,
             a.adjusts, a.scheme or (None if a.partner else a.account), a.partner, a.amount, a.original_date]
            for a in pos.adjustments]
    top = row + 1
    spend = [r for r, a in zip(rows, pos.adjustments) if not a.receipt]
    receipts = [r for r, a in zip(rows, pos.adjustments) if a.receipt]
    last = sheet.table(top, ADJUSTMENT_COLUMNS, spend + receipts)
    total = last + 1
    for label, block_first, block_last in (("Total", top + 1, top + len(spend)),
                                           ("Total received", top + 1 + len(spend), last)):
        if block_last < block_first:
            continue
        sheet.total_row(total, block_first, block_last, {ADJUSTMENT_AMOUNT: MONEY}, label)
        total += 1


# -- Risk Share, Tranches, Metrics ---------------------------------------------------------------

def _risk_share(sheet: _Sheet, st: Statement) -> None:
    """The basis and net variance, then each step of the agreement's risk share, with its working, and
    a Total row."""
    pos, rs = st.position, st.position.risk_share
    sheet.titles(st, "Risk share")
    sheet.line(3, f"On the {pos.risk_basis} outturn")
    # labels in column A run on over the empty columns; the figures stand under "To share"
    sheet.text(4, 1, "Net variance", fit=False)
    sheet.put(4, SHARE_COLUMN, rs.variance, MONEY)
    sheet.text(4, SHARE_COLUMN + 1, rs.side or "nil")
    row = 5
    if rs.in_force_from is not None:
        sheet.text(row, 1, "Agreement in force from", fit=False)
        sheet.put(row, SHARE_COLUMN, rs.in_force_from, DATE)
        row += 1
    if rs.note:
        sheet.line(row, f"Note: {rs.note}")
        row += 1
    if not rs.steps:
        sheet.ws.freeze_panes(row - 1, 0)
        return
    top = row + 1
    columns = ((("Step", NUMBER), ("Rule", TEXT), ("Working", TEXT), ("To share", MONEY))
               + tuple((p.partner.name, MONEY) for p in pos.partners)
               + (("Carried forward", MONEY), ("Left", MONEY)))
    rows = [[step.number, step.label, "; ".join(f"{what} {figure}" for what, figure in step.working),
             step.variance_in]
            + [step.shares.get(p.partner.partner) for p in pos.partners]
            + [step.carried, step.variance_out] for step in rs.steps]
    last = sheet.table(top, columns, rows)
    sheet.ws.freeze_panes(top, 0)
    sheet.total_row(last + 1, top + 1, last, {col: MONEY for col in range(5, 6 + len(pos.partners))})


def _tranches(sheet: _Sheet, st: Statement) -> None:
    """One row per period of each tranche, then a column per scheme a tranche funds with what that scheme
    gave up in the period (blank where it does not fund the tranche), with a Total row of the amounts."""
    sheet.titles(st, "Performance tranches")
    agreement = st.position.agreement
    named = {scheme for status in st.position.tranches for scheme in status.tranche.schemes}
    funded = [s.scheme for s in agreement.schemes if s.scheme in named]  # in the register's order
    columns = TRANCHE_COLUMNS + tuple((f"{GIVEN_UP} {scheme}", MONEY) for scheme in funded)
    rows = []
    for status in st.position.tranches:
        t = status.tranche
        partner = agreement.partner(t.partner)
        for o in status.periods:
            parts = dict(o.given_up)
            rows.append([t.tranche, partner.name if partner else t.partner, t.metric, t.method, o.period.label,
                         o.amount, o.baseline, o.plan, o.actual.value if o.actual else None, o.released,
                         o.redirected, t.unreleased_to if o.redirected else None,
                         o.amount if o.status == "pending" else ZERO,
                         "; ".join(filter(None, (o.status, o.revision_note)))]
                        + [parts.get(scheme, ZERO) if scheme in t.schemes else None for scheme in funded])
    last = sheet.table(TABLE_TOP, columns, rows)
    sheet.ws.freeze_panes(TABLE_TOP, 0)
    sheet.total_row(last + 1, TABLE_TOP + 1, last, _kinds(columns, MONEY))


def _metrics(sheet: _Sheet, st: Statement) -> None:
    """One row per metric plan for a period, with its latest actual."""
    sheet.titles(st, "Metrics")
    rows = [[m.metric, m.name, m.better, m.unit, m.period, m.baseline, m.plan, m.actual, m.numerator,
             m.denominator, m.recorded] for m in st.position.metrics]
    sheet.table(TABLE_TOP, METRIC_COLUMNS, rows)
    sheet.ws.freeze_panes(TABLE_TOP, 0)


def _fixed_zip(data: bytes) -> bytes:
    """The archive rewritten with a fixed date, attributes and compression on every entry, in the same
    order, so equal workbooks give equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.create_system, fixed.external_attr = 3, 0o100600 << 16  # Unix, a regular file rw-------
            target.writestr(fixed, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
