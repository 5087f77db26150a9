"""Shared test helpers: paths, loading a ledger from text, and finding a line in it."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from beancount import loader

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "ledger" / "main.beancount"
WORKED = Path(__file__).resolve().parent / "ledgers" / "worked-example.beancount"


def load_text(text: str):
    return loader.load_string(textwrap.dedent(text))


def line_of(text: str, needle: str) -> int:
    """1-based line number of the only line of (dedented) `text` containing `needle`."""
    lines = [i for i, line in enumerate(textwrap.dedent(text).splitlines(), 1) if needle in line]
    assert len(lines) == 1, f"{needle!r} found on lines {lines}"
    return lines[0]


@pytest.fixture(scope="session")
def example_entries():
    entries, errors, options = loader.load_file(str(EXAMPLE))
    assert errors == []
    return entries


@pytest.fixture(scope="session")
def worked_entries():
    entries, errors, options = loader.load_file(str(WORKED))
    assert errors == []
    return entries
