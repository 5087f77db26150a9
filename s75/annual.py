"""`s75 annual LEDGER --year 2025-26 --out DIR`: the annual return and memorandum account of a closed
year, as HTML and XLSX named <pool>-<year>-annual-return.*; an open year is refused. docs/returns.md."""
from __future__ import annotations

import datetime

from reports.returns.annual import parse_closed_year
from reports.returns.quarterly import ReturnError
from rules.position import PositionError
from s75.returns_common import annual_of, refuse, write

COMMAND = "s75 annual"


def run_annual(args) -> int:
    from s75.cli import _load_or_report
    try:
        year = parse_closed_year(args.year)
    except ReturnError as exc:
        return refuse(f"{COMMAND}: {exc}")
    loaded = _load_or_report(args.ledger, refused="no annual return written")
    if loaded is None:
        return 1
    try:
        report = annual_of(loaded, year, datetime.date.today())
    except (PositionError, ReturnError) as exc:
        return refuse(f"{args.ledger}: {exc}; no annual return written")
    from reports.returns.annual_files import render_annual
    return write(COMMAND, args.out, render_annual(report), "annual return's")
