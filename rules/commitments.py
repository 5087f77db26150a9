"""Commitments (orders raised and not yet paid) and month-end accruals.

    2025-05-01 custom "s75-commitment" "S08" "Acme Homecare Ltd" "PO-4410" 60000.00 GBP
      description: "Discharge packages, May to July"       ; optional
      closed: 2025-08-31                                   ; optional: nothing more will be drawn
    2025-09-30 custom "s75-accrual" "2025-09" "PO-4410" 12000.00 GBP
      note: "September packages delivered, invoice awaited"

An order is drawn down by the invoices that carry its reference (`order: "PO-4410"` on the
transaction, which the ledger importers write from an extract's order column): what they post to
the order's scheme counts against it. What is still committed on a date is the order less what was
drawn to that date, never below nil, and nil from its `closed:` date. An accrual is spend incurred
in a month and not yet invoiced against an order: rules.accruals writes it as an entry on the
month's last day (the scheme's spend, owed under Liabilities:Accruals) and its reversal on the next
day, both carrying the order's reference, so the accrual draws the order down for the month end and
gives it back when the month closes.

Pure functions of the Agreement and the entries. The checks here (`drawdown_errors`) run in
rules.validate; the position (rules.position) takes `committed_by_scheme` for its committed spend.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from beancount.core import data

from rules.directives import S75Error
from rules.entries import where

ZERO = Decimal("0.00")
ORDER = "order"  # a transaction's metadata: the reference of the order it draws down


def order_key(reference: str) -> str:
    """An order reference as compared: case and surrounding spaces ignored."""
    return " ".join(str(reference).split()).casefold()


@dataclass(frozen=True)
class Commitment:
    scheme: str
    supplier: str
    reference: str
    amount: Decimal
    date: datetime.date
    description: str = ""
    closed: datetime.date | None = None
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Accrual:
    month: str  # "YYYY-MM"
    reference: str
    amount: Decimal
    date: datetime.date  # the month's last day: the accrual's entry; the reversal is the day after
    note: str = ""
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class CommitmentPosition:
    """An order on a date: what was drawn down by then and what is still committed."""

    commitment: Commitment
    drawn: Decimal
    outstanding: Decimal  # amount - drawn, not below nil; nil once closed

    @property
    def over(self) -> Decimal:
        """What was drawn beyond the order (nil when within it)."""
        return max(self.drawn - self.commitment.amount, ZERO)


def draws(entries, agreement) -> dict[str, list[tuple[datetime.date, Decimal]]]:
    """By order key: (date, amount) of what each transaction carrying that order posted to the order's
    scheme accounts (one pass; nothing when the pool has no orders)."""
    orders = {order_key(c.reference): agreement.scheme(c.scheme) for c in agreement.commitments}
    found: dict[str, list[tuple[datetime.date, Decimal]]] = defaultdict(list)
    if not orders:
        return found
    transaction = data.Transaction
    for entry in entries:
        if type(entry) is not transaction:
            continue
        reference = entry.meta.get(ORDER)
        if reference is None:
            continue
        key = order_key(reference)
        scheme = orders.get(key)
        if scheme is None:
            continue
        amount = sum((p.units.number for p in entry.postings if p.units is not None and scheme.owns(p.account)), ZERO)
        found[key].append((entry.date, amount))
    return found


def drawn_by_order(entries, agreement, as_of: datetime.date, found=None) -> dict[str, Decimal]:
    """By order key: what transactions dated on or before `as_of` carrying that order posted to the
    order's scheme accounts (`found`: `draws` already made)."""
    found = draws(entries, agreement) if found is None else found
    return {key: sum((amount for date, amount in rows if date <= as_of), ZERO) for key, rows in found.items()}


