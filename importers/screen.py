"""The screen every imported transaction passes before it can be written: dates the pool can take,
and amounts an officer should look at twice.

Rejected, with the file, row and reason (nothing of the row is written):
- a date before the pool's first year, or in a year the pool has no plan for (no contributions or
  budgets: import the plan first);
- a date in a closed year (`s75-close`);
- spend on a scheme dated before the scheme starts or after its `end:`.

Posted as a prior-period adjustment, and listed in the import summary: a row dated in a month locked
by `s75 lock` (rules.locks) is dated the first day of the first open month instead, with
`original-date:` (the date the finance system gave it) and `adjusts:` (its month). Rejected instead:
such a row when the first open month is in a later financial year (its year is locked to 31 March:
a correction belongs in the open year, entered by hand), and any other record (a metric figure, a
plan line) dated in a locked month.

Written, but flagged `!` with a `review:` note saying why, and listed in the import summary:
- spend larger than its scheme's budget for the year;
- a negative receipt (money going back to a partner is usually a separate agreed payment);
- a receipt that takes what a partner has paid from a source in a year (the ledger's receipts and
  the run's before it) above its agreed contribution.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from beancount.core import data

from importers.base import Line, transaction_key
from importers.rows import Rejection
from rules.agreement import Agreement
from rules.calendar import year_of
from rules.identity import Fingerprint, identity
from rules.periods import ADJUSTS, ORIGINAL_DATE, long_date, month_of, period_control


class Screen:
    """Called on each new line of a run, in order: it remembers what the run's receipts add."""

    def __init__(self, agreement: Agreement, entries=()):
        self.agreement = agreement
        self.years = agreement.years()
        self.contributions = {c.account: c for c in agreement.contributions}
        self._scheme_of: dict[str, object] = {}
        self._budget_on: dict[tuple, object] = {}  # (year, scheme, date) -> its budget then (a lookup per row)
        self.received: dict[tuple, Decimal] = defaultdict(Decimal)  # (account, year) -> received so far
        self.control = period_control(entries)
        # identity -> (date posted, original date) of the ledger's imported prior-period adjustments
        self.adjusted: dict[tuple, tuple[datetime.date, datetime.date]] = {}
        for entry in entries:
            if isinstance(entry, data.Transaction):
                for posting in entry.postings:
                    if posting.account in self.contributions:
                        self.received[(posting.account, year_of(entry.date))] -= posting.units.number
                original = entry.meta.get(ORIGINAL_DATE)
                key = identity(entry) if ADJUSTS in entry.meta and isinstance(original, datetime.date) else None
                if key is not None:
                    self.adjusted[transaction_key(*key)] = (entry.date, original)

    def __call__(self, line: Line) -> Line | Rejection:
        entry = line.entry
        if not isinstance(entry, data.Transaction):
            reason = self.locked(entry) if hasattr(entry, "date") else None
            return _rejection(line, reason) if reason else line
        if line.amount == 0:
            return line
        reason = self.refusal(entry)
        if reason:
            return _rejection(line, reason)
        moved = self.adjustment(entry)
        if isinstance(moved, str):
            return _rejection(line, moved)
        if moved is not entry:
            reason = self.refusal(moved)
            if reason:
                return _rejection(line, f"{reason} (as a prior-period adjustment of {month_of(entry.date)}, "
                                        f"posted on {moved.date})")
            entry = moved
            line = replace(line, entry=entry)
        note = self.review_note(entry)
        for posting in entry.postings:
            if posting.account in self.contributions:
                self.received[(posting.account, year_of(entry.date))] -= posting.units.number
        if note:
            return replace(line, entry=entry._replace(flag="!", meta=dict(entry.meta, review=note)))
        return line

    def refusal(self, entry: data.Transaction) -> str | None:
        date, year = entry.date, year_of(entry.date)
        if self.years and date < self.years[0].start:
            first = self.years[0]
            return f"dated {date}, before the pool's first year ({first.label}, from {first.start})"
        if self.years and year not in self.years:
            return f"dated {date}, in {year.label}, a year the pool has no plan for (import its plan first)"
        close = self.agreement.closes.get(year)
        if close is not None:
            return (f"dated {date}, in {year.label}, which is closed (s75-close of {close.date}); "
                    "a correction belongs in the open year")
        for posting in entry.postings:
            scheme = self._scheme(posting.account)
            if scheme is None:
                continue
            if date < scheme.start:
                return f"dated {date}, before scheme {scheme.scheme} starts on {scheme.start}"
            if scheme.end is not None and date > scheme.end:
                return f"dated {date}, after scheme {scheme.scheme} ended on {scheme.end}"
        return None

    def locked(self, entry) -> str | None:
        """Why a record other than a transaction cannot be written: it is dated in a locked month (a
        metric figure or a plan line keeps its date, so it cannot be posted as an adjustment)."""
        lock = self.control.lock_of(entry.date)
        if lock is None or self.control.closed(entry.date) is not None:
            return None  # a closed year's records are refused as such where they are checked
        return (f"dated {entry.date}, in locked month {month_of(entry.date)} (s75-lock {lock.month} at "
                f"{lock.where}): enter it by hand, dated in the first open month "
                f"({month_of(self.control.first_open)})")

    def adjustment(self, entry: data.Transaction) -> data.Transaction | str:
        """The transaction as it is posted: unchanged in an open month; dated in a locked month, moved to
        the first day of the first open month with `original-date:` and `adjusts:`; or why it cannot be
        (the first open month is in a later year)."""
        lock = self.control.lock_of(entry.date)
        if lock is None:
            return entry
        first_open = self.control.first_open
        year = year_of(entry.date)
        if year_of(first_open) != year:
            return (f"dated {entry.date}, in {year.label}, which is locked to {long_date(year.end)} (s75-lock "
                    f"{lock.month} at {lock.where}): a correction to it belongs in the open year, entered by hand "
                    f'with adjusts: "{month_of(entry.date)}"')
        meta = dict(entry.meta)
        meta[ORIGINAL_DATE] = entry.date
        meta[ADJUSTS] = month_of(entry.date)
        return entry._replace(date=first_open, meta=meta)

    def as_in_ledger(self, key: tuple, fingerprint):
        """An extract row's fingerprint as the ledger holds the row when it was posted as a prior-period
        adjustment (dated in the open month, its extract date kept as `original-date:`), so that importing
        the extract again finds it already in the ledger rather than in conflict."""
        posted = self.adjusted.get(key)
        if posted is not None and isinstance(fingerprint, Fingerprint) and fingerprint.date == posted[1]:
            return replace(fingerprint, date=posted[0])
        return fingerprint

    def review_note(self, entry: data.Transaction) -> str | None:
        year = year_of(entry.date)
        for posting in entry.postings:
            amount = posting.units.number
            contribution = self.contributions.get(posting.account)
            if contribution is not None:
                received = -amount
                if received < 0:
                    return f"a negative receipt ({received:,.2f}): money paid back to {contribution.partner}?"
                agreed = next((c.agreed for c in self.agreement.contributions_for(year)
                               if c.account == posting.account), None)
                total = self.received[(posting.account, year)] + received
                if agreed is not None and total > agreed:
                    return (f"takes {contribution.partner}'s {year.label} {contribution.source} received to "
                            f"{total:,.2f}, more than its agreed contribution of {agreed:,.2f}")
                continue
            scheme = self._scheme(posting.account)
            if scheme is None:
                continue
            budget = self._budget(year, scheme.scheme, entry.date)
            if budget is not None and abs(amount) > budget.amount:
                return (f"{abs(amount):,.2f} is more than scheme {scheme.scheme}'s {year.label} budget "
                        f"of {budget.amount:,.2f}")
        return None

    def _budget(self, year, scheme: str, date):
        key = (year, scheme, date)
        if key not in self._budget_on:
            self._budget_on[key] = self.agreement.budget(year, scheme, date)
        return self._budget_on[key]

    def _scheme(self, account: str):
        if account not in self._scheme_of:
            self._scheme_of[account] = next((s for s in self.agreement.schemes if s.owns(account)), None)
        return self._scheme_of[account]


def _rejection(line: Line, reason: str) -> Rejection:
    """A rejection at the row the line came from (its `source:`, "file:row" or "file:sheet:row")."""
    source = str(line.entry.meta.get("source", f"?:{line.number}"))
    file, _, number = source.rpartition(":")
    return Rejection(file, int(number) if number.isdigit() else line.number, reason, line.amount)
