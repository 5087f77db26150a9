"""The national BCF return for a quarter as a workbook laid out like the year's national template.

The template changes every year, so its layout is data: `reports/national_template_<yyyy>_<yy>.json`
(e.g. national_template_2025_26.json) names its sheets in order and, on each, title lines and tables:
which rows a table lists (`income`: a row per partner and funding source; `expenditure`: a row per
scheme; `metrics`: a row per metric plan whose period overlaps the quarter), its columns in order, each
a field below with the template's heading, and whether it ends with a total row. The figures are the
quarterly report's (reports.returns.quarterly), so the national return and the quarterly report to the
partners agree to the penny. docs/returns.md describes the file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from rules.agreement import JOINT
from reports.returns.quarterly import ZERO, QuarterlyReport, ReturnError
from reports.returns.workbook import (BOLD, DATE, MONEY, NUMBER, TEXT, TITLE, line, new_workbook, table,
                                      workbook_bytes)

LAYOUTS = Path(__file__).resolve().parent.parent  # reports/: national_template_<yyyy>_<yy>.json
DEFAULT_LABELS = {"council": "Local Authority", "nhs": "NHS", JOINT: "Joint"}
BAD_SHEET_CHARACTERS = set("[]:*?/\\")


def _commissioner(report, s):
    sc = s.position.scheme
    if sc.commissioner == JOINT:
        return "Joint"
    partner = report.position.agreement.partner(sc.commissioner)
    return partner.name if partner else sc.commissioner


def _commissioner_type(report, s, labels):
    sc = s.position.scheme
    partner = report.position.agreement.partner(sc.commissioner)
    return labels.get(JOINT if sc.commissioner == JOINT else partner.kind if partner else "", sc.commissioner)


def _percent_of_kind(report, s, kind):
    """A joint scheme's share commissioned by partners of `kind` (nhs or council), as a percentage."""
    sc = s.position.scheme
    if sc.commissioner != JOINT:
        return None
    agreement = report.position.agreement
    return sum((pct for partner, pct in sc.split if getattr(agreement.partner(partner), "kind", "") == kind),
               Decimal(0))


def _plan_met(m):
    if m.actual is None:
        return ""
    return "Yes" if (m.actual <= m.plan if m.better == "lower" else m.actual >= m.plan) else "No"


