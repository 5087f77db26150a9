"""The monthly statement as an Excel workbook: five sheets laying out a `Statement`'s figures.

`statement_xlsx(statement)` returns the .xlsx file's bytes. It computes nothing itself: totals and
subtotals are Excel formulas over the rows above them, so officers can sort, filter and check them.
Text from the ledger is always written as text (a scheme called "=HYPERLINK(...)" stays a name), and
the same Statement always gives the same bytes (fixed document dates and zip entry times).
"""
from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from reports.statement import Statement
from rules.agreement import JOINT

SHEETS = ("Finance - Summary", "Finance - Schemes", "Risk Share", "Tranches", "Metrics")
TEXT, MONEY, NUMBER, PERCENT, DATE = "text", "#,##0.00;[Red]-#,##0.00", "General", "0.00%", "dd/mm/yyyy"
ZERO = Decimal("0.00")
MAX_WIDTH, HEADER_WIDTH = 50, 24  # headers longer than HEADER_WIDTH wrap
BOLD, TITLE = Font(bold=True), Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
RAG_FILLS = {name: PatternFill("solid", fgColor=colour)
             for name, colour in (("Green", "C6EFCE"), ("Amber", "FFEB9C"), ("Red", "FFC7CE"))}
RAG_NOTE = "RAG: Green on or under budget; Amber overspend up to 5% of annual budget; Red overspend above 5%."
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

SCHEME_TOP = 4  # header row of the scheme block on "Finance - Schemes"
SCHEME_COLUMNS = (
    ("ID", TEXT), ("Scheme", TEXT), ("Scheme type", TEXT), ("Area of spend", TEXT), ("Commissioner", TEXT),
    ("Lead provider", TEXT), ("Funding source", TEXT), ("Recurrent", TEXT), ("New/existing", TEXT),
    ("Annual budget", MONEY), ("Budget to date", MONEY), ("Actual to date", MONEY),
    ("Variance to date", MONEY), ("Forecast outturn", MONEY), ("Forecast basis", TEXT),
    ("Forecast variance", MONEY), ("Planned benefits", MONEY), ("RAG", TEXT))
AREA_COLUMN = 4  # "Area of spend" in SCHEME_COLUMNS
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
CHART_COLUMNS = (("Month", TEXT), ("Profiled budget (cumulative)", MONEY), ("Actual (cumulative)", MONEY),
                 ("Forecast (cumulative)", MONEY))


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as .xlsx bytes, identical for the same Statement on every call."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, build in zip(SHEETS, (_summary, _schemes, _risk_share, _tranches, _metrics)):
        build(wb.create_sheet(name), statement)
    stamp = datetime.datetime.combine(statement.generated, datetime.time())
    wb.properties.creator = "s75"
    wb.properties.created = wb.properties.modified = stamp
    wb.calculation.fullCalcOnLoad = True  # formulas carry no cached values: have them calculated on opening
    return _fixed_zip(_save(wb))


def _text(ws, row: int, col: int, value, font: Font | None = None, fit: bool = True):
    """Write ledger text as text, never a formula, whatever it starts with; blank when None."""
    if value is None or value == "":
        return None
    cell = ws.cell(row, col)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell.data_type = "s"  # openpyxl makes a string starting "=" a formula otherwise
    if font is not None:
        cell.font = font
    if fit:
        _fit(ws, col, len(cell.value))
    return cell


def _put(ws, row: int, col: int, value, kind: str):
    """Write a value of the column's kind: text through `_text`, figures as numbers with a format."""
    if kind == TEXT:
        return _text(ws, row, col, value)
    if value is None:
        return None
    cell = ws.cell(row, col, value)
    cell.number_format = kind
    _fit(ws, col, _shown_width(value, kind))
    return cell


def _formula(ws, row: int, col: int, formula: str, kind: str, font: Font | None = None, width: int = 15):
    """Write a formula we built (the only formula cells in the workbook)."""
    cell = ws.cell(row, col, formula)
    cell.number_format = kind
    if font is not None:
        cell.font = font
    _fit(ws, col, width)
    return cell


