"""What `s75 check` says about Expenses:Suspense: each imported line held there, at its file and line,
and what to do with it. A line whose cost centre mapping.csv now sends to a scheme is named with that
scheme's account; one still unmapped needs a row in mapping.csv first. Moving a line out of suspense
is an edit of that line (its account, and its flag from ! to *) while its month is open; once the
month is locked, a reclassification entered in the first open month with adjusts: (docs/importing.md,
"Clearing suspense").
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from importers.config import MAPPING
from importers.mapping import Mapping, MappingError
from rules.agreement import Agreement
from rules.directives import SUSPENSE
from rules.entries import where
from rules.position import suspense_postings

SHOWN = 10  # lines named before "and N more"


def suspense_warnings(ledger: Path, entries, agreement: Agreement) -> list[str]:
    """The warnings, one line each: the total held, then each line held (up to SHOWN)."""
    held = suspense_postings(entries)
    total = sum((posting.units.number for _, posting in held), Decimal(0))
    if not total:
        return []  # nothing held (a line moved out by a later entry nets to nil)
    mapping = _mapping(ledger, agreement)
    lines = [f"{SUSPENSE} holds {total:,.2f} in {len(held)} line{'s' if len(held) != 1 else ''} (the year cannot "
             "be closed until it is nil); move each to its scheme (docs/importing.md, \"Clearing suspense\"):"]
    for entry, posting in held[:SHOWN]:
        meta = entry.meta
        system, centre, code = (str(meta.get(k, "")) for k in ("system", "cost-centre", "account-code"))
        account = mapping.account(system, centre, code) if mapping is not None and centre else None
        line = where(posting.meta or meta)
        said = f"{system} cost centre {centre}" + (f" {code}" if code else "") if centre else "no cost centre"
        if account:
            lines.append(f"  {line}: {posting.units.number:,.2f} ({said}): mapping.csv now sends it to {account}; "
                         "change the line's account to that, and its flag from ! to *")
        else:
            lines.append(f"  {line}: {posting.units.number:,.2f} ({said}): not in mapping.csv; add a row for it, "
                         "then change the line's account to the scheme's")
    if len(held) > SHOWN:
        lines.append(f"  and {len(held) - SHOWN} more")
    return lines


def _mapping(ledger: Path, agreement: Agreement) -> Mapping | None:
    path = Path(ledger).parent / MAPPING
    if not path.is_file():
        return None
    try:
        return Mapping.load(path, agreement)
    except (MappingError, OSError):
        return None  # s75 import reports a broken mapping; here the lines are still listed
