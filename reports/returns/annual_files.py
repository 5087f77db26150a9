"""The annual return's files: HTML (templates/returns/annual.html) and XLSX, laying out an AnnualReturn.
They compute nothing; totals are the model's figures, written as numbers."""
from __future__ import annotations

from reports.returns.annual import AnnualReturn
from reports.returns.workbook import BOLD, MONEY, TEXT, TITLE, line, new_workbook, put, table, workbook_bytes
from rules.agreement import JOINT

PARTNER_COLUMNS = (("agreed", "Agreed contribution"), ("received", "Received"),
                   ("outstanding", "Not received at 31 March"), ("spend_total", "Share of spend"),
                   ("settlement", "Risk-share settlement"), ("returned", "Returned by virement"),
                   ("due_from", "Due from the partner"), ("due_to", "Due to the partner"),
                   ("net_due", "Net due from (to) the partner"))


def render_annual(report: AnnualReturn) -> dict[str, bytes]:
    return {f"{report.stem}.html": annual_html(report).encode("utf-8"), f"{report.stem}.xlsx": annual_xlsx(report)}


def heading(report: AnnualReturn) -> str:
    return f"Annual return and memorandum account, {report.year.label} (year to {report.year.end.day} " \
           f"{report.year.end:%B %Y})"


def annual_html(report: AnnualReturn) -> str:
    from reports.html import environment
    return environment().get_template("returns/annual.html").render(r=report, p=report.position,
                                                                    heading=heading(report))


def annual_xlsx(report: AnnualReturn) -> bytes:
    wb = new_workbook()
    for name, build in (("Partners", _partners), ("Share of spend", _spend), ("Income and expenditure", _account),
                        ("Balance sheet", _balance_sheet), ("Reconciliation", _reconciliation)):
        ws = wb.create_sheet(name)
        line(ws, 1, report.position.pool.name, TITLE)
        line(ws, 2, f"{name}: {heading(report)}")
        line(ws, 3, f"Ledger: {report.provenance}. Generated {report.generated.day} {report.generated:%B %Y}")
        build(ws, report)
    return workbook_bytes(wb, report.generated)


def _partners(ws, report: AnnualReturn) -> None:
    columns = [("Partner", TEXT)] + [(label, MONEY) for _, label in PARTNER_COLUMNS]
    last = table(ws, 5, columns, [[a.partner.name] + [getattr(a, f) for f, _ in PARTNER_COLUMNS]
                                  for a in report.partners])
    ws.freeze_panes = "B6"
    row = last + 2
    for text in ([f"Underspend carried forward from {report.year.previous().label}: {report.carried_in:,.2f}"]
                 if report.carried_in else []) + \
            ([f"Underspend carried forward into {report.year.next().label}: {report.carried_forward:,.2f} "
              "(the pool's, in no partner's amount due)"] if report.carried_forward else []):
        line(ws, row, text)
        row += 1
    line(ws, row + 1, "Contributions by funding source", BOLD)
    columns = [("Partner", TEXT), ("Funding source", TEXT), ("Minimum", MONEY), ("Agreed", MONEY), ("Received", MONEY),
               ("Not received", MONEY)]
    table(ws, row + 2, columns, [[a.partner.name, s.source_name, s.minimum, s.agreed, s.received, s.outstanding]
                                 for a in report.partners for s in a.sources])


def _commissioner(scheme) -> str:
    if scheme.commissioner != JOINT:
        return scheme.commissioner
    return "Joint: " + " / ".join(f"{partner} {pct.normalize():f}%" for partner, pct in scheme.split)


def _spend(ws, report: AnnualReturn) -> None:
    columns = ([("ID", TEXT), ("Scheme", TEXT), ("Commissioner", TEXT), ("Actual", MONEY)]
               + [(a.partner.name, MONEY) for a in report.partners])
    rows = [[s.scheme.scheme, s.scheme.name, _commissioner(s.scheme), s.actual_to_date]
            + [a.spend[i] for a in report.partners] for i, s in enumerate(report.schemes)]
    table(ws, 5, columns, rows, ["Total", None, None, report.expenditure_total]
          + [a.spend_total for a in report.partners])
    ws.freeze_panes = "C6"


def _lines(ws, row: int, title: str, items, total: tuple[str, object] | None = None) -> int:
    """A block: its title, a row per line (label, amount), then its total in bold; returns the next free row."""
    line(ws, row, title, BOLD)
    for row, item in enumerate(items, row + 1):
        put(ws, row, 1, item.label)
        put(ws, row, 2, item.amount, MONEY)
    if total is not None:
        row += 1
        put(ws, row, 1, total[0], TEXT, BOLD)
        put(ws, row, 2, total[1], MONEY, BOLD)
    return row + 2


def _account(ws, report: AnnualReturn) -> None:
    row = _lines(ws, 5, "Income", report.income, ("Total income", report.income_total))
    row = _lines(ws, row, "Expenditure", report.expenditure, ("Total expenditure", report.expenditure_total))
    put(ws, row, 1, "Income less expenditure before settlement", TEXT, BOLD)
    put(ws, row, 2, report.before_settlement, MONEY, BOLD)
    row = _lines(ws, row + 2, "Risk-share settlement", report.settlement,
                 ("Income less expenditure after settlement", report.after_settlement))


def _balance_sheet(ws, report: AnnualReturn) -> None:
    line(ws, 4, f"At {report.year.end.day} {report.year.end:%B %Y}")
    row = _lines(ws, 5, "Assets", report.assets)
    row = _lines(ws, row, "Less liabilities", report.liabilities, ("Net assets", report.net_assets))
    _lines(ws, row, "Represented by", report.funds, ("Funds", report.funds_total))


def _reconciliation(ws, report: AnnualReturn) -> None:
    _lines(ws, 5, "Income less expenditure is nil after settlement; the balance sheet balances",
           report.reconciliation())
