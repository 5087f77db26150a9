"""The year's books as the position reads them: postings to the pool's scheme and contribution accounts
(and what was carried in), summed by month, in one pass over the year's slice of the entries."""
from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from rules.adjustments import Adjustment, prior_period_adjustments
from rules.agreement import Agreement
from rules.calendar import FinancialYear

CARRIED_IN = "Income:CarryForward:In"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class YearBooks:
    """The year's postings to the pool's scheme and contribution accounts, summed by month."""

    year: FinancialYear
    sums: dict[str, list[Decimal]]
    adjustments: tuple[Adjustment, ...] | None = None  # the year's prior-period adjustments (None: not read)

    def to_month(self, month: int) -> dict[str, list[Decimal]]:
        """The sums of months 1..`month` only (later months nil), as `monthly_sums` gives them."""
        return {account: row[:month] + [ZERO] * (12 - month) for account, row in self.sums.items()}


def year_books(entries, year: FinancialYear, agreement: Agreement) -> YearBooks:
    """One pass over the year's transactions, for every month-end position of the year."""
    return YearBooks(year, monthly_sums(entries, year, year.end, counted(agreement)),
                     prior_period_adjustments(entries, year, year.end, agreement))


def counted(agreement: Agreement):
    """Which accounts the position sums: contributions, what was carried in, the schemes'."""
    counted = {c.account for c in agreement.contributions} | {CARRIED_IN}
    return lambda account: account in counted or any(s.owns(account) for s in agreement.schemes)


def monthly_sums(entries, year: FinancialYear, as_of: datetime.date, wanted) -> dict[str, list[Decimal]]:
    """Per account for which `wanted(account)` is true, the sum of its postings in each month of
    `year` up to `as_of` (April first). The one pass over the books behind the position. Entries
    are in date order (as the loader gives them), so only the year's slice is read; other accounts
    (the cash side of every payment) are skipped, with the answer per account cached."""
    sums: dict[str, list[Decimal]] = {}
    keep: dict[str, bool] = {}
    end = min(as_of, year.end)
    first = bisect.bisect_left(entries, year.start, key=entry_date)
    last = bisect.bisect_right(entries, end, key=entry_date)
    transaction = data.Transaction
    for index in range(first, last):
        entry = entries[index]
        if type(entry) is not transaction:
            continue
        month = None
        for posting in entry.postings:
            account = posting.account
            wanted_here = keep.get(account)
            if wanted_here is None:
                wanted_here = keep[account] = bool(wanted(account))
            if not wanted_here:
                continue
            number = posting.units.number if posting.units is not None else None
            if number is None:
                continue
            if month is None:
                month = (entry.date.month - 4) % 12
            row = sums.get(account)
            if row is None:
                row = sums[account] = [ZERO] * 12
            row[month] += number
    return sums


def _date(entry) -> datetime.date:
    return entry.date


def entry_date(entry) -> datetime.date:
    return entry.date

