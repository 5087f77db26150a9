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
