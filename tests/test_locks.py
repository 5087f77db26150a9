"""Locked months: `s75 lock` records a lock and a fingerprint of the locked entries; from then on the
check (bean-check, `s75 check`, Fava) reports every entry added, changed or removed in a locked month,
and a lock that was taken out. Locks only move forward."""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from beancount import loader

from conftest import ROOT
from importer_support import copy_ledger
from rules.entries import is_generated
from rules.fingerprints import entry_hash
from s75.cli import main

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"
SEPTEMBER = "2025-26/spend-2025-09.beancount"


def check(ledger: Path, capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    status = main(["check", str(ledger)])
    return status, [line for line in capsys.readouterr().err.splitlines() if line and not line.startswith("warning")]


def lock(ledger: Path, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["lock", str(ledger), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def line_starting(path: Path, start: str) -> int:
    numbers = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start)]
    assert len(numbers) == 1, (start, numbers)
    return numbers[0]


def where(path: Path, line: int) -> str:
    return f"{path}:{line}: "


@pytest.fixture
def ledger(tmp_path):
    return copy_ledger(tmp_path)


def test_lock_records_the_lock_and_a_fingerprint_of_every_entry_to_the_months_end(ledger, capsys):
    status, out, err = lock(ledger, capsys, "--month", "2025-09")
    assert (status, err) == (0, "")
    directives = ledger.parent / "locks" / "locks.beancount"
    assert 'include "locks/locks.beancount"' in ledger.read_text()
    assert 'custom "s75-lock" "2025-09"' in directives.read_text()
    fingerprint = json.loads((ledger.parent / "locks" / "2025-09.json").read_text())
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    locked = [e for e in entries if not is_generated(e) and str(e.date) <= "2025-09-30"
              and not (getattr(e, "type", "").startswith("fava-") or getattr(e, "type", "") == "s75-lock")]
    assert len(fingerprint["entries"]) == len(locked) > 300
    assert {"date", "hash", "what", "at"} <= set(fingerprint["entries"][0])
    assert fingerprint["to"] == "2025-09-30" and fingerprint["previous"] is None
    assert "locked 2025-09" in out and "first open month is 2025-10" in out
    assert check(ledger, capsys) == (0, [])


def test_add_change_and_delete_in_a_locked_month_are_three_errors_at_their_lines(ledger, capsys):
    assert lock(ledger, capsys, "--month", "2025-09")[0] == 0
    spend = ledger.parent / SEPTEMBER
    text = spend.read_text()
    # change: the amount of GL-100214; delete: GL-100215; add: a new line dated in September
    text = text.replace("78828.27 GBP", "78828.72 GBP")
    deleted = ('2025-09-01 * "Maple Lodge Care Home" "S04 Discharge to assess beds September"\n'
               '  system: "council"\n  ref: "GL-100215"\n  Expenses:Scheme:S04                      82125.61 GBP\n'
               '  Assets:Pool:Cash\n\n')
    assert deleted in text
    text = text.replace(deleted, "")
    text += ('\n2025-09-20 * "Late Supplier Ltd" "S02 Reablement packages September"\n  system: "council"\n'
             '  ref: "GL-999001"\n  Expenses:Scheme:S02   500.00 GBP\n  Assets:Pool:Cash\n')
    spend.write_text(text)
    status, errors = check(ledger, capsys)
    assert status == 1
    changed = line_starting(spend, '2025-09-01 * "Rosewood Nursing Home"')
    added = line_starting(spend, '2025-09-20 * "Late Supplier Ltd"')
    directive = line_starting(ledger.parent / "locks" / "locks.beancount", "20")
    found = [e for e in errors if "lock of 2025-09" in e]
    assert len(found) == 3, errors
    assert [e for e in found if e.startswith(where(spend, changed))] and "changed" in found[0] + found[1] + found[2]
    assert next(e for e in found if e.startswith(where(spend, changed))).count("changed since 2025-09 was locked")
    assert "added after 2025-09 was locked" in next(e for e in found if e.startswith(where(spend, added)))
    removed = next(e for e in found if e.startswith(where(ledger.parent / "locks" / "locks.beancount", directive)))
    assert "removed" in removed and "2025-09-01" in removed and "Maple Lodge Care Home" in removed
    assert "GL-100215" in removed
    # bean-check reports the same (it is a plugin check)
    _, beancount_errors, _ = loader.load_file(str(ledger))
    assert sum("lock of 2025-09" in e.message for e in beancount_errors) == 3


def test_entries_after_the_locked_month_are_free(ledger, capsys):
    assert lock(ledger, capsys, "--month", "2025-08")[0] == 0
    spend = ledger.parent / SEPTEMBER
    spend.write_text(spend.read_text().replace("78828.27 GBP", "78828.72 GBP"))
    assert check(ledger, capsys) == (0, [])


def test_removing_the_lock_line_is_reported(ledger, capsys):
    assert lock(ledger, capsys, "--month", "2025-09")[0] == 0
    directives = ledger.parent / "locks" / "locks.beancount"
    directives.write_text("".join(line for line in directives.read_text().splitlines(keepends=True)
                                  if "s75-lock" not in line))
    status, errors = check(ledger, capsys)
    assert status == 1
    fingerprint = ledger.parent / "locks" / "2025-09.json"
    assert any(e.startswith(f"{fingerprint}:1: ") and "s75-lock" in e and "removed" in e for e in errors), errors


def test_a_missing_fingerprint_is_reported_at_the_lock(ledger, capsys):
    assert lock(ledger, capsys, "--month", "2025-09")[0] == 0
    (ledger.parent / "locks" / "2025-09.json").unlink()
    status, errors = check(ledger, capsys)
    assert status == 1
    assert any("locks.beancount:" in e and "2025-09.json is missing" in e for e in errors), errors


def test_locks_only_move_forward(ledger, capsys):
    assert lock(ledger, capsys, "--month", "2025-08")[0] == 0
    assert lock(ledger, capsys, "--month", "2025-09")[0] == 0
    before = {p.name: p.read_bytes() for p in (ledger.parent / "locks").iterdir()}
    main_text = ledger.read_text()
    status, out, err = lock(ledger, capsys, "--month", "2025-07")
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "2025-07 is before the latest lock, 2025-09" in err
    status, _, err = lock(ledger, capsys, "--month", "2025-09")
    assert status == 1 and "2025-09 is already locked" in err
    assert {p.name: p.read_bytes() for p in (ledger.parent / "locks").iterdir()} == before
    assert ledger.read_text() == main_text
    # the second lock's fingerprint holds only what the first did not
    second = json.loads((ledger.parent / "locks" / "2025-09.json").read_text())
    assert second["previous"] == "2025-08" and min(e["date"] for e in second["entries"]) >= "2025-09-01"
    assert check(ledger, capsys) == (0, [])


def test_a_month_not_yet_ended_or_malformed_is_refused(ledger, capsys):
    status, _, err = lock(ledger, capsys, "--month", "2999-01")
    assert status == 1 and "has not ended" in err
    status, _, err = lock(ledger, capsys, "--month", "2025-9")
    assert status == 1 and "YYYY-MM" in err
    assert not (ledger.parent / "locks").exists()


def test_a_ledger_with_errors_is_not_locked(ledger, capsys):
    schemes = ledger.parent / "schemes.beancount"
    schemes.write_text(schemes.read_text().replace('split: "ICB 60, Council 40"', 'split: "ICB 60, Council 30"'))
    status, _, err = lock(ledger, capsys, "--month", "2025-09")
    assert status == 1 and "nothing locked" in err
    assert not (ledger.parent / "locks").exists()


def test_a_main_file_that_cannot_be_told_to_include_the_locks_is_refused_in_one_line(ledger, capsys):
    ledger.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        status, out, err = lock(ledger, capsys, "--month", "2025-09")
    finally:
        ledger.chmod(0o644)
    assert status == 1 and err.count("\n") == 1
    assert 'include "locks/locks.beancount"' in err and "nothing locked" in err
    assert not (ledger.parent / "locks").exists()


def test_a_year_is_locked_with_its_close_and_generated_entries_are_recomputed(tmp_path, capsys):
    folder = tmp_path / "pool"
    folder.mkdir()
    ledger = folder / "main.beancount"
    shutil.copy(THREE, ledger)
    status, out, err = lock(ledger, capsys, "--year", "2025-26")
    assert (status, err) == (0, ""), err
    fingerprint = json.loads((folder / "locks" / "2026-03.json").read_text())
    assert fingerprint["to"] == "2026-03-31"
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    generated = {entry_hash(e) for e in entries if is_generated(e) and e.date <= fingerprint_end(fingerprint)}
    assert generated and not generated & {row["hash"] for row in fingerprint["entries"]}
    assert any('custom "s75-close" "2025-26"' in row["what"] for row in fingerprint["entries"])
    assert check(ledger, capsys) == (0, [])
    # a closed year is locked to 31 March: nothing before it can be locked any more
    status, _, err = lock(ledger, capsys, "--month", "2025-12")
    assert status == 1 and "before the latest lock, 2026-03" in err


def fingerprint_end(fingerprint):
    import datetime
    return datetime.date.fromisoformat(fingerprint["to"])


def test_the_fava_page_shows_the_locked_months_and_an_edit_in_one_is_an_error(ledger, capsys):
    from fava.application import create_app

    assert lock(ledger, capsys, "--month", "2025-09")[0] == 0
    app = create_app([str(ledger)], load=True, read_only=False)
    client = app.test_client()
    slug = "example-borough-better-care-fund"
    page = client.get(f"/{slug}/extension/PoolBudget/?month=2025-09").get_data(as_text=True)
    assert 's75-errors' not in page
    assert 'id="s75-locks"' in page and "Locked to 2025-09" in page
    assert "first open month 2025-10" in page
    # an edit made through Fava's editor, inside the locked month
    spend = ledger.parent / SEPTEMBER
    source = client.get(f"/{slug}/api/source", query_string={"filename": str(spend)}).get_json()["data"]
    changed = source["source"].replace("78828.27 GBP", "78828.72 GBP")
    reply = client.put(f"/{slug}/api/source", json={"file_path": str(spend), "source": changed,
                                                    "sha256sum": source["sha256sum"]})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    page = client.get(f"/{slug}/extension/PoolBudget/").get_data(as_text=True)
    assert 'id="s75-errors"' in page and "changed since 2025-09 was locked" in page


def test_the_lock_command_waits_for_the_ledgers_lock(ledger, capsys):
    from filelock import FileLock

    held = FileLock(str(ledger.parent / ".s75.lock"))
    held.acquire()
    try:
        status, _, err = lock(ledger, capsys, "--month", "2025-09", "--wait", "0")
    finally:
        held.release()
    assert status == 1 and "nothing locked" in err
    assert not (ledger.parent / "locks").exists()
    assert os.path.exists(ledger)