def _line(ws, row: int, text: str, font: Font | None = None):
    """A line of text in column A that overflows to the right, so it does not widen the column."""
    return _text(ws, row, 1, text, font, fit=False)


def _shown_width(value, kind: str) -> int:
    """Roughly how many characters the value takes when shown in its format."""
    return len(f"{value:,.2f}") + 1 if kind in (MONEY, PERCENT) else 10 if kind == DATE else len(str(value))


def _fit(ws, col: int, width: int) -> None:
    """Widen the column to the longest entry written in it so far (at least openpyxl's default, at most 50)."""
    dim = ws.column_dimensions[get_column_letter(col)]
    dim.width = min(MAX_WIDTH, max(dim.width or 0, width + 2))


def _header(ws, row: int, labels: dict[int, str]) -> None:
    """A bold, shaded header row; long labels wrap rather than widen their column."""
    for col, label in labels.items():
        cell = _text(ws, row, col, label, BOLD, fit=False) or ws.cell(row, col)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        _fit(ws, col, min(len(label), HEADER_WIDTH))


def _table(ws, top: int, columns, rows) -> int:
    """Header at `top`, one row per list of values under it; returns the last row (the header's if none)."""
    _header(ws, top, {col: label for col, (label, _) in enumerate(columns, 1)})
    row = top
    for row, values in enumerate(rows, top + 1):
        for col, (value, (_, kind)) in enumerate(zip(values, columns), 1):
            _put(ws, row, col, value, kind)
    return row


def _kinds(columns, *kinds: str) -> dict[int, str]:
    """Column number -> kind, for the columns of the given kinds."""
    return {col: kind for col, (_, kind) in enumerate(columns, 1) if kind in kinds}


def _total_row(ws, row: int, first: int, last: int, totals: dict[int, str]) -> None:
    """"Total" and =SUM over exactly rows first..last in each of the columns; nothing when no rows."""
    if last < first:
        return
    _text(ws, row, 1, "Total", BOLD)
    for col, kind in totals.items():
        letter = get_column_letter(col)
        _formula(ws, row, col, f"=SUM({letter}{first}:{letter}{last})", kind, BOLD)


def _summary(ws, st: Statement) -> None:
    """Cover block, partner contributions, contingency plans and the cumulative spend chart."""
    top = _cover(ws, st) + 1
    columns = _partner_columns(st)
    last = _table(ws, top, columns, [_partner_values(p, st) for p in st.position.partners])
    ws.freeze_panes = f"A{top + 1}"
    _total_row(ws, last + 1, top + 1, last, _kinds(columns, MONEY, PERCENT))
    _cumulative(ws, st, _contingency(ws, st, last + 3))


def _cover(ws, st: Statement) -> int:
    """Pool, agreement, year, period, host, ledger and date generated; returns the last row used."""
    pos, pool = st.position, st.position.pool
    host = next((p.partner.name for p in pos.partners if p.host), pool.host)
    lines = (f"Agreement: {pool.agreement}", f"Financial year {pos.year.label}", st.title,
             f"Host: {host}; pooled fund manager: {pool.manager}", f"Ledger: {st.provenance}",
             f"Generated {st.generated.day} {st.generated:%B %Y}")
    _line(ws, 1, pool.name, TITLE)
    for row, text in enumerate(lines, 2):
        _line(ws, row, text)
    return len(lines) + 2


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
            + [p.agreed, p.received, p.outstanding, p.share / 100, p.prior_spend,
               st.position.risk_share.shares.get(p.partner.partner)])


def _contingency(ws, st: Statement, row: int) -> int:
    """The partners' contingency plans, if any; returns the next row free for a block."""
    plans = [(p.partner.name, p.contingency_plan) for p in st.position.partners if p.contingency_plan]
    if not plans:
        return row
    _line(ws, row, "Contingency plan", BOLD)
    last = _table(ws, row + 1, CONTINGENCY_COLUMNS,
                  [[name, plan.get("savings"), plan.get("support"), plan.get("note")] for name, plan in plans])
    return last + 2


