"""Building the entries rules generate: transactions, custom directives and account openings,
each carrying metadata that names the rule and the directive (file:line) that produced it, and the
mark GENERATED, which tells them from anything read from a ledger file."""
from __future__ import annotations

import datetime
import os
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from rules.directives import CURRENCY

TAG = "s75-generated"
PERSONAL = "personal"  # metadata of a payment to a person (importers.personal): its payee is never shown
# Set on every generated entry. The parser cannot make a key starting with "__" and Beancount's printer
# leaves such keys out, so a generated entry printed and pasted into a ledger file does not carry it.
GENERATED = "__s75_generated__"


def where(meta: dict) -> str:
    """"ledger/agreement.beancount:42" for a directive's metadata (path relative when possible)."""
    filename = str(meta.get("filename", "<unknown>"))
    try:
        relative = os.path.relpath(filename)
        filename = filename if relative.startswith("..") else relative
    except ValueError:
        pass
    return f"{filename}:{meta.get('lineno', 0)}"


def generated_meta(rule: str, cause: dict, **extra) -> dict:
    """Metadata for a generated entry: it points at its cause's file and line, so errors do too."""
    meta = data.new_metadata(cause.get("filename", "<s75>"), cause.get("lineno", 0))
    meta.update({"rule": rule, "directive": where(cause)})
    meta.update({k.replace("_", "-"): v for k, v in extra.items()})
    meta[GENERATED] = True
    return meta


def is_generated(entry) -> bool:
    """True for an entry the rules made at load; False for one read from a ledger file."""
    return bool((entry.meta or {}).get(GENERATED))


def transaction(date: datetime.date, meta: dict, payee: str, narration: str,
                postings: list[tuple[str, Decimal]]) -> data.Transaction:
    return data.Transaction(
        meta, date, "*", payee, narration, frozenset({TAG}), data.EMPTY_SET,
        [data.Posting(account, Amount(number, CURRENCY), None, None, None, None)
         for account, number in postings if number])


def custom(date: datetime.date, meta: dict, type_: str, *values) -> data.Custom:
    typed = []
    for value in values:
        if isinstance(value, Decimal):
            typed.append(ValueType(Amount(value, CURRENCY), Amount))
        else:
            typed.append(ValueType(value, type(value)))
    return data.Custom(meta, date, type_, typed)


def opened_accounts(entries) -> set[str]:
    """The accounts the entries open."""
    return {e.account for e in entries if isinstance(e, data.Open)}


def openings(opened: set[str], wanted: dict[str, tuple[datetime.date, dict]], rule: str) -> list[data.Open]:
    """Open entries for the accounts in `wanted` (account -> (date, cause's metadata)) that the
    ledger does not open already (`opened`: `opened_accounts` of its entries)."""
    return [data.Open(generated_meta(rule, cause), date, account, [CURRENCY], None)
            for account, (date, cause) in sorted(wanted.items()) if account not in opened]


def shown_payee(entry) -> str:
    """The payee an output may show: none for a payment to a person (`personal: TRUE`)."""
    if entry.meta and entry.meta.get(PERSONAL) is True:
        return ""
    return entry.payee or ""
