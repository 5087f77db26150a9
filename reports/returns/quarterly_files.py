"""The quarterly report's files: HTML (templates/returns/quarterly.html), XLSX and PDF printed from the
same HTML on the statement's PDF page (reports/pdf.py).
They lay out a QuarterlyReport and compute nothing; the workbook's totals are the model's figures,
written as numbers.
"""
from __future__ import annotations

from openpyxl.utils import get_column_letter

from reports import pdf
from reports.returns.quarterly import INCOME_FIELDS, QuarterlyReport
from reports.returns.workbook import (BOLD, DATE, MONEY, NUMBER, TEXT, TITLE, line, new_workbook, table,
                                      workbook_bytes)
from rules.agreement import JOINT

SPEND_LABELS = {
    "annual_budget": "Annual budget", "budget_in_quarter": "Budget in quarter", "actual_in_quarter": "Actual in quarter",
    "variance_in_quarter": "Variance in quarter", "budget_to_date": "Budget to date", "actual_to_date": "Actual to date",
    "committed": "Committed (orders)", "variance_to_date": "Variance to date", "forecast_outturn": "Forecast outturn",
    "forecast_variance": "Forecast variance"}
SPEND_FIELDS = ("budget_in_quarter", "actual_in_quarter", "variance_in_quarter", "budget_to_date", "actual_to_date",
                "committed", "variance_to_date")
INCOME_LABELS = {"agreed": "Agreed for the year", "received_in_quarter": "Received in quarter",
                 "received_to_date": "Received to date", "outstanding": "Outstanding"}


def render_quarterly(report: QuarterlyReport) -> dict[str, bytes]:
    """{file name: bytes}: the report as HTML, XLSX and PDF."""
    html = quarterly_html(report)
    files = {f"{report.stem}.html": html.encode("utf-8"), f"{report.stem}.xlsx": quarterly_xlsx(report)}
    files[f"{report.stem}.pdf"] = pdf_of(report, html)
    return files


def pdf_of(report: QuarterlyReport, html: str) -> bytes:
    """The report's PDF, printed from its HTML on the statement's page (reports/pdf.py: A4 landscape, its
    margins and running header), headed with the pool and the quarter, with the generation date, the
    ledger's commit and "Page x of y" at the foot. The same report and HTML give the same bytes."""
    name = report.position.pool.name
    css = pdf.page_css(name, f"Quarterly report to the partners: {report.title}", report.generated,
                       report.provenance)
    return pdf.printed(html, css, report.generated, name)


def quarterly_html(report: QuarterlyReport) -> str:
    from reports.html import environment
    fields = {"income": INCOME_FIELDS, "spend": [(f, SPEND_LABELS[f]) for f in SPEND_FIELDS]}
    return environment().get_template("returns/quarterly.html").render(
        r=report, p=report.position, fields=fields, heading=f"Quarterly report to the partners: {report.title}")


def quarterly_xlsx(report: QuarterlyReport) -> bytes:
    wb = new_workbook()
    for name, build in (("Income", _income), ("Expenditure", _expenditure), ("Areas of spend", _areas),
                        ("Forecast outturn", _forecast), ("Risk share", _risk_share),
                        ("Tranches and metrics", _tranches_metrics)):
        ws = wb.create_sheet(name)
        line(ws, 1, report.position.pool.name, TITLE)
        line(ws, 2, f"{name}: {report.title}")
        build(ws, report)
    first = wb.worksheets[0]
    pool = report.position.pool
    for row, text in enumerate((f"Agreement: {pool.agreement}", f"Pooled fund manager: {pool.manager}",
                                f"Ledger: {report.provenance}", f"Generated {report.generated.day} "
                                f"{report.generated:%B %Y}"), 3):
        line(first, row, text)
    if report.incomplete:
        line(first, 7, report.incomplete)
    return workbook_bytes(wb, report.generated)


def _income(ws, report: QuarterlyReport) -> None:
    columns = [("Partner", TEXT), ("Funding source", TEXT)] + [(INCOME_LABELS[f], MONEY) for f in INCOME_FIELDS]
    rows = []
    for partner in report.income:
        rows += [[partner.partner.name, line_.source_name] + [getattr(line_, f) for f in INCOME_FIELDS]
                 for line_ in partner.lines]
        rows.append([f"{partner.partner.name}: total", None] + [partner.totals[f] for f in INCOME_FIELDS])
    last = table(ws, 8, columns, rows, ["Total", None] + [report.income_totals[f] for f in INCOME_FIELDS])
    ws.freeze_panes = "A9"
    if report.position.carried_in:
        line(ws, last + 2, f"Underspend carried forward into {report.position.year.label}: "
                           f"{report.position.carried_in:,.2f}")


def _commissioner(scheme) -> str:
    if scheme.commissioner != JOINT:
        return scheme.commissioner
    return "Joint: " + " / ".join(f"{partner} {pct.normalize():f}%" for partner, pct in scheme.split)