# field -> (kind, value of a row); a row is (report, row, labels)
FIELDS = {
    "income": {
        "partner": (TEXT, lambda r, p, line_, lb: p.partner.partner),
        "partner_name": (TEXT, lambda r, p, line_, lb: p.partner.name),
        "partner_type": (TEXT, lambda r, p, line_, lb: lb.get(p.partner.kind, p.partner.kind)),
        "source": (TEXT, lambda r, p, line_, lb: line_.source),
        "source_of_funding": (TEXT, lambda r, p, line_, lb: line_.source_name),
        "planned_income": (MONEY, lambda r, p, line_, lb: line_.agreed),
        "received_in_quarter": (MONEY, lambda r, p, line_, lb: line_.received_in_quarter),
        "received_to_date": (MONEY, lambda r, p, line_, lb: line_.received_to_date),
        "outstanding": (MONEY, lambda r, p, line_, lb: line_.outstanding),
    },
    "expenditure": {
        "scheme_id": (TEXT, lambda r, s, lb: s.position.scheme.scheme),
        "scheme_name": (TEXT, lambda r, s, lb: s.position.scheme.name),
        "scheme_type": (TEXT, lambda r, s, lb: s.position.scheme.type),
        "area_of_spend": (TEXT, lambda r, s, lb: s.position.scheme.area),
        "commissioner": (TEXT, lambda r, s, lb: _commissioner(r, s)),
        "commissioner_type": (TEXT, lambda r, s, lb: _commissioner_type(r, s, lb)),
        "nhs_percent": (NUMBER, lambda r, s, lb: _percent_of_kind(r, s, "nhs")),
        "council_percent": (NUMBER, lambda r, s, lb: _percent_of_kind(r, s, "council")),
        "provider": (TEXT, lambda r, s, lb: s.position.scheme.provider),
        "source_of_funding": (TEXT, lambda r, s, lb: r.position.agreement.sources.get(
            s.position.scheme.source, s.position.scheme.source)),
        "recurrent": (TEXT, lambda r, s, lb: "Recurrent" if s.position.scheme.recurrent else "Non-recurrent"),
        "new_or_existing": (TEXT, lambda r, s, lb: "New" if s.position.scheme.new else "Existing"),
        "planned_expenditure": (MONEY, lambda r, s, lb: s.values["annual_budget"]),
        "budget_in_quarter": (MONEY, lambda r, s, lb: s.values["budget_in_quarter"]),
        "actual_in_quarter": (MONEY, lambda r, s, lb: s.values["actual_in_quarter"]),
        "budget_to_date": (MONEY, lambda r, s, lb: s.values["budget_to_date"]),
        "actual_to_date": (MONEY, lambda r, s, lb: s.values["actual_to_date"]),
        "variance_to_date": (MONEY, lambda r, s, lb: s.values["variance_to_date"]),
        "forecast_outturn": (MONEY, lambda r, s, lb: s.values["forecast_outturn"]),
        "forecast_variance": (MONEY, lambda r, s, lb: s.values["forecast_variance"]),
    },
    "metrics": {
        "metric_id": (TEXT, lambda r, m, lb: m.metric),
        "metric_name": (TEXT, lambda r, m, lb: m.name),
        "period": (TEXT, lambda r, m, lb: m.period),
        "unit": (TEXT, lambda r, m, lb: m.unit),
        "better": (TEXT, lambda r, m, lb: m.better),
        "baseline": (NUMBER, lambda r, m, lb: m.baseline),
        "plan": (NUMBER, lambda r, m, lb: m.plan),
        "actual": (NUMBER, lambda r, m, lb: m.actual),
        "numerator": (NUMBER, lambda r, m, lb: m.numerator),
        "denominator": (NUMBER, lambda r, m, lb: m.denominator),
        "recorded": (DATE, lambda r, m, lb: m.recorded),
        "plan_met": (TEXT, lambda r, m, lb: _plan_met(m)),
    },
}


@dataclass(frozen=True)
class Layout:
    path: Path
    year: str
    labels: dict
    sheets: tuple[dict, ...]


def layout_path(year_label: str) -> Path:
    return LAYOUTS / f"national_template_{year_label.replace('-', '_')}.json"


