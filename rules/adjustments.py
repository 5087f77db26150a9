"""Prior-period adjustments: corrections to a locked month, posted in an open month with `adjusts:`
(rules.locks checks them). The position lists them, a row per posting to a scheme's account, to
suspense or to a contribution account, and the statement shows them in their own table.
"""
from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from rules.agreement import Agreement
from rules.calendar import FinancialYear
from rules.directives import SUSPENSE
from rules.entries import shown_payee, where
from rules.periods import ADJUSTS, ORIGINAL_DATE, _date


@dataclass(frozen=True)
class Adjustment:
    """A prior-period adjustment: one posting of an entry carrying `adjusts:`."""

    date: datetime.date  # when it is posted (an open month)
    payee: str
    narration: str
    ref: str  # the finance system's reference, "" when none
    where: str  # file:line
    adjusts: str  # the month it corrects, "2025-08"
    original_date: datetime.date | None  # the date the finance system gave it, when imported
    scheme: str | None  # the scheme whose actual it changes
    partner: str | None  # for a receipt: the partner whose received it changes
    account: str
    amount: Decimal  # spend, as the scheme's actual counts it; for a receipt, money received

    @property
    def receipt(self) -> bool:
        return self.partner is not None



def prior_period_adjustments(entries, year: FinancialYear, as_of: datetime.date,
                             agreement: Agreement) -> tuple[Adjustment, ...]:
    """The year's entries to `as_of` that carry `adjusts:`, a row per posting to a scheme's account, to
    suspense or to a contribution account: spend first, then receipts, each in date order."""
    partner_of = {c.account: c.partner for c in agreement.contributions}
    scheme_of: dict[str, str | None] = {}
    spend, receipts = [], []
    first = bisect.bisect_left(entries, year.start, key=_date)
    last = bisect.bisect_right(entries, min(as_of, year.end), key=_date)
    for index in range(first, last):
        entry = entries[index]
        meta = entry.meta
        if type(entry) is not data.Transaction or not meta or ADJUSTS not in meta:
            continue
        original = meta.get(ORIGINAL_DATE)
        for posting in entry.postings:
            account = posting.account
            if account not in scheme_of:
                scheme_of[account] = next((s.scheme for s in agreement.schemes if s.owns(account)), None)
            number = posting.units.number if posting.units is not None else None
            if number is None:
                continue
            scheme, partner = scheme_of[account], partner_of.get(account)
            if scheme is None and partner is None and not (account == SUSPENSE or account.startswith(SUSPENSE + ":")):
                continue
            row = Adjustment(entry.date, shown_payee(entry), entry.narration or "", str(meta.get("ref", "")),
                             where(meta), str(meta[ADJUSTS]),
                             original if isinstance(original, datetime.date) else None,
                             scheme, partner, account, -number if partner is not None else number)
            (receipts if partner is not None else spend).append(row)
    return tuple(spend + receipts)
