"""Load a ledger with Beancount's loader (plugins included) and format its errors as file:line.

`load_ledger` is the one way the `s75` commands read a ledger. Besides Beancount's own errors and
those of the rules, it refuses, each as an error:
- a path that is not a ledger file (missing, a folder, a pipe, unreadable, not text): one error,
  nothing loaded;
- a ledger with no `s75-pool` directive: not a pool ledger;
- a pool ledger that does not load the agreement's rules (`pool_errors`: `plugin "rules.pool"`, or
  the three rules' own lines in order): without them its figures are not checked, tranches not
  applied, closed years not settled. The Fava page checks the ledger Fava loaded with `pool_errors`
  too.
The load runs with Python's cyclic garbage collector paused (`collector_paused`).
"""
from __future__ import annotations

import contextlib
import datetime
import gc
import glob
import os
import re
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

from beancount import loader
from beancount.core import data

from reports import quick_booking
from reports.quick_load import quick_load
from rules.calendar import month_number, year_of
from rules.entries import where
from rules.locks import lock_folder

# The agreement's rules, in the order they must run: tranches writes the released and redirected
# money (and the virements it makes), settlement settles closed years on budgets after those
# virements, validate checks everything, including what the other two wrote.
RULES = ("rules.tranches", "rules.settlement", "rules.validate")
# One plugin module that runs the three in that order (rules.pool): a ledger loading it loads them all.
POOL_RULES = "rules.pool"
# A rule other than validate is needed once the ledger has a directive it acts on; without any it
# changes nothing. Validate is always needed.
NEEDED_FOR = {"rules.tranches": "s75-tranche", "rules.settlement": "s75-close"}
WHAT_IT_DOES = {
    "rules.tranches": "releases or redirects its money",
    "rules.settlement": "settles the year",
}
PLACE = {
    "rules.tranches": 'before plugin "rules.settlement" and plugin "rules.validate"',
    "rules.settlement": 'after plugin "rules.tranches" and before plugin "rules.validate"',
    "rules.validate": 'after plugin "rules.tranches" and plugin "rules.settlement"',
}
POOL_EXAMPLE = '2025-04-01 custom "s75-pool" "EB-BCF" "Example Borough BCF" with host: "Council"'
PLUGIN_LINE = re.compile(r'^\s*plugin\s+"([^"]*)"')

# An error about the ledger as a whole. `source` is {"filename", "lineno"}; a lineno of None means the
# file itself (it could not be read), printed as `path: message`.
LedgerError = namedtuple("LedgerError", "source message entry")


@dataclass(frozen=True)
class Stages:
    """A load as it stood before the plugins ran: the parsed and booked entries (in Beancount's order),
    the options, and the errors so far. `finish` runs the rest of Beancount's load on entries made
    from them (importers.landing: the ledger with a new file, without parsing and booking it again)."""

    booked: list
    options: dict
    errors: list

    def finish(self, entries: list, errors: list, options: dict):
        """(entries, errors, options) of the load of `entries`, parsed and booked with `errors`: the
        plugins and Beancount's validation, as loader._load runs them."""
        return _transform_and_validate(entries, errors, options)


@dataclass(frozen=True)
class Loaded:
    path: Path
    entries: list
    errors: list
    options: dict
    stages: Stages | None = None  # with load_ledger(keep_stages=True)


def load_ledger(path: str | os.PathLike, keep_stages: bool = False) -> Loaded:
    """Load and check the ledger; errors are returned, never raised. With `keep_stages` the load
    bypasses Beancount's load cache and keeps what it had before the plugins ran (`Loaded.stages`)."""
    given = str(path)
    path = Path(path).resolve()
    problem = file_problem(given)
    if problem is not None:
        return Loaded(path, [], [problem], {})
    stages = None
    try:
        with collector_paused(), quick_load():
            if keep_stages:
                entries, errors, options, stages = _load_in_stages(path)
            else:
                entries, errors, options = loader.load_file(str(path))
                if _cache_missed_files(path, options) or _cache_older_than_locks(path):
                    entries, errors, options = _reload_without_cache(path)
    except OSError as exc:  # an included file that cannot be read, or the file went away under us
        reason = exc.strerror or str(exc)
        if exc.filename and Path(exc.filename).resolve() != path:
            included = where({"filename": str(exc.filename), "lineno": 0}).rsplit(":", 1)[0]
            message = f"includes {included}, which cannot be read: {reason}"
        else:
            message = f"cannot be read: {reason}"
        return Loaded(path, [], [_file_error(given.rstrip("/\\") or given, message)], {})
    errors = list(errors) + pool_errors(path, entries, options)
    return Loaded(path, entries, errors, options, stages)


def _load_in_stages(path: Path):
    """loader._load of the one file, keeping the parsed and booked entries (its stages, in the same
    order: parse, sort, book, then the plugins and validation)."""
    entries, errors, options = loader._parse_recursive([(str(path), True)], None, None)
    entries.sort(key=data.entry_sortkey)
    entries, booking_errors = quick_booking.book(entries, options)
    errors.extend(booking_errors)
    stages = Stages(list(entries), dict(options), list(errors))
    entries, errors, options = _transform_and_validate(entries, errors, options)
    return entries, errors, options, stages


