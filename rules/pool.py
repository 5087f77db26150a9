"""Plugin: the agreement's rules in one module: rules.tranches (with the accruals, rules.accruals), then
rules.settlement, then rules.validate, on one list of entries.

    plugin "rules.pool"

does what the three lines

    plugin "rules.tranches"
    plugin "rules.settlement"
    plugin "rules.validate"

do, giving the same entries and the same errors in the same order, but Beancount re-sorts every
entry after each plugin module, so one module is one re-sort of the ledger instead of three. It
also reads the ledger's directives once: one pass over the entries collects the custom directives
and the opened accounts, the agreement is read from those directives, and each rule is given it
(read again, from the directives only, when tranches has written virements, which the settlement
and the check must see). What the rules write is put into its place in the date-ordered list as
Beancount's sort would put it, so each rule sees the list the three modules would have given it.

The three modules still work on their own (a ledger may keep the three lines); reports.ledger
accepts either spelling, and refuses rules.pool together with any of the three (a rule run twice).
"""
from __future__ import annotations

import bisect

from beancount.core import data

from rules.accruals import accrual_entries
from rules.reader import read_agreement
from rules.settlement import settlement_entries
from rules.tranches import tranche_entries
from rules.validate import check

__plugins__ = ("pool",)

# How many new entries are inserted one by one; more are added to the end and the list sorted.
_INSERT_AT_MOST = 64


def pool(entries, options_map, config=None):
    customs, opened = _directives(entries)
    agreement, agreement_errors = read_agreement(customs)
    errors = []

    new, found = tranche_entries(agreement, opened)
    errors.extend(found)
    accruals, found = accrual_entries(agreement, opened)
    new, errors = new + accruals, errors + found
    entries = _merged(entries, new)
    opened.update(e.account for e in new if type(e) is data.Open)
    written = [e for e in new if type(e) is data.Custom and e.type.startswith("s75-")]
    if written:  # the virements change budgets: settlement and the check read them as part of the agreement
        agreement, agreement_errors = read_agreement(_merged(customs, written))

    new, found = settlement_entries(entries, agreement, opened)
    errors.extend(found)
    entries = _merged(entries, new)
    opened.update(e.account for e in new if type(e) is data.Open)
    # (settlement writes transactions and openings only: the agreement it read stands for the check)

    errors.extend(agreement_errors)
    errors.extend(check(entries, options_map, agreement, opened))
    return entries, errors


def _directives(entries) -> tuple[list, set[str]]:
    """The pool's custom directives (in the entries' order) and the accounts opened, in one pass."""
    customs, opened = [], set()
    custom, open_ = data.Custom, data.Open
    for entry in entries:
        kind = type(entry)
        if kind is custom:
            if entry.type.startswith("s75-"):
                customs.append(entry)
        elif kind is open_:
            opened.add(entry.account)
    return customs, opened


def _merged(entries: list, new: list) -> list:
    """`entries` (in Beancount's order) with `new` in the places Beancount's stable sort of
    `entries + new` would give them: after every entry of the same sort key, in the order written."""
    if not new:
        return entries
    if len(new) > _INSERT_AT_MOST:
        merged = entries + new
        merged.sort(key=data.entry_sortkey)
        return merged
    merged = list(entries)
    for entry in new:
        bisect.insort_right(merged, entry, key=data.entry_sortkey)
    return merged
