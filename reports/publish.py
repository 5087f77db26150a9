"""Produce the month's statement files (HTML and XLSX) from a loaded ledger, and write them safely.

`render_statement` is the one path from ledger to statement bytes: the `s75 statement` command and
the Fava page's downloads both call it, so their files are byte-identical. `write_files` writes
every file or none: each goes to a temporary name first and is renamed into place at the end.
"""
from __future__ import annotations

import calendar
import datetime
import os
import tempfile
from pathlib import Path

from reports.html import statement_html
from reports.ledger import Loaded
from reports.statement import build_statement
from reports.xlsx import statement_xlsx
from rules.position import build_position


def month_end(text: str) -> datetime.date:
    """"2025-09" -> 30 September 2025; ValueError when not YYYY-MM."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return datetime.date(year, month, calendar.monthrange(year, month)[1])
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"{text!r} is not a month as YYYY-MM") from None


def render_statement(loaded: Loaded, as_of: datetime.date, generated: datetime.date) -> dict[str, bytes]:
    """{file name: bytes} for the statement to `as_of`. Raises PositionError for a date outside the pool."""
    position = build_position(loaded.entries, as_of)
    statement = build_statement(position, loaded.options.get("include", [str(loaded.path)]), generated)
    return {f"{statement.stem}.html": statement_html(statement).encode("utf-8"),
            f"{statement.stem}.xlsx": statement_xlsx(statement)}


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write all `files` into `folder`, or none of them: a failure part way puts back what was there."""
    folder.mkdir(parents=True, exist_ok=True)
    staged, done = [], []  # (temporary, target); (target, backup of the old file or None)
    try:
        for name, content in files.items():
            handle, temp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            staged.append((temp, folder / name))
        for temp, target in staged:
            backup = None
            if target.exists():
                handle, backup = tempfile.mkstemp(prefix=f".{target.name}.old.", dir=folder)
                os.close(handle)
                os.replace(target, backup)
            done.append((target, backup))
            os.replace(temp, target)
    except BaseException:
        for target, backup in reversed(done):
            if backup is not None:
                os.replace(backup, target)
            elif target.exists():
                target.unlink()
        raise
    finally:
        for temp, _ in staged:
            if os.path.exists(temp):
                os.unlink(temp)
    for _, backup in done:
        if backup is not None and os.path.exists(backup):
            os.unlink(backup)
    return [target for _, target in staged]
