"""The statement workbook's "Finance - Schemes" sheet: one plain, filterable row per scheme (its
changes and variances as formulas over the row's own cells), the Total row, subtotals by area of
spend and the prior-period adjustments. Laid out with reports.workbook_sheet; figures from the
Statement only.
"""
from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name

from reports.statement import Statement
from reports.workbook_sheet import COUNT, DATE, MONEY, SCHEME_WRAP, TEXT, ZERO, Sheet, column, kinds
from rules.agreement import JOINT

RAG_COLOURS = {"Green": "#C6EFCE", "Amber": "#FFEB9C", "Red": "#FFC7CE"}
RAG_NOTE = "RAG: Green on or under budget; Amber overspend up to 5% of annual budget; Red overspend above 5%."
VARIANCE_NOTE = ("Variance is actual or outturn less budget: positive is an overspend (in red), (brackets) an "
                 "underspend. Planned savings are the scheme's planned benefits, as less spend.")
SCHEME_TOP = 4  # header row of the scheme block on "Finance - Schemes"
SCHEME_COLUMNS = (
    ("ID", TEXT), ("Scheme", TEXT), ("Scheme type", TEXT), ("Area of spend", TEXT), ("Commissioner", TEXT),
    ("Lead provider", TEXT), ("Funding source", TEXT), ("Recurrent", TEXT), ("New/existing", TEXT),
    ("Original budget", MONEY), ("Changes", MONEY), ("Revised budget", MONEY), ("Budget to date", MONEY),
    ("Actual to date", MONEY),
    ("Variance to date", MONEY), ("Forecast outturn", MONEY), ("Forecast basis", TEXT),
    ("Forecast variance", MONEY), ("Planned savings", MONEY), ("RAG", TEXT),
    ("Outturn at previous month end", MONEY), ("Movement in outturn", MONEY), ("Forecast note", TEXT))
COMMITMENT_COLUMNS = (("Committed", MONEY), ("Actual plus committed", MONEY))  # when the pool has orders
ORDER_COLUMNS = (("Order", TEXT), ("Scheme", TEXT), ("Supplier", TEXT), ("Raised", DATE), ("Description", TEXT),
                 ("Amount", MONEY), ("Drawn down", MONEY), ("Committed", MONEY), ("Closed", DATE))
AREA_COLUMN = 4  # "Area of spend" in SCHEME_COLUMNS
ADVERSE_COLUMNS = ("Variance to date", "Forecast variance")  # red when positive (an overspend)
# A scheme row's formulas over its own cells: column -> (minuend, subtrahend), by heading.
SCHEME_FORMULAS = {"Changes": ("Revised budget", "Original budget"),
                   "Variance to date": ("Actual to date", "Budget to date"),
                   "Forecast variance": ("Forecast outturn", "Revised budget"),
                   "Movement in outturn": ("Forecast outturn", "Outturn at previous month end")}
ADJUSTMENT_COLUMNS = (("Date", DATE), ("Entry", TEXT), ("Reference", TEXT), ("Corrects", TEXT), ("Scheme", TEXT),
                      ("Partner", TEXT), ("Amount", MONEY), ("Original date", DATE))
ADJUSTMENT_AMOUNT = 7  # "Amount" in ADJUSTMENT_COLUMNS


def schemes_sheet(sheet: Sheet, st: Statement) -> None:
    """One plain, filterable row per scheme, a Total row, subtotals by area of spend and the notes."""
    sheet.titles(st, "Schemes")
    sheet.line(3, f"Movement in outturn: since {st.movement_since}"
                  + (f" ({st.position.previous_date.day} {st.position.previous_date:%B %Y})" if st.position.previous_date
                     else "") + "; forecast note: as recorded with the scheme's forecast.")
    sheet.wrap_width = SCHEME_WRAP
    first = SCHEME_TOP + 1
    columns = scheme_columns(st)
    last = sheet.table(SCHEME_TOP, columns, [_scheme_values(s, st, columns) for s in st.position.schemes])
    for row, s in enumerate(st.position.schemes, first):
        for heading, (plus, minus) in SCHEME_FORMULAS.items():
            col = column(columns, heading)
            a, b = (xl_col_to_name(column(columns, h) - 1) for h in (plus, minus))
            value = {"Changes": s.budget_changes, "Variance to date": s.variance_to_date, "Forecast variance": s.forecast_variance,
                     "Movement in outturn": s.forecast_movement}[heading]
            sheet.formula(row, col, f"={a}{row}-{b}{row}", MONEY, value)
        rag = st.rag.get(s.scheme.scheme)
        if rag in RAG_COLOURS:
            sheet.text(row, column(columns, "RAG"), rag, fill=RAG_COLOURS[rag])
    sheet.ws.autofilter(SCHEME_TOP - 1, 0, last - 1, len(columns) - 1)
    sheet.ws.freeze_panes(SCHEME_TOP, 2)
    money = kinds(columns, MONEY)
    sheet.total_row(last + 1, first, last, money)
    end = _areas(sheet, st, last + 3, first, last, money, columns)
    for heading in ADVERSE_COLUMNS:
        col = column(columns, heading)
        sheet.adverse(first, last + 1, col)
        sheet.adverse(last + 5, end, col)
    sheet.line(end + 2, VARIANCE_NOTE)
    sheet.line(end + 3, RAG_NOTE)
    end = _orders(sheet, st, end + 5)
    _adjustments(sheet, st, end)


