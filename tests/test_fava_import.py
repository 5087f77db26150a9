"""Fava's import page on the example ledger (importers/fava_import.py): the ledger names the import
config and folder; each file in the folder is offered to the one importer `s75 import` would use; a
good file's entries are offered and can be saved; a bad file is refused with the reasons `s75 import`
gives (HTTP 422 with those words, never a 500 with a traceback).

Through Fava's own Flask app (its JSON API, as the page calls it) and, where Chromium is installed,
through the page in a real browser. Always on a copy of the example ledger, never the repository's."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl
import pytest
from beancount import loader

from conftest import EXAMPLE, ROOT
from importer_support import copy_ledger
from importers.config import importers_for
from importers.run import import_file
from s75.cli import main

SLUG = "example-borough-better-care-fund"
CHROMIUM = "/usr/bin/chromium"
RECEIPTS = "Date,Partner,Source,Amount,Reference,Narration\n"
GOOD = RECEIPTS + ("08/10/2025,Council,IBCF,\"1,325,000.00\",LA-IBCF-2025-Q3,\"iBCF grant, quarter 3\"\n"
                   "15/10/2025,ICB,MinimumNHS,1266666.67,ICB-MIN-2025-10,\"Minimum NHS contribution, instalment 7\"\n")
BAD = RECEIPTS + ("17/11/2025,ICB,MinimumNHS,1266666.67,ICB-MIN-2025-11,\"Minimum NHS contribution, instalment 8\"\n"
                  "18/11/2025,NHSE,MinimumNHS,1000.00,NHSE-001,Not a partner\n")


def pool(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    """A copy of the example ledger with `files` written into its import folder."""
    ledger = copy_ledger(tmp_path)
    for name, text in (files if files is not None else {"receipts-2025-10.csv": GOOD,
                                                         "receipts-2025-11-bad.csv": BAD}).items():
        (ledger.parent / "extracts" / name).write_text(text)
    return ledger


@pytest.fixture
def client(tmp_path):
    from fava.application import create_app

    def make(ledger: Path):
        app = create_app([str(ledger)], load=True)
        app.testing = True
        return app.test_client()
    return make


def imports(client) -> dict[str, list[str]]:
    """The import page's files: basename -> the names of the importers offered for it."""
    response = client.get(f"/{SLUG}/api/imports")
    assert response.status_code == 200, response.get_json()
    return {f["basename"]: [i["importer_name"] for i in f["importers"]] for f in response.get_json()["data"]}


def extract(client, path: Path, importer: str):
    return client.get(f"/{SLUG}/api/extract", query_string={"filename": str(path), "importer": importer})


def s75_import_reasons(ledger: Path, path: Path) -> tuple[str, list[str]]:
    """What `s75 import` says of the file: its refusal, and the rows it sets aside."""
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    importers = importers_for(ledger, entries)
    seen = {}
    for importer in importers:
        seen.update(importer.existing_keys(entries))
    summary = import_file(path, importers, seen)
    return summary.refused, [f"rejected {r}" for r in summary.rejected] + [str(c) for c in summary.conflicts]


# The example ledger's options


def test_the_example_ledger_names_the_import_config_and_folder():
    from fava.core import FavaLedger

    ledger = FavaLedger(str(EXAMPLE))
    assert ledger.errors == []
    assert ledger.ingest.module_path == EXAMPLE.parent / "import_config.py"
    assert list(ledger.fava_options.import_dirs) == ["extracts"]
    assert (EXAMPLE.parent / "extracts").is_dir()
    entries, _, _ = loader.load_file(str(EXAMPLE))
    expected = [i.name for i in importers_for(EXAMPLE, entries)] + ["s75.unrecognised"]
    assert list(ledger.ingest.loaded_config.importers) == expected


def test_a_copy_of_the_ledger_folder_alone_still_finds_its_import_config(tmp_path):
    """Pools start from a copy of ledger/: the config is beside main.beancount, so the copy has it
    (a config Fava cannot find is an error on every page, the pooled-budget page included)."""
    from fava.core import FavaLedger

    ledger = FavaLedger(str(copy_ledger(tmp_path)))
    assert ledger.errors == []
    assert ledger.ingest.loaded_config is not None


