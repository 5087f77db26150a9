"""`s75 national-return LEDGER --quarter 2025-26-Q2 --out DIR [--template FILE]`: the national BCF
return's income and expenditure and metrics, as an XLSX laid out by the year's template layout
(reports/national_template_<yyyy>_<yy>.json unless --template names another). docs/returns.md."""
from __future__ import annotations

import datetime
from pathlib import Path

from reports.returns import national
from reports.returns.quarterly import ReturnError, parse_quarter
from rules.position import PositionError
from s75.returns_common import quarterly_of, refuse, write

COMMAND = "s75 national-return"


def run_national_return(args) -> int:
    from s75.cli import _load_or_report
    try:
        quarter = parse_quarter(args.quarter)
        layout = national.load_layout(Path(args.template) if args.template else
                                      national.layout_path(quarter.year.label), quarter.year.label)
    except ReturnError as exc:
        return refuse(f"{COMMAND}: {exc}")
    loaded = _load_or_report(args.ledger, refused="no national return written")
    if loaded is None:
        return 1
    try:
        report = quarterly_of(loaded, quarter, datetime.date.today())
        files = {national.file_name(report): national.national_xlsx(report, layout)}
    except (PositionError, ReturnError) as exc:
        return refuse(f"{args.ledger}: {exc}; no national return written")
    return write(COMMAND, args.out, files, "national return's")
