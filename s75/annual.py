"""`s75 annual LEDGER --year 2025-26 --out DIR`: the annual return and memorandum account of a closed
year, as HTML and XLSX named <pool>-<year>-annual-return.*; an open year is refused. docs/returns.md."""
from __future__ import annotations

from reports.returns.annual import parse_closed_year
from s75.returns_common import annual_of, run_return


def run_annual(args) -> int:
    def render(report):
        from reports.returns.annual_files import render_annual
        return render_annual(report)

    return run_return(args, "s75 annual", "annual return", lambda a: parse_closed_year(a.year), annual_of, render)
