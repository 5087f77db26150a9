"""Check: no person's name or address on a payment to a person.

A line is personal when mapping.csv marks its cost centre (or its cost centre and account code) as
personal (importers.mapping; docs/importing.md, "Payments to people"): `s75 import` writes such a
line with a pseudonym for payee and a neutral narration. This check finds what was typed or pasted
there by hand, and warns at the transaction's file and line when, on a personal line (by its
`system:`, `cost-centre:` and `account-code:`),
- the payee or the narration holds a title followed by a name ("Mrs J Example", "Dr. Patel");
- the payee or the narration holds what looks like a UK postcode ("EX4 9QT", "SW1A1AA").

These are warnings, not errors (a name may be a false alarm; the books still add up): `s75 check`
prints them after its errors and they do not change its exit status. Beancount's plugins have only
errors, which would stop every import and statement, so this is not a plugin; bean-check and Fava do
not show it. Comments and other metadata are not read: `git grep` finds a name anywhere (the docs
say how).

    ; mapping.csv: council,CC4107,5430,S07,,Carers direct payment,Y
    2025-10-08 * "Mrs J Example" "Carers direct payment"     ; warning: a title and a name
      system: "council"
      ref: "GL-800002"
      cost-centre: "CC4107"
      account-code: "5430"
      Expenses:Scheme:S07   120.00 GBP
      Assets:Pool:Cash
"""
from __future__ import annotations

import re
from pathlib import Path

from beancount.core import data

from rules.entries import is_generated, where

TITLE = re.compile(r"\b(?:mr|mrs|ms|miss|mx|dr)\b\.?\s+[^\W\d_]", re.IGNORECASE)
POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
DOCS = 'docs/importing.md, "Payments to people"'
MAPPING = "mapping.csv"


def personal_warnings(entries, mapping) -> list[str]:
    """A "file:line: ..." warning for each name or postcode on a line `mapping` marks as personal."""
    if not mapping.personal:
        return []
    systems = sorted({key[0] for key in mapping.personal})
    found = []
    for entry in entries:
        if not isinstance(entry, data.Transaction) or is_generated(entry):
            continue
        cost_centre = str(entry.meta.get("cost-centre", "")).strip()
        if not cost_centre:
            continue
        code = str(entry.meta.get("account-code", ""))
        system = str(entry.meta.get("system", "")).strip().lower()
        row = next((r for r in (mapping.personal_row(s, cost_centre, code) for s in ([system] if system else systems))
                    if r is not None), None)
        if row is None:
            continue
        mapped = " ".join(part for part in row if part)
        for field, text in (("payee", entry.payee), ("narration", entry.narration)):
            if not text:
                continue
            if TITLE.search(text):
                found.append(f"{where(entry.meta)}: the {field} looks like a person's name (a title and a name) on a "
                             f"line mapped as personal ({mapped}): write the pseudonym `s75 import` gives, or no "
                             f"name ({DOCS})")
            if POSTCODE.search(text):
                found.append(f"{where(entry.meta)}: the {field} holds what looks like a UK postcode on a line mapped "
                             f"as personal ({mapped}): write no address on it ({DOCS})")
    return found


def ledger_personal_warnings(ledger: Path, entries, agreement) -> list[str]:
    """The warnings above for a ledger whose agreement is `agreement`, by the mapping.csv beside its main
    file (none when it has no mapping); a mapping that cannot be read is one warning saying so."""
    from importers.mapping import Mapping, MappingError

    path = Path(ledger).parent / MAPPING
    if not path.is_file() or not _has_personal_column(path):
        return []
    try:
        mapping = Mapping.load(path, agreement)
    except MappingError as exc:
        return [f"{exc}: payments to people not checked for names"]
    return personal_warnings(entries, mapping)


def _has_personal_column(path: Path) -> bool:
    """Whether the mapping's header names the column `personal` (else nothing in it is personal, and
    the ledger need not be read again)."""
    try:
        with open(path, "rb") as handle:
            header = handle.readline(64 * 1024)
    except OSError:
        return True  # let the mapping's reader say what is wrong
    return b"personal" in header.lower()
