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

This module writes the summary (with its charts), the risk share, the tranches and the metrics; the
schemes sheet is reports.workbook_schemes; both write through reports.workbook_sheet.
"""
from __future__ import annotations

import datetime
import io
import textwrap
import zipfile
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from reports.chart import ADVERSE, FAVOURABLE
from reports.statement import Statement
from reports.workbook_schemes import SCHEME_TOP, schemes_sheet  # noqa: F401 (SCHEME_TOP: s75 verify reads it here)
from reports.workbook_sheet import (DATE, FONT, FONT_SIZE, ILLEGAL_CHARACTERS_RE, LINE_HEIGHT, MONEY, NUMBER, PERCENT,
                                    TEXT, TITLE_SIZE, ZERO, ZIP_TIME, Sheet, Styles, column, kinds)

SHEETS = ("Finance - Summary", "Finance - Schemes", "Risk Share", "Tranches", "Metrics")
TABLE_TOP = 4  # header row of the table on "Tranches" and "Metrics", under the title and month
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
    styles = Styles(book)
    for name, build in zip(SHEETS, (_summary, schemes_sheet, _risk_share, _tranches, _metrics)):
        sheet = Sheet(book, book.add_worksheet(name), styles)
        build(sheet, statement)
        sheet.finish(statement)
    book.close()
    return _fixed_zip(buffer.getvalue())


def _summary(sheet: Sheet, st: Statement) -> None:
    """Cover block, partner contributions, contingency plans and the cumulative spend chart."""
    top = _board(sheet, st, _cover(sheet, st) + 2) + 2
    columns = _partner_columns(st)
    rows = [_partner_values(p, st) for p in st.position.partners]
    last = sheet.table(top, columns, rows)
    agreed, received, outstanding = (column(columns, h) for h in ("Agreed contribution", "Received to date",
                                                                    "Outstanding"))
    for row, p in enumerate(st.position.partners, top + 1):  # outstanding: agreed less received, in the row
        sheet.formula(row, outstanding, f"={xl_col_to_name(agreed - 1)}{row}-{xl_col_to_name(received - 1)}{row}",
                      MONEY, p.outstanding)
    sheet.ws.freeze_panes(top, 0)
    sheet.total_row(last + 1, top + 1, last, kinds(columns, MONEY, PERCENT))
    _cumulative(sheet, st, _contingency(sheet, st, last + 3))


def _cover(sheet: Sheet, st: Statement) -> int:
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


def _contingency(sheet: Sheet, st: Statement, row: int) -> int:
    """The partners' contingency plans, if any; returns the next row free for a block."""
    plans = [(p.partner.name, p.contingency_plan) for p in st.position.partners if p.contingency_plan]
    if not plans:
        return row
    sheet.line(row, "Contingency plan", bold=True)
    last = sheet.table(row + 1, CONTINGENCY_COLUMNS,
                       [[name, plan.get("savings"), plan.get("support"), plan.get("note")] for name, plan in plans])
    return last + 2


def _cumulative(sheet: Sheet, st: Statement, row: int) -> None:
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


def _gap_chart(sheet: Sheet, top: int, last: int):
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


def _variance_bars(sheet: Sheet, st: Statement, row: int, chart_row: int) -> None:
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


def _board(sheet: Sheet, st: Statement, row: int) -> int:
    """The month's commentary (a row for each paragraph, merged across the sheet and wrapped), the headline
    figures and the sign-off; returns the last row used."""
    totals = st.position.scheme_totals
    sheet.line(row, "Commentary", bold=True)
    paragraphs = st.commentary.paragraphs if st.commentary else (
        "No commentary has been recorded for this month.",)
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
                    f"{_brackets(totals['forecast_movement'])}{_direction(totals['forecast_movement'])}.")
    row += 1
    if st.signoff is None:
        sheet.text(row + 1, 1, "Sign-off", bold=True, fit=False)
        sheet.text(row + 1, 2, "Not signed off.", fit=False)
        return row + 1
    for row, (label, value) in enumerate((("Prepared by", st.signoff.prepared_by), ("Reviewed by", st.signoff.reviewed_by),
                                          ("Date", st.signoff.signed)), row + 1):
        sheet.text(row, 1, label, bold=True, fit=False)
        if label == "Date":
            sheet.put(row, 2, value, DATE)
        else:
            sheet.text(row, 2, value, fit=False)
    return row


def _direction(value: Decimal) -> str:
    """" (up)" or " (down)" after a movement, as the HTML headline says it; nothing when nil."""
    return " (up)" if value > 0 else " (down)" if value < 0 else ""


def _brackets(value: Decimal) -> str:
    """1,234.50, or (1,234.50) below nil, as the statement writes figures in text."""
    return f"({-value:,.2f})" if value < 0 else f"{value:,.2f}"


def _line_chart(sheet: Sheet, top: int, last: int):
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

def _risk_share(sheet: Sheet, st: Statement) -> None:
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


def _tranches(sheet: Sheet, st: Statement) -> None:
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
    sheet.total_row(last + 1, TABLE_TOP + 1, last, kinds(columns, MONEY))


def _metrics(sheet: Sheet, st: Statement) -> None:
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