def _transform_and_validate(entries: list, errors: list, options: dict):
    """The rest of loader._load after booking: the plugins (with the ledger's python path), Beancount's
    validation (both with reports.quick_load's steps), and the input hash of the files read."""
    import sys

    from beancount.ops import validation

    saved = list(sys.path)
    with quick_load():
        try:
            if "pythonpath" in options:
                sys.path[0:0] = options["pythonpath"]
            entries, errors = loader.run_transformations(entries, errors, options, None)
        finally:
            sys.path[:] = saved
        errors.extend(validation.validate(entries, options, None, None))
    options["input_hash"] = loader.compute_input_hash(options["include"])
    return entries, errors, options


@contextlib.contextmanager
def collector_paused(freeze: bool = True):
    """Python's cyclic garbage collector off while a ledger loads, and (`freeze`) what is alive when the
    load ends frozen (gc.freeze) out of every later collection. A load makes millions of objects
    (entries, postings, metadata), all alive until the command ends and none of them part of a garbage
    cycle, so each collection the load would trigger walks an ever larger heap for nothing; after the
    load, collections look at new objects only. Memory freed by reference counting (nearly all of it)
    is freed as before. The `s75` command keeps the collector off for the whole command (s75.cli)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


INCLUDE_LINE = re.compile(r'^\s*include\s+"([^"]+)"', re.MULTILINE)


def include_patterns(main: Path) -> list[str]:
    """The main file's include lines, as absolute glob patterns."""
    try:
        text = main.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [str(main.parent / pattern) for pattern in INCLUDE_LINE.findall(text)]


def _cache_missed_files(path: Path, options: dict) -> bool:
    """Whether the main file's include globs now match a file the load did not read. Beancount's load
    cache checks only the files it read, so a file added since (an import, a new month's spend)
    would be left out of every figure."""
    loaded = {os.path.normpath(f) for f in options.get("include", [])}
    return any(os.path.normpath(f) not in loaded
               for pattern in include_patterns(path) for f in glob.glob(pattern, recursive=True))


def _cache_older_than_locks(path: Path) -> bool:
    """Whether a lock's fingerprint (locks/*.json, read by rules.locks, not included) changed after
    Beancount's load cache was written: the cache does not know those files."""
    folder = lock_folder(path)
    if folder is None or not folder.is_dir():
        return False
    try:
        cached = os.stat(loader.get_cache_filename(loader.PICKLE_CACHE_FILENAME, str(path))).st_mtime
    except OSError:
        return False  # no cache: the load just made was not from one
    return any(f.stat().st_mtime >= cached for f in folder.glob("*.json"))


def _reload_without_cache(path: Path):
    with contextlib.suppress(OSError):
        os.unlink(loader.get_cache_filename(loader.PICKLE_CACHE_FILENAME, str(path)))
    return loader.load_file(str(path))


def file_problem(given: str) -> LedgerError | None:
    """Why the path is not a ledger file Beancount could read, as one error; None when it may be."""
    shown = given.rstrip("/\\") or given
    path = Path(given)
    try:
        if not path.exists():
            return _file_error(shown, "no such file")
        if path.is_dir():
            main_file = path / "main.beancount"
            hint = (f", e.g. {os.path.join(shown, 'main.beancount')}" if main_file.is_file()
                    else " (the .beancount file that includes the others)")
            return _file_error(shown, f"is a folder, not a ledger file; give the ledger's main file{hint}")
        if not path.is_file():
            return _file_error(shown, "not a ledger file (not a regular file)")
        with open(path, "rb") as handle:
            start = handle.read(8192)
    except OSError as exc:
        return _file_error(shown, f"cannot be read: {exc.strerror or exc}")
    if not _is_text(start):
        return _file_error(shown, "not a Beancount ledger: it is not text (give the ledger's main .beancount file)")
    return None


def _is_text(start: bytes) -> bool:
    """The file's first bytes are UTF-8 text (a multi-byte character may be cut at the end)."""
    if b"\0" in start:
        return False
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(start) - 3 and exc.reason == "unexpected end of data"
    return True


def _file_error(shown: str, message: str) -> LedgerError:
    return LedgerError({"filename": shown, "lineno": None}, message, None)


