"""`s75 national-return LEDGER --quarter 2025-26-Q2 --out DIR [--template FILE]`: the national BCF
return's income and expenditure and metrics, as an XLSX laid out by the year's template layout
(reports/national_template_<yyyy>_<yy>.json unless --template names another). docs/returns.md."""
from __future__ import annotations

from pathlib import Path

from reports.returns import national
from reports.returns.quarterly import parse_quarter
from s75.returns_common import quarterly_of, run_return


def run_national_return(args) -> int:
    def parse(args):
        quarter = parse_quarter(args.quarter)
        template = Path(args.template) if args.template else national.layout_path(quarter.year.label)
        return quarter, national.load_layout(template, quarter.year.label)

    def report_of(loaded, period, today):
        quarter, layout = period
        return layout, quarterly_of(loaded, quarter, today)

    def render(found):
        layout, report = found
        return {national.file_name(report): national.national_xlsx(report, layout)}

    return run_return(args, "s75 national-return", "national return", parse, report_of, render)