def _cumulative(ws, st: Statement, row: int) -> None:
    """The chart's data block and, to its right, the line chart drawn from it."""
    _line(ws, row, "Cumulative spend", BOLD)
    top = row + 1
    last = _table(ws, top, CHART_COLUMNS, [[p.label, p.budget, p.actual, p.forecast] for p in st.chart])
    if last > top:
        ws.add_chart(_line_chart(ws, top, last), f"{get_column_letter(len(CHART_COLUMNS) + 2)}{row}")


def _line_chart(ws, top: int, last: int) -> LineChart:
    """Cumulative budget, actual and forecast by month, from the block with its header at `top`."""
    chart = LineChart()
    chart.title = "Cumulative spend against profiled budget"
    chart.add_data(Reference(ws, min_col=2, max_col=len(CHART_COLUMNS), min_row=top, max_row=last),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=last))
    chart.y_axis.number_format = "#,##0"
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides the axes otherwise
    chart.width, chart.height = 20, 10
    return chart


def _schemes(ws, st: Statement) -> None:
    """One plain, filterable row per scheme, a Total row, subtotals by area of spend and the RAG key."""
    _line(ws, 1, st.position.pool.name, TITLE)
    _line(ws, 2, f"Schemes, {st.title}")
    first = SCHEME_TOP + 1
    last = _table(ws, SCHEME_TOP, SCHEME_COLUMNS, [_scheme_values(s, st) for s in st.position.schemes])
    ws.auto_filter.ref = f"A{SCHEME_TOP}:{get_column_letter(len(SCHEME_COLUMNS))}{last}"
    ws.freeze_panes = f"C{first}"
    for row in range(first, last + 1):
        cell = ws.cell(row, len(SCHEME_COLUMNS))
        if cell.value in RAG_FILLS:
            cell.fill = RAG_FILLS[cell.value]
    money = _kinds(SCHEME_COLUMNS, MONEY)
    _total_row(ws, last + 1, first, last, money)
    end = _areas(ws, st, last + 3, first, last, money)
    _line(ws, end + 2, RAG_NOTE)
    _adjustments(ws, st, end + 4)


def _adjustments(ws, st: Statement, row: int) -> None:
    """The prior-period adjustments in the year to the statement's date: spend, then receipts, each
    with a Total row (=SUM over its rows); or a line saying there are none."""
    pos = st.position
    _line(ws, row, "Prior-period adjustments", BOLD)
    if not pos.adjustments:
        _line(ws, row + 1, f"No prior-period adjustments in {pos.year.label} to {pos.as_of.day} {pos.as_of:%B %Y}.")
        return
    rows = [[a.date, f"{a.payee}: {a.narration}" if a.payee and a.narration else a.payee or a.narration, a.ref,
             a.adjusts, a.scheme or (None if a.partner else a.account), a.partner, a.amount, a.original_date]
            for a in pos.adjustments]
    top = row + 1
    spend = [r for r, a in zip(rows, pos.adjustments) if not a.receipt]
    receipts = [r for r, a in zip(rows, pos.adjustments) if a.receipt]
    last = _table(ws, top, ADJUSTMENT_COLUMNS, spend + receipts)
    letter = get_column_letter(ADJUSTMENT_AMOUNT)
    total = last + 1
    for label, block_first, block_last in (("Total", top + 1, top + len(spend)),
                                           ("Total received", top + 1 + len(spend), last)):
        if block_last < block_first:
            continue
        _text(ws, total, 1, label, BOLD)
        _formula(ws, total, ADJUSTMENT_AMOUNT, f"=SUM({letter}{block_first}:{letter}{block_last})", MONEY, BOLD)
        total += 1


def _scheme_values(s, st: Statement) -> list:
    """A scheme's row, in SCHEME_COLUMNS order."""
    sc = s.scheme
    return [sc.scheme, sc.name, sc.type, sc.area, _commissioner(sc), sc.provider,
            st.position.agreement.sources.get(sc.source, sc.source),
            "Recurrent" if sc.recurrent else "Non-recurrent", "New" if sc.new else "Existing",
            s.annual_budget, s.budget_to_date, s.actual_to_date, s.variance_to_date, s.forecast_outturn,
            s.forecast_basis, s.forecast_variance, sc.benefits, st.rag.get(sc.scheme)]


