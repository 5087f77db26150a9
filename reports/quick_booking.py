"""Beancount's booking, the quicker way for the transactions whose booking is plain.

Booking completes what the parser left open: it finds each posting's currency group, matches
reductions against the lots held at cost, and fills in the one number left out (an auto-posting such
as `Assets:Bank` under a payment). Beancount does all of it for every transaction, and keeps every
account's running inventory on the way (about half of a load: 9 s of 18 at 250,000 payments).

Most of a pool's transactions are plain: no cost, no price, every amount written with its number and
currency, one currency in all, and at most one auto-posting. For such a transaction Beancount's own
steps come to this (beancount.parser.booking_full, 3.2):
- the postings make one currency group, in their written order; the auto-posting joins it;
- nothing is reduced (reductions are for postings held at cost);
- the tolerances are inferred from the written numbers (`interpolate.infer_tolerances`, mode "max",
  and "min" for interpolating when `option "use_precise_interpolation"` is on);
- the auto-posting, if any, gets the negative of the other postings' residual, quantized with those
  tolerances (`interpolate.quantize_with_tolerance`) and marked `__automatic__`; when the residual
  is zero it is left out;
- the transaction's metadata gets `__tolerances__` (the same read-only mapping for transactions alike:
  see `Tolerances`).
`book` does exactly that for a plain transaction, with Beancount's own tolerance functions, and
gives every other transaction to Beancount's booking, with the running inventories it needs.

Those inventories are asked about only by a transaction that is not plain (a posting at cost, or an
amount without its currency), and only for its own accounts. So a plain transaction is booked the
quick way only when none of its accounts appears in a transaction that is not plain; the rest go to
Beancount in their order, one at a time, sharing one set of inventories, so that every inventory
Beancount asks about holds what it would have held. A plain transaction gives no booking error, so
the errors are Beancount's, in its words and order, with one addition: where Beancount's booking
would stop with an arithmetic error and no line to show for it (an amount too long to quantize, in
a plain transaction or not), that transaction is left out with an error at its line.
"""
from __future__ import annotations

import collections
from collections import namedtuple
from decimal import Decimal

from beancount.core.amount import Amount
from beancount.core.data import Open, Transaction
from beancount.core.interpolate import (AUTOMATIC_META, AUTOMATIC_RESIDUAL, AUTOMATIC_TOLERANCES, infer_tolerances,
                                        quantize_with_tolerance)
from beancount.core.inventory import Inventory
from beancount.core.number import MISSING, ZERO
from beancount.parser import booking, booking_full

BEANCOUNTS = booking.book
BookingError = namedtuple("BookingError", "source message entry")
TOO_MANY_DIGITS = ("cannot be booked: an amount has more digits than can be added up exactly "
                   "(28 significant digits at most, pence included)")


def written(units) -> bool:
    """Whether a posting's units are an amount with its number and currency both written."""
    return type(units) is Amount and type(units.number) is Decimal and type(units.currency) is str


def plain(postings) -> tuple[str, int | None] | None:
    """(currency, index of the auto-posting or None) when the postings' booking is plain; else None."""
    currency, auto = None, None
    for index, posting in enumerate(postings):
        units = posting.units
        if (posting.cost is not None or posting.price is not None
                or (posting.meta and AUTOMATIC_RESIDUAL in posting.meta)):
            return None
        if units is MISSING:
            if auto is not None:
                return None
            auto = index
        elif not written(units):
            return None
        elif currency is None:
            currency = units.currency
        elif units.currency != currency:
            return None
    return None if currency is None else (currency, auto)


class Tolerances(dict):
    """`interpolate.infer_tolerances(postings, options_map, mode=mode)` of plain postings, each worked
    out once per load. For plain postings (no cost or price, one currency) it depends only on the
    currency and on the exponents below zero of the numbers written (a posting Beancount marked
    `__automatic__` counts for nothing): transactions alike share Beancount's answer, a read-only
    mapping, as they share their currency's name."""

    def __init__(self, options_map: dict):
        super().__init__()
        self.options_map = options_map

    def of(self, postings, currency: str, mode: str):
        exponents = set()
        for posting in postings:
            units = posting.units
            if units is not MISSING and not (posting.meta and AUTOMATIC_META in posting.meta):
                exponent = units.number.as_tuple().exponent
                if exponent < 0:
                    exponents.add(exponent)
        key = (currency, mode, frozenset(exponents))
        found = self.get(key)
        if found is None:
            found = self[key] = infer_tolerances(postings, self.options_map, mode=mode)
        return found


def book_plain(entry: Transaction, currency: str, auto: int | None, options_map: dict,
               known: Tolerances) -> Transaction:
    """The booked transaction, as Beancount's booking makes it, of a plain one (see `plain`)."""
    tolerances = known.of(entry.postings, currency, "max")
    postings = list(entry.postings)
    if auto is not None:
        residual = None  # Inventory.add_amount for one currency: a sum that reaches zero starts again
        for index, posting in enumerate(postings):
            if index != auto:
                number = posting.units.number
                residual = number if not residual else residual + number
        weight = -residual if residual else ZERO
        if weight != ZERO:
            interpolating = (known.of(entry.postings, currency, "min")
                             if options_map["use_precise_interpolation"] else tolerances)
            filled = postings[auto]._replace(
                units=Amount(quantize_with_tolerance(interpolating, currency, weight), currency))
            if filled.meta is None:
                filled = filled._replace(meta={})
            filled.meta[AUTOMATIC_META] = True
            postings[auto] = filled
        else:
            del postings[auto]
    meta = entry.meta.copy()
    meta[AUTOMATIC_TOLERANCES] = tolerances
    return entry._replace(postings=postings, meta=meta)


def book(entries, options_map, initial_balances=None):
    """What `beancount.parser.booking.book(entries, options_map)` gives: (entries, errors). Where
    Beancount's booking would stop with an arithmetic error (an amount with more digits than its
    Decimal precision can quantize), that transaction is left out with a BookingError at its line."""
    if initial_balances is not None:
        return BEANCOUNTS(entries, options_map, initial_balances)
    shapes, asked = [], set()  # each entry's shape; the accounts of the transactions that are not plain
    methods = collections.defaultdict(lambda: options_map["booking_method"])
    for entry in entries:
        shape = None
        if isinstance(entry, Transaction):
            shape = plain(entry.postings)
            if shape is None:
                asked.update(posting.account for posting in entry.postings)
        elif isinstance(entry, Open) and entry.booking:
            methods[entry.account] = entry.booking
        shapes.append(shape)
    balances = collections.defaultdict(Inventory)
    known = Tolerances(options_map)
    booked, errors, by_beancount = [], [], []
    for entry, shape in zip(entries, shapes):
        if not isinstance(entry, Transaction):
            booked.append(entry)  # booking passes every other directive through as it is
            continue
        try:
            if shape is None or (asked and any(posting.account in asked for posting in entry.postings)):
                # Beancount's booking of one transaction on the running inventories; it updates them
                # only once the transaction is booked.
                done, done_errors = booking_full.book([entry], options_map, methods, balances)
                by_beancount.extend(done)
                errors.extend(done_errors)
            else:
                done = [book_plain(entry, *shape, options_map, known)]
        except ArithmeticError:
            errors.append(BookingError(entry.meta, TOO_MANY_DIGITS, entry))
            continue
        booked.extend(done)
    return booked, errors + booking.validate_missing_eliminated(by_beancount, options_map)
