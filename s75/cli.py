"""`s75 check LEDGER`, `s75 position LEDGER [--date D] [--json]`.

Exit status 0 when all is well, 1 when the ledger has errors or the request cannot be met.
Messages about the ledger name its file and line; there are no tracebacks for bad ledger content.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import sys
from pathlib import Path

from reports.ledger import Loaded, collector_paused, format_error, is_file_problem, latest_month_end, load_ledger
from rules.position import PositionError, build_position
from reports.position_json import position_to_json
from rules.commitments import overdrawn_warnings
from rules.personal import ledger_personal_warnings
from rules.reader import read_agreement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="s75", description="Section 75 pooled-budget ledger")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check the ledger and the agreement; errors as file:line")
    check.add_argument("ledger")
    position = commands.add_parser("position", help="the pool's position on a date")
    position.add_argument("ledger")
    position.add_argument("--date", type=_date, help="YYYY-MM-DD (default: end of the latest month with spend)")
    position.add_argument("--json", action="store_true", help="print JSON (shape in docs/position-json.md)")
    statement = commands.add_parser("statement", help="write the month's statement as HTML, XLSX and PDF")
    statement.add_argument("ledger")
    statement.add_argument("--month", required=True, help="YYYY-MM, e.g. 2025-09 for Month 6 of 2025-26")
    statement.add_argument("--out", default="out", help="folder to write into (default: out)")
    quarterly = commands.add_parser("quarterly", help="the quarterly report to the partners, as HTML, XLSX and PDF")
    quarterly.add_argument("ledger")
    quarterly.add_argument("--quarter", required=True, help="YYYY-YY-QN, e.g. 2025-26-Q2 (July to September 2025)")
    quarterly.add_argument("--out", default="out", help="folder to write into (default: out)")
    annual = commands.add_parser("annual", help="a closed year's annual return and memorandum account")
    annual.add_argument("ledger")
    annual.add_argument("--year", required=True, help="a closed financial year, e.g. 2025-26")
    annual.add_argument("--out", default="out", help="folder to write into (default: out)")
    national = commands.add_parser("national-return", help="the national BCF return for a quarter, as XLSX")
    national.add_argument("ledger")
    national.add_argument("--quarter", required=True, help="YYYY-YY-QN, e.g. 2025-26-Q2")
    national.add_argument("--out", default="out", help="folder to write into (default: out)")
    national.add_argument("--template", metavar="FILE", help="the template's layout (default: "
                          "reports/national_template_<yyyy>_<yy>.json for the quarter's year)")
    imports = commands.add_parser("import", help="import finance-system extracts, receipts, plans, metrics")
    imports.add_argument("files", nargs="+")
    imports.add_argument("--ledger", default="ledger/main.beancount", help="the ledger to import into")
    imports.add_argument("--dry-run", action="store_true", help="summarise only; write nothing")
    imports.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                         help="how long to wait for another import into the ledger to finish (default 600)")
    lock = commands.add_parser("lock", help="lock every month up to and including one (docs/period-control.md)")
    lock.add_argument("ledger")
    lock_what = lock.add_mutually_exclusive_group(required=True)
    lock_what.add_argument("--month", help="YYYY-MM, e.g. 2025-09 once Month 6's statement is issued")
    lock_what.add_argument("--year", help="a financial year, e.g. 2025-26: the same as --month 2026-03")
    lock.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                      help="how long to wait for an import or lock into the ledger to finish (default 600)")
    verify = commands.add_parser("verify", help="rebuild a statement from the commit it names and compare")
    verify.add_argument("file", help="the statement's .html or .xlsx")
    verify.add_argument("--repo", help="the ledger's git repository (default: the one holding the current folder)")
    verify.add_argument("--ledger", help="the main ledger file's path in the repository, for a statement that "
                                         "does not record it")
    trace = commands.add_parser("trace", help="the entries behind a scheme's actual or a partner's receipts")
    trace.add_argument("ledger")
    trace.add_argument("--month", required=True, help="YYYY-MM: the figure to that month's end")
    figure = trace.add_mutually_exclusive_group(required=True)
    figure.add_argument("--scheme", help="a scheme's ID: its actual to date")
    figure.add_argument("--partner", help="a partner's short name: its receipts to date")
    history = commands.add_parser("budget-history", help="a scheme's original budget, each variation and virement, "
                                                         "and the revised budget")
    history.add_argument("ledger")
    history.add_argument("--scheme", required=True, help="the scheme's ID, e.g. S01")
    history.add_argument("--date", type=_date, help="YYYY-MM-DD (default: end of the latest month with spend)")
    accrue = commands.add_parser("accrue", help="month-end accruals against the pool's orders (s75-commitment)")
    accrue.add_argument("ledger")
    accrue.add_argument("--month", required=True, help="YYYY-MM: accrued on its last day, reversed the next")
    accrue.add_argument("--order", action="append", metavar="REFERENCE=AMOUNT",
                        help="spend delivered against an order and not yet invoiced, e.g. PO-4410=12000.00; repeatable")
    accrue.add_argument("--note", help="why, kept with each accrual (e.g. 'delivered, invoice awaited')")
    accrue.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                        help="how long to wait for an import into the ledger to finish (default 600)")
    whatif = commands.add_parser("whatif", help="each partner's share now and under a scenario; writes nothing")
    whatif.add_argument("ledger")
    whatif.add_argument("--date", type=_date, help="YYYY-MM-DD (default: end of the latest month with spend)")
    whatif.add_argument("--forecast", action="append", metavar="SCHEME=AMOUNT",
                        help="a scheme's forecast outturn (S01=5800000), or a change to it (S04=+200000); repeatable")
    whatif.add_argument("--steps", metavar="FILE", help="a file of s75-risk-share directives replacing the set in force")
    whatif.add_argument("--scenario", metavar="NAME", help="the scenario scenarios/NAME.beancount beside the ledger")
    whatif.add_argument("--json", action="store_true", help='print {"current": ..., "scenario": ...} position JSON')
    export = commands.add_parser("export", help="the position and monthly actuals as Parquet (docs/analysis.md)")
    export.add_argument("ledger")
    export.add_argument("--out", required=True, help="folder to write the pool's files into")
    export.add_argument("--date", type=_date, help="YYYY-MM-DD (default: end of the latest month with spend)")
    consolidate = commands.add_parser("consolidate", help="many pools' exports as one HTML and XLSX report")
    consolidate.add_argument("folders", nargs="+", metavar="DIR", help="folders holding s75 export's files")
    consolidate.add_argument("--out", required=True, help="folder to write consolidation.html and .xlsx into")
    args = parser.parse_args(argv)
    commands_run = {"check": _check, "position": _position, "statement": _statement, "import": _import,
                    "lock": _lock, **{name: _lazy for name in LAZY}}
    try:
        # Python's cyclic collector off for the commands that read a ledger and lay it out: what they make
        # they keep until they end, and none of it is in a garbage cycle (reports.ledger.collector_paused)
        if args.command in ("check", "position", "statement"):
            with collector_paused(freeze=False):
                return commands_run[args.command](args)
        return commands_run[args.command](args)
    except BrokenPipeError:  # `s75 ... | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def _load_or_report(path: str, refused: str = "") -> Loaded | None:
    """The loaded ledger, or None after printing why not: a path that is not a ledger file in one line
    (ending with `refused`, what was therefore not done), else every error as file:line and their count."""
    loaded = load_ledger(path)
    if len(loaded.errors) == 1 and is_file_problem(loaded.errors[0]):
        print(format_error(loaded.errors[0]) + (f"; {refused}" if refused else ""), file=sys.stderr)
        return None
    for error in loaded.errors:
        print(format_error(error), file=sys.stderr)
    if loaded.errors:
        print(f"{len(loaded.errors)} error(s) in {path}", file=sys.stderr)
        if refused:
            print(f"{refused}: correct the errors first", file=sys.stderr)
        return None
    return loaded


def _check(args) -> int:
    loaded = _load_or_report(args.ledger)
    if loaded is None:
        return 1
    print(f"{args.ledger}: no errors ({len(loaded.entries)} entries)")
    from s75.suspense import suspense_warnings
    agreement, _ = read_agreement(loaded.entries)  # read once, for the warnings below
    for number, warning in enumerate(suspense_warnings(loaded.path, loaded.entries, agreement)):
        print(("warning: " if number == 0 else "") + warning, file=sys.stderr)
    main_file, left_out = _imports_left_out(loaded)
    for name in left_out:
        print(f"warning: {name} is in the imports folder but {main_file} does not include it: its entries are "
              "not counted", file=sys.stderr)
    for warning in ledger_personal_warnings(loaded.path, loaded.entries, agreement):
        print(f"warning: {warning}", file=sys.stderr)
    for warning in overdrawn_warnings(loaded.entries, agreement):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _imports_left_out(loaded: Loaded) -> tuple[str, list[str]]:
    """The main file and the files under the imports/ folder beside it that the loaded ledger does not
    include (hidden files and folders aside), as paths relative to the current folder."""
    import os
    folder = loaded.path.parent / "imports"
    included = {Path(name).resolve() for name in loaded.options.get("include", [])}
    left_out = []
    for parent, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            path = Path(parent) / name
            if not name.startswith(".") and path.resolve() not in included:
                left_out.append(os.path.relpath(path))
    return os.path.relpath(loaded.path), left_out


def report_date(args, loaded: Loaded) -> datetime.date | None:
    """--date, or the end of the latest month with entries people wrote; None, said in one line, when
    the ledger has none yet."""
    as_of = args.date or latest_month_end(loaded.entries)
    if as_of is None:
        print(f"{args.ledger}: no transactions yet; give --date", file=sys.stderr)
    return as_of


def ledger_position(args, refused: str = ""):
    """(loaded ledger, its position on `report_date`) for a command's LEDGER and --date, or None after
    saying why not in one line (ending "; <refused>" when given)."""
    loaded = _load_or_report(args.ledger, refused=refused)
    as_of = report_date(args, loaded) if loaded is not None else None
    if as_of is None:
        return None
    try:
        return loaded, build_position(loaded.entries, as_of)
    except PositionError as exc:
        print(f"{args.ledger}: {exc}" + (f"; {refused}" if refused else ""), file=sys.stderr)
        return None


def _position(args) -> int:
    found = ledger_position(args)
    if found is None:
        return 1
    position = found[1]
    if args.json:
        print(json.dumps(position_to_json(position), indent=2))
    else:
        from s75.tables import print_position
        print_position(position)
    return 0


def _statement(args) -> int:
    from reports.publish import month_end, render_statement
    try:
        as_of = month_end(args.month)
    except ValueError as exc:
        print(f"s75 statement: {exc}", file=sys.stderr)
        return 1
    loaded = _load_or_report(args.ledger, refused="no statement written")
    if loaded is None:
        return 1
    try:
        files = render_statement(loaded, as_of, datetime.date.today())
    except PositionError as exc:
        print(f"{args.ledger}: {exc}; no statement written", file=sys.stderr)
        return 1
    from s75.returns_common import write
    return write("s75 statement", args.out, files, "month's")


def _import(args) -> int:
    from s75.importing import run_import
    return run_import(args.ledger, args.files, args.dry_run, args.wait)


def _lock(args) -> int:
    from s75.lock import run_lock
    return run_lock(args.ledger, args.month, args.year, args.wait)


# The commands whose module is imported only when they run (each module's run_... takes the parsed args).
LAZY = {"verify": ("s75.verify", "run_verify"), "trace": ("s75.trace", "run_trace"),
        "accrue": ("s75.accrue", "run_accrue"), "budget-history": ("s75.budget_history", "run_budget_history"),
        "quarterly": ("s75.quarterly", "run_quarterly"), "annual": ("s75.annual", "run_annual"),
        "national-return": ("s75.national_return", "run_national_return"), "whatif": ("s75.whatif", "run_whatif"),
        "export": ("s75.export", "run_export"), "consolidate": ("s75.consolidate", "run_consolidate")}


def _lazy(args) -> int:
    module, function = LAZY[args.command]
    return getattr(importlib.import_module(module), function)(args)


if __name__ == "__main__":
    sys.exit(main())
