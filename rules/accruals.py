"""Month-end accruals as entries: for each `s75-accrual` (rules.commitments), the spend incurred in the
month against an order and not yet invoiced, on the month's last day, and its reversal on the next day.

    2025-09-30 * "Acme Homecare Ltd" "Accrual for September: PO-4410, September packages delivered ..."
      #s75-generated  rule: "accrual"  directive: "ledger/2025-26/accruals.beancount:3"  order: "PO-4410"
      Expenses:Scheme:S08        12000.00 GBP
      Liabilities:Accruals      -12000.00 GBP
    2025-10-01 * "Acme Homecare Ltd" "Accrual for September reversed: PO-4410"
      #s75-generated  rule: "accrual reversed"  ...  order: "PO-4410"
      Expenses:Scheme:S08       -12000.00 GBP
      Liabilities:Accruals       12000.00 GBP

So the month end's actual includes what was delivered, the order is drawn down by it for that day,
and the next month starts as if it had not been accrued: the invoice, when it comes, is the spend.
Liabilities:Accruals is opened (from the first accrual) when the ledger does not open it.

Pure: `accrual_entries(agreement, opened)` returns (new entries, errors). rules.pool runs it with the
tranche entries (and rules.tranches' own plugin does, for ledgers that list the three modules).
"""
from __future__ import annotations

import datetime

from rules.entries import generated_meta, openings, transaction

ACCRUALS = "Liabilities:Accruals"


def accrual_entries(agreement, opened: set[str]) -> tuple[list, list]:
    new, wanted = [], {}
    for accrual in agreement.accruals:
        commitment = agreement.commitment(accrual.reference)
        scheme = agreement.scheme(commitment.scheme)
        if scheme is None:
            continue
        account = scheme.accounts[0]
        wanted.setdefault(ACCRUALS, (accrual.date, accrual.meta))
        said = f": {accrual.note}" if accrual.note else ""
        month = f"{accrual.date:%B}"
        new.append(transaction(accrual.date, generated_meta("accrual", accrual.meta, order=accrual.reference),
                               commitment.supplier, f"Accrual for {month}: {accrual.reference}{said}",
                               [(account, accrual.amount), (ACCRUALS, -accrual.amount)]))
        new.append(transaction(accrual.date + datetime.timedelta(days=1),
                               generated_meta("accrual reversed", accrual.meta, order=accrual.reference),
                               commitment.supplier, f"Accrual for {month} reversed: {accrual.reference}",
                               [(account, -accrual.amount), (ACCRUALS, accrual.amount)]))
    return new + openings(opened, wanted, "accrual"), []
