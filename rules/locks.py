"""Locked months and prior-period adjustments: the check (run by rules.validate, so bean-check,
`s75 check` and Fava report the same) and what `s75 lock` and `s75 import` need to know.

A month is locked by `s75 lock LEDGER --month 2025-09`, which writes, beside the main file,

    locks/locks.beancount   2025-10-06 custom "s75-lock" "2025-09"     (included by main.beancount)
    locks/2025-09.json      the fingerprint: every entry the lock covers, with its date, a hash of
                            its text (`entry_text`: the entry without its file and line), and for
                            reporting what it is, its reference and where it was (file:line)

A lock covers every month up to and including its own: the first lock's fingerprint holds every entry
dated on or before its month's end, each later one those dated after the lock before it. Entries the
rules generate (rules.entries.is_generated) are recomputed at every load and are not fingerprinted;
nor are the s75-lock directives themselves or Fava's settings (`custom "fava-..."`).

An `s75-close` locks its year to 31 March: rows for it are refused by the import, and corrections go
to the next year. What lets the check see a change inside it is a fingerprint: `s75 lock --year
2025-26` (the same as `--month 2026-03`) once the close is written.

Reported, each at a file and line, naming the lock it breaks:
- an entry added or changed in a locked month, at the entry;
- an entry removed from a locked month, at the s75-lock directive, named by date, payee and reference;
- an s75-lock removed while its fingerprint is still there, at the fingerprint (line 1);
- a fingerprint missing or unreadable, or a lock whose predecessor is gone, at the s75-lock;
- a lock that does not move forward (a month on or before one locked by an earlier directive);
- `adjusts:` that is not a month as YYYY-MM, or not before the month of the entry carrying it, and
  `original-date:` outside the month it adjusts.

A correction to a locked month is a prior-period adjustment: an entry in an open month (normally the
first) with `adjusts: "2025-08"`, the month it corrects, and optionally `original-date:`.

The check hashes only entries dated in locked months and reads each fingerprint once per load.
"""
from __future__ import annotations

import bisect
import calendar
import datetime
import hashlib
import json
import os
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from beancount.core import data

from rules.calendar import parse_year, year_of
from rules.directives import S75Error
from rules.entries import is_generated, where
from rules.identity import normalise

LOCK = "s75-lock"
CLOSE = "s75-close"
FOLDER = "locks"  # beside the main file
DIRECTIVES = "locks.beancount"  # in FOLDER
ADJUSTS, ORIGINAL_DATE = "adjusts", "original-date"
HASH_NOTE = ("sha256 of each entry's text without its file and line (rules.locks.entry_text), "
             "first 32 hex digits")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_SKIPPED_META = ("filename", "lineno")


# ---- months ----

def parse_month(text) -> datetime.date | None:
    """"2025-09" -> 30 September 2025 (the month's last day); None when not YYYY-MM."""
    match = _MONTH.match(text) if isinstance(text, str) else None
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def month_of(date: datetime.date) -> str:
    return f"{date:%Y-%m}"


def month_start(date: datetime.date) -> datetime.date:
    return date.replace(day=1)


def long_date(date: datetime.date) -> str:
    return f"{date.day} {date:%B %Y}"


# ---- the locks a ledger holds ----

@dataclass(frozen=True)
class Lock:
    """An s75-lock directive: every month up to and including `month` is locked."""

    month: str
    end: datetime.date
    entry: data.Custom

    @property
    def where(self) -> str:
        return where(self.entry.meta)


