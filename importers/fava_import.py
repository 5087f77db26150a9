"""Fava's import page: the importers and hook the ledger's import configuration takes from here.
The example ledger names it with

    2025-04-01 custom "fava-option" "import-config" "import_config.py"
    2025-04-01 custom "fava-option" "import-dirs" "extracts"

(Fava 1.30 runs the file the option names, a path relative to the ledger's main file, and takes its
`CONFIG` list of importers and its `HOOKS`; ledger/import_config.py imports them from here, and sits
beside main.beancount so that a copy of the ledger folder still finds it. The page lists every file
under the import folders.)

The page reads a file exactly as `s75 import` does (importers.run.import_file, with the importers
`importers.config.importers_for` builds from the ledger Fava has open and its mapping.csv), and
offers the entries `s75 import` would write. A file is offered to the one importer `s75 import` would
read it with; a file none recognises, or that cannot be read, to "s75.unrecognised", whose Extract
says why.

What the page cannot show is a summary, so it takes a file whole or not at all: a file `s75 import`
would refuse, or in which it would reject a row or find a conflict, offers nothing and the page shows
the reasons, in `s75 import`'s words, as an error notice (HTTP 422). Fava wraps any exception an
importer raises in a 500 carrying a Python traceback; a hook's exception it passes on as it is, so
`extract` returns a `Refusal` and the hook raises it. Plans and metrics are directives the page
cannot save (it saves transactions, balances and notes): their files are sent to `s75 import`.

Fava saves the entries at the end of the ledger's main file (or where an `insert-entry` option
says), not as `s75 import` does (a dated file under imports/, under the ledger's lock, checked by
loading the ledger first): run `s75 check` after saving. Identity decides what is new, as for `s75
import`: beangulp's duplicate guess (same amount within two days) is not applied.
"""
from __future__ import annotations

import os
from http import HTTPStatus
from pathlib import Path

import beangulp
from beancount.core import data
from beancount.parser import parser
from fava.json_api import FavaJSONAPIError

from importers.base import ledger_keys
from importers.config import MAPPING, importers_for
from importers.mapping import MappingError
from importers.rows import unreadable
from importers.run import import_file
from reports.ledger import format_error, load_ledger, pool_errors

UNRECOGNISED = "s75.unrecognised"
SAVABLE = (data.Transaction, data.Balance, data.Note)  # what Fava's page can write
SHOWN = 20  # reasons listed before "and N more"


class Refusal(list):
    """An extract with no entries, and why: the hook turns it into the page's error notice."""

    def __init__(self, message: str):
        super().__init__()
        self.message = message


class FileRefused(FavaJSONAPIError):
    """A file the page will not import, with the reasons; Fava's JSON API answers it as HTTP 422."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


def report_refusals(extracted, existing):
    """Fava's hook, run after each extract: a refused file becomes the page's error notice."""
    for _, entries in extracted:
        if isinstance(entries, Refusal):
            raise FileRefused(entries.message)
    return extracted


class Ledger:
    """The ledger the page imports into and the importers for it, rebuilt when Fava reloads the
    ledger or mapping.csv changes. In Fava the ledger is the one the page belongs to; elsewhere
    `path` (default $S75_LEDGER, else ledger/main.beancount), loaded once."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.offered: set[str] = set()  # the names the page offers files to (config() sets them)
        self._loaded = None  # (path, entries, errors) when not in Fava
        self._fava_errors = None  # (entries, errors) of the ledger Fava has open
        self._built = None  # (key, importers, problem, entries)
        self._identified = (None, {})  # (importers key, {(file, mtime, size): importer name or None})

    def current(self, existing=None) -> tuple[Path, list, list[str]]:
        """The ledger's main file, its entries and its errors (as `s75 check` gives them)."""
        fava = _fava_ledger()
        if self.path is None and fava is not None:
            path, entries = Path(fava.beancount_file_path), fava.all_entries
            if self._fava_errors is None or self._fava_errors[0] is not entries:
                errors = list(fava.load_errors) + pool_errors(path, entries, fava.options)
                self._fava_errors = (entries, [format_error(e) for e in errors])
            return path, existing if existing is not None else entries, self._fava_errors[1]
        path = self.path or Path(os.environ.get("S75_LEDGER", "ledger/main.beancount"))
        if self._loaded is None or self._loaded[0] != path:
            loaded = load_ledger(path)
            self._loaded = (path, loaded.entries, [format_error(e) for e in loaded.errors])
        return path, existing if existing is not None else self._loaded[1], self._loaded[2]

    def importers(self, existing=None) -> tuple[list, str, tuple]:
        """The importers `s75 import` would use, or [] and why they cannot be built (the ledger's
        errors, or its mapping's)."""
        path, entries, errors = self.current(existing)
        if errors:
            s = "" if len(errors) == 1 else "s"
            them = "it" if len(errors) == 1 else "them"
            return [], (f"REFUSED, nothing written: the ledger has {len(errors)} error{s}: correct {them} before "
                        f"importing (Fava's Errors page lists {them}): {'; '.join(errors[:3])}"), (path, id(errors))
        mapping = path.parent / MAPPING
        try:
            stat = mapping.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        key = (path, id(entries), stamp)
        if self._built is None or self._built[0] != key:
            try:
                built, problem = importers_for(path, entries), ""
            except (MappingError, OSError) as exc:
                built, problem = [], f"cannot import: {exc}"
            self._built = (key, built, problem, entries)  # the entries kept, so that their id stays theirs
        return self._built[1], self._built[2], key

    def identify(self, filepath: str) -> str | None:
        """The name of the importer `s75 import` would read the file with (the first that recognises
        it), None when none does or the file cannot be read."""
        path = Path(filepath)
        if unreadable(path):
            return None
        importers, _, key = self.importers()
        try:
            stat = path.stat()
        except OSError:  # gone since it was listed
            return None
        seen = (str(path), stat.st_mtime_ns, stat.st_size)
        known = self._identified[1] if self._identified[0] == key else {}
        if seen not in known:
            known = {**known, seen: next((i.name for i in importers if _identifies(i, path)), None)}
            self._identified = (key, known)
        return known[seen]

    def extract(self, filepath: str, existing, name: str) -> list:
        """The entries `s75 import` would write from the file, or a Refusal saying why not."""
        path = Path(filepath)
        _, entries, _ = self.current(existing)
        importers, problem, _ = self.importers(entries)
        if problem:
            return Refusal(f"{path.name}: {problem}")
        summary = import_file(path, importers, ledger_keys(importers, entries))
        label = f"{path.name} [{summary.importer}]" if summary.importer else path.name
        if summary.refused:
            return Refusal(f"{label}: REFUSED, nothing written: {summary.refused}")
        if summary.importer != name and summary.importer not in self.offered:
            return Refusal(f"{label}: this page does not offer {summary.importer}: import it with `s75 import`")
        if summary.importer != name:  # the file changed since the page listed it
            return Refusal(f"{label}: is now a file for {summary.importer}: reload the page")
        reasons = [f"rejected {r}" for r in summary.rejected] + [str(c) for c in summary.conflicts]
        if reasons:
            more = f"; and {len(reasons) - SHOWN} more" if len(reasons) > SHOWN else ""
            return Refusal(f"{label}: REFUSED, nothing written: {'; '.join(reasons[:SHOWN])}{more} (this page "
                           "takes a file whole or not at all: `s75 import` writes its other rows)")
        entries, errors, _ = parser.parse_string(summary.text)
        if errors:  # never expected: s75 import writes this text as it is
            return Refusal(f"{label}: cannot show its entries: {errors[0].message}")
        others = [e for e in entries if not isinstance(e, SAVABLE)]
        if others:
            return Refusal(f"{label}: nothing written: this page saves transactions only, and this file's "
                           f"{len(entries)} entries are {_kinds(entries)}: import it with `s75 import`")
        return entries


