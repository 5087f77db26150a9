"""`s75 import`: identify each file, read it, leave out what the ledger already has, write the new
entries to one dated file under the ledger's imports/ folder, and summarise every file.

Per file: rows read, written, already in the ledger, repeated within the file (or the run),
to suspense, rejected (each with file and row), and the file's control total (its trailing total
row, or the sum of its lines) against what was written. A refused file adds nothing. Nothing is
written at all when no file adds anything.
"""
from __future__ import annotations

import datetime
import io
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from beancount.parser import printer

from importers.base import FileTotals, Line
from importers.rows import Refused, Rejection

ZERO = Decimal("0.00")


@dataclass
class FileSummary:
    file: str
    importer: str = ""
    read: int = 0
    written: int = 0
    already: int = 0  # already in the ledger
    repeated: list[str] = field(default_factory=list)  # "row 12 repeats row 7"
    suspense: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    refused: str = ""
    written_total: Decimal = ZERO
    already_total: Decimal = ZERO
    repeated_total: Decimal = ZERO
    suspense_total: Decimal = ZERO
    rejected_total: Decimal = ZERO
    totals: FileTotals = field(default_factory=FileTotals)
    text: str = ""  # the new entries, as ledger text

    def control_line(self) -> str:
        """The file's control total against what became of it."""
        control = self.totals.control_total
        basis = "total row" if control is not None else "sum of lines"
        control = control if control is not None else self.totals.lines_total
        accounted = self.written_total + self.already_total + self.repeated_total + self.rejected_total
        verdict = "agrees" if accounted == control else f"DIFFERS by {control - accounted:,.2f}"
        return (f"control total {control:,.2f} ({basis}); written {self.written_total:,.2f} (of which "
                f"{self.suspense_total:,.2f} to suspense), already in ledger {self.already_total:,.2f}, "
                f"repeated {self.repeated_total:,.2f}, rejected {self.rejected_total:,.2f}: {verdict}")


def import_file(path: Path, importers: list, seen: set[tuple], progress=None) -> FileSummary:
    """Read one file with the first importer that identifies it. `seen` holds the keys already in the
    ledger or written earlier in this run; this file's new keys are added only if it is accepted."""
    summary = FileSummary(path.name)
    if not path.is_file():
        summary.refused = "no such file"
        return summary
    importer = next((i for i in importers if _identifies(i, path)), None)
    if importer is None:
        names = "; ".join(getattr(i, "title", i.name) for i in importers)
        summary.refused = f"unknown layout: its header matches none of the known extracts ({names})"
        return summary
    summary.importer = importer.name
    buffer, first_row, added = io.StringIO(), {}, set()
    try:
        for item in importer.read(str(path), summary.totals):
            summary.read += 1
            if progress is not None:
                progress()
            if isinstance(item, Rejection):
                summary.rejected.append(item)
                summary.rejected_total += item.amount or ZERO
                continue
            _take(item, summary, seen, added, first_row, buffer)
    except Refused as exc:
        summary.refused = str(exc)
        return summary
    control = summary.totals.control_total
    if control is not None and control != summary.totals.lines_total:
        summary.refused = (f"its total row says {control:,.2f} but its lines add up to "
                           f"{summary.totals.lines_total:,.2f}: the extract may be incomplete")
        return summary
    summary.text = buffer.getvalue()
    seen |= added
    return summary


def _identifies(importer, path: Path) -> bool:
    try:
        return importer.identify(str(path))
    except Refused:
        return False


def _take(line: Line, summary: FileSummary, seen: set, added: set, first_row: dict, buffer) -> None:
    amount = line.amount or ZERO
    if line.key in seen:
        summary.already += 1
        summary.already_total += amount
    elif line.key in added:
        summary.repeated.append(f"row {line.number} repeats row {first_row[line.key]} ({line.key[-1]})")
        summary.repeated_total += amount
    else:
        added.add(line.key)
        first_row[line.key] = line.number
        buffer.write(printer.format_entry(line.entry))
        buffer.write("\n")
        summary.written += 1
        summary.written_total += amount
        if line.suspense:
            summary.suspense += 1
            summary.suspense_total += amount


def output_path(folder: Path, today: datetime.date) -> Path:
    """imports/2025-10-03.beancount, or -2, -3... when that day already has an import."""
    candidate, n = folder / f"{today.isoformat()}.beancount", 2
    while candidate.exists():
        candidate, n = folder / f"{today.isoformat()}-{n}.beancount", n + 1
    return candidate


def write_import(folder: Path, summaries: list[FileSummary], today: datetime.date) -> Path | None:
    """Write the accepted files' new entries to one dated file (atomically); None when there are none."""
    accepted = [s for s in summaries if s.text]
    if not accepted:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = output_path(folder, today)
    header = [f"; Imported {today.isoformat()} by s75 import."]
    header += [f";   {s.file}: {s.written} entries ({s.importer})" for s in accepted]
    temp = target.with_name(f".{target.name}.tmp")
    with open(temp, "w", encoding="utf-8") as out:
        out.write("\n".join(header) + "\n\n")
        for s in accepted:
            out.write(f"; ---- {s.file} ----\n\n{s.text}")
    os.replace(temp, target)
    return target


def print_summary(summaries: list[FileSummary], target: Path | None, file=None) -> None:
    file = file or sys.stdout
    for s in summaries:
        print(f"{s.file}" + (f" [{s.importer}]" if s.importer else ""), file=file)
        if s.refused:
            print(f"  REFUSED, nothing written: {s.refused}", file=file)
            for rejection in s.rejected[:50]:
                print(f"  {rejection}", file=file)
            continue
        print(f"  rows read {s.read}; written {s.written}; already in ledger {s.already}; repeated in file "
              f"{len(s.repeated)}; to suspense {s.suspense}; rejected {len(s.rejected)}", file=file)
        print(f"  {s.control_line()}", file=file)
        for note in s.repeated:
            print(f"  {s.file}: {note}: skipped", file=file)
        for rejection in s.rejected:
            print(f"  rejected {rejection}", file=file)
    print(f"wrote {target}" if target else "nothing new to write", file=file)
