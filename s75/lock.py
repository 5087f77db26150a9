"""`s75 lock LEDGER --month 2025-09` (or `--year 2025-26`, the same as `--month 2026-03`): lock every
month up to and including that one (rules.locks says what a lock is and what the check then reports).

Under the ledger's lock (importers.landing.ledger_lock, as `s75 import` takes it): load the ledger,
which must check clean; refuse a month that has not ended, or is on or before the latest lock (locks
only move forward); then write `locks/<month>.json` (the fingerprint) and the `s75-lock` line in
`locks/locks.beancount` together, all or nothing (reports.atomic_files). When main.beancount does not
include `locks/locks.beancount` yet, the include line is added to it first (with an empty
locks.beancount), or, when main.beancount cannot be changed, the lock is refused in one line.
Exit status 0 when the month is locked, 1 otherwise.
"""
from __future__ import annotations

import contextlib
import datetime
import fnmatch
import os
import stat
import sys
from pathlib import Path

from importers.landing import LandingRefused, LedgerBusy, ledger_lock
from reports.atomic_files import replace_files
from reports.ledger import file_problem, format_error, include_patterns, load_ledger
from rules.calendar import parse_year
from rules.fingerprints import fingerprint, fingerprint_bytes
from rules.periods import DIRECTIVES, FOLDER, LOCK, long_date, month_of, parse_month, period_control

HEADER = ("; Locked months (docs/period-control.md). Written by `s75 lock`: do not edit or delete a line.\n"
          "; Each lock's fingerprint is beside this file, as <month>.json; commit them with the ledger.\n")
INCLUDE = f'include "{FOLDER}/{DIRECTIVES}"'
NOTHING = "nothing locked"


class Refused(Exception):
    """The lock was not made: the message says why, in one line."""


def run_lock(ledger: str, month: str | None = None, year: str | None = None, wait: float = 600,
             today: datetime.date | None = None) -> int:
    today = today or datetime.date.today()
    try:
        month = _target(month, year)
        end = parse_month(month)
        if end >= today:
            raise Refused(f"s75 lock: {month} has not ended (its last day is {end}): lock a month once its "
                          f"statement is issued; {NOTHING}")
        path = Path(ledger)
        problem = file_problem(ledger)  # a path that is not a ledger file: one line, before taking any lock
        if problem is not None:
            raise Refused(f"{format_error(problem)}; {NOTHING}")

        def waiting():
            print(f"waiting up to {wait:g} s for another command on {ledger} to finish...", file=sys.stderr)

        with ledger_lock(path, wait, on_wait=waiting):
            return _lock(ledger, path, month, today)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 1
    except LedgerBusy:
        print(f"{ledger}: another import or lock into this ledger is running; {NOTHING}", file=sys.stderr)
        return 1
    except LandingRefused as exc:
        print(*(p.replace("nothing written", NOTHING) for p in exc.problems), sep="\n", file=sys.stderr)
        return 1


def _target(month: str | None, year: str | None) -> str:
    if year is not None:
        label = parse_year(year)
        if label is None:
            raise Refused(f's75 lock: "{year}" is not a financial year like 2025-26; {NOTHING}')
        return f"{label.start_year + 1}-03"
    if month is None or parse_month(month) is None:
        raise Refused(f's75 lock: "{month}" is not a month as YYYY-MM (e.g. 2025-09); {NOTHING}')
    return month


def _lock(ledger: str, path: Path, month: str, today: datetime.date) -> int:
    loaded = load_ledger(path)
    if loaded.errors:
        for error in loaded.errors:
            print(format_error(error), file=sys.stderr)
        print(f"{ledger} has {len(loaded.errors)} error(s): correct them first; {NOTHING}", file=sys.stderr)
        return 1
    control = period_control(loaded.entries)
    latest = control.latest
    if latest is not None and parse_month(month) <= latest.end:
        if month == latest.month:
            raise Refused(f"{month} is already locked (s75-lock at {latest.where}); {NOTHING}")
        raise Refused(f"{month} is before the latest lock, {latest.month} (s75-lock at {latest.where}): locks only "
                      f"move forward; {NOTHING}")
    main_file = loaded.path
    folder = main_file.parent / FOLDER
    directives = folder / DIRECTIVES
    directive = f'{today.isoformat()} custom "{LOCK}" "{month}"'
    content = fingerprint(loaded.entries, month, latest, main_file.parent, directive, today)
    if not _included(main_file, directives):
        _include(main_file, folder, directives)
    try:
        before = directives.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = HEADER
    text = before + ("" if before.endswith("\n") or not before else "\n") + directive + "\n"
    try:
        replace_files(folder, {DIRECTIVES: text.encode("utf-8"), f"{month}.json": fingerprint_bytes(content)})
    except OSError as exc:
        raise Refused(f"cannot write into {_shown(folder)}/: {exc.strerror or exc}; {NOTHING}") from None
    first_open = parse_month(month) + datetime.timedelta(days=1)
    print(f"locked {month}: {len(content['entries'])} entries dated to {long_date(parse_month(month))} are "
          f"fingerprinted in {_shown(folder / (month + '.json'))}; the s75-lock is in {_shown(directives)}")
    print(f"the first open month is {month_of(first_open)}: a correction to a locked month is entered there, "
          f'with adjusts: "YYYY-MM" (docs/period-control.md)')
    print(f"commit the ledger with its {FOLDER}/ folder")
    return 0


def _included(main_file: Path, target: Path) -> bool:
    return any(fnmatch.fnmatch(str(target), pattern) for pattern in include_patterns(main_file))


def _include(main_file: Path, folder: Path, directives: Path) -> None:
    """Add the include line to the main file (creating locks.beancount with its header if absent), or
    refuse in one line when the main file cannot be changed."""
    why = _unchangeable(main_file)
    if why:
        raise Refused(f"{_shown(main_file)} does not include {FOLDER}/{DIRECTIVES} and cannot be changed to ({why}): "
                      f"add the line {INCLUDE} to it; {NOTHING}")
    created = False
    try:
        if not directives.exists():
            replace_files(folder, {DIRECTIVES: HEADER.encode("utf-8")})
            created = True
        text = main_file.read_text(encoding="utf-8")
        addition = ("" if text.endswith("\n") or not text else "\n") + \
            f"\n; Locked months (docs/period-control.md), written by s75 lock.\n{INCLUDE}\n"
        replace_files(main_file.parent, {main_file.name: (text + addition).encode("utf-8")})
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                directives.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise Refused(f"{_shown(main_file)} does not include {FOLDER}/{DIRECTIVES} and cannot be changed to "
                      f"({exc.strerror or exc}): add the line {INCLUDE} to it; {NOTHING}") from None


def _unchangeable(main_file: Path) -> str:
    """Why the main file may not be rewritten ("" when it may): it is read-only."""
    mode = main_file.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(main_file, os.W_OK):
        return "it is read-only"
    return ""


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative
