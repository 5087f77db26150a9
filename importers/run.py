"""`s75 import`: identify each file, read it, leave out what the ledger already has, and summarise
every file; importers.landing writes the new entries.

Per file: rows read, written, already in the ledger, repeated within the file (or the run), zero
amounts skipped, to suspense, flagged for review, posted as prior-period adjustments (a row dated in a
locked month: importers.screen), conflicts and rejected (each with file and row),
and the file's control total (its trailing total row, or the sum of its lines) against what became
of it. A row whose identity the ledger (or an earlier row) holds with a different date, amount or
cost centre is a conflict: nothing is written for it. A refused file adds nothing.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from importers.base import FileTotals, Known, Line
from importers.held import (ADJUSTED, FLAGGED, NEXT_OWNER, OWNERS, PSEUDONYM, SUSPENSE_FLAG, Held, ImportText,
                            Spool, held_record)
from importers.ledger_text import entry_text
from importers.personal import is_pseudonym
from importers.rows import (Refused, Rejection, header_row, layout_sheets, missing_columns, shape_problem,
                            unreadable)
from rules.identity import fingerprint

ZERO = Decimal("0.00")


@dataclass
class FileSummary:
    file: str
    importer: str = ""
    read: int = 0
    already: int = 0  # already in the ledger
    repeated: list[str] = field(default_factory=list)  # "row 12 repeats row 7"
    zero: int = 0  # rows with a nil amount, skipped
    conflicts: list[Rejection] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    refused: str = ""
    landed: bool = False  # its new entries are in the ledger (set once the import file is in place)
    notes: list[str] = field(default_factory=list)  # warnings about the file (e.g. a sheet not read)
    already_total: Decimal = ZERO
    repeated_total: Decimal = ZERO
    conflict_total: Decimal = ZERO
    rejected_total: Decimal = ZERO
    totals: FileTotals = field(default_factory=FileTotals)
    # The rows kept to write: their text in the spool, and running counts (a row taken back comes off).
    written: int = 0
    written_total: Decimal = ZERO
    suspense: int = 0
    suspense_total: Decimal = ZERO
    pseudonymised: int = 0  # payments to people written under a pseudonym (importers.personal)
    _spool: Spool = field(default_factory=Spool, repr=False)
    _flag_notes: dict[int, str] = field(default_factory=dict, repr=False)  # offset -> "where: flagged: ..."
    _adjust_notes: dict[int, str] = field(default_factory=dict, repr=False)  # offset -> the adjustment's line
    _suspense_notes: dict[int, str] = field(default_factory=dict, repr=False)  # offset -> "where: to suspense ..."
    _held_prints: dict[int, object] = field(default_factory=dict, repr=False)  # offset -> fingerprint not packed
    _withdrawn_sizes: dict[int, int] = field(default_factory=dict, repr=False)
    _id: int = field(default=0, repr=False)

    def __post_init__(self):
        self._id = next(NEXT_OWNER)
        OWNERS[self._id] = self

    def keep(self, line: Line, where: str, fingerprint_) -> str:
        """Take a line to write: its text goes to the spool; what the run needs of it is returned."""
        entry = line.entry
        at, size = self._spool.append(entry_text(entry) + "\n")
        flags = ""
        amount = line.amount or ZERO
        self.written += 1
        self.written_total += amount
        meta = entry.meta
        if line.suspense:
            flags += SUSPENSE_FLAG
            self.suspense += 1
            self.suspense_total += amount
            centre = " ".join(str(meta.get(k, "")) for k in ("cost-centre", "account-code")).strip()
            self._suspense_notes[at] = (f"{where}: to suspense: cost centre {centre or '(none)'} is not in mapping.csv "
                                        "(docs/importing.md, \"Clearing suspense\")")
        if meta.get("review"):
            flags += FLAGGED
            self._flag_notes[at] = f"{where}: flagged: {meta['review']}"
        if "adjusts" in meta and "original-date" in meta:
            flags += ADJUSTED
            self._adjust_notes[at] = _adjusted_note(where, entry)
        if is_pseudonym(getattr(entry, "payee", None)):
            flags += PSEUDONYM
            self.pseudonymised += 1
        return held_record(self, at, size, where, line.number, line.amount, flags, fingerprint_)

    @property
    def flagged(self) -> list[str]:
        return list(self._flag_notes.values())

    @property
    def adjusted(self) -> list[str]:
        """A line per row dated in a locked month and posted in the first open month instead."""
        return list(self._adjust_notes.values())

    @property
    def text(self) -> str:
        """The new entries, as ledger text."""
        import io

        out = io.StringIO()
        self.write_text(out)
        return out.getvalue()

    def write_text(self, out) -> None:
        """Write the new entries, as ledger text, to the text file `out`."""
        self._spool.write_to(out, self._withdrawn_sizes)

    def withdraw(self, held: Held, reason: str) -> None:
        """Take back a kept line that a later row contradicts: it becomes a conflict too."""
        at, size, amount, flags, where = held.at, held.size, held.amount or ZERO, held.flags, held.where
        self._spool.withdraw(at)
        self._withdrawn_sizes[at] = size
        self._flag_notes.pop(at, None)
        self._adjust_notes.pop(at, None)
        self._suspense_notes.pop(at, None)
        self.written -= 1
        self.written_total -= amount
        if SUSPENSE_FLAG in flags:
            self.suspense -= 1
            self.suspense_total -= amount
        if PSEUDONYM in flags:
            self.pseudonymised -= 1
        self.conflicts.append(Rejection(where.rpartition(":")[0], held.number, reason, held.amount))
        self.conflict_total += amount

    def discard(self) -> None:
        """Keep nothing (a refused file adds nothing)."""
        self._spool.close()
        self._flag_notes.clear()
        self._adjust_notes.clear()
        self._held_prints.clear()
        self._withdrawn_sizes.clear()
        self.written, self.written_total, self.suspense, self.suspense_total, self.pseudonymised = (
            0, ZERO, 0, ZERO, 0)

    @property
    def set_aside(self) -> int:
        """Rows of the file that are not in the ledger and should be: rejected or in conflict."""
        return len(self.rejected) + len(self.conflicts)

    def _written(self) -> str:
        return "written" if self.landed or not self.written else "to write, not written,"

    def control_line(self) -> str:
        """The file's control total against what became of it. It says "agrees" only when every row
        is in the ledger (written now or already there) or a repeat of one that is."""
        control = self.totals.control_total
        basis = "total row" if control is not None else "sum of lines"
        control = control if control is not None else self.totals.lines_total
        accounted = (self.written_total + self.already_total + self.repeated_total + self.conflict_total
                     + self.rejected_total)
        if self.written and not self.landed:
            verdict = "NOTHING WRITTEN"
        elif accounted != control:
            verdict = f"DIFFERS by {control - accounted:,.2f}"
        elif self.set_aside:
            verdict = (f"NOT all in the ledger: {self.set_aside} row(s) of "
                       f"{self.conflict_total + self.rejected_total:,.2f} set aside")
        else:
            verdict = "agrees"
        return (f"control total {control:,.2f} ({basis}); {self._written()} {self.written_total:,.2f} (of which "
                f"{self.suspense_total:,.2f} to suspense), already in ledger {self.already_total:,.2f}, "
                f"repeated {self.repeated_total:,.2f}, conflicts {self.conflict_total:,.2f}, "
                f"rejected {self.rejected_total:,.2f}: {verdict}")


def _adjusted_note(where: str, entry) -> str:
    return (f"{where}: dated {entry.meta['original-date']}, in locked month {entry.meta['adjusts']}: "
            f"posted on {entry.date} as a prior-period adjustment (adjusts: \"{entry.meta['adjusts']}\")")


def import_file(path: Path, importers: list, seen: dict[tuple, Known], progress=None) -> FileSummary:
    """Read one file with the first importer that identifies it. `seen` holds what the ledger already
    has, by key, and what earlier files of this run kept; this file's keys join it as its rows are
    taken, and are taken out again if the file is refused. A row that contradicts an earlier row of
    the run takes that row back too: which of two figures counts is for an officer to say, not the
    order of the rows. The text of the rows kept goes to the file's spool as each is taken; of each,
    the run keeps only what `Held` holds."""
    summary = FileSummary(path.name)
    summary.refused = unreadable(path)
    if summary.refused:
        return summary
    importer = next((i for i in importers if _identifies(i, path)), None)
    if importer is None:
        summary.refused = _unknown_layout(path, importers)
        return summary
    summary.importer = importer.name
    if path.suffix.lower() == ".xlsx" and importer.columns:
        try:
            others = layout_sheets(path, importer.columns)[1]
        except Refused as exc:
            summary.refused = str(exc)
            return summary
        summary.notes += [f"sheet {name!r} has no {importer.title} header row: not read" for name in others]
    added: list[tuple] = []  # the keys this file adds to `seen`, taken out again if it is refused
    try:
        for item in importer.read(str(path), summary.totals):
            summary.read += 1
            if progress is not None:
                progress()
            if isinstance(item, Rejection):
                summary.rejected.append(item)
                summary.rejected_total += item.amount or ZERO
                continue
            _take(item, summary, seen, added, importer.screen)
    except Refused as exc:
        summary.refused = str(exc)
    except OSError as exc:  # the file went away or became unreadable while being read
        summary.refused = f"cannot be read: {exc.strerror or exc}"
    control = summary.totals.control_total
    if not summary.refused and control is not None and control != summary.totals.lines_total:
        summary.refused = (f"its total row says {control:,.2f} but its lines add up to "
                           f"{summary.totals.lines_total:,.2f}: the extract may be incomplete")
    if summary.refused:
        summary.discard()  # a refused file adds nothing
        for key in added:
            del seen[key]
        return summary
    return summary


def _unknown_layout(path: Path, importers) -> str:
    """Why no importer took the file: the columns it lacks of the layout it comes closest to (at least
    half of that layout's columns present), else the list of known layouts."""
    shape = shape_problem(path)
    if shape:
        return shape
    try:
        headers = header_row(path)
    except Refused as exc:
        return str(exc)
    best = None
    for importer in importers:
        if importer.columns:
            missing = missing_columns(headers, importer.columns)
            if len(missing) * 2 <= len(importer.columns) and (best is None or len(missing) < len(best[1])):
                best = (importer, missing)
    if best is not None and not best[1]:
        return (f"has the columns of a {best[0].title} but is named {path.suffix or 'without .csv'}: "
                "name it .csv (or .xlsx for a workbook)")
    if best is not None:
        return f"looks like a {best[0].title} but lacks required column(s): {', '.join(best[1])}"
    names = "; ".join(getattr(i, "title", i.name) for i in importers)
    return f"unknown layout: its header matches none of the known extracts ({names})"


def _identifies(importer, path: Path) -> bool:
    try:
        return importer.identify(str(path))
    except Refused:
        return False


class Disputed:
    """The fingerprint of a key two rows of the run disagree on: nothing more of it is taken."""

    def agrees(self, other) -> bool:
        return False

    def describe(self) -> str:
        return "two different figures, both set aside"


def _take(line: Line, summary: FileSummary, seen: dict, added: list, screen=None) -> None:
    """What becomes of one line: skipped (zero), already in the ledger, a repeat, a conflict, or (past
    the screen) rejected or kept to write. A line already in the ledger is not screened again: a
    closed year's extract re-imported is "already in ledger", not rejected."""
    amount = line.amount or ZERO
    if line.amount is not None and line.amount == 0:
        summary.zero += 1
        return
    key = line.key
    earlier = seen.get(key)
    if type(earlier) is str:  # a row this run keeps (held_record)
        earlier = Held(earlier)
    where, mine_print = _known(line)
    if earlier is not None and earlier.owner is None and hasattr(screen, "as_in_ledger"):
        mine_print = screen.as_in_ledger(key, mine_print)
    if earlier is None:
        screened = screen(line) if screen is not None else line
        if isinstance(screened, Rejection):
            summary.rejected.append(screened)
            summary.rejected_total += amount
        else:
            seen[key] = summary.keep(screened, where, mine_print)
            added.append(key)
        return
    earlier_print = earlier.fingerprint
    if earlier_print is not None and not earlier_print.agrees(mine_print):
        in_ledger = earlier.owner is None
        holder = "the ledger holds" if in_ledger else "an earlier row says"
        hint = getattr(earlier_print, "hint", "")
        reason = (f"conflict: {_name(key)}: {holder} {earlier_print.describe()} ({earlier.where}); "
                  f"the extract says {mine_print.describe()}: not written" + (f" ({hint})" if hint else ""))
        summary.conflicts.append(Rejection(where.rpartition(":")[0], line.number, reason, amount))
        summary.conflict_total += amount
        if isinstance(earlier, Held):
            earlier.owner.withdraw(earlier, f"conflict: {_name(key)}: {where} says "
                                            f"{mine_print.describe()}: neither is written")
        if not in_ledger:
            seen[key] = Known(earlier.where, Disputed(), earlier.owner)
    elif earlier.owner is None:
        summary.already += 1
        summary.already_total += amount
    else:
        summary.repeated.append(f"{_row_of(where, earlier.where)} repeats "
                                f"{_row_of(earlier.where, where)} ({_name(key)})")
        summary.repeated_total += amount


def _known(line: Line) -> tuple[str, object]:
    """Where a line came from ("file:row", or "file:sheet:row") and what must agree for a repeat of it
    (a transaction's fingerprint, or the line's own)."""
    if line.where is not None and line.fingerprint is not None:  # the entry need not be made
        return line.where, line.fingerprint
    entry = line.entry
    where = line.where if line.where is not None else str(entry.meta.get("source", f"row {line.number}"))
    if line.fingerprint is not None:
        return where, line.fingerprint
    return where, fingerprint(entry) if hasattr(entry, "postings") else None


def _row_of(where: str, other: str) -> str:
    """"row 7" when both places are in one file (or sheet), else the place in full ("gl.xlsx:Late:2")."""
    file, _, number = where.rpartition(":")
    return f"row {number}" if file == other.rpartition(":")[0] else where


def _name(key: tuple) -> str:
    """("txn", "council", "GL-1") -> "council GL-1"; other keys as their parts."""
    return " ".join(str(part) for part in (key[1:] if key[0] == "txn" else key))


def import_text(summaries: list[FileSummary], today) -> ImportText:
    """The accepted files' new entries as one ledger file's text (see ImportText); false when there
    are none."""
    return ImportText(summaries, today)


def print_summary(summaries: list[FileSummary], file=None) -> None:
    """Each file's figures, then every row that needs a look: repeats, flags, conflicts, rejections."""
    file = file or sys.stdout
    for s in summaries:
        print(f"{s.file}" + (f" [{s.importer}]" if s.importer else ""), file=file)
        for note in s.notes:
            print(f"  warning: {s.file}: {note}", file=file)
        if s.refused:
            print(f"  REFUSED, nothing written: {s.refused}", file=file)
            for rejection in s.rejected[:50]:
                print(f"  {rejection}", file=file)
            continue
        print(f"  rows read {s.read}; {s._written()} {s.written}; already in ledger {s.already}; repeated in file "
              f"{len(s.repeated)}; zero amounts skipped {s.zero}; to suspense {s.suspense}; flagged for review "
              f"{len(s.flagged)}; conflicts {len(s.conflicts)}; rejected {len(s.rejected)}"
              + (f"; pseudonymised {s.pseudonymised}" if s.pseudonymised else ""), file=file)
        print(f"  {s.control_line()}", file=file)
        for note in s.repeated:
            print(f"  {s.file}: {note}: skipped", file=file)
        for note in s._suspense_notes.values():
            print(f"  {note}", file=file)
        for note in s.flagged:
            print(f"  {note}", file=file)
        for note in s.adjusted:
            print(f"  {note}", file=file)
        for conflict in s.conflicts:
            print(f"  {conflict}", file=file)
        for rejection in s.rejected:
            print(f"  rejected {rejection}", file=file)
