"""An entry as ledger text, exactly as Beancount's printer (`printer.format_entry`) writes it, made
quicker for the transactions the importers write: a transaction whose postings carry an amount and
nothing else (no cost, price, flag or metadata), with metadata of the kinds the parser reads back.
Anything else goes to Beancount's printer. tests/test_ledger_text.py holds the two to the same text.
"""
from __future__ import annotations

import datetime
import enum
import re
from decimal import Decimal

from beancount.core import amount as amount_lib
from beancount.core import data, display_context
from beancount.parser import printer

_DFORMAT = display_context.DEFAULT_DISPLAY_CONTEXT.build(precision=display_context.Precision.MOST_COMMON)
_CURRENCY_AT = re.compile("[A-Z]").search
_PREFIX = "  "


def entry_text(entry) -> str:
    """printer.format_entry(entry)."""
    if type(entry) is data.Transaction:
        text = _transaction(entry)
        if text is not None:
            return text
    return printer.format_entry(entry)


def _transaction(entry) -> str | None:
    """The text of a plain transaction, or None for one this does not write (the printer does)."""
    positions, accounts = [], []
    for posting in entry.postings:
        units = posting.units
        if (posting.cost is not None or posting.price is not None or posting.flag or posting.meta
                or type(units) is not amount_lib.Amount or not isinstance(units.number, Decimal)):
            return None
        positions.append(units.to_string(_DFORMAT))
        accounts.append(posting.account)
    meta = _metadata(entry.meta)
    if meta is None:
        return None
    strings = []
    if entry.payee:
        strings.append('"{}"'.format(_escape(entry.payee)))
    if entry.narration:
        strings.append('"{}"'.format(_escape(entry.narration)))
    elif entry.payee:
        strings.append('""')
    for tag in sorted(entry.tags or ()):
        strings.append(f"#{tag}")
    for link in sorted(entry.links or ()):
        strings.append(f"^{link}")
    lines = [f"{entry.date} {entry.flag or ''} {' '.join(strings)}\n", meta]
    width_account = max((len(a) for a in accounts), default=1)
    aligned, width_position = _aligned(positions)
    width = max(1, width_position)
    for account, position in zip(accounts, aligned):
        lines.append(f"{_PREFIX}{account:{width_account}}  {position:{width}}".rstrip() + "\n")
    return "".join(lines)


def _escape(string: str) -> str:
    return string.replace("\\", r"\\").replace('"', r"\"")


def _metadata(meta) -> str | None:
    """The metadata lines as the printer writes them; None for a value it would not write alike."""
    if not meta:
        return ""
    out = []
    for key, value in meta.items():
        if key == "filename" or key == "lineno" or key.startswith("__"):
            continue
        kind = type(value)
        if kind is str:
            out.append(f'{_PREFIX}{key}: "{_escape(value)}"\n')
        elif kind is bool:
            out.append(f"{_PREFIX}{key}: {'TRUE' if value else 'FALSE'}\n")
        elif kind is Decimal or kind is datetime.date:
            out.append(f"{_PREFIX}{key}: {value}\n")
        elif value is None:
            out.append(f"{_PREFIX}{key}: \n")
        elif isinstance(value, (dict, enum.Enum, amount_lib.Amount, datetime.date, bool, str, Decimal)):
            return None  # subclasses and the rarer kinds: the printer's own rules
        else:
            return None
    return "".join(out)


def _aligned(strings: list[str]) -> tuple[list[str], int]:
    """printer.align_position_strings: the amounts aligned on their currency."""
    max_before = max_after = max_unknown = 0
    items = []
    for string in strings:
        match = _CURRENCY_AT(string)
        if match and match.start() != 0:
            index = match.start()
            max_before = max(index, max_before)
            max_after = max(len(string) - index, max_after)
            items.append((index, string))
        else:
            max_unknown = max(len(string), max_unknown)
            items.append((None, string))
    max_total = max(max_before + max_after, max_unknown)
    after = max_total - max_before
    out = []
    for index, string in items:
        if index is not None:
            out.append(f"{string[:index]:>{max_before}}{string[index:]:{after}}")
        else:
            out.append(f"{string:<{max_total}}")
    return out, max_total
