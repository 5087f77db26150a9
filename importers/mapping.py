"""Which scheme a finance-system line belongs to: the officers' mapping of cost centre (and, where
one cost centre serves several schemes, account code) to scheme, kept as data in the ledger
repository (ledger/mapping.csv), not in code.

    system,cost_centre,account_code,scheme,account,note,personal
    council,CC4101,,S01,,Integrated teams,
    council,CC4108,5410,S08,Expenses:Scheme:S08:HomeCare,Discharge home care,
    council,CC4107,5430,S07,,Carers direct payment,Y
    icb,ICB-771,,S04,,Discharge to assess,

A blank account code matches any code. A blank account means the scheme's first account; an
account given must belong to the scheme. The most specific row wins. A line with no match goes to
suspense (Expenses:Suspense, flagged !) and is listed in the import summary.

The optional column `personal` (Y, or blank) marks payments to people (importers.personal): a
cost centre marked Y is personal whatever the line's account code; a row with an account code
marks that code only. A personal line is written with a pseudonym for payee and the row's note
(else "Payment to a person") for narration, never the name or the description.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from importers.personal import NO_NOTE
from rules.agreement import Agreement
from rules.position import SUSPENSE  # noqa: F401  (importers post unmapped lines here)


class MappingError(Exception):
    """The mapping file itself is wrong: named with its file and row."""


@dataclass(frozen=True)
class Mapping:
    accounts: dict[tuple[str, str, str], str]  # (system, cost centre, account code or "") -> account
    schemes: dict[tuple[str, str, str], str]  # same keys -> scheme ID
    warnings: tuple[str, ...] = ()  # about the file, each "mapping.csv:LINE: ..."
    personal: dict[tuple[str, str, str], str] = field(default_factory=dict)  # keys marked personal -> narration

    def account(self, system: str, cost_centre: str, account_code: str) -> str | None:
        key = (system, cost_centre.strip().upper(), account_code.strip().upper())
        return self.accounts.get(key) or self.accounts.get((key[0], key[1], ""))

    def personal_row(self, system: str, cost_centre: str, account_code: str) -> tuple[str, str, str] | None:
        """The row that marks a line personal: its cost centre and account code's row if that is
        marked, else its cost centre's row (any code) if that is; None for a line that is not personal."""
        key = (system.strip().lower(), cost_centre.strip().upper(), account_code.strip().upper())
        for candidate in (key, (key[0], key[1], "")):
            if candidate in self.personal:
                return candidate
        return None

    def personal_narration(self, system: str, cost_centre: str, account_code: str) -> str | None:
        """The narration a personal line is written with (its row's note, else "Payment to a person");
        None for a line that is not personal."""
        row = self.personal_row(system, cost_centre, account_code)
        return None if row is None else self.personal[row]

    @classmethod
    def load(cls, path: Path, agreement: Agreement, systems: tuple[str, ...] = ()) -> "Mapping":
        """Read mapping.csv; MappingError naming its file and line for anything wrong in it. A file saved
        as Windows-1252 (Excel's plain "CSV") is read as such, with a warning."""
        text, warnings = _text(path)
        accounts, schemes, personal = {}, {}, {}
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = {"system", "cost_centre", "scheme"} - set(reader.fieldnames or [])
        if missing:
            raise MappingError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
            empty = [k for k in ("system", "cost_centre", "scheme") if not values.get(k)]
            if empty:
                raise MappingError(f"{path}:{reader.line_num}: no {' or '.join(empty)} (the row has "
                                   f"{len([v for v in row.values() if v is not None])} of the header's "
                                   f"{len(reader.fieldnames)} columns)")
            key = (values["system"].lower(), values["cost_centre"].upper(), values.get("account_code", "").upper())
            if systems and key[0] not in systems:
                raise MappingError(f"{path}:{reader.line_num}: unknown system {values['system']!r} "
                                   f"(systems: {', '.join(systems)})")
            scheme = agreement.scheme(values["scheme"])
            if scheme is None:
                raise MappingError(f"{path}:{reader.line_num}: unknown scheme {values['scheme']!r}")
            account = values.get("account") or scheme.accounts[0]
            if not scheme.owns(account):
                raise MappingError(f"{path}:{reader.line_num}: {account} is not an account of "
                                   f"scheme {scheme.scheme}")
            if key in accounts:
                raise MappingError(f"{path}:{reader.line_num}: {key[1]} {key[2] or '(any code)'} "
                                   f"is mapped twice for {key[0]}")
            accounts[key], schemes[key] = account, scheme.scheme
            marked = values.get("personal", "")
            if marked.upper() not in ("", "Y"):
                raise MappingError(f"{path}:{reader.line_num}: personal is {marked!r}: write Y, or leave it blank")
            if marked:
                personal[key] = values.get("note") or NO_NOTE
        return cls(accounts, schemes, tuple(warnings), personal)


def _text(path: Path) -> tuple[str, list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise MappingError(f"{path}:1: is UTF-16 text: save it as CSV UTF-8")
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return raw.decode("cp1252", errors="replace"), [
            f"{path}:{line}: not UTF-8; read as Windows-1252 (save it as \"CSV UTF-8\" to be sure of the text)"]
