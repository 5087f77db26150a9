"""Shared test helpers: paths, loading a ledger from text, finding a line in it, and for the browser
tests Fava serving a ledger and Chromium."""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
from beancount import loader

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "ledger" / "main.beancount"
WORKED = Path(__file__).resolve().parent / "ledgers" / "worked-example.beancount"

# PDFs kept by reports.pdf_cache go to a folder of the test run's own (the commands the tests start
# inherit it), not to the user's cache, and are gone when the run ends.
os.environ["S75_PDF_CACHE"] = tempfile.mkdtemp(prefix="s75-pdf-cache-")
atexit.register(shutil.rmtree, os.environ["S75_PDF_CACHE"], True)


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


@contextlib.contextmanager
def fava_serving(ledger: Path):
    """The base address of Fava serving `ledger` on this computer, stopped afterwards."""
    from test_fava_browser import serve
    process, base = serve(ledger)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, for one test module (a module that starts Playwright itself
    does not ask for it)."""
    from playwright.sync_api import sync_playwright

    from test_fava_browser import ARGS, CHROMIUM
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
