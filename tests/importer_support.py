"""Helpers for importer tests: importers built from the example ledger, golden-file comparison."""
from __future__ import annotations

import os
from pathlib import Path

from beangulp import testing
from beancount import loader

from conftest import EXAMPLE
from importers import council_gl, icb_ledger
from importers.mapping import Mapping
from rules.reader import read_agreement

SAMPLES = Path(__file__).resolve().parent / "importers"


def example_ledger():
    entries, errors, _ = loader.load_file(str(EXAMPLE))
    assert errors == []
    return entries


def gl_importers(entries=None):
    agreement, _ = read_agreement(entries if entries is not None else example_ledger())
    mapping = Mapping.load(EXAMPLE.parent / "mapping.csv", agreement)
    return council_gl.importer(mapping), icb_ledger.importer(mapping)


def golden_diff(importer, document: Path) -> list[str]:
    """beangulp's regression test: the document's extract against `<document>.beancount` beside it.
    With S75_REGENERATE=1 the expected file is (re)written instead."""
    result = testing.run_importer(importer, str(document))
    expected = Path(f"{document}.beancount")
    if os.environ.get("S75_REGENERATE") or not expected.exists():
        testing.write_expected_file(str(expected), *result, force=True)
    return testing.compare_expected(str(expected), *result)


COUNCIL_HEADER = "Posting Date,Period,Cost Centre,Account Code,Supplier,Description,Amount,Transaction Ref\n"
ICB_HEADER = ("GL Date,Entity,Cost Centre Code,Subjective Code,Vendor Name,Line Description,Net Value,"
              "Currency Code,Document Number\n")
RECEIPTS_HEADER = "Date,Partner,Source,Amount,Reference,Narration\n"


def copy_ledger(tmp_path) -> Path:
    """A copy of the example ledger to import into; its main file's path."""
    import shutil

    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger", ignore=shutil.ignore_patterns(".*.picklecache"))
    return tmp_path / "ledger" / "main.beancount"


def imported_entries(ledger: Path) -> list:
    """The entries `s75 import` wrote under the ledger's imports/ folder, in file order."""
    from beancount.parser import parser

    entries = []
    for path in sorted((ledger.parent / "imports").glob("*.beancount")):
        parsed, errors, _ = parser.parse_file(str(path))
        assert errors == []
        entries += parsed
    return entries
