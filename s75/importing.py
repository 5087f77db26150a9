"""`s75 import FILES --ledger L`: the command around importers.run and importers.landing, with a
progress bar on a terminal.

Under the ledger's lock: load the ledger, read every file, land the new entries (checked against the
ledger first), print the summary. Exit status 1 when anything was refused, rejected or in conflict, or
when nothing could be written; 0 only when every row of every file is in the ledger.
"""
from __future__ import annotations

import contextlib
import datetime
import signal
import sys
import threading
from pathlib import Path

from importers.base import ledger_keys
from importers.landing import LandingRefused, LedgerBusy, land, ledger_lock
from importers.mapping import MappingError
from importers.run import import_file, import_text, print_summary
from reports.ledger import collector_paused, format_error, load_ledger


def run_import(ledger: str, files: list[str], dry_run: bool = False, wait: float = 600) -> int:
    path = Path(ledger)
    if path.is_dir():
        print(f"{ledger} is a folder: give the ledger's main file, e.g. {path / 'main.beancount'}", file=sys.stderr)
        return 1
    if not path.is_file():
        print(f"{ledger}: no such ledger file", file=sys.stderr)
        return 1

    def waiting():
        print(f"waiting up to {wait:g} s for another import into {ledger} to finish...", file=sys.stderr)

    try:
        # Python's cyclic collector stays off for the whole run: the ledger's load and the rows read make
        # millions of objects, none of them in a garbage cycle (reports.ledger.collector_paused).
        with _interruptible(), ledger_lock(path, wait, on_wait=waiting), collector_paused():
            return _run_locked(ledger, files, dry_run)
    except (LedgerBusy, LandingRefused) as exc:
        print(*getattr(exc, "problems", [str(exc)]), sep="\n", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _interruptible():
    """SIGTERM (and SIGHUP) end an import as Ctrl-C does: through the landing's clean-up, so a stopped
    import leaves no file behind. (SIGKILL cannot be caught: the next import removes what it left.)"""
    def stop(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_locked(ledger: str, files: list[str], dry_run: bool) -> int:
    from importers.config import importers_for

    loaded = load_ledger(ledger, keep_stages=True)  # its stages save the landing's check a load
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
    mapping = next((i.mapping for i in importers if hasattr(i, "mapping")), None)
    for warning in mapping.warnings if mapping else ():
        print(f"warning: {warning}", file=sys.stderr)
    seen = ledger_keys(importers, loaded.entries)
    summaries = [_one(Path(name), importers, seen) for name in files]
    del seen  # a row's record each (a million rows: ~250 MB), not needed by the landing's check
    bad = any(s.refused or s.set_aside for s in summaries)
    today = datetime.date.today()
    text = import_text(summaries, today)
    target, problems = None, []
    if text and not dry_run:
        try:
            target = land(loaded.path, text, today, loaded.stages)
        except LandingRefused as exc:
            problems = exc.problems
    for summary in summaries:
        summary.landed = target is not None
    print_summary(summaries)
    if problems:
        print(*problems, sep="\n", file=sys.stderr)
        return 1
    if target is None:
        print("dry run: nothing written" if dry_run else "nothing new to write")
        return 1 if bad else 0
    print(f"wrote {target}")
    print(f"run `s75 check {ledger}` to check the ledger with the new entries")
    return 1 if bad else 0


def _one(path: Path, importers, seen):
    if not sys.stdout.isatty():
        return import_file(path, importers, seen)
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}: {task.completed} rows"), transient=True) as bar:
        task = bar.add_task(path.name, total=None)
        return import_file(path, importers, seen, progress=lambda: bar.advance(task))
