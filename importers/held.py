"""What an import run keeps of each row it writes, so that an extract of any size is not held in
memory: the entries' text on disk as they are taken (`Spool`), and of each row one short string
(`held_record`, read back by `Held`) with where its text is, its amount, what it counts as and what
must agree for a repeat of it. importers.run's FileSummary owns them. `ImportText` writes the
accepted files' spools out as one ledger file.
"""
from __future__ import annotations

import datetime
import itertools
import os
import tempfile
import weakref
from decimal import Decimal

from rules.identity import Fingerprint

class Spool:
    """The text of the entries a file keeps, on disk as it is taken (a temporary file of the
    system's, gone when closed or when the process ends), so that an extract of any size is not held
    in memory; an entry taken back (`withdraw`) is left out when the text is read."""

    def __init__(self):
        self._file = None
        self._end = 0
        self._withdrawn: set[int] = set()  # offsets of the entries taken back

    def append(self, text: str) -> tuple[int, int]:
        """Add an entry's text; (offset, size) to take it back by."""
        if self._file is None:
            self._file = tempfile.TemporaryFile()
        data = text.encode("utf-8")
        at = self._end
        self._file.write(data)
        self._end += len(data)
        return at, len(data)

    def withdraw(self, at: int) -> None:
        self._withdrawn.add(at)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._end, self._withdrawn = None, 0, set()

    def write_to(self, out, sizes: dict[int, int]) -> None:
        """Write the text, less what was taken back (`sizes`: offset -> size of each entry taken back), to
        the text file `out`, a piece at a time."""
        if self._file is None:
            return
        self._file.flush()
        self._file.seek(0)
        cuts = sorted((at, sizes[at]) for at in self._withdrawn)
        position = 0
        for at, size in cuts + [(self._end, 0)]:
            left = at - position
            while left > 0:
                chunk = self._file.read(min(left, 1 << 20))
                if not chunk:
                    break
                out.write(chunk.decode("utf-8"))
                left -= len(chunk)
            if size:
                self._file.seek(size, os.SEEK_CUR)
            position = at + size
        self._file.seek(0, os.SEEK_END)


_SEP = "\x1f"  # between the fields of a kept row's record
OWNERS: "weakref.WeakValueDictionary[int, object]" = weakref.WeakValueDictionary()  # FileSummary, by record's id
NEXT_OWNER = itertools.count(1)


def held_record(owner, at: int, size: int, where: str, number: int, amount, flags: str,
                fingerprint_) -> str:
    """What the run keeps of a row it writes (a run can keep a million), as one string: the file that
    keeps it, where its text is in that file's spool, its row number and amount, what it counts as
    (suspense, flagged, prior-period adjustment, pseudonymised), what must agree for a repeat of it (its
    fingerprint) and where it came from ("file:row"). `Held` reads it."""
    shown = "" if amount is None else str(amount)
    # the row number is left out when `where` ends with it ("file:123"), as it nearly always does
    head = [str(owner._id), str(at), str(size), "" if where.endswith(f":{number}") else str(number), shown, flags]
    printed = _packed_print(fingerprint_)
    if printed is None:  # another kind (a metric's figure...), or one that will not pack: kept as it is
        owner._held_prints[at] = fingerprint_
        printed = ["O"]
    elif printed[2] == shown:
        printed[2] = ""  # the fingerprint's amount is the row's (as for every ledger extract line)
    return _SEP.join(head + printed + [where])


class Held:
    """A kept row's record (`held_record`) read back: it answers as `Known` does (`where`,
    `fingerprint`, `owner`)."""

    __slots__ = ("owner", "_fields")

    def __init__(self, record: str):
        fields = record.split(_SEP, 7)  # owner, at, size, number, amount, flags, kind, rest
        if fields[6] == "F":
            fields[7:] = fields[7].split(_SEP, 4)
        self.owner, self._fields = OWNERS[int(fields[0])], fields

    @property
    def at(self) -> int:
        return int(self._fields[1])

    @property
    def size(self) -> int:
        return int(self._fields[2])

    @property
    def number(self) -> int:
        return int(self._fields[3] or self._fields[-1].rpartition(":")[2])

    @property
    def amount(self) -> Decimal | None:
        return Decimal(self._fields[4]) if self._fields[4] else None

    @property
    def flags(self) -> str:
        return self._fields[5]

    @property
    def where(self) -> str:
        return self._fields[-1]

    @property
    def fingerprint(self):
        fields = self._fields
        if fields[6] == "F":
            return Fingerprint(datetime.date.fromisoformat(fields[7]), Decimal(fields[8] or fields[4]), fields[9],
                               fields[10])
        return self.owner._held_prints.get(int(fields[1]))


def _packed_print(fingerprint_) -> list[str] | None:
    """A transaction's fingerprint as four strings, or None when it is not one or would not pack."""
    if not (isinstance(fingerprint_, Fingerprint) and type(fingerprint_.date) is datetime.date
            and type(fingerprint_.amount) is Decimal and type(fingerprint_.cost_centre) is str
            and type(fingerprint_.account_code) is str):
        return None
    fields = ["F", fingerprint_.date.isoformat(), str(fingerprint_.amount), fingerprint_.cost_centre,
              fingerprint_.account_code]
    return None if any(_SEP in f for f in fields) else fields


# What a kept row counts as, in Held.flags.
SUSPENSE_FLAG, FLAGGED, ADJUSTED, PSEUDONYM = "s", "f", "a", "p"


class ImportText:
    """The accepted files' new entries as one ledger file's text, written a file at a time from their
    spools (`write_to`) rather than held; false when there are none."""

    def __init__(self, summaries: list, today):
        self.accepted = [s for s in summaries if s.written]
        self.today = today

    def __bool__(self) -> bool:
        return bool(self.accepted)

    def write_to(self, out) -> None:
        header = [f"; Imported {self.today.isoformat()} by s75 import."]
        header += [f";   {s.file}: {s.written} entr{'y' if s.written == 1 else 'ies'} ({s.importer})" for s in self.accepted]
        out.write("\n".join(header) + "\n\n")
        for summary in self.accepted:
            out.write(f"; ---- {summary.file} ----\n\n")
            summary.write_text(out)

    def __str__(self) -> str:
        import io

        if not self:
            return ""
        out = io.StringIO()
        self.write_to(out)
        return out.getvalue()
