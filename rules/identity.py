"""What makes a transaction the same transaction: the finance system it came from and that system's
reference for it, written on the transaction as `system:` and `ref:`.

    2025-10-02 * "Rosewood Nursing Home" "Discharge to assess beds October"
      system: "icb"
      ref: "ICB-INV-000123"
      ...

An ICB document number that happens to equal a council GL reference is a different transaction, and a
receipt (system "receipts") never collides with spend. The importers leave out a row whose identity the
ledger already has, and report a conflict when the ledger's transaction of that identity differs in
date, amount or cost centre; `rules.validate` reports two transactions of one identity.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

SYSTEM, REF = "system", "ref"
RECEIPTS = "receipts"  # the system name of contribution receipts


def identity(entry) -> tuple[str, str] | None:
    """(system, reference) of a transaction that has a `ref:`; None for one without. A `ref:` without
    `system:` has the system "" (rules.validate reports it: it cannot be told from another system's).
    Compared as finance officers read them: spaces around them and the case of letters do not count
    ("gl-100234" is GL-100234)."""
    if not isinstance(entry, data.Transaction):
        return None
    ref = entry.meta.get(REF)
    if ref is None:
        return None
    return normalise(entry.meta.get(SYSTEM, ""), ref)


def normalise(system, ref) -> tuple[str, str]:
    return (str(system).strip().lower(), str(ref).strip().upper())


@dataclass(frozen=True)
class Fingerprint:
    """What must agree for a repeat of an identity to be the same transaction, not a conflict."""

    date: object
    amount: Decimal
    cost_centre: str
    account_code: str = ""

    def agrees(self, other: "Fingerprint") -> bool:
        """Same date and amount, and the same cost centre and account code where both name one (a line
        entered by hand may not carry them; case does not count)."""
        return (self.date == other.date and self.amount == other.amount
                and _same(self.cost_centre, other.cost_centre) and _same(self.account_code, other.account_code))

    def describe(self) -> str:
        where = f", cost centre {self.cost_centre}" if self.cost_centre else ""
        code = f", account code {self.account_code}" if self.account_code else ""
        return f"{self.date} {self.amount:,.2f}{where}{code}"


def _same(a: str, b: str) -> bool:
    return not a or not b or a == b or a.strip().upper() == b.strip().upper()


def fingerprint(entry: data.Transaction) -> Fingerprint:
    """The date, the amount of the first posting (the scheme's for spend, the cash's for a receipt, as
    the importers write them), the cost centre and the account code of a transaction. The accounts are left out: a line
    moved from suspense to its scheme by hand is still the same transaction."""
    first = entry.postings[0].units if entry.postings else None
    amount = first.number if first is not None and first.number is not None else Decimal(0)
    return Fingerprint(entry.date, amount, str(entry.meta.get("cost-centre", "")),
                       str(entry.meta.get("account-code", "")))