@dataclass(frozen=True)
class PeriodControl:
    """The ledger's locks in the order made (each after the one before), and its closed years."""

    locks: tuple[Lock, ...]
    closes: tuple[tuple[object, data.Custom], ...]  # (FinancialYear, the s75-close), by year

    @property
    def latest(self) -> Lock | None:
        return self.locks[-1] if self.locks else None

    @property
    def closed_to(self) -> datetime.date | None:
        """31 March of the latest closed year."""
        return self.closes[-1][0].end if self.closes else None

    @property
    def locked_to(self) -> datetime.date | None:
        """The last day locked, by an s75-lock or by a close."""
        ends = [d for d in (self.latest and self.latest.end, self.closed_to) if d is not None]
        return max(ends) if ends else None

    @property
    def first_open(self) -> datetime.date | None:
        """The first day of the first open month (None when nothing is locked)."""
        end = self.locked_to
        return None if end is None else end + datetime.timedelta(days=1)

    def lock_of(self, date: datetime.date) -> Lock | None:
        """The s75-lock that locks `date` (the earliest covering it), None when no s75-lock does."""
        index = bisect.bisect_left([lock.end for lock in self.locks], date)
        return self.locks[index] if index < len(self.locks) else None

    def closed(self, date: datetime.date):
        """The s75-close of the year containing `date`, or None."""
        year = year_of(date)
        return next((close for y, close in self.closes if y == year), None)

    def describe(self) -> list[str]:
        """What is locked, in an officer's words, one line each (for the Fava page)."""
        lines = []
        latest = self.latest
        if latest is not None:
            lines.append(f"Locked to {latest.month} (every month up to and including it), by the s75-lock at "
                         f"{latest.where}; first open month {month_of(self.first_open)}.")
        for year, close in self.closes:
            if latest is None or latest.end < year.end:
                lines.append(f"{year.label} is closed (s75-close at {where(close.meta)}), so locked to "
                             f"{long_date(year.end)}, but its months have no fingerprint yet: run "
                             f"s75 lock LEDGER --year {year.label}.")
        return lines


def period_control(entries) -> PeriodControl:
    """The locks and closes of the entries (any iterable; only Custom entries are read). Locks that do
    not move forward, or whose month is not YYYY-MM, are left out (`lock_errors` reports them)."""
    locks, closes = _locks(entries)
    return PeriodControl(tuple(lock for lock, problem in locks if problem is None), closes)


def _locks(entries):
    """Every s75-lock as (Lock, problem or None), in the order made; the closes by year."""
    found, closes = [], {}
    for entry in entries:
        if type(entry) is not data.Custom:
            continue
        if entry.type == LOCK:
            found.append(entry)
        elif entry.type == CLOSE and entry.values and isinstance(entry.values[0].value, str):
            year = parse_year(entry.values[0].value)
            if year is not None:
                closes.setdefault(year, entry)
    found.sort(key=lambda e: (e.date, str(e.meta.get("filename")), e.meta.get("lineno", 0)))
    locks, latest = [], None
    for entry in found:
        value = entry.values[0].value if len(entry.values) == 1 else None
        if not isinstance(value, str):
            continue  # its values are reported by the directive vocabulary (rules.directives)
        end = parse_month(value)
        if end is None:
            locks.append((Lock(value, datetime.date.min, entry),
                          f's75-lock: month "{value}" should be a month as YYYY-MM, e.g. "2025-09"'))
            continue
        lock = Lock(value, end, entry)
        if latest is not None and end <= latest.end:
            again = "is locked twice" if end == latest.end else "is before a month already locked"
            locks.append((lock, f"s75-lock {value} {again} ({latest.month}, by the s75-lock at {latest.where}): "
                                "locks only move forward; delete this line"))
            continue
        locks.append((lock, None))
        latest = lock
    return locks, tuple(sorted(closes.items(), key=lambda item: item[0]))


# ---- fingerprints ----

def fingerprinted(entry) -> bool:
    """Whether a lock fingerprints the entry: not generated by the rules, not a lock, not a Fava setting."""
    if type(entry) is data.Custom and (entry.type == LOCK or entry.type.startswith("fava-")):
        return False
    return not is_generated(entry)


def entry_text(entry) -> str:
    """The entry as text, without where it is written (file, line) or Beancount's internal metadata
    (keys starting "__"): what a lock fingerprints. Tags and links are sorted; everything else is
    written as Python writes its value, which does not change from one load to the next."""
    parts = [type(entry).__name__]
    for name, value in zip(entry._fields, entry):
        if name == "meta":
            parts.append(_meta_text(value))
        elif name == "postings":
            parts.extend(_posting_text(posting) for posting in value)
        elif name in ("tags", "links"):
            parts.append(repr(sorted(value or ())))
        elif name != "diff_amount":  # a balance's difference is Beancount's finding, not the entry
            parts.append(repr(value))
    return "\n".join(parts)