def scheme_columns(st: Statement) -> tuple[tuple[str, str], ...]:
    """SCHEME_COLUMNS, with Committed and Actual plus committed after Actual to date when the pool has
    orders raised by the statement's date (rules.commitments)."""
    if not st.position.commitments:
        return SCHEME_COLUMNS
    at = [heading for heading, _ in SCHEME_COLUMNS].index("Actual to date") + 1
    return SCHEME_COLUMNS[:at] + COMMITMENT_COLUMNS + SCHEME_COLUMNS[at:]


def _scheme_values(s, st: Statement, columns) -> list:
    """A scheme's row, in the order of `columns` (its changes and variances are then written as formulas)."""
    sc = s.scheme
    values = {
        "ID": sc.scheme, "Scheme": sc.name, "Scheme type": sc.type, "Area of spend": sc.area,
        "Commissioner": _commissioner(sc), "Lead provider": sc.provider,
        "Funding source": st.position.agreement.sources.get(sc.source, sc.source),
        "Recurrent": "Recurrent" if sc.recurrent else "Non-recurrent", "New/existing": "New" if sc.new else "Existing",
        "Original budget": s.original_budget, "Changes": s.budget_changes, "Revised budget": s.annual_budget,
        "Budget to date": s.budget_to_date, "Actual to date": s.actual_to_date, "Committed": s.committed,
        "Actual plus committed": s.actual_plus_committed, "Variance to date": s.variance_to_date,
        "Forecast outturn": s.forecast_outturn, "Forecast basis": s.forecast_basis,
        "Forecast variance": s.forecast_variance, "Planned savings": None if sc.benefits is None else -sc.benefits,
        "RAG": st.rag.get(sc.scheme), "Outturn at previous month end": s.previous_outturn,
        "Movement in outturn": s.forecast_movement, "Forecast note": s.forecast_note}
    return [values[heading] for heading, _ in columns]


def _orders(sheet: Sheet, st: Statement, row: int) -> int:
    """The orders raised by the statement's date, with what was drawn down and what is still committed,
    and a Total row; returns the row to go on from (nothing when the pool has no orders)."""
    orders = st.position.commitments
    if not orders:
        return row
    sheet.line(row, "Orders (commitments)", bold=True)
    rows = [[o.commitment.reference, o.commitment.scheme, o.commitment.supplier, o.commitment.date,
             o.commitment.description, o.commitment.amount, o.drawn, o.outstanding, o.commitment.closed]
            for o in orders]
    last = sheet.table(row + 1, ORDER_COLUMNS, rows)
    sheet.total_row(last + 1, row + 2, last, kinds(ORDER_COLUMNS, MONEY))
    return last + 3


def _commissioner(scheme) -> str:
    """The commissioning partner, or for a joint scheme its split: "Joint: ICB 60% / Council 40%"."""
    if scheme.commissioner != JOINT:
        return scheme.commissioner
    return "Joint: " + " / ".join(f"{partner} {pct.normalize():f}%" for partner, pct in scheme.split)


def _areas(sheet: Sheet, st: Statement, row: int, first: int, last: int, money: dict[int, str], columns) -> int:
    """Subtotals by area of spend as COUNTIF/SUMIF over the scheme block; returns the last row used."""
    sheet.line(row, "Subtotals by area of spend", bold=True)
    header = row + 1
    sheet.header(header, {1: "Area of spend", 2: "Schemes", **{c: columns[c - 1][0] for c in money}})
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


def _adjustments(sheet: Sheet, st: Statement, row: int) -> None:
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

