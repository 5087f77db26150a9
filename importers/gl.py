"""Finance-system ledger extracts (the host council's GL, the ICB's ledger) into spend transactions.

A `Layout` declares an extract's columns, date formats and sign convention; `LedgerExtract` is the
beangulp importer that reads any such layout. Each line becomes

    2025-05-02 * "Acme Homecare Ltd" "Reablement packages April"
      ref: "GL-100234"
      source: "council-gl-2025-05.csv:17"
      cost-centre: "CC4102"
      account-code: "5410"
      Expenses:Scheme:S02       48211.40 GBP
      Assets:Pool:Cash

with the scheme's account from the cost-centre mapping, or Expenses:Suspense and the ! flag when
the cost centre is not mapped. What happens to each kind of bad row is in docs/importing.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from beancount.core import data
from beancount.core.amount import Amount

from importers.base import FileTotals, Known, Line, RowImporter, transaction_key, transaction_keys
from importers.mapping import SUSPENSE, Mapping
from importers.rows import Rejection, Row, data_rows
from importers.values import hidden_character, parse_date, parse_money

CURRENCY = "GBP"
TOTAL_WORDS = ("total", "grand total", "control total")


@dataclass(frozen=True)
class Layout:
    system: str  # the mapping's system name: "council", "icb"
    title: str
    columns: dict[str, tuple[str, ...]]  # field -> accepted header names; all required
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ("%d/%m/%Y",)
    spend_sign: int = 1  # +1: spend is positive in the extract; -1: spend is negative (credit convention)


class LedgerExtract(RowImporter):
    """Importer for one extract layout. `mapping` sends cost centres to scheme accounts."""

    def __init__(self, layout: Layout, mapping: Mapping, cash_account: str = "Assets:Pool:Cash"):
        super().__init__(cash_account)
        self.layout, self.mapping = layout, mapping
        self.kind, self.title, self.columns = layout.system, layout.title, layout.columns

    def existing_keys(self, entries) -> dict[tuple, Known]:
        return transaction_keys(entries)

    def filename(self, filepath: str) -> str:
        return f"{self.layout.system}-{Path(filepath).name}"

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line | Rejection]:
        """Every data row as a Line or a Rejection; raises Refused for a file that cannot be taken."""
        path = Path(filepath)
        totals = totals if totals is not None else FileTotals()
        pending: Row | None = None  # a total row, taken as the control total if it ends its sheet
        for row in data_rows(path, self.layout.columns, self.layout.optional):
            if isinstance(row, Rejection):
                yield row
                continue
            if pending is not None and pending.file == row.file:  # a total row that was not the last row
                yield Rejection(pending.file, pending.number, "a total row in the middle of the file")
                pending = None
            elif pending is not None:  # the last row of an earlier sheet
                self._add_control(totals, pending)
                pending = None
            if self._total_row(row) is not None:
                pending = row
                continue
            yield self._line(path, row, totals)
        if pending is not None:
            self._add_control(totals, pending)

    def _add_control(self, totals: FileTotals, row: Row) -> None:
        totals.control_total = (totals.control_total or Decimal("0.00")) + self._total_row(row)

    def _total_row(self, row: Row) -> Decimal | None:
        """A trailing total row: no reference and no date, a 'total' label, and an amount."""
        v = row.values
        if v.get("reference") or v.get("date"):
            return None
        labels = " ".join(v.get(f, "") for f in ("supplier", "description", "cost_centre")).lower()
        if not any(word in labels for word in TOTAL_WORDS):
            return None
        try:
            return self.layout.spend_sign * parse_money(v.get("amount", ""))
        except ValueError:
            return None

    def _line(self, path: Path, row: Row, totals: FileTotals) -> Line | Rejection:
        v = row.values
        formula = row.formula("amount", "date", "reference", "cost_centre", "account_code")
        if formula:
            return Rejection(row.file, row.number, formula)
        try:
            amount = self.layout.spend_sign * parse_money(v["amount"])
        except ValueError as exc:
            return Rejection(row.file, row.number, str(exc))
        totals.lines_total += amount
        currency = v.get("currency", "").upper()
        if currency and currency != CURRENCY:
            return Rejection(row.file, row.number, f"currency {currency}, the pool keeps {CURRENCY}", amount)
        try:
            date = parse_date(v["date"], self.layout.date_formats + ("%Y-%m-%d",))
        except ValueError as exc:
            return Rejection(row.file, row.number, str(exc), amount)
        if not v["reference"]:
            return Rejection(row.file, row.number, "no transaction reference: it could not be "
                                                   "told apart from a repeat", amount)
        hidden = hidden_character(v["reference"])
        if hidden:
            return Rejection(row.file, row.number, f"the reference holds an invisible or control character "
                                                   f"({hidden}): retype it in the finance system's form", amount)
        account = self.mapping.account(self.layout.system, v["cost_centre"], v["account_code"])
        meta = data.new_metadata(str(path), row.number)
        meta.update({"system": self.layout.system, "ref": v["reference"], "source": f"{row.file}:{row.number}",
                     "cost-centre": v["cost_centre"], "account-code": v["account_code"]})
        entry = data.Transaction(
            meta, date, "*" if account else "!", v["supplier"] or None, v["description"],
            data.EMPTY_SET, data.EMPTY_SET,
            [data.Posting(account or SUSPENSE, Amount(amount, CURRENCY), None, None, None, None),
             data.Posting(self.cash_account, Amount(-amount, CURRENCY), None, None, None, None)])
        return Line(row.number, entry, transaction_key(self.layout.system, v["reference"]), amount, account is None)