def _expenditure(ws, report: QuarterlyReport) -> None:
    columns = ([("ID", TEXT), ("Scheme", TEXT), ("Area of spend", TEXT), ("Commissioner", TEXT)]
               + [(SPEND_LABELS[f], MONEY) for f in SPEND_FIELDS])
    rows = [[s.position.scheme.scheme, s.position.scheme.name, s.position.scheme.area,
             _commissioner(s.position.scheme)] + [s.values[f] for f in SPEND_FIELDS] for s in report.schemes]
    last = table(ws, 4, columns, rows, ["Total", None, None, None] + [report.scheme_totals[f] for f in SPEND_FIELDS])
    ws.freeze_panes = "C5"
    ws.auto_filter.ref = f"A4:{get_column_letter(len(columns))}{last - 1}"


def _areas(ws, report: QuarterlyReport) -> None:
    columns = [("Area of spend", TEXT), ("Schemes", NUMBER)] + [(SPEND_LABELS[f], MONEY) for f in SPEND_FIELDS]
    rows = [[a.area, a.schemes] + [a.values[f] for f in SPEND_FIELDS] for a in report.areas]
    table(ws, 4, columns, rows, ["Total", len(report.schemes)] + [report.scheme_totals[f] for f in SPEND_FIELDS])


def _forecast(ws, report: QuarterlyReport) -> None:
    columns = [("ID", TEXT), ("Scheme", TEXT), ("Annual budget", MONEY), ("Forecast outturn", MONEY), ("Basis", TEXT),
               ("Forecast made on", DATE), ("Forecast variance", MONEY), ("Note", TEXT)]
    rows = [[s.scheme.scheme, s.scheme.name, s.annual_budget, s.forecast_outturn, s.forecast_basis, s.forecast_date,
             s.forecast_variance, s.forecast_note] for s in (line_.position for line_ in report.schemes)]
    totals = report.scheme_totals
    table(ws, 4, columns, rows, ["Total", None, totals["annual_budget"], totals["forecast_outturn"], None, None,
                                 totals["forecast_variance"], None])
    ws.freeze_panes = "C5"


def _risk_share(ws, report: QuarterlyReport) -> None:
    pos, rs = report.position, report.risk_share
    line(ws, 3, f"On the {pos.risk_basis} outturn at {pos.as_of.day} {pos.as_of:%B %Y}: net {rs.side or 'variance'} "
                f"{rs.variance:,.2f}" + (f"; agreement in force from {rs.in_force_from}" if rs.in_force_from else ""))
    if rs.note:
        line(ws, 4, f"Note: {rs.note}")
    if not rs.steps:
        return
    partners = [p.partner for p in pos.partners]
    columns = ([("Step", NUMBER), ("Rule", TEXT), ("To share", MONEY)] + [(p.name, MONEY) for p in partners]
               + [("Carried forward", MONEY), ("Left", MONEY)])
    rows = [[step.number, step.label, step.variance_in] + [step.shares.get(p.partner) for p in partners]
            + [step.carried, step.variance_out] for step in rs.steps]
    table(ws, 6, columns, rows, [None, f"Share of the {rs.side}", rs.variance]
          + [rs.shares.get(p.partner) for p in partners] + [rs.carried_forward, rs.unallocated])


def _tranches_metrics(ws, report: QuarterlyReport) -> None:
    line(ws, 4, "Performance tranches with a period in the quarter", BOLD)
    columns = [("Tranche", TEXT), ("Partner", TEXT), ("Metric", TEXT), ("Period", TEXT), ("Amount", MONEY),
               ("Baseline", NUMBER), ("Plan", NUMBER), ("Actual", NUMBER), ("Released", MONEY), ("Redirected", MONEY),
               ("Redirected to", TEXT), ("Status", TEXT)]
    rows = []
    for t in report.tranches:
        o = t.outcome
        status = "; ".join(filter(None, (o.status + (", decided in the quarter" if t.decided_in_quarter else ""),
                                         o.revision_note)))
        rows.append([t.status.tranche.tranche, t.partner_name, t.status.tranche.metric, o.period.label, o.amount,
                     o.baseline, o.plan, o.actual.value if o.actual else None, o.released, o.redirected,
                     t.status.tranche.unreleased_to if o.redirected else None, status])
    last = table(ws, 5, columns, rows)
    line(ws, last + 2, "Metrics with a plan for a period in the quarter", BOLD)
    columns = [("Metric", TEXT), ("Name", TEXT), ("Period", TEXT), ("Better", TEXT), ("Baseline", NUMBER),
               ("Plan", NUMBER), ("Actual", NUMBER), ("Recorded on", DATE)]
    table(ws, last + 3, columns, [[m.metric, m.name, m.period, m.better, m.baseline, m.plan, m.actual, m.recorded]
                                  for m in report.metrics])