def pool_errors(path: str | os.PathLike, entries, options) -> list[LedgerError]:
    """A pool ledger's errors that no plugin can report because they are about the plugins, or about
    the pool's absence: the rules it does not load (neither rules.pool nor the rule's own line), or
    loads twice or in the wrong order (each at the main file's line 1 or at the plugin line); no
    `s75-pool` directive."""
    main_file = Path(path)
    custom = data.Custom
    customs = [e for e in entries if type(e) is custom and e.type.startswith("s75-")]
    loaded = [name for name, _ in options.get("plugin", [])]
    validated = "rules.validate" in loaded or POOL_RULES in loaded
    errors = []
    if not any(e.type == "s75-pool" for e in customs) and (not customs or not validated):
        errors.append(_at(main_file, 1, "not a pool ledger: it has no s75-pool directive; declare the pool, e.g. "
                                        f"{POOL_EXAMPLE} (docs/ledger.md)"))
        if not customs:
            return errors
    first_of = {}
    for entry in customs:
        first_of.setdefault(entry.type, entry)
    if POOL_RULES in loaded:
        return errors + _pool_rules_errors(main_file, loaded)
    for name in RULES:
        if name in loaded:
            continue
        needed_by = first_of.get(NEEDED_FOR.get(name, ""))
        if name != "rules.validate" and needed_by is None:
            continue
        if name == "rules.validate":
            why = "without it the agreement and the books are not checked"
        else:
            why = f"the {needed_by.type} at {where(needed_by.meta)} {WHAT_IT_DOES[name]} only through it"
        message = f'the ledger does not load plugin "{name}": add plugin "{name}" {PLACE[name]}; {why}'
        elsewhere = _plugin_line_elsewhere(name, main_file, options)
        if elsewhere:
            message += (f' (the plugin line at {elsewhere} is not loaded: Beancount reads plugin lines from the '
                        "main file only)")
        if not any(rule in loaded for rule in RULES):
            message += f' (or, for all three rules, the one line plugin "{POOL_RULES}")'
        errors.append(_at(main_file, 1, message))
    listed = [name for name in loaded if name in RULES]
    if listed != sorted(set(listed), key=RULES.index):  # read the main file for line numbers only then
        errors.extend(_order_errors(main_file, listed, _plugin_lines(main_file)))
    return errors


def _pool_rules_errors(main_file: Path, loaded: list[str]) -> list[LedgerError]:
    """A ledger loading rules.pool: it listed twice, or beside a rule it already runs (which would run
    twice and write its entries twice), at the line of the one to delete."""
    listed = [name for name in loaded if name in RULES or name == POOL_RULES]
    if listed.count(POOL_RULES) == 1 and len(listed) == 1:
        return []
    lines = _plugin_lines(main_file)
    pool_line = _nth(lines.get(POOL_RULES, []), 0)
    errors, count = [], {}
    for name in listed:
        line = _nth(lines.get(name, []), count.get(name, 0))
        count[name] = count.get(name, 0) + 1
        if name == POOL_RULES and count[name] > 1:
            errors.append(_at(main_file, line, f'plugin "{name}" is listed twice (first at line {pool_line}): it '
                                               "would run twice and write its entries twice; delete this line"))
        elif name != POOL_RULES:
            errors.append(_at(main_file, line, f'plugin "{name}" is listed with plugin "{POOL_RULES}" (line '
                                               f"{pool_line}), which runs it already: it would run twice (a rule "
                                               "run twice writes its entries twice); delete this line"))
    return errors


def _order_errors(main_file: Path, names: list[str], lines: dict[str, list[int]]) -> list[LedgerError]:
    """A rule listed twice, or before a rule that must run first, at its line of the main file."""
    listed, count = [], {}
    for name in names:
        listed.append((name, _nth(lines.get(name, []), count.get(name, 0))))
        count[name] = count.get(name, 0) + 1
    errors, seen = [], {}
    for index, (name, line) in enumerate(listed):
        if name in seen:
            errors.append(_at(main_file, line, f'plugin "{name}" is listed twice (first at line {seen[name]}): it '
                                               "would run twice and write its entries twice; delete this line"))
            continue
        seen[name] = line
        first = {}
        for other, other_line in listed[index + 1:]:
            if other not in seen and RULES.index(other) < RULES.index(name):
                first.setdefault(other, other_line)
        if first:
            which = " and ".join(f'plugin "{other}" (line {other_line})' for other, other_line in first.items())
            errors.append(_at(main_file, line, f'plugin "{name}" is listed before {which}: the rules run in the '
                                               "order listed, which must be tranches, then settlement, then "
                                               f"validate; move this line below {'them' if len(first) > 1 else 'it'}"))
    return errors


def _nth(numbers: list[int], n: int) -> int:
    return numbers[n] if n < len(numbers) else 1


def _plugin_lines(path: Path) -> dict[str, list[int]]:
    """Line numbers of each `plugin "..."` line of a file (none when it cannot be read)."""
    found: dict[str, list[int]] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                match = PLUGIN_LINE.match(text)
                if match:
                    found.setdefault(match.group(1), []).append(number)
    except OSError:
        pass
    return found


def _plugin_line_elsewhere(name: str, main_file: Path, options) -> str | None:
    """Where an included file names the plugin (Beancount ignores plugin lines outside the main file)."""
    for included in options.get("include", []):
        if Path(included).resolve() == main_file.resolve():
            continue
        numbers = _plugin_lines(Path(included)).get(name)
        if numbers:
            return where({"filename": included, "lineno": numbers[0]})
    return None


def _at(path: Path, line: int, message: str) -> LedgerError:
    return LedgerError({"filename": str(path), "lineno": line}, message, None)


def is_file_problem(error) -> bool:
    """The error is that the path is not a ledger file at all (see `file_problem`)."""
    return isinstance(error, LedgerError) and error.source.get("lineno") is None


def error_location(error) -> str:
    if is_file_problem(error):
        return str(error.source.get("filename"))
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
