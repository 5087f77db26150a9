"""Beancount's load with quicker ways to the same answer, for the steps that do work for nothing.

Beancount runs, on every load, its own plugins (documents before the ledger's plugins; pad and balance
after them), sorting all the entries again after each plugin module, and then its validation. Three of
these steps do work that cannot change the answer on most ledgers; `quick_load()`, around a load, takes
the quicker way in each and leaves every other step as it is:

- The balance of every transaction. Beancount checks again, after the plugins, that every transaction
  balances: for each it adds each posting's weight into an Inventory, infers tolerances from the
  numbers, and asks whether what is left is small (about 2 s at 250,000 payments). A posting with no
  cost and no price weighs its units, and an Inventory keeps, per currency, the running sum of what
  was added (starting again from the next number once a sum reaches zero, and leaving a zero out).
  When every currency's sum ends at exactly zero the Inventory is empty, and an empty Inventory is
  small whatever the tolerances: Beancount's check cannot fail it. `transaction_balances` passes those
  on that sum, made in the same order with the same Decimal arithmetic, and gives every other
  transaction (a cost, a price, a posting Beancount added to absorb a residual, a number that is not a
  Decimal, a sum that is not zero) to Beancount's own check, so every error is Beancount's, in its
  words and order.
- Documents. Without `option "documents"` Beancount's step finds nothing, then sorts every entry; the
  loader sorts them again straight after it, so that sort is left to the loader.
- Pad and balance. Without a pad directive Beancount's pad step still sorts every posting by account
  to return the entries as they were; it is passed over. Beancount's balance assertions add up, in
  one pass over every transaction, the accounts asserted, their sub-accounts and their parents; it is
  given only the transactions with a posting to one of those (and every other directive), and the
  assertions it gives back (a failed one carries its difference) are put back in their places. Pad
  and the assertions run as two functions of one plugin module (each still apart, as the loader runs
  them: an error in one does not stop the other), so the loader sorts the entries once after them
  rather than twice.

Booking, before all of these, is reports.quick_booking's: Beancount's own for every transaction
whose booking is not plain.

It does so by changing, while the load runs, the lists Beancount reads its steps from:
`loader.PLUGINS_PRE`, `loader.PLUGINS_POST` and `validation.VALIDATIONS`, and the booking module the
loader calls. A step is replaced only where it is still Beancount's own, as Beancount 3.2 has it;
anything else is left alone.
"""
from __future__ import annotations

import contextlib
import threading
from decimal import Decimal

from beancount import loader
from beancount.core import account as accounts
from beancount.core.data import Balance, Pad, Transaction
from beancount.core.interpolate import AUTOMATIC_RESIDUAL
from beancount.ops import balance, documents, pad as beancount_pad, validation
from beancount.parser import booking

from reports import quick_booking

BEANCOUNTS = validation.validate_check_transaction_balances
THIS = __name__
BEFORE, AFTER = "before the ledger's plugins", "after the ledger's plugins"
_CHANGING = threading.RLock()  # one load at a time changes the lists and puts them back
STEPS = {"before": ([("beancount.ops.documents", None)], [(THIS, BEFORE)]),
         "after": ([("beancount.ops.pad", None), ("beancount.ops.balance", None)], [(THIS, AFTER)])}


def sums_to_zero(postings) -> bool:
    """Whether Beancount's residual of `postings` is certainly empty: no cost, no price, no residual
    posting, Decimal numbers, and each currency's running sum ending at zero. False means "ask
    Beancount", not "does not balance"."""
    sums: dict[str, Decimal] = {}
    for posting in postings:
        units = posting.units
        if (posting.cost is not None or posting.price is not None or not quick_booking.written(units)
                or (posting.meta and AUTOMATIC_RESIDUAL in posting.meta)):
            return False
        total = sums.get(units.currency)
        # Inventory.add_amount: a new position holds the number as it is; an existing one is summed.
        sums[units.currency] = units.number if not total else total + units.number
    return not any(sums.values())


def transaction_balances(entries, options_map):
    """The errors of `validation.validate_check_transaction_balances(entries, options_map)`: the
    transactions that do not certainly sum to zero are given to it; the rest pass."""
    doubtful = [entry for entry in entries if isinstance(entry, Transaction) and not sums_to_zero(entry.postings)]
    return BEANCOUNTS(doubtful, options_map)


# The plugin module's functions, in the loader's order; each does its step only at its place.

def find_documents(entries, options_map, place):
    if place != BEFORE:
        return entries, []
    if not options_map["documents"]:
        return entries, []  # nothing to find; the loader sorts the entries after this module
    return documents.process_documents(entries, options_map)


def verify_documents(entries, options_map, place):
    return documents.verify_document_files_exist(entries, options_map) if place == BEFORE else (entries, [])


def pad(entries, options_map, place):
    if place != AFTER or not any(isinstance(entry, Pad) for entry in entries):
        return entries, []
    return beancount_pad.pad(entries, options_map)


def balance_assertions(entries, options_map, place):
    if place != AFTER:
        return entries, []
    asserted = {entry.account for entry in entries if isinstance(entry, Balance)}
    matches = [accounts.parent_matcher(name) for name in asserted]  # the account or one under it
    parents = {parent for name in asserted for parent in accounts.parents(name)}
    counted: dict[str, bool] = {}
    relevant = []
    for entry in entries:
        if isinstance(entry, Transaction):
            for posting in entry.postings:
                name = posting.account
                found = counted.get(name)
                if found is None:
                    found = counted[name] = name in parents or any(match(name) for match in matches)
                if found:
                    break
            else:
                continue
        relevant.append(entry)
    if len(relevant) == len(entries):
        return balance.check(entries, options_map)
    checked, errors = balance.check(relevant, options_map)
    assertions = iter([entry for entry in checked if isinstance(entry, Balance)])
    return [next(assertions) if isinstance(entry, Balance) else entry for entry in entries], errors


__plugins__ = ("find_documents", "verify_documents", "pad", "balance_assertions")


def _replaced(steps: list, beancounts: list, ours: list) -> list:
    return list(ours) if list(steps) == beancounts else steps


@contextlib.contextmanager
def quick_load():
    """Beancount's loader and validation with the quicker steps above in the place of its own. Loads in
    other threads wait (the lists are the module's), a load within a load does not."""
    with _CHANGING:
        saved = loader.PLUGINS_PRE, loader.PLUGINS_POST, validation.VALIDATIONS, loader.booking
        if loader.booking is booking:
            loader.booking = quick_booking  # the loader calls its module's book(entries, options_map)
        loader.PLUGINS_PRE = _replaced(loader.PLUGINS_PRE, *STEPS["before"])
        loader.PLUGINS_POST = _replaced(loader.PLUGINS_POST, *STEPS["after"])
        validation.VALIDATIONS = [transaction_balances if check is validation.validate_check_transaction_balances
                                  else check for check in validation.VALIDATIONS]
        try:
            yield
        finally:
            loader.PLUGINS_PRE, loader.PLUGINS_POST, validation.VALIDATIONS, loader.booking = saved
