"""Check: every penny counted once.

A transaction's identity is the finance system it came from and that system's reference for it,
`system:` and `ref:` (rules.identity). Adds no entries. Reports, at the file and line of each
entry at fault:
- two or more transactions of the same identity, at every one of them, each naming where the
  others are (the same line imported twice, or typed and then imported);
- a transaction with `ref:` but no `system:` (it cannot be told from another system's reference);
- an entry tagged #s75-generated that was read from a ledger file: the rules make those entries at
  load (tranches, settlement), so a pasted copy counts it twice, e.g. doubles what the pool owes a
  partner. Generated entries carry the mark rules.entries.GENERATED, which no parsed entry can.

rules.validate runs it, so bean-check, `s75 check` and Fava report the same.

    ; ledger/2025-26/spend-2025-05.beancount
    2025-05-02 * "Acme Homecare Ltd" "S02 Reablement packages April"
      system: "council"
      ref: "GL-100234"
      Expenses:Scheme:S02   48211.40 GBP
      Assets:Pool:Cash
    ; ledger/imports/2025-10-03.beancount, line 14: the same line imported again
    2025-05-02 * "Acme Homecare Ltd" "Reablement"
      system: "council"
      ref: "GL-100234"
      Expenses:Scheme:S02   48211.40 GBP
      Assets:Pool:Cash

is an error at both, the first reading "system council, ref GL-100234 is also at
ledger/imports/2025-10-03.beancount:14: counted twice".
"""
from __future__ import annotations

from beancount.core import data

from rules.directives import S75Error, error
from rules.entries import TAG, is_generated, where
from rules.identity import REF, SYSTEM, normalise


def double_counts(entries) -> list[S75Error]:
    """The errors above, in one pass over the entries (a list per identity only for those seen twice)."""
    entries = entries if isinstance(entries, list) else list(entries)
    errors = []
    first: dict[tuple[str, str], int] = {}  # identity -> the place of the entry with it first
    again: dict[tuple[str, str], list] = {}
    transaction = data.Transaction
    for place, entry in enumerate(entries):
        if type(entry) is not transaction:  # as rules.identity.identity: only transactions have one
            tags = getattr(entry, "tags", None)
            if tags and TAG in tags and not is_generated(entry):
                errors.append(_pasted(entry))
            continue
        if entry.tags and TAG in entry.tags and not is_generated(entry):
            errors.append(_pasted(entry))
        meta = entry.meta
        ref = meta.get(REF)
        if ref is None:
            continue
        system = meta.get(SYSTEM, "")
        if type(system) is str and type(ref) is str:  # rules.identity.normalise, without its call
            key = (system.strip().lower(), ref.strip().upper())
        else:
            key = normalise(system, ref)
        if not key[0]:
            errors.append(error(entry, f'ref "{key[1]}" has no system: add `system:` before it, the finance '
                                       "system it came from (e.g. council, icb, receipts)"))
            continue
        earlier = first.setdefault(key, place)
        if earlier != place:
            again.setdefault(key, [entries[earlier]]).append(entry)
    for (system, ref), same in sorted(again.items(), key=lambda item: first[item[0]]):  # in order of the first
        times = "twice" if len(same) == 2 else f"{len(same)} times"
        for entry in same:
            others = ", ".join(where(other.meta) for other in same if other is not entry)
            errors.append(error(entry, f"system {system}, ref {ref} is also at {others}: counted {times}"))
    return errors


def _pasted(entry) -> S75Error:
    return error(entry, f"this entry is tagged #{TAG} but is written in the ledger: the rules make it at load, "
                        "so this copy counts it twice; delete it")