def _commissioner(scheme) -> str:
    """The commissioning partner, or for a joint scheme its split: "Joint: ICB 60% / Council 40%"."""
    if scheme.commissioner != JOINT:
        return scheme.commissioner
    return "Joint: " + " / ".join(f"{partner} {pct.normalize():f}%" for partner, pct in scheme.split)


def _areas(ws, st: Statement, row: int, first: int, last: int, money: dict[int, str]) -> int:
    """Subtotals by area of spend as COUNTIF/SUMIF over the scheme block; returns the last row used."""
    _line(ws, row, "Subtotals by area of spend", BOLD)
    header = row + 1
    _header(ws, header, {1: "Area of spend", 2: "Schemes", **{c: SCHEME_COLUMNS[c - 1][0] for c in money}})
    area = get_column_letter(AREA_COLUMN)
    criteria = f"${area}${first}:${area}${last}"
    for row, subtotal in enumerate(st.areas, header + 1):
        _text(ws, row, 1, subtotal.area)
        _formula(ws, row, 2, f"=COUNTIF({criteria},A{row})", "0", width=6)
        for col in money:
            letter = get_column_letter(col)
            _formula(ws, row, col, f"=SUMIF({criteria},A{row},{letter}${first}:{letter}${last})", MONEY)
    return header + len(st.areas)


def _risk_share(ws, st: Statement) -> None:
    """The basis and net variance, then each step of the agreement's risk share with a Total row."""
    pos, rs = st.position, st.position.risk_share
    _line(ws, 1, f"Risk share, {st.title}", TITLE)
    _line(ws, 2, f"On the {pos.risk_basis} outturn")
    _text(ws, 3, 1, "Net variance")
    _put(ws, 3, 2, rs.variance, MONEY)
    _text(ws, 3, 3, rs.side or "nil")
    row = 4
    if rs.in_force_from is not None:
        _text(ws, row, 1, "Agreement in force from")
        _put(ws, row, 2, rs.in_force_from, DATE)
        row += 1
    if rs.note:
        _line(ws, row, f"Note: {rs.note}")
        row += 1
    if not rs.steps:
        ws.freeze_panes = f"A{row}"
        return
    top = row + 1
    columns = ((("Step", NUMBER), ("Rule", TEXT), ("To share", MONEY))
               + tuple((p.partner.name, MONEY) for p in pos.partners)
               + (("Carried forward", MONEY), ("Left", MONEY)))
    rows = [[step.number, step.label, step.variance_in]
            + [step.shares.get(p.partner.partner) for p in pos.partners]
            + [step.carried, step.variance_out] for step in rs.steps]
    last = _table(ws, top, columns, rows)
    ws.freeze_panes = f"A{top + 1}"
    _total_row(ws, last + 1, top + 1, last, {col: MONEY for col in range(4, 5 + len(pos.partners))})


def _tranches(ws, st: Statement) -> None:
    """One row per period of each tranche, then a column per scheme a tranche funds with what that scheme
    gave up in the period (blank where it does not fund the tranche), with a Total row of the amounts."""
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
    last = _table(ws, 1, columns, rows)
    ws.freeze_panes = "A2"
    _total_row(ws, last + 1, 2, last, _kinds(columns, MONEY))


def _metrics(ws, st: Statement) -> None:
    """One row per metric plan for a period, with its latest actual."""
    rows = [[m.metric, m.name, m.better, m.unit, m.period, m.baseline, m.plan, m.actual, m.numerator,
             m.denominator, m.recorded] for m in st.position.metrics]
    _table(ws, 1, METRIC_COLUMNS, rows)
    ws.freeze_panes = "A2"


def _save(wb: Workbook) -> bytes:
    """The workbook's .xlsx bytes. ExcelWriter rather than wb.save(), which stamps the current time into
    the document's modified date."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    return buffer.getvalue()


def _fixed_zip(data: bytes) -> bytes:
    """The archive rewritten with a fixed date, attributes and compression on every entry, in the same
    order, so equal workbooks give equal bytes (the zip entries otherwise carry the time of saving)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.create_system, fixed.external_attr = 3, 0o100600 << 16  # Unix, a regular file rw-------
            target.writestr(fixed, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
