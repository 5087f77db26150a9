"""`s75 quarterly LEDGER --quarter 2025-26-Q2 --out DIR`: the quarterly report to the partners, as HTML,
XLSX and PDF, named <pool>-<quarter>-quarterly.*. docs/returns.md."""
from __future__ import annotations

from reports.returns.quarterly import parse_quarter
from s75.returns_common import quarterly_of, run_return


def run_quarterly(args) -> int:
    def render(report):
        from reports.returns.quarterly_files import render_quarterly
        return render_quarterly(report)

    return run_return(args, "s75 quarterly", "quarterly report", lambda a: parse_quarter(a.quarter), quarterly_of,
                      render)