# Through Fava's JSON API, as the page calls it


def test_each_file_is_offered_to_the_importer_s75_import_would_use(tmp_path, client):
    ledger = pool(tmp_path, {"receipts-2025-10.csv": GOOD, "receipts-2025-11-bad.csv": BAD,
                             "receipts-no-source.csv": GOOD.replace(",Source,", ",Fund,"),
                             "notes.txt": "not an extract\n"})
    offered = imports(client(ledger))
    assert offered == {"council-gl-2025-04-to-09.csv": ["s75.council"], "receipts-2025-10.csv": ["s75.receipts"],
                       "receipts-2025-11-bad.csv": ["s75.receipts"],
                       "receipts-no-source.csv": ["s75.unrecognised"], "notes.txt": ["s75.unrecognised"]}


def test_a_good_file_offers_its_entries(tmp_path, client):
    ledger = pool(tmp_path)
    response = extract(client(ledger), ledger.parent / "extracts" / "receipts-2025-10.csv", "s75.receipts")
    assert response.status_code == 200, response.get_json()
    entries = response.get_json()["data"]
    assert [(e["t"], e["date"], e["meta"]["ref"], e["postings"][0]["amount"]) for e in entries] == [
        ("Transaction", "2025-10-08", "LA-IBCF-2025-Q3", "1325000.00 GBP"),
        ("Transaction", "2025-10-15", "ICB-MIN-2025-10", "1266666.67 GBP")]
    assert all("__duplicate__" not in e["meta"] for e in entries)


def test_a_bad_file_is_refused_with_the_reasons_s75_import_gives_not_a_traceback(tmp_path, client):
    ledger = pool(tmp_path)
    bad = ledger.parent / "extracts" / "receipts-2025-11-bad.csv"
    response = extract(client(ledger), bad, "s75.receipts")
    assert response.status_code == 422
    message = response.get_json()["error"]
    refused, set_aside = s75_import_reasons(ledger, bad)
    assert (refused, set_aside) == ("", ['rejected receipts-2025-11-bad.csv:3: unknown partner "NHSE" '
                                         "(partners: Council, ICB)"])
    assert message == ("receipts-2025-11-bad.csv [s75.receipts]: REFUSED, nothing written: "
                       'rejected receipts-2025-11-bad.csv:3: unknown partner "NHSE" (partners: Council, ICB) '
                       "(this page takes a file whole or not at all: `s75 import` writes its other rows)")
    assert "Traceback" not in message


@pytest.mark.parametrize("name, text, importer", [
    ("receipts-total.csv", GOOD + ",,,2000000.00,,Total\n", "s75.receipts"),
    ("receipts-no-source.csv", GOOD.replace(",Source,", ",Fund,"), "s75.unrecognised"),
    ("receipts-conflict.csv", RECEIPTS + "15/09/2025,ICB,MinimumNHS,1266666.00,ICB-MIN-2025-09,\n", "s75.receipts"),
    ("council-gl.csv", "Posting Date,Period,Cost Centre,Account Code,Supplier,Description,Amount,Transaction Ref\n"
                       '02/10/2025,7,CC9999,5001,Acme,Something,"1,000.00",GL-NEW-1\n'
                       '03/10/2025,7,CC9999,5001,Acme,Something,"--5",GL-NEW-2\n', "s75.council"),
], ids=["total-row-disagrees", "missing-column", "conflict", "bad-amount"])
def test_every_kind_of_bad_file_says_what_s75_import_says(tmp_path, client, name, text, importer):
    ledger = pool(tmp_path, {name: text})
    path = ledger.parent / "extracts" / name
    response = extract(client(ledger), path, importer)
    assert response.status_code == 422, response.get_json()
    message = response.get_json()["error"]
    refused, set_aside = s75_import_reasons(ledger, path)
    assert refused or set_aside
    for reason in [refused] if refused else set_aside:
        assert reason in message
    label = name if importer == "s75.unrecognised" else f"{name} [{importer}]"
    assert message.startswith(f"{label}: REFUSED, nothing written: ")
    assert "Traceback" not in message