def _fava_ledger():
    """The ledger of the Fava page being served, if this is a Fava request."""
    try:
        from flask import g, has_request_context
    except ImportError:
        return None
    if not has_request_context():
        return None
    return getattr(g, "ledger", None)


def _identifies(importer, path: Path) -> bool:
    try:
        return bool(importer.identify(str(path)))
    except Exception:  # noqa: BLE001 - one importer's failure must not take the page down
        return False


def _kinds(entries) -> str:
    """"s75-budget, s75-contribution and s75-scheme directives and account openings"."""
    customs = sorted({e.type for e in entries if isinstance(e, data.Custom)})
    kinds = []
    if customs:
        kinds.append((", ".join(customs[:-1]) + " and " + customs[-1] if len(customs) > 1 else customs[0])
                     + " directives")
    if any(isinstance(e, data.Open) for e in entries):
        kinds.append("account openings")
    rest = sorted({type(e).__name__.lower() for e in entries if not isinstance(e, (data.Custom, data.Open))})
    kinds += [f"{kind} entries" for kind in rest]
    return " and ".join(kinds)


class PageImporter(beangulp.Importer):
    """One of the ledger's importers as Fava's page sees it: it recognises a file when `s75 import`
    would read the file with that importer, and extracts what `s75 import` would write."""

    def __init__(self, name: str, ledger: Ledger):
        self._name = name
        self.ledger = ledger

    @property
    def name(self) -> str:
        return self._name

    def _inner(self):
        importers, _, _ = self.ledger.importers()
        return next((i for i in importers if i.name == self._name), None)

    def identify(self, filepath: str) -> bool:
        return self.ledger.identify(filepath) == self._name

    def account(self, filepath: str) -> str:
        inner = self._inner()
        return inner.account(filepath) if inner is not None else ""

    def filename(self, filepath: str) -> str | None:
        inner = self._inner()
        return inner.filename(filepath) if inner is not None else None

    def extract(self, filepath: str, existing: data.Entries) -> data.Entries:
        return self.ledger.extract(filepath, existing, self._name)

    def sort(self, entries: data.Entries, reverse: bool = False) -> None:
        """In the file's order, as `s75 import` writes them."""

    def deduplicate(self, entries: data.Entries, existing: data.Entries) -> None:
        """Nothing: what the ledger already has was left out by identity (system and reference)."""


class Unrecognised(PageImporter):
    """Every file no importer recognises, or that cannot be read: its Extract says why, in `s75
    import`'s words ("unknown layout ...", "looks like ... but lacks required column(s): ...")."""

    def __init__(self, ledger: Ledger):
        super().__init__(UNRECOGNISED, ledger)

    def identify(self, filepath: str) -> bool:
        return self.ledger.identify(filepath) not in self.ledger.offered

    def account(self, filepath: str) -> str:
        return ""

    def filename(self, filepath: str) -> str | None:
        return None


def config(ledger: Path | None = None, names: list[str] | None = None) -> list:
    """The page's importers: one per importer of `s75 import` (`names`, default KINDS), then
    "s75.unrecognised". `ledger` fixes the ledger (else Fava's, or $S75_LEDGER)."""
    source = Ledger(ledger)
    if names is None:
        names = [f"s75.{kind}" for kind in KINDS]
    source.offered = set(names)
    return [PageImporter(name, source) for name in names] + [Unrecognised(source)]


KINDS = ("council", "icb", "receipts", "metrics", "plan")  # importers.config.importers_for, in its order

CONFIG = config()
HOOKS = [report_refusals]
