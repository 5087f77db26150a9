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

import beangulp
from beancount.core import data
from beancount.core.amount import Amount

from importers.gl import CURRENCY, FileTotals, Line, reference_keys
from importers.rows import Refused, Rejection, Row, data_rows, header_row, parse_date, parse_money
from rules.agreement import Agreement
from rules.calendar import year_of

COLUMNS = {"date": ("Date",), "partner": ("Partner",), "source": ("Source",), "amount": ("Amount",),
           "reference": ("Reference", "Ref")}
OPTIONAL = {"narration": ("Narration", "Description")}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def refuse_rejected(rejected: list) -> None:
    """Raise Refused naming the rejected rows (the first twenty), if there are any."""
    if rejected:
        raise Refused("; ".join(str(r) for r in rejected[:20]) +
                      (f"; and {len(rejected) - 20} more" if len(rejected) > 20 else ""))


def identifies(filepath: str, columns: dict[str, tuple[str, ...]]) -> bool:
    """A CSV or XLSX whose header row has every required column."""
    path = Path(filepath)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        return False
    try:
        headers = {h.lower() for h in header_row(path)}
    except Refused:
        return False
    return all(any(n.lower() in headers for n in names) for names in columns.values())


def lookup(names, text: str) -> str | None:
    """The declared name matching `text` exactly, else the only one matching it ignoring case."""
    if text in names:
        return text
    matches = [n for n in names if n.lower() == text.lower()]
    return matches[0] if len(matches) == 1 else None


class ReceiptsImporter(beangulp.Importer):
    """Contribution receipts into the pool, checked against the agreement's contributions."""

    title = "Contribution receipts (Date, Partner, Source, Amount, Reference)"

    def __init__(self, agreement: Agreement, cash_account: str = "Assets:Pool:Cash"):
        self.agreement, self.cash_account = agreement, cash_account

    @property
    def name(self) -> str:
        return "s75.receipts"

    def identify(self, filepath: str) -> bool:
        return identifies(filepath, COLUMNS)

    def account(self, filepath: str) -> str:
        return self.cash_account

    def filename(self, filepath: str) -> str:
        name = Path(filepath).name
        return name if name.lower().startswith("receipts") else f"receipts-{name}"

    def existing_keys(self, entries) -> set[tuple]:
        return reference_keys(entries)

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line | Rejection]:
        """Every data row as a Line or a Rejection; raises Refused for a file that cannot be taken."""
        path = Path(filepath)
        totals = totals if totals is not None else FileTotals()
        for row in data_rows(path, COLUMNS, OPTIONAL):
            yield row if isinstance(row, Rejection) else self._line(path, row, totals)

    def extract(self, filepath: str, existing: data.Entries) -> data.Entries:
        """beangulp's entry point: the file's receipts (less any whose reference the ledger already
        has), or Refused naming every bad row."""
        lines, rejected = [], []
        for item in self.read(filepath):
            (rejected if isinstance(item, Rejection) else lines).append(item)
        refuse_rejected(rejected)
        known = self.existing_keys(existing or [])
        return [line.entry for line in lines if line.key not in known]

    def _line(self, path: Path, row: Row, totals: FileTotals) -> Line | Rejection:
        v = row.values

        def reject(reason: str, amount: Decimal | None = None) -> Rejection:
            return Rejection(path.name, row.number, reason, amount)

        if "amount" in row.formulas:
            return reject(f"amount is a formula ({v['amount']}): export values")
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
        meta.update({"ref": v["reference"], "source": f"{path.name}:{row.number}"})
        narration = v.get("narration") or f"{self.agreement.sources[source]} contribution"
        entry = data.Transaction(
            meta, date, "*", partner.name, narration, data.EMPTY_SET, data.EMPTY_SET,
            [data.Posting(self.cash_account, Amount(amount, CURRENCY), None, None, None, None),
             data.Posting(contribution.account, Amount(-amount, CURRENCY), None, None, None, None)])
        return Line(row.number, entry, ("ref", v["reference"]), amount)
