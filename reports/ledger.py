"""Load a ledger with Beancount's loader (plugins included) and format its errors as file:line."""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from beancount import loader
from beancount.core import data

from rules.calendar import month_number, year_of
from rules.entries import where


@dataclass(frozen=True)
class Loaded:
    path: Path
    entries: list
    errors: list
    options: dict


def load_ledger(path: str | os.PathLike) -> Loaded:
    """Load and check the ledger; errors are returned, never raised."""
    path = Path(path).resolve()
    entries, errors, options = loader.load_file(str(path))
    return Loaded(path, entries, errors, options)


def error_location(error) -> str:
    return where(getattr(error, "source", None) or {})


def format_error(error) -> str:
    """`file:line: message`, the first line of the message only (a plugin's traceback stays out)."""
    message = str(getattr(error, "message", error)).strip()
    return f"{error_location(error)}: {message.splitlines()[0] if message else ''}"


def latest_month_end(entries) -> datetime.date | None:
    """The last day of the month of the latest transaction written by people (not by the rules):
    the default month to report on. Entries are in date order, so this reads from the end."""
    for entry in reversed(entries):
        if isinstance(entry, data.Transaction) and "rule" not in entry.meta:
            return year_of(entry.date).month_end(month_number(entry.date))
    return None