def _meta_text(meta) -> str:
    if not meta:
        return "{}"
    return repr(sorted(((k, v) for k, v in meta.items() if k not in _SKIPPED_META and not k.startswith("__")),
                       key=itemgetter(0)))


def _posting_text(posting) -> str:
    return repr((posting.account, posting.units, posting.cost, posting.price, posting.flag)) + _meta_text(posting.meta)


def entry_hash(entry) -> str:
    return hashlib.sha256(entry_text(entry).encode("utf-8")).hexdigest()[:32]


def describe(entry) -> str:
    """What an entry is, briefly: '"Acme Ltd" "Reablement April"', 'custom "s75-forecast" "2025-26" ...'."""
    if isinstance(entry, data.Transaction):
        return " ".join(f'"{text}"' for text in (entry.payee, entry.narration) if text)
    if isinstance(entry, data.Custom):
        return " ".join([f'custom "{entry.type}"'] + [_value(v.value) for v in entry.values])
    account = getattr(entry, "account", "")
    return f"{type(entry).__name__.lower()} {account}".strip()


def _value(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def record(entry, base: Path | None) -> dict:
    """An entry's line in a fingerprint."""
    out = {"date": entry.date.isoformat(), "hash": entry_hash(entry), "what": describe(entry)}
    meta = entry.meta or {}
    if isinstance(entry, data.Transaction) and meta.get("ref") is not None:
        out["system"] = str(meta.get("system", ""))
        out["ref"] = str(meta["ref"])
    out["at"] = _at(meta, base)
    return out


def _at(meta: dict, base: Path | None) -> str:
    filename = str(meta.get("filename", "<unknown>"))
    if base is not None and os.path.isabs(filename):
        try:
            filename = os.path.relpath(filename, base)
        except ValueError:
            pass
    return f"{filename}:{meta.get('lineno', 0)}"


def entries_between(entries, after: datetime.date | None, to: datetime.date) -> list:
    """The fingerprinted entries dated after `after` (from the start when None) up to `to`; `entries`
    are in date order, as the loader gives them."""
    first = 0 if after is None else bisect.bisect_right(entries, after, key=_date)
    last = bisect.bisect_right(entries, to, key=_date)
    return [e for e in entries[first:last] if fingerprinted(e)]


def fingerprint(entries, month: str, previous: Lock | None, base: Path | None, directive: str,
                today: datetime.date) -> dict:
    """The fingerprint `s75 lock` writes for `month`, after the lock `previous`."""
    end = parse_month(month)
    after = previous.end if previous is not None else None
    return {"lock": month, "previous": previous.month if previous else None,
            "from": (after + datetime.timedelta(days=1)).isoformat() if after else None,
            "to": end.isoformat(), "locked-on": today.isoformat(), "directive": directive, "hash": HASH_NOTE,
            "entries": [record(e, base) for e in entries_between(entries, after, end)]}


def fingerprint_bytes(content: dict) -> bytes:
    """The fingerprint as JSON, an entry a line (so that git shows what a lock covers line by line)."""
    head = {k: v for k, v in content.items() if k != "entries"}
    rows = [" " + json.dumps(row, ensure_ascii=False, sort_keys=True) for row in content["entries"]]
    body = ' "entries": [\n' + ",\n".join(rows) + "\n ]" if rows else ' "entries": []'
    return (json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ",\n" + body + "\n}\n").encode("utf-8")


def lock_folder(main_file) -> Path | None:
    """The folder of a ledger's locks (beside its main file); None when the ledger is not a file."""
    if not main_file:
        return None
    path = Path(main_file)
    return path.parent / FOLDER if path.is_file() else None


# ---- the check ----

@dataclass
class _Print:
    """A fingerprint read from its file: its month, the lock before it, its range and its entries."""

    month: str
    path: Path
    previous: str | None
    after: datetime.date | None
    to: datetime.date
    directive_text: str
    entries: list


def lock_errors(entries, options_map) -> list[S75Error]:
    """Every error about locks and adjustments (see the module's docstring)."""
    locks, closes = _locks(entries)
    errors = [S75Error(lock.entry.meta, problem, lock.entry) for lock, problem in locks if problem]
    good = [lock for lock, problem in locks if problem is None]
    folder = lock_folder(options_map.get("filename") if options_map else None)
    control = PeriodControl(tuple(good), closes)
    errors.extend(_adjusts_errors(entries))
    if not good and (folder is None or not folder.is_dir()):
        return errors
    base = folder.parent if folder is not None else None
    prints, problems = _read_prints(folder, good)
    errors.extend(problems)
    by_month = {lock.month: lock for lock in good}
    for month, found in sorted(prints.items()):
        if month not in by_month:
            line = found.directive_text or f'custom "{LOCK}" "{month}"'
            errors.append(S75Error({"filename": str(found.path), "lineno": 1},
                                   f"the lock of {month} is no longer in the ledger: its s75-lock line was removed, "
                                   f"but its fingerprint is here; a lock cannot be taken out: put back {line} in "
                                   f"{FOLDER}/{DIRECTIVES}", None))
        if found.previous is not None and found.previous not in prints and found.previous not in by_month:
            errors.append(S75Error(_anchor(by_month.get(month), found), f"the lock of {found.previous}, which the "
                                   f"lock of {month} follows, is gone (no s75-lock line and no "
                                   f"{FOLDER}/{found.previous}.json): the months it locked are no longer checked; "
                                   "restore both from git", None))
    first_open = control.first_open
    for month, found in sorted(prints.items()):
        errors.extend(_compare(found, entries, by_month.get(month), base, first_open))
    return errors


def _anchor(lock: Lock | None, found: _Print) -> dict:
    return lock.entry.meta if lock is not None else {"filename": str(found.path), "lineno": 1}


def _read_prints(folder: Path | None, locks: list[Lock]) -> tuple[dict[str, _Print], list[S75Error]]:
    """Each fingerprint in the folder, read once; an error at each lock whose fingerprint is missing or
    cannot be read."""
    prints, errors = {}, []
    names = {}
    if folder is not None and folder.is_dir():
        names = {p.stem: p for p in folder.glob("*.json") if parse_month(p.stem) is not None}
    for lock in locks:
        if lock.month not in names:
            shown = f"{FOLDER}/{lock.month}.json"
            errors.append(S75Error(lock.entry.meta, f"s75-lock {lock.month}: its fingerprint {shown} is missing, so "
                                   f"the months it locks cannot be checked; restore it from git (git checkout -- "
                                   f"{shown}, in the ledger's folder)", lock.entry))
    locked = {lock.month: lock for lock in locks}
    for month, path in sorted(names.items()):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            previous = content.get("previous")
            found = _Print(month, path, previous, parse_month(previous) if previous else None,
                           parse_month(month), str(content.get("directive", "")), list(content["entries"]))
            if previous is not None and found.after is None:
                raise ValueError(f"previous {previous!r} is not a month")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else f"not a fingerprint: {exc}"
            lock = locked.get(month)
            anchor = lock.entry.meta if lock else {"filename": str(path), "lineno": 1}
            errors.append(S75Error(anchor, f"s75-lock {month}: its fingerprint {FOLDER}/{month}.json cannot be read "
                                   f"({reason}); restore it from git", None))
            continue
        prints[month] = found
    return prints, errors


def _compare(found: _Print, entries, lock: Lock | None, base: Path | None,
             first_open: datetime.date | None) -> list[S75Error]:
    """The entries of the fingerprint's months against it: added, changed, removed."""
    current = entries_between(entries, found.after, found.to)
    waiting: dict[str, deque] = defaultdict(deque)
    for index, row in enumerate(found.entries):
        waiting[row.get("hash")].append(index)
    unmatched = []
    for entry in current:
        queue = waiting.get(entry_hash(entry))
        if queue:
            queue.popleft()
        else:
            unmatched.append(entry)
    left = sorted(index for queue in waiting.values() for index in queue)
    if not unmatched and not left:
        return []
    rows = found.entries
    index: dict[tuple, deque] = defaultdict(deque)
    for i in left:
        for key in _row_keys(rows[i]):
            index[key].append(i)
    used: set[int] = set()
    breaks = (f"this breaks the lock of {found.month} "
              + (f"(s75-lock at {lock.where})" if lock is not None else f"(fingerprint {FOLDER}/{found.month}.json)"))
    open_month = month_of(first_open) if first_open else "the first open month"
    errors = []
    for entry in unmatched:
        partner = None
        for key in _entry_keys(entry, base):
            queue = index.get(key)
            while queue and queue[0] in used:
                queue.popleft()
            if queue:
                partner = queue.popleft()
                used.add(partner)
                break
        adjusts = f'with adjusts: "{month_of(entry.date)}"'
        if partner is None:
            message = (f"added after {found.month} was locked: {breaks}; take it out, and enter it in {open_month}, "
                       f"the first open month, {adjusts} (docs/period-control.md)")
        else:
            was = rows[partner]
            message = (f"changed since {found.month} was locked: {breaks}; when locked it was {_named(was)}, at "
                       f"{was.get('at')}: put it back as it was, and enter the correction in {open_month} {adjusts}")
        errors.append(S75Error(entry.meta, message, entry))
    anchor = lock.entry.meta if lock is not None else {"filename": str(found.path), "lineno": 1}
    for i in left:
        if i in used:
            continue
        row = rows[i]
        errors.append(S75Error(anchor, f"{_named(row)}, at {row.get('at')} when {found.month} was locked, has been "
                                       f"removed: {breaks}; put it back, and enter any correction in {open_month} "
                                       f'with adjusts: "{str(row.get("date", ""))[:7]}"', None))
    return errors


def _named(row: dict) -> str:
    """'2025-09-01 "Maple Lodge" "Beds September" (ref council GL-100215)' for a fingerprint's row."""
    ref = " ".join(str(part) for part in (row.get("system"), row.get("ref")) if part)
    return f"{row.get('date')} {row.get('what', '')}" + (f" (ref {ref})" if row.get("ref") else "")


def _row_keys(row: dict) -> list[tuple]:
    keys = []
    if row.get("ref") is not None:
        keys.append(("ref", *normalise(row.get("system", ""), row["ref"])))
    keys.append(("at", row.get("at")))
    keys.append(("what", row.get("date"), row.get("what")))
    return keys


def _entry_keys(entry, base: Path | None) -> list[tuple]:
    keys = []
    meta = entry.meta or {}
    if isinstance(entry, data.Transaction) and meta.get("ref") is not None:
        keys.append(("ref", *normalise(meta.get("system", ""), meta["ref"])))
    keys.append(("at", _at(meta, base)))
    keys.append(("what", entry.date.isoformat(), describe(entry)))
    return keys


def _adjusts_errors(entries) -> list[S75Error]:
    """`adjusts:` a month as YYYY-MM before the entry's own; `original-date:` in that month."""
    errors = []
    for entry in entries:
        meta = entry.meta
        if not meta or ADJUSTS not in meta:
            continue
        value = meta[ADJUSTS]
        end = parse_month(value)
        if end is None:
            errors.append(S75Error(meta, f'adjusts: "{value}" should be the month it corrects as YYYY-MM, e.g. '
                                         'adjusts: "2025-08"', entry))
            continue
        if end >= month_start(entry.date):
            errors.append(S75Error(meta, f'adjusts: "{value}" is not before this entry\'s month '
                                         f"({month_of(entry.date)}): a prior-period adjustment corrects an earlier "
                                         "month and is dated in an open month after it", entry))
            continue
        original = meta.get(ORIGINAL_DATE)
        if original is not None and (not isinstance(original, datetime.date) or month_of(original) != value):
            errors.append(S75Error(meta, f"original-date: {original} is not a date in {value}, the month it "
                                         "adjusts", entry))
    return errors


def _date(entry) -> datetime.date:
    return entry.date
