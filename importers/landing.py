"""Landing new entries in the ledger: all of them or none, under the ledger's lock, and only when the
ledger with them still checks clean.

`ledger_lock` is held by `s75 import` from before it reads the ledger until the new file is in place,
so a second import into the same ledger waits (or gives up, saying so) and then sees the first's
entries: nothing is counted twice, nothing is lost. The lock is a file beside the main ledger file,
`.s75.lock` (filelock: an OS lock, released if the process dies).

`land` writes the new entries to a hidden file in `imports/` with a unique name, fsyncs it, loads the
ledger together with it (the same plugins and checks `s75 check` runs), and only if that gives no
error renames it to `imports/YYYY-MM-DD.beancount` (`-2`, `-3`... when the day has one). Any problem
leaves the ledger as it was and no file behind; a hidden file left by an import that was killed
(SIGKILL) is removed by the next one, which holds the lock, so no other import can be writing it.

The check does not parse and book the whole ledger again when it can take them from the import's own
load (reports.ledger.load_ledger with `keep_stages`): it parses and books the new file alone, and runs
the plugins and Beancount's validation on the ledger's booked entries and the new ones together, the
list a load of both would give. That holds while the new file sets no option and includes nothing,
and each of its postings states its amount and currency and has no cost or price (so that booking it
needs nothing from the ledger), as the importers write it; otherwise the ledger is loaded again whole.
"""
from __future__ import annotations

import contextlib
import datetime
import fnmatch
import os
import tempfile
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = ".s75.lock"
IMPORTS = "imports"


class LedgerBusy(Exception):
    """Another command holds the ledger's lock."""


