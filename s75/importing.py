"""`s75 import FILES --ledger L`: the command around importers.run, with a progress bar on a terminal."""
from __future__ import annotations

import datetime
import sys
from pathlib import Path

from importers.mapping import MappingError
from importers.run import import_file, print_summary, write_import
from reports.ledger import format_error, load_ledger


def run_import(ledger: str, files: list[str], dry_run: bool = False) -> int:
    """Exit status 1 if the ledger cannot be imported into, or any file was refused or had rejected rows."""
    from importers.config import importers_for

    loaded = load_ledger(ledger)
    if loaded.errors:
        for error in loaded.errors:
            print(format_error(error), file=sys.stderr)
        print(f"{ledger} has errors: correct them before importing; nothing imported", file=sys.stderr)
        return 1
    try:
        importers = importers_for(loaded.path, loaded.entries)
    except (MappingError, OSError) as exc:
        print(f"cannot import: {exc}", file=sys.stderr)
        return 1
    seen = set()
    for importer in importers:
        seen |= importer.existing_keys(loaded.entries)
    summaries = []
    for name in files:
        summaries.append(_one(Path(name), importers, seen))
    target = None if dry_run else write_import(loaded.path.parent / "imports", summaries, datetime.date.today())
    print_summary(summaries, target)
    if target is not None:
        print(f"run `s75 check {ledger}` to check the ledger with the new entries")
    return 1 if any(s.refused or s.rejected for s in summaries) else 0


def _one(path: Path, importers, seen):
    if not sys.stdout.isatty():
        return import_file(path, importers, seen)
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}: {task.completed} rows"), transient=True) as bar:
        task = bar.add_task(path.name, total=None)
        return import_file(path, importers, seen, progress=lambda: bar.advance(task))