def load_layout(path: Path, year_label: str) -> Layout:
    """The template layout in `path`, checked; ReturnError, naming the file and the place, when it is wrong."""
    shown = _shown(path)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReturnError(f"{shown}: no such file: the national template's layout for {year_label} is kept there "
                          "(copy the last year's and change it to the new template), or give --template FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReturnError(f"{shown}: cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    except ValueError as exc:
        raise ReturnError(f"{shown}: not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ReturnError(f"{shown}: the layout is a JSON object with \"year\" and \"sheets\"")
    if raw.get("year") != year_label:
        raise ReturnError(f"{shown}: the layout is for {raw.get('year')!r}, not {year_label}")
    labels = raw.get("labels", DEFAULT_LABELS)
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise ReturnError(f"{shown}: \"labels\" maps council, nhs and joint to the template's words")
    sheets = raw.get("sheets")
    if not isinstance(sheets, list) or not sheets:
        raise ReturnError(f"{shown}: \"sheets\" is a list of the template's sheets, at least one")
    names = set()
    for number, sheet in enumerate(sheets, 1):
        where = f"{shown}: sheet {number}"
        name = sheet.get("name") if isinstance(sheet, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 31 or BAD_SHEET_CHARACTERS & set(name):
            raise ReturnError(f"{where}: \"name\" is the sheet's name: 1 to 31 characters, none of []:*?/\\")
        if name.lower() in names:
            raise ReturnError(f"{where}: the name {name!r} is used twice")
        names.add(name.lower())
        if not isinstance(sheet.get("title", []), list) or not all(isinstance(t, str) for t in sheet.get("title", [])):
            raise ReturnError(f"{where}: \"title\" is a list of lines of text")
        tables = sheet.get("tables")
        if not isinstance(tables, list) or not tables:
            raise ReturnError(f"{where}: \"tables\" is a list of tables, at least one")
        for t_number, spec in enumerate(tables, 1):
            _check_table(f"{where}, table {t_number}", spec)
    return Layout(Path(path), year_label, {**DEFAULT_LABELS, **labels}, tuple(sheets))


def _shown(path: Path) -> str:
    """The path as the user would write it: relative to the current folder when it is inside it."""
    relative = os.path.relpath(Path(path).resolve())
    return str(path) if relative.startswith("..") else relative


def _check_table(where: str, spec) -> None:
    if not isinstance(spec, dict) or spec.get("rows") not in FIELDS:
        raise ReturnError(f"{where}: \"rows\" is one of {', '.join(FIELDS)}")
    columns = spec.get("columns")
    if not isinstance(columns, list) or not columns:
        raise ReturnError(f"{where}: \"columns\" is a list of {{\"field\", \"heading\"}}, at least one")
    known = FIELDS[spec["rows"]]
    for c_number, column in enumerate(columns, 1):
        if not isinstance(column, dict) or not isinstance(column.get("heading"), str):
            raise ReturnError(f"{where}, column {c_number}: give \"field\" and \"heading\"")
        if column.get("field") not in known:
            raise ReturnError(f"{where}, column {c_number}: unknown field {column.get('field')!r} for "
                              f"{spec['rows']} rows (one of {', '.join(known)})")


def national_xlsx(report: QuarterlyReport, layout: Layout) -> bytes:
    """The workbook: the layout's sheets in order, each with its title lines and tables."""
    wb = new_workbook()
    places = _places(report)
    for sheet in layout.sheets:
        ws = wb.create_sheet(sheet["name"])
        row = 1
        for number, text in enumerate(sheet.get("title", [])):
            line(ws, row, _fill(text, places, layout, sheet["name"]), TITLE if number == 0 else None)
            row += 1
        for spec in sheet["tables"]:
            row += 1 if row > 1 else 0
            if spec.get("caption"):
                line(ws, row, _fill(spec["caption"], places, layout, sheet["name"]), BOLD)
                row += 1
            row = _table(ws, row, spec, report, layout.labels) + 1
    return workbook_bytes(wb, report.generated)


def file_name(report: QuarterlyReport) -> str:
    return f"{report.position.pool.id}-{report.label}-national-return.xlsx"


def _places(report: QuarterlyReport) -> dict[str, str]:
    pool = report.position.pool
    return {"pool_id": pool.id, "pool_name": pool.name, "year": report.quarter.year.label,
            "quarter": f"Q{report.number}", "quarter_label": report.label, "period": report.title,
            "as_of": f"{report.quarter.end.day} {report.quarter.end:%B %Y}"}


def _fill(text: str, places: dict[str, str], layout: Layout, sheet: str) -> str:
    try:
        return text.format_map(places)
    except (KeyError, ValueError, IndexError) as exc:
        raise ReturnError(f"{_shown(layout.path)}: sheet {sheet!r}: {text!r}: a place to fill is one of "
                          f"{', '.join('{' + k + '}' for k in places)} ({exc})") from None


def _rows(report: QuarterlyReport, kind: str, labels) -> list[tuple]:
    """(arguments after the report) per row of the kind."""
    if kind == "income":
        return [(p, line_) for p in report.income for line_ in p.lines]
    if kind == "expenditure":
        return [(s,) for s in report.schemes]
    return [(m,) for m in report.metrics]


def _table(ws, top: int, spec: dict, report: QuarterlyReport, labels) -> int:
    fields = FIELDS[spec["rows"]]
    columns = [(c["heading"], fields[c["field"]][0]) for c in spec["columns"]]
    rows = [[fields[c["field"]][1](report, *args, labels) for c in spec["columns"]]
            for args in _rows(report, spec["rows"], labels)]
    total = None
    if spec.get("total"):
        total = [sum((r[i] for r in rows if r[i] is not None), ZERO) if kind == MONEY else None
                 for i, (_, kind) in enumerate(columns)]
        first_text = next((i for i, (_, kind) in enumerate(columns) if kind == TEXT), None)
        if first_text is not None:
            total[first_text] = "Total"
    return table(ws, top, columns, rows, total)
