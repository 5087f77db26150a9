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
load (reports.ledger.load_ledger with `keep_stages`): importers.landing_check parses and books the new
file alone, a part at a time when it is big, and runs the plugins and Beancount's validation on the
ledger's booked entries and the new ones; otherwise the ledger is loaded again whole with the new file.
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
    before its plugins: reports.ledger.Stages) only the staged file is parsed and booked, a part at a
    time when it is big (importers.landing_check)."""
    from importers.landing_check import check, lines_of
    from reports.ledger import collector_paused
    from reports.quick_load import quick_load

    staged_name = str(staged.resolve())
    with collector_paused(), quick_load():
        lines = check(stages, staged_name) if stages is not None else None
        if lines is not None:
            return lines
        from beancount import loader

        # loader._load is load_file without its pickle cache: it takes the extra file as a second source.
        entries, errors, _ = loader._load([(str(ledger.resolve()), True), (staged_name, True)], None, None, None)
    return lines_of(errors, entries, staged_name)


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
