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

import datetime
import json
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from beancount.core import data

from rules.directives import S75Error
from rules.fingerprints import _at, describe, entries_between, entry_hash
from rules.identity import normalise
from rules.periods import (ADJUSTS, DIRECTIVES, FOLDER, LOCK, ORIGINAL_DATE, Lock, PeriodControl, _locks, month_of,
                           month_start, parse_month)


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


