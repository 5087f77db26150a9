"""Every penny exactly once: what `s75 import` does with a transaction's identity, conflicts,
dates the pool cannot take, implausible amounts, and a ledger it must not break."""
from __future__ import annotations

import re

from beancount import loader

from importer_support import COUNCIL_HEADER, ICB_HEADER, RECEIPTS_HEADER, copy_ledger, imported_entries
from s75.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_an_icb_document_number_equal_to_a_council_reference_is_a_different_transaction(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    icb = tmp_path / "icb.csv"
    # GL-100001 is a council GL reference already in the ledger (spend-2025-04.beancount).
    icb.write_text(ICB_HEADER + "2025-10-02,ICB01,ICB-704,52110,Rosewood,D2A beds,-12500.00,GBP,GL-100001\n")
    status, out, _ = run(capsys, "import", str(icb), "--ledger", str(ledger))
    assert status == 0, out
    assert "written 1" in out and "already in ledger 0" in out
    rows = [e for e in imported_entries(ledger) if e.meta.get("ref") == "GL-100001"]
    assert [(r.meta["system"], r.postings[0].units.number) for r in rows] == [("icb", 12500)]


def test_a_receipt_and_a_spend_never_collide(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    receipts = tmp_path / "receipts.csv"
    receipts.write_text(RECEIPTS_HEADER + "15/10/2025,ICB,MinimumNHS,100.00,GL-100001,Top-up\n")
    status, out, _ = run(capsys, "import", str(receipts), "--ledger", str(ledger))
    assert status == 0, out
    assert "written 1" in out


def test_same_reference_with_a_different_amount_is_a_conflict_and_nothing_is_written(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    # The ledger holds GL-100005 as 164,014.55 on 02/04/2025, cost centre unknown (hand-entered).
    gl.write_text(COUNCIL_HEADER +
                  "02/04/2025,P01,CC4102,5400,Brightside,Reablement April,164014.55,GL-100005\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Reablement,99.00,GL-100005\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n")
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert status == 1
    assert "agrees" not in out
    assert re.search(r"gl.csv:3: conflict: council GL-100005: the ledger holds 2025-04-02 164,014.55.*"
                     r"extract says 2025-10-02 99.00", out), out
    assert "conflicts 1" in out
    refs = [e.meta["ref"] for e in imported_entries(ledger)]
    assert refs == ["GL-900001"]


def test_a_repeat_within_the_file_with_a_different_amount_is_a_conflict(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER +
                  "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n"
                  "02/10/2025,P07,CC4103,5400,Acme,Reablement,10.00,GL-900001\n")
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert status == 1 and "agrees" not in out
    assert "row 3 repeats row 2" in out
    assert re.search(r"gl.csv:4: conflict: council GL-900001: an earlier row says 2025-10-02 10.00, cost centre CC4102, "
                     r"account code 5400 \(gl.csv:2\); the extract says 2025-10-02 10.00, cost centre CC4103, "
                     r"account code 5400: not written", out), out


def test_dates_the_pool_cannot_take_are_rejected_and_the_ledger_stays_clean(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER +
                  # US-style 10/01/2025 reads as 10 January 2025: before the pool's first year
                  "10/01/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n"
                  "15/04/2026,P01,CC4102,5400,Acme,Reablement,10.00,GL-900002\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900003\n")
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert status == 1 and "agrees" not in out
    assert re.search(r"gl.csv:2: dated 2025-01-10, before the pool's first year \(2025-26", out), out
    assert re.search(r"gl.csv:3: dated 2026-04-15, in 2026-27, a year the pool has no plan for", out), out
    assert [e.meta["ref"] for e in imported_entries(ledger)] == ["GL-900003"]
    status, _, err = run(capsys, "check", str(ledger))
    assert status == 0, err


def test_spend_after_a_scheme_ends_is_rejected(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    schemes = ledger.parent / "schemes.beancount"
    text = schemes.read_text()
    text = text.replace('"S02" "Reablement at home" Expenses:Scheme:S02\n',
                        '"S02" "Reablement at home" Expenses:Scheme:S02\n  end: 2025-10-31\n')
    schemes.write_text(text)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + "02/11/2025,P08,CC4102,5400,Acme,Reablement,10.00,GL-900001\n")
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert status == 1
    assert "gl.csv:2: dated 2025-11-02, after scheme S02 ended on 2025-10-31" in out


def test_a_closed_year_takes_no_new_spend(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    with open(ledger, "a") as main_file:
        main_file.write('include "close.beancount"\n')
    (ledger.parent / "close.beancount").write_text('2026-03-31 custom "s75-close" "2025-26"\n')
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n")
    status, out, err = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert "has errors" not in err, err
    assert status == 1
    assert "gl.csv:2: dated 2025-10-02, in 2025-26, which is closed" in out


def test_zero_amount_is_skipped_and_counted_double_minus_is_refused(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER +
                  "02/10/2025,P07,CC4102,5400,Acme,Nothing,0.00,GL-900001\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Twice negative,--5,GL-900002\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900003\n")
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert status == 1
    assert "zero amounts skipped 1" in out
    assert "gl.csv:3: amount '--5'" in out
    assert [e.meta["ref"] for e in imported_entries(ledger)] == ["GL-900003"]


def test_implausible_amounts_are_written_flagged_with_a_note(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER +
                  "02/10/2025,P07,CC4102,5400,Acme,Huge,999999999999999999.99,GL-900001\n"
                  "02/10/2025,P07,CC4102,5400,Acme,Fine,10.00,GL-900002\n")
    receipts = tmp_path / "receipts.csv"
    receipts.write_text(RECEIPTS_HEADER + "15/10/2025,ICB,MinimumNHS,-500.00,ICB-RET-1,Repaid\n")
    status, out, _ = run(capsys, "import", str(gl), str(receipts), "--ledger", str(ledger))
    assert "flagged for review 1" in out
    assert "gl.csv:2: flagged: 999,999,999,999,999,999.99 is more than scheme S02's 2025-26 budget " \
           "of 2,900,000.00" in out
    assert "receipts.csv:2: flagged: a negative receipt" in out
    flagged = {e.meta["ref"]: (e.flag, e.meta.get("review", "")) for e in imported_entries(ledger)}
    assert flagged["GL-900001"][0] == "!" and "budget" in flagged["GL-900001"][1]
    assert flagged["ICB-RET-1"][0] == "!" and "negative receipt" in flagged["ICB-RET-1"][1]
    assert flagged["GL-900002"] == ("*", "")
    assert status == 0


def test_an_import_that_would_break_the_ledger_writes_nothing(tmp_path, capsys):
    """A row the row checks let through but the ledger's own rules refuse: nothing lands."""
    ledger = copy_ledger(tmp_path)
    # A contribution account the receipts importer knows, closed in the ledger before the receipt.
    with open(ledger, "a") as main_file:
        main_file.write('include "closing.beancount"\n')
    (ledger.parent / "closing.beancount").write_text("2025-10-01 close Income:Contribution:ICB:AdditionalNHS\n")
    status, _, err = run(capsys, "check", str(ledger))
    assert status == 0, err
    receipts = tmp_path / "receipts.csv"
    receipts.write_text(RECEIPTS_HEADER +
                        "15/10/2025,ICB,MinimumNHS,100.00,ICB-X-1,Fine\n"
                        "15/10/2025,ICB,AdditionalNHS,100.00,ICB-X-2,After its account closed\n")
    status, out, err = run(capsys, "import", str(receipts), "--ledger", str(ledger))
    assert status == 1
    assert "nothing written" in err and "receipts.csv:3" in err
    assert imported_entries(ledger) == []
    assert [p.name for p in (ledger.parent / "imports").iterdir()] == ["0000-imports.beancount"]


def test_every_import_leaves_a_ledger_that_checks_clean(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    gl = tmp_path / "gl.csv"
    gl.write_text(COUNCIL_HEADER + "02/10/2025,P07,CC4102,5400,Acme,Reablement,10.00,GL-900001\n")
    assert run(capsys, "import", str(gl), "--ledger", str(ledger))[0] == 0
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
