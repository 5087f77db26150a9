"""Months and locks: what a ledger's `s75-lock` and `s75-close` directives say is locked, read once per
load (`period_control`), and the month arithmetic the lock, the check and the import share.
rules.locks holds the check; rules.fingerprints what a lock records.
"""
from __future__ import annotations

import bisect
import calendar
import datetime
import re
from dataclasses import dataclass

from beancount.core import data

from rules.calendar import parse_year, year_of
from rules.entries import where

LOCK = "s75-lock"
CLOSE = "s75-close"
FOLDER = "locks"  # beside the main file
DIRECTIVES = "locks.beancount"  # in FOLDER
ADJUSTS, ORIGINAL_DATE = "adjusts", "original-date"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


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



def _date(entry) -> datetime.date:
    return entry.date

