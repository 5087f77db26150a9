"""The plan workbook (XLSX): a year's agreed contributions and scheme budgets, and any new schemes.

Two sheets. "Contributions":

    Year     Partner  Source      Minimum        Agreed
    2026-27  ICB      MinimumNHS  15900000.00    15900000.00

and "Schemes" (Account optional; Split for joint schemes only; Planned benefits may be blank):

    Year  ID  Scheme  Scheme type  Area of spend  Commissioner  Split  Lead provider  Funding source
    Recurrent  New/existing  Annual budget  Planned benefits  Account

become, all dated the year's first day (1 April),

    2026-04-01 custom "s75-contribution" "2026-27" "ICB" "MinimumNHS" 15900000.00 GBP
      source: "plan-2026-27.xlsx:Contributions:4"
      minimum: 15900000.00 GBP
    2026-04-01 open Expenses:Scheme:S15 GBP                ; a scheme the ledger does not have yet
    2026-04-01 custom "s75-scheme" "S15" "Virtual wards" Expenses:Scheme:S15
      imported-from: "plan-2026-27.xlsx:Schemes:13"
      type: ... area: ... commissioner: ... (split:) provider: ... source: "MinimumNHS"
      recurrent: TRUE
      new: TRUE
      (benefits: -150000.00 GBP)
    2026-04-01 custom "s75-budget" "2026-27" "S15" 500000.00 GBP
      source: "plan-2026-27.xlsx:Schemes:13"

An s75-scheme's `source:` is its funding source (docs/ledger.md), so the row it came from is in
`imported-from:` instead. A scheme the ledger already has gets only its budget. A contribution from a
partner and source the ledger has never had also gets an `open` of its income account.

The plan is all or nothing: a bad row, an unknown partner, source or commissioner, a figure that
differs from the one the ledger already holds for the same year (a revision is a later-dated
directive in the ledger), a year whose scheme budgets do not add up exactly to its agreed
contributions or that has contributions and no budgets at all, or a row that names, types, places,
commissions, splits, provides or funds a scheme the ledger has otherwise than its register does (a
blank cell says nothing) refuses the whole workbook, naming the sheet and row (or the year), the field,
and both values. A money cell holding fractions of a penny (float noise from a pasted formula) is
named as such. A workbook with either sheet headed as the plan's, under any name, is the plan: a sheet
missing or renamed is named in the refusal.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from beancount.core import account as account_lib
from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from importers.base import FileTotals, Known, Line, AgreementImporter, known_at, refuse_rejected
from importers.gl import CURRENCY
from importers.plan_sheets import (CONTRIBUTIONS, SCHEMES, ContributionRow, SchemeRow, check_totals, find_sheet,
                                   headed_like, missing_sheets, read_contributions, read_schemes)
from importers.rows import Refused, sheet_names
from rules.entries import custom


class PlanImporter(AgreementImporter):
    """The plan workbook into s75-contribution, s75-scheme (with opens) and s75-budget directives."""

    kind = "plan"
    title = "Plan workbook (sheets Contributions and Schemes)"

    def identify(self, filepath: str) -> bool:
        """An XLSX with a sheet headed like the plan's Contributions or Schemes, by whatever name: a
        workbook that lacks a sheet, or has one renamed, is still the plan, so that reading it refuses
        it naming the sheet."""
        path = Path(filepath)
        if path.suffix.lower() != ".xlsx":
            return False
        try:
            return any(headed_like(path, sheet_names(path)).values())
        except Refused:
            return False

    def existing_keys(self, entries) -> dict[tuple, Known]:
        """The keys of the plan's directives and the accounts already in a ledger."""
        keys = {}
        for e in entries:
            if isinstance(e, data.Open):
                keys.setdefault(("open", e.account), known_at(e))
                continue
            if not isinstance(e, data.Custom):
                continue
            values = [v.value for v in e.values]
            if e.type == "s75-contribution" and len(values) >= 3:
                keys.setdefault(("contribution", *values[:3]), known_at(e))
            elif e.type == "s75-scheme" and values:
                keys.setdefault(("scheme", values[0]), known_at(e))
            elif e.type == "s75-budget" and len(values) >= 2:
                keys.setdefault(("budget", *values[:2]), known_at(e))
        return keys

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line]:
        """The workbook's directives, once all of it has been checked; Refused otherwise."""
        path = Path(filepath)
        if path.suffix.lower() != ".xlsx":
            raise Refused(f"{path.name}: the plan is an XLSX workbook with sheets {CONTRIBUTIONS} and {SCHEMES}")
        names = sheet_names(path)
        missing = missing_sheets(path, names)
        if missing:
            raise Refused(missing)
        problems: list[str] = []
        contributions = read_contributions(self.agreement, path, find_sheet(path, names, CONTRIBUTIONS), problems)
        schemes = read_schemes(self.agreement, path, find_sheet(path, names, SCHEMES), problems)
        if not problems:
            problems.extend(check_totals(self.agreement, path, contributions, schemes))
        refuse_rejected(problems)
        yield from self._contribution_lines(path, contributions)
        yield from self._scheme_lines(path, schemes)

    def sort(self, entries: data.Entries, reverse: bool = False) -> None:
        """By date, opens first, otherwise in workbook order (both sheets' row numbers are line
        numbers, so beangulp's default would interleave contributions and budgets)."""
        entries.sort(key=lambda e: (e.date, not isinstance(e, data.Open)), reverse=reverse)

    # The directives

    def _meta(self, path: Path, sheet: str, number: int, key: str = "source") -> dict:
        meta = data.new_metadata(str(path), number)
        meta[key] = f"{path.name}:{sheet}:{number}"
        return meta

    def _contribution_lines(self, path: Path, contributions: list[ContributionRow]) -> Iterator[Line]:
        held = {(c.partner, c.source) for c in self.agreement.contributions}
        for c in contributions:
            if (c.partner, c.source) not in held:  # a new income account
                held.add((c.partner, c.source))
                account = f"Income:Contribution:{c.partner}:{c.source}"
                yield Line(c.row, data.Open(self._meta(path, CONTRIBUTIONS, c.row), c.year.start, account,
                                            [CURRENCY], None), ("open", account))
            meta = self._meta(path, CONTRIBUTIONS, c.row)
            if c.minimum is not None:
                meta["minimum"] = Amount(c.minimum, CURRENCY)
            entry = custom(c.year.start, meta, "s75-contribution", c.year.label, c.partner, c.source, c.agreed)
            yield Line(c.row, entry, ("contribution", c.year.label, c.partner, c.source))

    def _scheme_lines(self, path: Path, schemes: list[SchemeRow]) -> Iterator[Line]:
        for s in schemes:
            date = s.year.start
            if s.new is not None:
                for account in s.new["accounts"]:
                    yield Line(s.row, data.Open(self._meta(path, SCHEMES, s.row), date, account, [CURRENCY], None),
                               ("open", account))
                meta = self._meta(path, SCHEMES, s.row, "imported-from")
                meta.update(s.new["meta"])
                values = [ValueType(s.id, str), ValueType(s.new["name"], str)]
                values += [ValueType(a, account_lib.TYPE) for a in s.new["accounts"]]
                yield Line(s.row, data.Custom(meta, date, "s75-scheme", values), ("scheme", s.id))
            entry = custom(date, self._meta(path, SCHEMES, s.row), "s75-budget", s.year.label, s.id, s.budget)
            yield Line(s.row, entry, ("budget", s.year.label, s.id))
