"""What `s75 quarterly`, `s75 annual` and `s75 national-return` share: from a loaded ledger to the
report's model (the positions built once each), and writing the files all together or not at all.
Every refusal is one line on stderr and exit status 1."""
from __future__ import annotations

import datetime
import sys
from pathlib import Path

from reports.atomic_files import PartlyReplaced, replace_files
from reports.ledger import Loaded, latest_month_end
from reports.returns.annual import AnnualReturn, annual_return, ledger_balances
from reports.returns.quarterly import QuarterlyReport, ReturnError, previous_quarter_end, quarterly_report
from rules.calendar import FinancialYear, Period
from rules.position import PositionError, build_position, year_books
from rules.reader import read_agreement


def provenance_of(loaded: Loaded) -> str:
    from reports.statement import provenance
    return provenance(loaded.options.get("include", [str(loaded.path)]), loaded.path)


def quarterly_of(loaded: Loaded, quarter: Period, generated: datetime.date) -> QuarterlyReport:
    """The quarter's report from the positions at its end and at the previous quarter's end (one pass
    over the year's books serves both). Raises PositionError for a quarter outside the pool's years."""
    agreement, _ = read_agreement(loaded.entries)
    books = year_books(loaded.entries, quarter.year, agreement)
    end = build_position(loaded.entries, quarter.end, agreement, books)
    earlier = previous_quarter_end(quarter)
    before = build_position(loaded.entries, earlier, agreement, books) if earlier else None
    return quarterly_report(end, before, quarter, generated, provenance_of(loaded), latest_month_end(loaded.entries))


def annual_of(loaded: Loaded, year: FinancialYear, generated: datetime.date) -> AnnualReturn:
    """The closed year's return; ReturnError (an open year) or PositionError (not the pool's year)."""
    position = build_position(loaded.entries, year.end)
    return annual_return(position, ledger_balances(loaded.entries, year.end), generated, provenance_of(loaded))


def write(command: str, out: str, files: dict[str, bytes], what: str) -> int:
    """Write `files` into the folder `out`, all or none; say what was written, or why nothing was."""
    written = write_folder(command, out, files, what)
    if written is None:
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


def write_folder(command: str, out: str, files: dict[str, bytes], what: str) -> list[Path] | None:
    """Write `files` into the folder `out`, all or none (reports.atomic_files); the paths written, or
    None after saying in one line why nothing was (or, if stopped part way, that some files are new)."""
    try:
        return replace_files(Path(out), files)
    except OSError as exc:
        folder = out.rstrip("/\\") or out
        if Path(out).exists() and not Path(out).is_dir():
            reason = "it is a file, not a folder"
        else:
            reason = exc.strerror or str(exc)
        kept = (f"some of the {what} files are new and some old: run it again" if isinstance(exc, PartlyReplaced)
                else "the previous files are unchanged")
        print(f"{command}: cannot write into {folder}/: {reason}; {kept}", file=sys.stderr)
        return None


def run_return(args, command: str, what: str, parse, report_of, render) -> int:
    """The shape of s75 quarterly, annual and national-return: `parse(args)` reads the period asked
    for (ReturnError: refused), `report_of(loaded, period, today)` builds the report's model and
    `render(report)` its files ({name: bytes}), which are written together into --out. Every refusal
    is one line ending "no <what> written"; nothing is written then."""
    from s75.cli import _load_or_report
    try:
        period = parse(args)
    except ReturnError as exc:
        return refuse(f"{command}: {exc}")
    refused = f"no {what} written"
    loaded = _load_or_report(args.ledger, refused=refused)
    if loaded is None:
        return 1
    try:
        files = render(report_of(loaded, period, datetime.date.today()))
    except (PositionError, ReturnError) as exc:
        return refuse(f"{args.ledger}: {exc}; {refused}")
    except (ImportError, OSError) as exc:  # WeasyPrint, or the system libraries it needs, missing
        return refuse(f"{command}: the PDF cannot be made: {exc}; {refused}")
    return write(command, args.out, files, f"{what}'s")


def refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return 1
