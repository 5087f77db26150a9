"""`s75 import` at the edges a new user found: look-alike references, formulas in identity cells,
file names that could write ledger text, amounts past what money can be, a stale load cache,
interruptions, and files whose shape hides their header."""
from __future__ import annotations

import functools
import re
import time

import openpyxl
import pytest
from beancount import loader

from importer_support import COUNCIL_HEADER, RECEIPTS_HEADER, copy_ledger, imported_entries
from importers import rows, run as run_module
from importers.values import parse_date, parse_money
from s75.cli import main


def run(capsys, *args):
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def gl(tmp_path, body: str, name: str = "gl.csv"):
    path = tmp_path / name
    path.write_text(COUNCIL_HEADER + body)
    return path


def test_a_line_differing_only_in_account_code_is_a_conflict_not_a_repeat(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, '03/10/2025,P07,CC4108,5410,Brightside,Home care,"8,000.00",JNL-77\n'
                        '03/10/2025,P07,CC4108,5420,Brokerage,Brokerage,"8,000.00",JNL-77\n')
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1 and "agrees" not in out
    assert "gl.csv:3: conflict: council JNL-77" in out and "account code 5420" in out


def test_references_that_differ_only_in_case_or_spaces_are_one_transaction(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n"
                        "02/10/2025,P07,CC4102,5400,Acme,x,10.00,gl-900001\n"
                        "02/10/2025,P07,CC4102,5400,Acme,x,10.00, GL-900001 \n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 0 and "written 1" in out and "repeated in file 2" in out
    # and against the ledger: GL-100001 is in spend-2025-04.beancount
    path = gl(tmp_path, "01/04/2025,P01,,,x,x,60788.90,gl-100001\n", "again.csv")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert "already in ledger 1" in out


@pytest.mark.parametrize("ref", ["GL-9\u200b01", "GL-9\x0001", "GL-9\u00a0\u200d"], ids=["zero-width", "nul", "joiner"])
def test_a_reference_with_invisible_characters_is_rejected(tmp_path, capsys, ref):
    ledger = copy_ledger(tmp_path)
    path = tmp_path / "gl.csv"
    path.write_bytes((COUNCIL_HEADER + f"02/10/2025,P07,CC4102,5400,Acme,x,10.00,{ref}\n").encode("utf-8"))
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert "gl.csv:2: the reference holds an invisible or control character" in out
    assert imported_entries(ledger) == []


def test_a_formula_in_a_reference_cell_is_rejected(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    book = openpyxl.Workbook()
    book.active.append(COUNCIL_HEADER.strip().split(","))
    for _ in range(2):
        book.active.append(["01/10/2025", "P07", "CC4102", "5400", "A", "d", 100.0, '="GL-9"&ROW()'])
    book.save(tmp_path / "gl.xlsx")
    status, out, _ = run(capsys, "import", str(tmp_path / "gl.xlsx"), "--ledger", str(ledger))
    assert status == 1 and "agrees" not in out
    assert "gl.xlsx:2: reference is a formula" in out and "gl.xlsx:3: reference is a formula" in out
    assert imported_entries(ledger) == []


def test_a_file_name_with_a_line_break_cannot_write_ledger_text(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    name = 'evil\n2025-10-01 * "Injected" "x"\n  Expenses:Scheme:S02 99999.00 GBP\n  Assets:Pool:Cash\n\n;.csv'
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n", name)
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert "REFUSED, nothing written: its name holds a line break or control character" in out
    assert imported_entries(ledger) == []


def test_amounts_past_what_money_can_be_are_rejected_and_the_largest_real_one_still_works(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,99999999999999999999999999.99,GL-900001\n"
                        "02/10/2025,P07,CC4102,5400,Acme,x,1" + "0" * 5000 + ".00,GL-900002\n"
                        "02/10/2025,P07,CC4102,5400,Acme,x,999999999999999999.99,GL-900003\n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert "gl.csv:2: amount '99999999999999999999999999.99' is too large" in out
    assert "gl.csv:3: amount '1000" in out and "is too large" in out
    assert [e.meta["ref"] for e in imported_entries(ledger)] == ["GL-900003"]
    status, out, err = run(capsys, "position", str(ledger), "--date", "2025-10-31")
    assert status == 0, err
    status, out, err = run(capsys, "statement", str(ledger), "--month", "2025-10", "--out", str(tmp_path / "o"))
    assert status == 0, err


@pytest.mark.parametrize("text", ["(5)-", "-(5)", "(-5)", "12 34.56", "1 2345.00"])
def test_money_marked_negative_twice_or_oddly_spaced_is_not_money(text):
    with pytest.raises(ValueError):
        parse_money(text)


@pytest.mark.parametrize("text, value", [("5 000.00", "5000.00"), ("1 234 567.89", "1234567.89")])
def test_spaces_between_thousands_are_money(text, value):
    assert str(parse_money(text)) == value


@pytest.mark.parametrize("text", ["01/10/\uff12\uff10\uff12\uff15", "01/10/9999", "01/10/1066"])
def test_dates_in_other_digits_or_past_any_pool_are_not_dates(text):
    with pytest.raises(ValueError):
        parse_date(text, ("%d/%m/%Y",))


def test_a_stale_load_cache_never_hides_a_new_import(tmp_path, capsys, monkeypatch):
    # cache every load, as Beancount does for a ledger that takes a second or more to load
    getter = functools.partial(loader.get_cache_filename, loader.PICKLE_CACHE_FILENAME)
    monkeypatch.setattr(loader, "_load_file", loader.pickle_cache_function(getter, 0.0, loader._uncached_load_file))
    ledger = copy_ledger(tmp_path)
    assert run(capsys, "check", str(ledger))[0] == 0
    assert (ledger.parent / ".main.beancount.picklecache").exists()
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,4321.00,GL-900001\n")
    assert run(capsys, "import", str(path), "--ledger", str(ledger))[0] == 0
    status, out, err = run(capsys, "check", str(ledger))
    assert status == 0 and "not counted" not in err
    status, out, _ = run(capsys, "position", str(ledger), "--date", "2025-10-31", "--json")
    assert '"4321.00"' in out or "4321.00" in out


def test_an_interrupted_import_writes_nothing_and_says_so(tmp_path, capsys, monkeypatch):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "import_text", interrupted)
    monkeypatch.setattr("s75.importing.import_text", interrupted)
    status, out, err = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 130
    assert err.strip().splitlines()[-1] == "interrupted: nothing written"
    assert imported_entries(ledger) == []


def test_a_pending_file_left_by_a_killed_import_is_removed_by_the_next(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    stale = ledger.parent / "imports" / ".pending-killed.beancount"
    stale.write_text("; half written\n2025-10-01 * \"x\"\n")
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n")
    assert run(capsys, "import", str(path), "--ledger", str(ledger))[0] == 0
    assert not stale.exists()


def test_a_folder_as_the_ledger_is_one_line(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n")
    status, out, err = run(capsys, "import", str(path), "--ledger", str(ledger.parent))
    assert status == 1 and "Traceback" not in err
    assert err.strip() == f"{ledger.parent} is a folder: give the ledger's main file, e.g. {ledger}"


def test_a_write_that_fails_never_says_written_or_agrees(tmp_path, capsys, monkeypatch):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n")
    monkeypatch.setattr("importers.landing.os.replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space")))
    status, out, err = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert "agrees" not in out and "; written 1;" not in out and "to write, not written, 1" in out
    assert "NOTHING WRITTEN" in out


def test_a_closed_years_extract_imported_again_is_already_in_the_ledger(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "01/04/2025,P01,,,x,x,60788.90,GL-100001\n")
    with open(ledger, "a") as main_file:
        main_file.write('2026-03-31 custom "s75-close" "2025-26"\n')
    status, out, err = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert "has errors" not in err, err
    assert status == 0 and "already in ledger 1" in out and "rejected 0" in out


@pytest.mark.parametrize("content, message", [
    (COUNCIL_HEADER.encode("utf-16"), "is UTF-16 text: save it as CSV UTF-8"),
    (b"PK\x03\x04 not really a csv", "is an XLSX workbook named .csv: name it .xlsx"),
], ids=["utf-16", "xlsx-named-csv"])
def test_files_in_another_shape_say_what_they_are(tmp_path, capsys, content, message):
    ledger = copy_ledger(tmp_path)
    path = tmp_path / "gl.csv"
    path.write_bytes(content)
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1 and message in out


def test_a_known_layout_in_a_txt_file_says_to_rename_it(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n", "gl.txt")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert "has the columns of a Council general-ledger extract but is named .txt: name it .csv" in out


@pytest.mark.parametrize("make", [
    lambda body: (COUNCIL_HEADER + body).replace("\n", "\r"),
    lambda body: "Example Borough Council\nGL extract, October 2025\n\n" + COUNCIL_HEADER + body,
    lambda body: (COUNCIL_HEADER + body).replace(",", "\t"),
], ids=["cr-line-endings", "title-rows-above-header", "tab-separated"])
def test_extracts_in_common_shapes_are_read(tmp_path, capsys, make):
    ledger = copy_ledger(tmp_path)
    path = tmp_path / "gl.csv"
    path.write_text(make("02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n"
                         "03/10/2025,P07,CC4102,5400,Acme,y,20.00,GL-900002\n"), newline="")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 0, out
    assert "written 2" in out and "agrees" in out


def test_an_unclosed_quote_is_rejected_at_its_own_line(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = gl(tmp_path, '02/10/2025,P07,CC4102,5400,A,"unterminated,30.00,U-1\n'
                        "03/10/2025,P07,CC4102,5400,Acme,y,40.00,GL-900002\n"
                        "04/10/2025,P07,CC4102,5400,Acme,y,50.00,GL-900003\n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1 and "agrees" not in out
    assert re.search(r"gl.csv:2: a quote opened on this line is not closed until line 4", out), out


def test_the_same_row_on_two_sheets_names_both_sheets(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in ("October", "Late"):
        sheet = book.create_sheet(name)
        sheet.append(COUNCIL_HEADER.strip().split(","))
        sheet.append(["02/10/2025", "P07", "CC4102", "5400", "A", "d", "10.00", "GL-900001"])
    book.save(tmp_path / "gl.xlsx")
    status, out, _ = run(capsys, "import", str(tmp_path / "gl.xlsx"), "--ledger", str(ledger))
    assert "gl.xlsx:Late:2 repeats gl.xlsx:October:2" in out


def test_two_columns_for_one_field_are_refused(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = tmp_path / "gl.csv"
    path.write_text(COUNCIL_HEADER.strip() + ",Transaction Reference\n"
                    "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001,GL-900009\n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert "both 'Transaction Ref' and 'Transaction Reference'" in out


def test_a_mapping_row_for_an_unknown_system_is_an_error(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    mapping.write_text(mapping.read_text() + "councl,CC4199,,S02,,typo\n")
    line = len(mapping.read_text().splitlines())
    path = gl(tmp_path, "02/10/2025,P07,CC4199,5400,Acme,x,10.00,GL-900001\n")
    status, _, err = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert f"mapping.csv:{line}: unknown system 'councl' (systems: council, icb)" in err


def test_a_mapping_saved_as_utf16_says_so(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    mapping = ledger.parent / "mapping.csv"
    mapping.write_bytes(mapping.read_text().encode("utf-16"))
    path = gl(tmp_path, "02/10/2025,P07,CC4102,5400,Acme,x,10.00,GL-900001\n")
    status, _, err = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1 and "mapping.csv:1: is UTF-16 text: save it as CSV UTF-8" in err


def test_the_icb_date_message_names_each_format_once():
    with pytest.raises(ValueError, match=r"\(Y-m-d or d-b-Y\)$"):
        parse_date("2025/10/02", ("%Y-%m-%d", "%d-%b-%Y", "%Y-%m-%d"))


def test_rows_module_reads_cr_only_lines_one_row_each(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\r1,2\r3,4\r")
    assert [cells for _, cells in rows._raw_rows(path)] == [["a", "b"], ["1", "2"], ["3", "4"]]


def test_a_file_added_by_hand_is_never_hidden_by_the_load_cache(tmp_path, capsys, monkeypatch):
    getter = functools.partial(loader.get_cache_filename, loader.PICKLE_CACHE_FILENAME)
    monkeypatch.setattr(loader, "_load_file", loader.pickle_cache_function(getter, 0.0, loader._uncached_load_file))
    ledger = copy_ledger(tmp_path)
    assert run(capsys, "check", str(ledger))[0] == 0
    (ledger.parent / "2025-26" / "spend-2025-10.beancount").write_text(
        '2025-10-02 * "Acme" "October by hand"\n  Expenses:Scheme:S02  4321.00 GBP\n  Assets:Pool:Cash\n')
    status, out, _ = run(capsys, "position", str(ledger), "--date", "2025-10-31", "--json")
    assert status == 0 and "4321.00" in out


def test_a_lock_fingerprint_changed_after_a_cached_load_is_never_hidden_by_the_load_cache(tmp_path, capsys,
                                                                                          monkeypatch):
    """The fingerprints under locks/ are read by the rules, not included: Beancount's cache does not know
    them, so a fingerprint damaged after a cached load must still be reported."""
    getter = functools.partial(loader.get_cache_filename, loader.PICKLE_CACHE_FILENAME)
    monkeypatch.setattr(loader, "_load_file", loader.pickle_cache_function(getter, 0.0, loader._uncached_load_file))
    ledger = copy_ledger(tmp_path)
    assert run(capsys, "lock", str(ledger), "--month", "2025-09")[0] == 0
    assert run(capsys, "check", str(ledger))[0] == 0
    assert (ledger.parent / ".main.beancount.picklecache").exists()
    fingerprint = next((ledger.parent / "locks").glob("*.json"))
    time.sleep(0.01)
    fingerprint.write_text("{ damaged")
    status, _, err = run(capsys, "check", str(ledger))
    assert status == 1 and "2025-09" in err
