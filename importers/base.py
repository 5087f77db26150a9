"""What every importer here shares, on beangulp's Importer: recognising a file by its columns,
the cash account, the rows read as `Line`s (with the key that tells a line from a repeat), and
beangulp's `extract` as all-or-nothing: every entry of the file, or `Refused` naming each bad row.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import beangulp
from beancount.core import data

from importers.rows import Refused, Rejection, Row, has_layout, header_row, layout_sheets
from importers.values import parse_money
from rules.agreement import Agreement
from rules.entries import where as entry_location
from rules.identity import REF, SYSTEM, Fingerprint, fingerprint, normalise


@dataclass(frozen=True)
class Line:
    """One row read successfully: the entry it becomes, the key that tells it from a repeat (the
    transaction reference for money; the directive's identity for plans and metrics), its amount
    where it has one, and whether it went to suspense."""

    number: int
    entry: data.Directive
    key: tuple
    amount: Decimal | None = None
    suspense: bool = False
    fingerprint: object = None  # what must agree for a repeat (a transaction's comes from its entry)
    where: str | None = None  # "file:row" it came from (else its entry's `source:`)


class PendingLine(Line):
    """A Line whose entry is made only when first asked for (`make(*args)`): a row the ledger already
    holds is told by its key, fingerprint and where, and its entry is never made. It is a Line in
    every other way (`dataclasses.replace` of it gives a Line with the entry given)."""

    @classmethod
    def of(cls, number: int, make, args: tuple, key: tuple, amount=None, suspense: bool = False,
           fingerprint=None, where: str | None = None) -> "PendingLine":
        line = object.__new__(cls)
        line.__dict__.update(number=number, key=key, amount=amount, suspense=suspense, fingerprint=fingerprint,
                             where=where, _make=(make, args))
        return line

    def __getattr__(self, name: str):
        if name != "entry" or "_make" not in self.__dict__:
            raise AttributeError(name)
        make, args = self.__dict__["_make"]
        entry = make(*args)
        object.__setattr__(self, "entry", entry)
        return entry


class Known:
    """What the ledger already holds under a key: where (file:line), what must agree for a repeat
    (for a transaction, its rules.identity fingerprint), and the import run's FileSummary that keeps
    it (None for the ledger's own). Made from a ledger entry (`known_at`), where and fingerprint are
    worked out from it only when asked: most keys of a ledger are never asked about."""

    __slots__ = ("_where", "_fingerprint", "owner", "_entry")

    def __init__(self, where: str, fingerprint=None, owner=None):
        self._where, self._fingerprint, self.owner, self._entry = where, fingerprint, owner, None

    @classmethod
    def of_entry(cls, entry, fingerprinted: bool) -> "Known":
        known = object.__new__(cls)
        known._where, known._fingerprint, known.owner, known._entry = None, fingerprinted, None, entry
        return known

    @property
    def where(self) -> str:
        if self._where is None:
            self._where = entry_location(self._entry.meta)
        return self._where

    @property
    def fingerprint(self) -> Fingerprint | None:
        if self._entry is not None and isinstance(self._fingerprint, bool):
            self._fingerprint = fingerprint(self._entry) if self._fingerprint else None
        return self._fingerprint

    def __eq__(self, other) -> bool:
        return (isinstance(other, Known) and (self.where, self.fingerprint, self.owner)
                == (other.where, other.fingerprint, other.owner))

    __hash__ = None

    def __repr__(self) -> str:
        return f"Known(where={self.where!r}, fingerprint={self.fingerprint!r}, owner={self.owner!r})"


def transaction_key(system: str, ref: str) -> tuple:
    system, ref = normalise(system, ref)
    return ("txn", sys.intern(system), ref)  # one string per finance system, however many keys


@dataclass
class FileTotals:
    """Running figures for the import summary."""

    control_total: Decimal | None = None  # from a trailing total row, when the file has one
    lines_total: Decimal = Decimal("0.00")  # sum of every readable amount


def known_at(entry, fingerprinted: bool = False) -> Known:
    return Known.of_entry(entry, fingerprinted)


def transaction_keys(entries) -> dict[tuple, Known]:
    """The transactions already in a ledger by their identity (rules.identity: system and reference)."""
    keys = {}
    intern, transaction, of_entry = sys.intern, data.Transaction, Known.of_entry
    for entry in entries:
        if type(entry) is not transaction:  # rules.identity.identity, without its call for each entry
            continue
        meta = entry.meta
        ref = meta.get(REF)
        if ref is None:
            continue
        system = meta.get(SYSTEM, "")
        if type(system) is str and type(ref) is str:
            system, ref = system.strip().lower(), ref.strip().upper()
        else:
            system, ref = normalise(system, ref)
        key = ("txn", intern(system), ref)
        if key not in keys:
            keys[key] = of_entry(entry, True)
    return keys


def ledger_keys(importers, entries) -> dict[tuple, Known]:
    """What the ledger holds that any of the importers' lines could repeat, by key: each importer's
    `existing_keys`, the transactions' identities (`transaction_keys`) read once for all the importers
    that take them."""
    seen: dict[tuple, Known] = {}
    identities = False
    for importer in importers:
        if getattr(importer, "keys_are_identities", False):
            if identities:
                continue
            identities = True
        seen.update(importer.existing_keys(entries))
    return seen


def has_columns(filepath: str, columns: dict[str, tuple[str, ...]]) -> bool:
    """A CSV whose header row has every required column, or an XLSX with a sheet whose header row has."""
    path = Path(filepath)
    try:
        if path.suffix.lower() == ".csv":
            return has_layout(header_row(path, columns=columns), columns)
        return path.suffix.lower() == ".xlsx" and bool(layout_sheets(path, columns)[0])
    except Refused:
        return False


TOTAL_WORDS = ("total", "grand total", "control total")


def total_row_amount(row: Row, label_fields: tuple[str, ...]) -> Decimal | None:
    """The amount of a total row: no reference and no date, "total" in one of `label_fields`, and an
    amount; None for any other row."""
    v = row.values
    if v.get("reference") or v.get("date"):
        return None
    labels = " ".join(v.get(f, "") for f in label_fields).lower()
    if not any(word in labels for word in TOTAL_WORDS):
        return None
    try:
        return parse_money(v.get("amount", ""))
    except ValueError:
        return None


def control_total_rows(rows, totals: FileTotals, total_of) -> Iterator[Row | Rejection]:
    """The rows, less the total rows: a total row that ends its sheet (or file) adds to the control
    total (`total_of(row)` gives its amount, None for other rows); one with rows after it is rejected."""
    pending: Row | None = None
    for row in rows:
        if isinstance(row, Rejection):
            yield row
            continue
        if pending is not None and pending.file == row.file:
            yield Rejection(pending.file, pending.number, "a total row in the middle of the file")
        elif pending is not None:  # the last row of an earlier sheet
            totals.control_total = (totals.control_total or Decimal("0.00")) + total_of(pending)
        pending = None
        if total_of(row) is not None:
            pending = row
            continue
        yield row
    if pending is not None:
        totals.control_total = (totals.control_total or Decimal("0.00")) + total_of(pending)


def refuse_rejected(rejected: list) -> None:
    """Raise Refused naming the rejected rows (the first twenty), if there are any."""
    if rejected:
        raise Refused("; ".join(str(r) for r in rejected[:20]) +
                      (f"; and {len(rejected) - 20} more" if len(rejected) > 20 else ""))


def lookup(names, text: str) -> str | None:
    """The declared name matching `text` exactly, else the only one matching it ignoring case."""
    if text in names:
        return text
    matches = [n for n in names if n.lower() == text.lower()]
    return matches[0] if len(matches) == 1 else None


class RowImporter(beangulp.Importer):
    """Base of the importers: subclasses set `kind`, `title` and `columns` and give `read` and
    `existing_keys`."""

    kind = ""
    title = ""
    columns: dict[str, tuple[str, ...]] = {}

    def __init__(self, cash_account: str = "Assets:Pool:Cash"):
        self.cash_account = cash_account

    @property
    def name(self) -> str:
        return f"s75.{self.kind}"

    def identify(self, filepath: str) -> bool:
        return has_columns(filepath, self.columns)

    def account(self, filepath: str) -> str:
        return self.cash_account

    def filename(self, filepath: str) -> str:
        name = Path(filepath).name
        return name if name.lower().startswith(self.kind) else f"{self.kind}-{name}"

    screen = None  # a callable Line -> Line | Rejection (importers.screen.Screen), set by importers_for

    def existing_keys(self, entries) -> dict[tuple, Known]:
        """What the ledger already holds that this importer's lines could repeat, by key."""
        raise NotImplementedError

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line | Rejection]:
        raise NotImplementedError

    def extract(self, filepath: str, existing: data.Entries) -> data.Entries:
        """beangulp's entry point: the file's entries less those the ledger already has, each through
        the screen, or Refused naming every bad row (no summary is shown there, so a partial import
        would go unnoticed)."""
        known = self.existing_keys(existing or [])
        lines, rejected = [], []
        for item in self.read(filepath):
            if isinstance(item, Line) and (item.key in known or item.amount == 0):
                continue
            if isinstance(item, Line) and self.screen is not None:
                item = self.screen(item)
            (rejected if isinstance(item, Rejection) else lines).append(item)
        refuse_rejected(rejected)
        return [line.entry for line in lines]


class AgreementImporter(RowImporter):
    """An importer that checks its rows against the pool's agreement (receipts, metrics, plan)."""

    def __init__(self, agreement: Agreement, cash_account: str = "Assets:Pool:Cash"):
        super().__init__(cash_account)
        self.agreement = agreement