class LandingRefused(Exception):
    """Nothing was written: `problems` says why, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@contextlib.contextmanager
def ledger_lock(ledger: Path, wait: float, on_wait=None):
    """Hold the ledger's lock, waiting up to `wait` seconds for another command to release it
    (`on_wait()` is called once if it has to wait)."""
    lock = FileLock(str(Path(ledger).parent / LOCK_NAME))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait <= 0:
                raise
            if on_wait is not None:
                on_wait()
            lock.acquire(timeout=wait)
    except Timeout:
        raise LedgerBusy("another import into this ledger is running; nothing written") from None
    except OSError as exc:
        raise LandingRefused([f"cannot lock the ledger in {Path(ledger).parent}: {exc.strerror or exc}; "
                              "nothing written"]) from None
    try:
        yield
    finally:
        lock.release()


def land(ledger: Path, text, today: datetime.date, stages=None) -> Path:
    """Write `text` (a str, or an object that writes itself: `text.write_to(file)`) as the day's import
    file, or raise LandingRefused and write nothing. `stages`, the ledger's load before its plugins ran
    (reports.ledger.Stages), saves parsing and booking the ledger again for the check."""
    ledger = Path(ledger)
    folder = ledger.parent / IMPORTS
    target = _free_name(folder, today)
    if not _included(ledger, target):
        raise LandingRefused([f"{ledger.name} does not include the {IMPORTS}/ folder (add "
                              f'include "{IMPORTS}/*.beancount"); nothing written'])
    staged = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(".pending-*.beancount"):  # left by an import that was killed
            stale.unlink()
        handle, staged = tempfile.mkstemp(prefix=".pending-", suffix=".beancount", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            if isinstance(text, str):
                out.write(text)
            else:
                text.write_to(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(staged, 0o666 & ~_umask())
        problems = verify(ledger, Path(staged), stages)
        if any("KeyboardInterrupt" in problem for problem in problems):  # Ctrl-C while the parser ran
            raise KeyboardInterrupt
        if problems:
            raise LandingRefused(["the new entries would make the ledger wrong; nothing written:", *problems])
        os.replace(staged, target)
        staged = None
        _fsync_folder(folder)
        _forget_load_cache(ledger)
    except OSError as exc:
        raise LandingRefused([f"cannot write into {folder}: {exc.strerror or exc}; nothing written"]) from None
    finally:
        if staged is not None:
            with contextlib.suppress(OSError):
                os.unlink(staged)
    return target


def verify(ledger: Path, staged: Path, stages=None) -> list[str]:
    """Every error of the ledger loaded with `staged` added, as lines; an error in the staged file is
    named by the extract row its entry came from (`source:`). With `stages` (the ledger's own load
    before its plugins: reports.ledger.Stages) only the staged file is parsed and booked."""
    from reports.ledger import collector_paused

    staged_name = str(staged.resolve())
    with collector_paused():
        loaded = _load_with(stages, staged_name) if stages is not None else None
        if loaded is None:
            from beancount import loader

            # loader._load is load_file without its pickle cache: it takes the extra file as a second source.
            loaded = loader._load([(str(ledger.resolve()), True), (staged_name, True)], None, None, None)
    entries, errors, _ = loaded
    sources = {e.meta.get("lineno"): e.meta.get("source") for e in entries
               if e.meta and e.meta.get("filename") == staged_name}
    lines = []
    for error in errors:
        source = getattr(error, "source", None) or {}
        message = str(getattr(error, "message", error)).strip().splitlines()[0]
        if source.get("filename") == staged_name:
            lines.append(f"{sources.get(source.get('lineno')) or 'new entry'}: {message}")
        else:
            lines.append(f"{source.get('filename', '<ledger>')}:{source.get('lineno', 0)}: {message}")
    return lines


def _load_with(stages, staged_name: str):
    """(entries, errors, options) of the ledger of `stages` loaded with the file `staged_name`, as
    Beancount's loader would give them, parsing and booking only that file; None when the file is not
    one this can be done for (see the module's docstring)."""
    import copy
    from decimal import Decimal

    from beancount.core import data
    from beancount.core.amount import Amount
    from beancount.parser import booking, parser

    new, parse_errors, new_options = parser.parse_file(staged_name)
    _, _, plain = parser.parse_string("", staged_name)
    if {k: v for k, v in new_options.items() if k != "dcontext"} != {k: v for k, v in plain.items() if k != "dcontext"}:
        return None  # it sets an option, or includes or loads something
    for entry in new:
        for posting in getattr(entry, "postings", ()):
            units = posting.units
            if (posting.cost is not None or posting.price is not None or not isinstance(units, Amount)
                    or not isinstance(units.number, Decimal) or not isinstance(units.currency, str)):
                return None
    new.sort(key=data.entry_sortkey)
    options = copy.copy(stages.options)
    options["include"] = sorted(set(options["include"]) | {staged_name})
    options["dcontext"] = copy.deepcopy(options["dcontext"])
    options["dcontext"].update_from(new_options["dcontext"])
    booked, booking_errors = booking.book(new, options)
    entries = stages.booked + booked
    entries.sort(key=data.entry_sortkey)
    return stages.finish(entries, stages.errors + parse_errors + booking_errors, options)


def _forget_load_cache(ledger: Path) -> None:
    """Remove Beancount's pickled load of the ledger: it checks only the files it read, so it would not
    notice the new file and every report would leave it out."""
    from beancount import loader

    with contextlib.suppress(OSError):
        os.unlink(loader.get_cache_filename(loader.PICKLE_CACHE_FILENAME, str(ledger.resolve())))


def _free_name(folder: Path, today: datetime.date) -> Path:
    candidate, n = folder / f"{today.isoformat()}.beancount", 2
    while candidate.exists():
        candidate, n = folder / f"{today.isoformat()}-{n}.beancount", n + 1
    return candidate


def _included(ledger: Path, target: Path) -> bool:
    """Whether one of the main file's include lines takes `target` (a glob such as imports/*.beancount)."""
    from reports.ledger import include_patterns

    return any(fnmatch.fnmatch(str(target), pattern) for pattern in include_patterns(ledger))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
