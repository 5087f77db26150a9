"""Finance-system ledger extracts (the host council's GL, the ICB's ledger) into spend transactions.

A `Layout` declares an extract's columns, date formats and sign convention; `LedgerExtract` is the
beangulp importer that reads any such layout. Each line becomes

    2025-05-02 * "Acme Homecare Ltd" "Reablement packages April"
      ref: "GL-100234"
      source: "council-gl-2025-05.csv:17"
      cost-centre: "CC4102"
      account-code: "5410"
      order: "PO-4410"                ; when the extract has an order column (rules.commitments)
      Expenses:Scheme:S02       48211.40 GBP
      Assets:Pool:Cash

with the scheme's account from the cost-centre mapping, or Expenses:Suspense and the ! flag when
the cost centre is not mapped. A line the mapping marks as personal (a payment to a person) is
written with a pseudonym for payee ("Person 7F3A9C21", importers.personal) and the mapping row's
note for narration, keeping neither the supplier's name nor the description; without a pseudonym
key it is rejected. What happens to each kind of bad row is in docs/importing.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from beancount.core import data
from beancount.core.amount import Amount

from importers.base import (FileTotals, Known, Line, PendingLine, RowImporter, control_total_rows, total_row_amount,
                            transaction_key, transaction_keys)
from importers.mapping import SUSPENSE, Mapping
from importers.personal import Pseudonyms, normalise_name
from rules.commitments import ORDER
from rules.entries import PERSONAL
from importers.rows import Rejection, Row, data_rows
from importers.values import hidden_character, parse_date, parse_money
from rules.identity import Fingerprint

CURRENCY = "GBP"


@dataclass(frozen=True)
class Layout:
    system: str  # the mapping's system name: "council", "icb"
    title: str
    columns: dict[str, tuple[str, ...]]  # field -> accepted header names; all required
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_formats: tuple[str, ...] = ("%d/%m/%Y",)
    spend_sign: int = 1  # +1: spend is positive in the extract; -1: spend is negative (credit convention)


class LedgerExtract(RowImporter):
    """Importer for one extract layout. `mapping` sends cost centres to scheme accounts; `pseudonyms`
    (set by importers.config, else read from the environment when a personal line is first met) name
    the recipients of personal lines."""

    pseudonyms: Pseudonyms | None = None

    def __init__(self, layout: Layout, mapping: Mapping, cash_account: str = "Assets:Pool:Cash"):
        super().__init__(cash_account)
        self.layout, self.mapping = layout, mapping
        self._mapping_of: dict[tuple[str, str], tuple] = {}
        self.kind, self.title, self.columns = layout.system, layout.title, layout.columns

    keys_are_identities = True  # its existing_keys are the ledger's transaction_keys (base.ledger_keys)

    def existing_keys(self, entries) -> dict[tuple, Known]:
        return transaction_keys(entries)

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line | Rejection]:
        """Every data row as a Line or a Rejection; raises Refused for a file that cannot be taken."""
        path = Path(filepath)
        totals = totals if totals is not None else FileTotals()
        rows = data_rows(path, self.layout.columns, self.layout.optional)
        for row in control_total_rows(rows, totals, self._total_row):
            yield row if isinstance(row, Rejection) else self._line(path, row, totals)

    def _total_row(self, row: Row) -> Decimal | None:
        """A trailing total row: no reference and no date, a 'total' label, and an amount."""
        amount = total_row_amount(row, ("supplier", "description", "cost_centre"))
        return None if amount is None else self.layout.spend_sign * amount

    def _line(self, path: Path, row: Row, totals: FileTotals) -> Line | Rejection:
        v = row.values
        formula = row.formula("amount", "date", "reference", "cost_centre", "account_code") if row.formulas else None
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
        for field in ("reference", "order"):
            hidden = hidden_character(v.get(field, ""))
            if hidden:
                return Rejection(row.file, row.number, f"the {field} holds an invisible or control character "
                                                       f"({hidden}): retype it in the finance system's form", amount)
        account, personal = self._mapped(v["cost_centre"], v["account_code"])
        payee, narration = v["supplier"] or None, v["description"]
        if personal is not None:
            if self.pseudonyms is None:
                self.pseudonyms = Pseudonyms.from_environment()
            if self.pseudonyms.problem:
                code = f" account code {v['account_code']}" if v["account_code"] else ""
                return Rejection(row.file, row.number, f"cost centre {v['cost_centre']}{code} is mapped as personal "
                                                       f"and {self.pseudonyms.problem}; the row is not written",
                                 amount)
            payee = self.pseudonyms.of(v["supplier"]) if normalise_name(v["supplier"]) else None
            narration = personal
        source = f"{row.file}:{row.number}"
        # The transaction is made only when it is needed (a row the ledger holds never needs it): its
        # fingerprint, as rules.identity.fingerprint would read it from the transaction, is made here.
        return PendingLine.of(row.number, self._transaction, (path, row.number, v, source, date, amount, account,
                                                              payee, narration, personal is not None),
                              transaction_key(self.layout.system, v["reference"]), amount, account is None,
                              Fingerprint(date, amount, v["cost_centre"], v["account_code"]), source)

    def _mapped(self, cost_centre: str, account_code: str) -> tuple[str | None, str | None]:
        """The account mapping.csv gives the line, and its narration when it is mapped as personal (a
        lookup per cost centre and account code, not per row)."""
        key = (cost_centre, account_code)
        found = self._mapping_of.get(key)
        if found is None:
            system = self.layout.system
            found = self._mapping_of[key] = (self.mapping.account(system, cost_centre, account_code),
                                             self.mapping.personal_narration(system, cost_centre, account_code))
        return found

    def _transaction(self, path: Path, number: int, v: dict, source: str, date, amount: Decimal,
                     account: str | None, payee, narration, personal: bool) -> data.Transaction:
        meta = data.new_metadata(str(path), number)
        meta.update({"system": self.layout.system, "ref": v["reference"], "source": source,
                     "cost-centre": v["cost_centre"], "account-code": v["account_code"]})
        order = " ".join(v.get("order", "").split())
        if order:  # the order it draws down (rules.commitments)
            meta[ORDER] = order
        if personal:
            meta[PERSONAL] = True
        return data.Transaction(
            meta, date, "*" if account else "!", payee, narration,
            data.EMPTY_SET, data.EMPTY_SET,
            [data.Posting(account or SUSPENSE, Amount(amount, CURRENCY), None, None, None, None),
             data.Posting(self.cash_account, Amount(-amount, CURRENCY), None, None, None, None)])