def test_a_pipe_in_the_folder_is_listed_and_named_never_opened(tmp_path, client):
    """Opening a named pipe would wait for ever: the page names it instead, as `s75 import` does."""
    ledger = pool(tmp_path, {})
    pipe = ledger.parent / "extracts" / "export.csv"
    os.mkfifo(pipe)
    page = client(ledger)
    assert imports(page)["export.csv"] == ["s75.unrecognised"]
    response = extract(page, pipe, "s75.unrecognised")
    assert response.status_code == 422
    assert response.get_json()["error"] == ("export.csv: REFUSED, nothing written: is not a regular file (a pipe "
                                            "or a device): save the extract as a file first")


def test_a_plan_workbook_is_sent_to_s75_import(tmp_path, client):
    ledger = pool(tmp_path, {})
    plan = ROOT / "tests" / "importers" / "plan" / "plan-2026-27.xlsx"
    shutil.copy(plan, ledger.parent / "extracts" / plan.name)
    book = openpyxl.load_workbook(plan)
    book["Contributions"].title = "Contribs"
    book.save(ledger.parent / "extracts" / "plan-renamed.xlsx")
    page = client(ledger)
    assert imports(page)["plan-2026-27.xlsx"] == ["s75.plan"]
    response = extract(page, ledger.parent / "extracts" / plan.name, "s75.plan")
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        "plan-2026-27.xlsx [s75.plan]: nothing written: this page saves transactions only, and this file's 21 "
        "entries are s75-budget, s75-contribution and s75-scheme directives and account openings: import it "
        "with `s75 import`")
    response = extract(page, ledger.parent / "extracts" / "plan-renamed.xlsx", "s75.plan")
    assert response.status_code == 422
    assert "no sheet named 'Contributions' (sheets: Contribs, Schemes)" in response.get_json()["error"]


def test_a_file_already_in_the_ledger_offers_nothing(tmp_path, client):
    ledger = pool(tmp_path, {})
    response = extract(client(ledger), ledger.parent / "extracts" / "2025-26" / "council-gl-2025-04-to-09.csv",
                       "s75.council")
    assert (response.status_code, response.get_json()["data"]) == (200, [])


def test_a_receipt_like_one_in_the_ledger_but_with_its_own_reference_is_not_marked_duplicate(tmp_path, client):
    """The ledger has ICB-MIN-2025-04, 1,266,666.67 on 15 April; another receipt the next day with its own
    reference is a different transaction (docs/importing.md), as `s75 import` treats it."""
    text = RECEIPTS + "16/04/2025,ICB,MinimumNHS,1266666.67,ICB-MIN-2025-04B,Second payment\n"
    ledger = pool(tmp_path, {"receipts-april.csv": text})
    response = extract(client(ledger), ledger.parent / "extracts" / "receipts-april.csv", "s75.receipts")
    assert response.status_code == 200
    [entry] = response.get_json()["data"]
    assert "__duplicate__" not in entry["meta"]


