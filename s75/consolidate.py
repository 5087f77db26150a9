"""`s75 consolidate DIR... --out DIR`: many pools' exports as one HTML page and one XLSX workbook.

Reads every pool's files that `s75 export` wrote into the folders (reports.consolidation, with
DuckDB) and writes OUT/consolidation.html and OUT/consolidation.xlsx together. A folder that is
missing or holds no export, an incomplete export, a pool given twice or a newer schema is one line,
exit status 1, and nothing is written.
"""
from __future__ import annotations

import sys

from s75.returns_common import write_folder
from reports.consolidation import ConsolidationError, consolidate, consolidation_html, consolidation_xlsx

STEM = "consolidation"


def run_consolidate(args) -> int:
    try:
        result = consolidate(args.folders)
    except ConsolidationError as exc:
        print(f"s75 consolidate: {exc}; nothing written", file=sys.stderr)
        return 1
    files = {f"{STEM}.html": consolidation_html(result).encode("utf-8"), f"{STEM}.xlsx": consolidation_xlsx(result)}
    written = write_folder("s75 consolidate", args.out, files, "consolidation's")
    if written is None:
        return 1
    print(f"consolidated {result.pools} pool(s); latest statement month {result.latest_month}")
    for path in written:
        print(f"wrote {path}")
    return 0
