"""`s75 import` under faults: two imports at once, files that cannot be read, awkward workbooks, a
damaged mapping, a full disk or a read-only folder. Nothing is lost, nothing counted twice, one clear
line each, never a traceback."""
from __future__ import annotations

import errno
import re
import os
import subprocess
import sys
import time
from collections import Counter

import openpyxl
import pytest
from filelock import FileLock

from conftest import ROOT
from importer_support import COUNCIL_HEADER, RECEIPTS_HEADER, copy_ledger, imported_entries
from importers import landing, rows
from s75.cli import main

S75 = [sys.executable, "-c", "import sys; from s75.cli import main; sys.exit(main())"]


def council_rows(first: int, count: int) -> str:
    return "".join(f"02/10/2025,P07,CC4102,5400,Acme,Reablement,{1 + n % 7}.00,GL-{first + n}\n"
                   for n in range(count))


def start_import(ledger, *files):
    return subprocess.Popen(S75 + ["import", *map(str, files), "--ledger", str(ledger)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def refs(ledger) -> Counter:
    return Counter((e.meta["system"], e.meta["ref"]) for e in imported_entries(ledger))


def test_two_imports_started_together_both_land_completely(tmp_path):
    ledger = copy_ledger(tmp_path)
    for attempt in range(3):
        a, b = tmp_path / f"a{attempt}.csv", tmp_path / f"b{attempt}.csv"
        a.write_text(COUNCIL_HEADER + council_rows(700000 + attempt * 1000, 50))
        b.write_text(COUNCIL_HEADER + council_rows(800000 + attempt * 1000, 50))
        runs = [start_import(ledger, a), start_import(ledger, b)]
        results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
        for status, out, err in results:
            assert "Traceback" not in out + err
            assert status == 0, out + err
    counted = refs(ledger)
    assert len(counted) == 300 and set(counted.values()) == {1}
    assert not [p for p in (ledger.parent / "imports").iterdir() if p.name.startswith(".pending")]


def test_an_overlapping_import_started_during_a_long_one_counts_nothing_twice(tmp_path):
    ledger = copy_ledger(tmp_path)
    big, small = tmp_path / "big.csv", tmp_path / "small.csv"
    big.write_text(COUNCIL_HEADER + council_rows(300000, 20000))
    small.write_text(COUNCIL_HEADER + council_rows(300000, 5))
    first = start_import(ledger, big)
    time.sleep(1.0)
    second = start_import(ledger, small)
    out1, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, out1 + err1
    assert second.returncode == 0, out2 + err2
    assert "already in ledger 5" in out2
    counted = refs(ledger)
    assert len(counted) == 20000 and set(counted.values()) == {1}


def test_a_busy_ledger_with_no_wait_is_refused_in_one_line(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + council_rows(900000, 2))
    with FileLock(str(ledger.parent / landing.LOCK_NAME)):
        status = subprocess.run(S75 + ["import", str(gl), "--ledger", str(ledger), "--wait", "0"], cwd=ROOT,
                                capture_output=True, text=True)
    assert status.returncode == 1
    assert status.stderr.strip() == "another import into this ledger is running; nothing written"
    assert imported_entries(ledger) == []


def _fifo(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


def _truncated_zip(tmp_path):
    good = tmp_path / "good.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Posting Date"])
    book.save(good)
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path


@pytest.mark.parametrize("make, reason", [
    (lambda tmp: tmp / "missing.csv", "no such file"),
    (lambda tmp: tmp, "is a folder, not a file"),
    (_fifo, "is not a regular file"),
    (_truncated_zip, "not a readable XLSX workbook"),
], ids=["missing", "folder", "fifo", "truncated-zip"])
def test_an_unreadable_file_is_one_line_and_the_others_still_import(tmp_path, capsys, make, reason):
    ledger = copy_ledger(tmp_path)
    bad = make(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + council_rows(900000, 2))
    assert main(["import", str(bad), str(gl), "--ledger", str(ledger)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"REFUSED, nothing written: .*{reason}", out), out
    assert "gl.csv [s75.council]" in out and "written 2" in out
    assert len(imported_entries(ledger)) == 2


def test_a_file_without_read_permission_is_one_line(tmp_path, capsys, monkeypatch):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + council_rows(900000, 2))
    locked = tmp_path / "locked.csv"
    locked.write_text(COUNCIL_HEADER)
    real_open = open

    def refusing_open(file, *args, **kwargs):  # as root, chmod 000 would not stop the read
        if str(file) == str(locked):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(rows, "open", refusing_open, raising=False)
    assert main(["import", str(locked), str(gl), "--ledger", str(ledger)]) == 1
    out = capsys.readouterr().out
    assert "REFUSED, nothing written: cannot be read: Permission denied" in out and "written 2" in out


def workbook(path, sheets: dict[str, list[list]], merge: str | None = None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, data in sheets.items():
        sheet = book.create_sheet(name)
        for row in data:
            sheet.append(row)
        if merge:
            sheet.merge_cells(merge)
    book.save(path)
    return path


HEADER = COUNCIL_HEADER.strip().split(",")


def gl_row(ref, amount="10.00"):
    return ["02/10/2025", "P07", "CC4102", "5400", "Acme", "Reablement", amount, ref]


def test_every_sheet_with_the_layout_is_read_and_another_is_named(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    book = workbook(tmp_path / "gl.xlsx", {
        "October": [HEADER, gl_row("GL-900001"), gl_row("GL-900002")],
        "Late lines": [HEADER, gl_row("GL-900003"), gl_row("GL-900004"), gl_row("GL-900005"), gl_row("GL-900006")],
        "Notes": [["Prepared by", "Finance"]]})
    assert main(["import", str(book), "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "warning: gl.xlsx: sheet 'Notes' has no Council general-ledger extract header row: not read" in out
    assert "written 6" in out
    sources = [e.meta["source"] for e in imported_entries(ledger)]
    assert "gl.xlsx:Late lines:5" in sources and "gl.xlsx:October:2" in sources


@pytest.mark.parametrize("sheets, merge, message", [
    ({"GL": [HEADER, gl_row("GL-900001"), gl_row("GL-900002")]}, "E2:F2",
     "gl.xlsx: sheet 'GL' has merged cells (E2:F2): unmerge them"),
    ({"GL": [HEADER + ["Amount"], gl_row("GL-900001") + ["5.00"]]}, None,
     "two columns are headed 'Amount'"),
    ({"GL": [[h for h in HEADER if h != "Supplier"], gl_row("GL-900001")[:4] + gl_row("GL-900001")[5:]]}, None,
     "lacks required column(s): Supplier"),
], ids=["merged-cells", "same-header-twice", "missing-column"])
def test_awkward_workbooks_are_refused_clearly(tmp_path, capsys, sheets, merge, message):
    ledger = copy_ledger(tmp_path)
    book = workbook(tmp_path / "gl.xlsx", sheets, merge)
    assert main(["import", str(book), "--ledger", str(ledger)]) == 1
    out = capsys.readouterr().out
    assert message in out and "REFUSED" in out
    assert imported_entries(ledger) == []


def test_a_csv_missing_a_column_names_it(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    receipts = tmp_path / "receipts.csv"
    receipts.write_text(RECEIPTS_HEADER.replace("Partner,", "") + "15/10/2025,MinimumNHS,100.00,R-1,x\n")
    assert main(["import", str(receipts), "--ledger", str(ledger)]) == 1
    assert "lacks required column(s): Partner" in capsys.readouterr().out


def test_mapping_saved_as_windows_1252_is_read_with_a_warning(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    mapping.write_bytes(mapping.read_bytes() + "council,CC4199,,S02,,Caf\u00e9 reablement\n".encode("cp1252"))
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + "02/10/2025,P07,CC4199,5400,Acme,Reablement,10.00,GL-900001\n")
    assert main(["import", str(gl), "--ledger", str(ledger)]) == 0
    captured = capsys.readouterr()
    line = len(mapping.read_bytes().splitlines())
    assert f"mapping.csv:{line}: not UTF-8; read as Windows-1252" in captured.err
    assert "to suspense 0" in captured.out


def test_mapping_with_a_short_row_names_its_line(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    mapping.write_text(mapping.read_text() + "council,CC4199\n")
    line = len(mapping.read_text().splitlines())
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + council_rows(900000, 1))
    assert main(["import", str(gl), "--ledger", str(ledger)]) == 1
    err = capsys.readouterr().err
    assert f"mapping.csv:{line}: no scheme (the row has 2 of the header's 6 columns)" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EROFS], ids=["disk-full", "read-only"])
def test_a_full_disk_or_read_only_folder_writes_nothing_and_leaves_no_file(tmp_path, capsys, monkeypatch,
                                                                          failure):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + council_rows(900000, 3))
    before = sorted(p.name for p in (ledger.parent / "imports").iterdir())

    def fail(*args, **kwargs):
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(landing.os, "fsync" if failure == errno.ENOSPC else "replace", fail)
    assert main(["import", str(gl), "--ledger", str(ledger)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"cannot write into {ledger.parent / 'imports'}: {os.strerror(failure)}; nothing written"]
    assert sorted(p.name for p in (ledger.parent / "imports").iterdir()) == before


def test_a_ledger_that_does_not_include_its_imports_folder_is_refused(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    ledger.write_text(ledger.read_text().replace('include "imports/*.beancount"\n', ""))
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + council_rows(900000, 1))
    assert main(["import", str(gl), "--ledger", str(ledger)]) == 1
    assert 'main.beancount does not include the imports/ folder' in capsys.readouterr().err
    assert imported_entries(ledger) == []