def test_a_broken_mapping_is_named_on_the_page(tmp_path, client):
    ledger = pool(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    mapping.write_text(mapping.read_text() + "council,CC7777,,S99,,\n")
    page = client(ledger)
    assert imports(page)["receipts-2025-10.csv"] == ["s75.unrecognised"]
    response = extract(page, ledger.parent / "extracts" / "receipts-2025-10.csv", "s75.unrecognised")
    assert response.status_code == 422
    assert response.get_json()["error"].startswith("receipts-2025-10.csv: cannot import: ")
    assert "mapping.csv:" in response.get_json()["error"] and "S99" in response.get_json()["error"]


def test_a_ledger_with_errors_takes_nothing_as_s75_import_does(tmp_path, client):
    ledger = pool(tmp_path)
    schemes = ledger.parent / "schemes.beancount"
    schemes.write_text(schemes.read_text().replace('split: "ICB 60, Council 40"', 'split: "ICB 60, Council 30"'))
    response = extract(client(ledger), ledger.parent / "extracts" / "receipts-2025-10.csv", "s75.receipts")
    assert response.status_code == 422
    message = response.get_json()["error"]
    assert message.startswith("receipts-2025-10.csv: REFUSED, nothing written: the ledger has 1 error: correct "
                              "it before importing (Fava's Errors page lists it): ")
    assert "schemes.beancount:" in message and "joint split sums to 90%, not 100%" in message


def test_saving_the_offered_entries_writes_them_to_the_copy(tmp_path, client):
    ledger = pool(tmp_path)
    before = EXAMPLE.read_text()
    page = client(ledger)
    entries = extract(page, ledger.parent / "extracts" / "receipts-2025-10.csv", "s75.receipts").get_json()["data"]
    response = page.put(f"/{SLUG}/api/add_entries", json={"entries": entries})
    assert response.status_code == 200, response.get_json()
    text = ledger.read_text()
    assert 'ref: "LA-IBCF-2025-Q3"' in text and 'ref: "ICB-MIN-2025-10"' in text
    assert EXAMPLE.read_text() == before
    assert main(["check", str(ledger)]) == 0
    # The same file again offers nothing: both receipts are in the ledger now.
    again = extract(page, ledger.parent / "extracts" / "receipts-2025-10.csv", "s75.receipts")
    assert (again.status_code, again.get_json()["data"]) == (200, [])


# In a browser

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                                  reason="Chromium is not installed (apt-get install chromium)")


def serve(ledger: Path):
    """Fava on `ledger`, writable (the import page saves), on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fava = Path(sys.executable).parent / "fava"
    process = subprocess.Popen([str(fava), "--host", "127.0.0.1", "--port", str(port), str(ledger)],
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


@browser_only
def test_the_import_page_offers_the_good_file_shows_the_bad_files_reason_and_saves(tmp_path):
    from playwright.sync_api import sync_playwright

    ledger = pool(tmp_path)
    before = EXAMPLE.read_text()
    process, base = serve(ledger)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base}/{SLUG}/import")
            page.wait_for_selector("text=receipts-2025-11-bad.csv")
            assert "receipts-2025-10.csv" in page.inner_text("body")

            # The bad file: its reason, as a notification, and no traceback.
            row = page.locator("div.header", has_text="receipts-2025-11-bad.csv").locator("xpath=following-sibling::div[1]")
            row.get_by_role("button", name="Extract").click()
            note = page.locator("#notifications li.error, .notifications li.error, li.error").first
            note.wait_for()
            shown = note.inner_text()
            assert 'receipts-2025-11-bad.csv:3: unknown partner "NHSE" (partners: Council, ICB)' in shown
            assert "Traceback" not in shown and "500" not in shown
            shots = Path(os.environ.get("S75_SCREENSHOTS", tmp_path))
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "fava-import-refused.png"))

            # The good file: its two receipts offered, then saved.
            row = page.locator("div.header", has_text="receipts-2025-10.csv").locator("xpath=following-sibling::div[1]")
            row.get_by_role("button", name="Extract").click()
            page.wait_for_selector("text=Entry 1 of 2")
            shown = page.eval_on_selector_all("form input", "inputs => inputs.map(i => i.value)")
            assert "iBCF grant, quarter 3" in shown and "1325000.00 GBP" in shown
            page.get_by_role("button", name="\u23ED").click()
            page.get_by_role("button", name="Save").click()
            page.wait_for_selector("text=Stored 2 entries.")
            browser.close()
    finally:
        process.terminate()
        process.wait(10)
    text = ledger.read_text()
    assert 'ref: "LA-IBCF-2025-Q3"' in text and 'ref: "ICB-MIN-2025-10"' in text
    assert EXAMPLE.read_text() == before
    assert main(["check", str(ledger)]) == 0
