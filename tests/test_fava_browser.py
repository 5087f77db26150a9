"""The Fava page in a real browser (Chromium via Playwright): totals, a scheme link, the download,
and a ledger with errors. In CI (CI=true) these must run; elsewhere they skip without Chromium."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal as D
from pathlib import Path

import pytest

from conftest import EXAMPLE, fava_serving
from s75.cli import main

CHROMIUM = "/usr/bin/chromium"
SLUG = "example-borough-better-care-fund"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"CI=true but {CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(ledger: Path):
    port = free_port()
    fava = Path(sys.executable).parent / "fava"
    process = subprocess.Popen([str(fava), "--host", "127.0.0.1", "--port", str(port), "--read-only", str(ledger)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            return process, base
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode())
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("Fava did not start")


@pytest.fixture(scope="module")
def fava():
    with fava_serving(EXAMPLE) as base:
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    yield context.new_page()
    context.close()


def position(capsys) -> dict:
    capsys.readouterr()
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def figure(text: str) -> D:
    return D(text.strip().split()[0].replace(",", "").replace("(", "-").replace(")", ""))


def test_page_totals_equal_the_position(fava, page, capsys):
    page.goto(f"{fava}/{SLUG}/extension/PoolBudget/")
    page.wait_for_selector("tr[data-total=schemes]")
    totals = position(capsys)["totals"]
    for field, value in totals["schemes"].items():
        shown = page.inner_text(f"tr[data-total=schemes] td[data-field={field}]")
        assert figure(shown) == D(value), field
    for field in ("agreed", "received", "outstanding"):
        shown = page.inner_text(f"tr[data-total=partners] td[data-field={field}]")
        assert figure(shown) == D(totals["partners"][field]), field
    assert "Month 6, to 30 September 2025" in page.inner_text("body")


def test_scheme_link_opens_its_entries_for_the_year_to_the_month(fava, page):
    page.goto(f"{fava}/{SLUG}/extension/PoolBudget/")
    page.click("tr[data-scheme=S02] td[data-field=actual_to_date] a")
    page.wait_for_url("**/account/Expenses:Scheme:S02/**")
    assert "time=2025-04+-+2025-09" in page.url
    page.wait_for_selector("text=Acme Homecare Ltd")
    assert "Reablement packages" in page.inner_text("body")


def test_download_matches_s75_statement(fava, page, tmp_path):
    page.goto(f"{fava}/{SLUG}/extension/PoolBudget/?month=2025-09")
    with page.expect_download() as info:
        page.click("#s75-download-xlsx")
    download = info.value
    assert download.suggested_filename == "EB-BCF-2025-09-statement.xlsx"
    saved = tmp_path / "from-fava.xlsx"
    download.save_as(saved)
    assert main(["statement", str(EXAMPLE), "--month", "2025-09", "--out", str(tmp_path / "cli")]) == 0
    assert saved.read_bytes() == (tmp_path / "cli" / "EB-BCF-2025-09-statement.xlsx").read_bytes()


def test_month_can_be_chosen(fava, page):
    page.goto(f"{fava}/{SLUG}/extension/PoolBudget/")
    page.select_option("#s75-month", "2025-06")
    page.click("#s75-show")
    page.wait_for_url("**month=2025-06**")
    assert "Month 3, to 30 June 2025" in page.inner_text("body")


def test_ledger_with_errors_still_opens_and_lists_them(tmp_path, browser):
    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger")
    schemes = tmp_path / "ledger" / "schemes.beancount"
    schemes.write_text(schemes.read_text().replace('split: "ICB 60, Council 40"', 'split: "ICB 60, Council 30"'))
    process, base = serve(tmp_path / "ledger" / "main.beancount")
    try:
        page = browser.new_page()
        page.goto(f"{base}/{SLUG}/extension/PoolBudget/")
        errors = page.inner_text("#s75-errors")
        assert "joint split sums to 90%, not 100%" in errors and "schemes.beancount:" in errors
        page.close()
    finally:
        process.terminate()
        process.wait(10)