def commitments_at(entries, agreement, as_of: datetime.date, found=None) -> tuple[CommitmentPosition, ...]:
    """Every order raised on or before `as_of`, with what was drawn and what is still committed
    (`found`: `draws` already made)."""
    if not agreement.commitments:
        return ()
    drawn = drawn_by_order(entries, agreement, as_of, found)
    rows = []
    for c in agreement.commitments:
        if c.date > as_of:
            continue
        taken = drawn.get(order_key(c.reference), ZERO)
        scheme = agreement.scheme(c.scheme)
        closed = (c.closed is not None and c.closed <= as_of) or (scheme is not None and scheme.end is not None
                                                                  and scheme.end < as_of)
        # never below nil (drawn beyond the order), never above the order (a credit note it did not draw)
        rows.append(CommitmentPosition(c, taken, ZERO if closed else min(max(c.amount - taken, ZERO), c.amount)))
    return tuple(rows)


def committed_by_scheme(rows: tuple[CommitmentPosition, ...]) -> dict[str, Decimal]:
    committed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        committed[row.commitment.scheme] += row.outstanding
    return dict(committed)


def misplaced_order(entry, posting) -> S75Error:
    """The error at a posting carrying `order:`, which only a transaction's own metadata draws down."""
    return S75Error(posting.meta, f'order: "{posting.meta[ORDER]}" is written under a posting: write it on the '
                                  "transaction (under its first line), where it draws the order down", entry)


def drawdown_errors(ordered, agreement) -> list[S75Error]:
    """Of `ordered`, the transactions carrying `order:` (rules.validate collects them in its one pass
    over the books): each naming an order the agreement does not have, dated before its order, or
    posting nothing to the order's scheme (an order of S08 drawn by spend on S02); then each accrual
    that takes its order past its amount on the accrual's date (what was drawn by then, with it)."""
    orders = {order_key(c.reference): c for c in agreement.commitments}
    errors = []
    for entry in ordered:
        reference = entry.meta.get(ORDER)
        if reference is None or str(entry.meta.get("rule", "")).startswith("accrual"):
            continue
        commitment = orders.get(order_key(reference))
        if commitment is None and order_key(reference) in agreement.unread_orders:
            continue  # its s75-commitment is in error, and reported
        if commitment is None:
            known = ", ".join(c.reference for c in agreement.commitments) or "none"
            errors.append(S75Error(entry.meta, f'order "{reference}" is not a commitment of the pool (s75-commitment; '
                                               f"orders: {known})", entry))
            continue
        if entry.date < commitment.date:
            errors.append(S75Error(entry.meta, f'order "{reference}" was raised on {commitment.date} '
                                               f"({where(commitment.meta)}), after this entry of {entry.date}", entry))
            continue
        scheme = agreement.scheme(commitment.scheme)
        if scheme is not None and not any(scheme.owns(p.account) for p in entry.postings):
            errors.append(S75Error(entry.meta, f'order "{reference}" is {commitment.scheme}\'s ({where(commitment.meta)}), '
                                               f"but this entry posts nothing to {commitment.scheme}", entry))
    found = draws(ordered, agreement) if agreement.accruals else {}
    for accrual in agreement.accruals:
        commitment = orders.get(order_key(accrual.reference))
        if commitment is None:
            continue
        drawn = drawn_by_order(ordered, agreement, accrual.date, found).get(order_key(accrual.reference), ZERO)
        if drawn > commitment.amount:
            errors.append(S75Error(accrual.meta, f"s75-accrual: {accrual.amount:,.2f} against {accrual.reference} "
                                                 f"takes what is drawn on it by {accrual.date} to {drawn:,.2f}, more "
                                                 f"than the order's {commitment.amount:,.2f}", None))
    return errors


def overdrawn_warnings(entries, agreement) -> list[str]:
    """A line for each order drawn beyond its amount by all the entries (a price rise, or an invoice
    carrying the wrong order): not an error, but the order should be varied or the invoice checked."""
    if not agreement.commitments:
        return []
    last = max(e.date for e in entries)
    return [f"order {row.commitment.reference} ({row.commitment.scheme}, {where(row.commitment.meta)}) is drawn "
            f"{row.drawn:,.2f}, {row.over:,.2f} more than its {row.commitment.amount:,.2f}: check the invoices "
            "that carry it, or raise the order's amount"
            for row in commitments_at(entries, agreement, last) if row.over > 0]
