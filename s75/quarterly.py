"""`s75 quarterly LEDGER --quarter 2025-26-Q2 --out DIR`: the quarterly report to the partners, as HTML
and XLSX (and PDF when reports/pdf.py is there), named <pool>-<quarter>-quarterly.*. docs/returns.md."""
from __future__ import annotations

import datetime

from reports.returns.quarterly import ReturnError, parse_quarter
from rules.position import PositionError
from s75.returns_common import quarterly_of, refuse, write

COMMAND = "s75 quarterly"


def run_quarterly(args) -> int:
    from s75.cli import _load_or_report
    try:
        quarter = parse_quarter(args.quarter)
    except ReturnError as exc:
        return refuse(f"{COMMAND}: {exc}")
    loaded = _load_or_report(args.ledger, refused="no quarterly report written")
    if loaded is None:
        return 1
    try:
        report = quarterly_of(loaded, quarter, datetime.date.today())
    except (PositionError, ReturnError) as exc:
        return refuse(f"{args.ledger}: {exc}; no quarterly report written")
    from reports.returns.quarterly_files import render_quarterly
    try:
        files = render_quarterly(report)
    except (ImportError, OSError) as exc:  # WeasyPrint, or the system libraries it needs, missing
        return refuse(f"{COMMAND}: the PDF cannot be made: {exc}; no quarterly report written")
    return write(COMMAND, args.out, files, "quarterly report's")
