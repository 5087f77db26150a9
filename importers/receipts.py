"""Contribution receipts (CSV or XLSX): money a partner has paid into the pool. Each row becomes

    2025-10-15 * "NHS Example Integrated Care Board" "Minimum NHS contribution, instalment 7 of 12"
      ref: "ICB-MIN-2025-10"
      source: "receipts-2025-q3.csv:2"
      Assets:Pool:Cash                      1266666.67 GBP
      Income:Contribution:ICB:MinimumNHS   -1266666.67 GBP

with the credit to the contribution's account as the plan states it (s75-contribution for the
partner, source and the financial year of the date). The columns:

    Date,Partner,Source,Amount,Reference,Narration
    15/10/2025,ICB,MinimumNHS,"1,266,666.67",ICB-MIN-2025-10,"Minimum NHS contribution, instalment 7 of 12"

Date is dd/mm/yyyy or ISO; Partner is a partner's short name and Source a funding source's key, as
declared in the ledger; Narration is optional ("<source name> contribution" when blank). A row that
cannot be taken (bad date or amount, no reference, unknown partner or source, no contribution in the
plan for that year) is rejected; the rest of the file is still imported.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Iterator

from beancount.core import data
from beancount.core.amount import Amount

from importers.base import (AgreementImporter, FileTotals, Known, Line, control_total_rows, lookup, total_row_amount,
                            transaction_key, transaction_keys)
from importers.gl import CURRENCY
from importers.rows import Rejection, Row, data_rows
from importers.values import hidden_character, parse_date, parse_money
from rules.calendar import year_of
from rules.identity import RECEIPTS

COLUMNS = {"date": ("Date",), "partner": ("Partner",), "source": ("Source",), "amount": ("Amount",),
           "reference": ("Reference", "Ref")}
OPTIONAL = {"narration": ("Narration", "Description")}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")





class ReceiptsImporter(AgreementImporter):
    """Contribution receipts into the pool, checked against the agreement's contributions."""

    kind = "receipts"
    columns = COLUMNS
    title = "Contribution receipts (Date, Partner, Source, Amount, Reference)"

    keys_are_identities = True  # its existing_keys are the ledger's transaction_keys (base.ledger_keys)

    def existing_keys(self, entries) -> dict[tuple, Known]:
        return transaction_keys(entries)

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line | Rejection]:
        """Every data row as a Line or a Rejection; raises Refused for a file that cannot be taken."""
        path = Path(filepath)
        totals = totals if totals is not None else FileTotals()
        rows = data_rows(path, COLUMNS, OPTIONAL)
        for row in control_total_rows(rows, totals, lambda r: total_row_amount(r, ("partner", "source", "narration"))):
            yield row if isinstance(row, Rejection) else self._line(path, row, totals)

    def _line(self, path: Path, row: Row, totals: FileTotals) -> Line | Rejection:
        v = row.values

        def reject(reason: str, amount: Decimal | None = None) -> Rejection:
            return Rejection(row.file, row.number, reason, amount)

        formula = row.formula("amount", "date", "reference", "partner", "source")
        if formula:
            return reject(formula)
        try:
            amount = parse_money(v["amount"])
        except ValueError as exc:
            return reject(str(exc))
        totals.lines_total += amount
        try:
            date = parse_date(v["date"], DATE_FORMATS)
        except ValueError as exc:
            return reject(str(exc), amount)
        if not v["reference"]:
            return reject("no reference: the receipt could not be told apart from a repeat", amount)
        hidden = hidden_character(v["reference"])
        if hidden:
            return reject(f"the reference holds an invisible or control character ({hidden}): retype it", amount)
        partner = self.agreement.partner(lookup([p.partner for p in self.agreement.partners], v["partner"]) or "")
        if partner is None:
            known = ", ".join(p.partner for p in self.agreement.partners) or "none declared"
            return reject(f'unknown partner "{v["partner"]}" (partners: {known})', amount)
        source = lookup(self.agreement.sources, v["source"])
        if source is None:
            known = ", ".join(self.agreement.sources) or "none declared"
            return reject(f'unknown funding source "{v["source"]}" (sources: {known})', amount)
        year = year_of(date)
        contribution = next((c for c in self.agreement.contributions
                             if (c.year, c.partner, c.source) == (year, partner.partner, source)), None)
        if contribution is None:
            return reject(f"no {year.label} contribution from {partner.partner} ({source}) in the plan", amount)
        meta = data.new_metadata(str(path), row.number)
        meta.update({"system": RECEIPTS, "ref": v["reference"], "source": f"{row.file}:{row.number}"})
        name = self.agreement.sources[source]
        narration = v.get("narration") or (name if name.lower().endswith("contribution") else f"{name} contribution")
        entry = data.Transaction(
            meta, date, "*", partner.name, narration, data.EMPTY_SET, data.EMPTY_SET,
            [data.Posting(self.cash_account, Amount(amount, CURRENCY), None, None, None, None),
             data.Posting(contribution.account, Amount(-amount, CURRENCY), None, None, None, None)])
        return Line(row.number, entry, transaction_key(RECEIPTS, v["reference"]), amount)
