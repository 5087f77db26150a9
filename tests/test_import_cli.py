"""`s75 import` end to end on a copy of the example ledger, and `s75 check`'s suspense warning."""
from __future__ import annotations

import datetime
import shutil

from conftest import EXAMPLE
from importer_support import SAMPLES
from s75.cli import main


def copy_ledger(tmp_path):
    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger")
    return tmp_path / "ledger" / "main.beancount"


def test_import_writes_a_dated_file_then_nothing_on_reimport(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    files = [str(SAMPLES / "council/council-gl-2025-10.csv"), str(SAMPLES / "icb/icb-ledger-2025-10.csv")]
    assert main(["import", *files, "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    written = ledger.parent / "imports" / f"{datetime.date.today().isoformat()}.beancount"
    assert f"wrote {written}" in out and written.exists()
    assert "rows read 6; written 6" in out and "to suspense 1" in out
    assert "council-gl-2025-10.csv:5: to suspense: cost centre CC4199 5400 is not in mapping.csv" in out
    assert main(["check", str(ledger)]) == 0
    assert "warning: Expenses:Suspense holds 1,250.00" in capsys.readouterr().err
    assert main(["import", *files, "--ledger", str(ledger)]) == 0
    out = capsys.readouterr().out
    assert "nothing new to write" in out and "already in ledger 6" in out
    assert sorted(p.name for p in (ledger.parent / "imports").iterdir()) == \
        ["0000-imports.beancount", written.name]


def test_import_with_rejected_rows_exits_1_but_keeps_the_good_rows(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    extract = tmp_path / "gl.csv"
    extract.write_text("Posting Date,Period,Cost Centre,Account Code,Supplier,Description,Amount,Transaction Ref\n"
                       "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n"
                       "02/10/2025,P07,CC4102,5400,Acme,Reablement,ten,GL-900002\n")
    assert main(["import", str(extract), "--ledger", str(ledger)]) == 1
    out = capsys.readouterr().out
    assert "rejected gl.csv:3: amount 'ten' is not a number" in out and "written 1" in out


def test_dry_run_writes_nothing(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    assert main(["import", str(SAMPLES / "council/council-gl-2025-10.csv"), "--ledger", str(ledger),
                 "--dry-run"]) == 0
    assert "dry run: nothing written" in capsys.readouterr().out
    assert [p.name for p in (ledger.parent / "imports").iterdir()] == ["0000-imports.beancount"]


def test_check_names_each_suspense_line_and_what_mapping_csv_now_says_for_it(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    assert main(["import", str(SAMPLES / "council/council-gl-2025-10.csv"), "--ledger", str(ledger)]) == 0
    capsys.readouterr()
    imported = next(p for p in (ledger.parent / "imports").glob("2*.beancount"))
    line = next(n for n, text in enumerate(imported.read_text().splitlines(), 1) if "Expenses:Suspense" in text)
    assert main(["check", str(ledger)]) == 0
    err = capsys.readouterr().err
    assert "warning: Expenses:Suspense holds 1,250.00 in 1 line" in err
    assert f"imports/{imported.name}:{line}: 1,250.00 (council cost centre CC4199" in err
    assert "not in mapping.csv; add a row for it" in err
    # mapped now: the warning names the scheme's account to move it to
    with open(ledger.parent / "mapping.csv", "a") as mapping:
        mapping.write("council,CC4199,,S04,,Hospice discharge beds\n")
    assert main(["check", str(ledger)]) == 0
    err = capsys.readouterr().err
    assert "mapping.csv now sends it to Expenses:Scheme:S04; change the line's account to that, and its flag" in err
