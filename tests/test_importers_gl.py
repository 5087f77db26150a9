"""Ledger-extract importers: golden files, the example pool's Month 6 from its extract, re-import,
and every kind of bad input with its documented outcome (docs/importing.md)."""
from __future__ import annotations

import datetime
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from beancount import loader
from beancount.core import data
from beancount.parser import parser

from conftest import EXAMPLE
from importer_support import SAMPLES, example_ledger, gl_importers, golden_diff
from importers.rows import Refused
from importers.run import import_file
from rules.position import build_position

HEADER = "Posting Date,Period,Cost Centre,Account Code,Supplier,Description,Amount,Transaction Ref\n"
EXTRACT = EXAMPLE.parent / "extracts" / "2025-26" / "council-gl-2025-04-to-09.csv"


@pytest.fixture(scope="module")
def ledger():
    return example_ledger()


@pytest.fixture(scope="module")
def importers(ledger):
    return list(gl_importers(ledger))


@pytest.mark.parametrize("document, which", [
    ("council/council-gl-2025-10.csv", 0), ("council/council-gl-2025-11.xlsx", 0), ("icb/icb-ledger-2025-10.csv", 1)])
def test_golden_output(importers, document, which):
    assert golden_diff(importers[which], SAMPLES / document) == []


def test_identify_tells_the_layouts_apart(importers):
    council, icb = importers
    assert council.identify(str(SAMPLES / "council/council-gl-2025-10.csv"))
    assert not icb.identify(str(SAMPLES / "council/council-gl-2025-10.csv"))
    assert icb.identify(str(SAMPLES / "icb/icb-ledger-2025-10.csv"))
    assert council.identify(str(SAMPLES / "council/council-gl-2025-11.xlsx"))


def write(tmp_path: Path, text: str, name="extract.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(path: Path, importers, ledger=None):
    council = importers[0]
    seen = council.existing_keys(ledger) if ledger is not None else {}
    summary = import_file(path, importers, seen)
    summary.landed = True  # as `s75 import` marks it once the new file is in place
    return summary


def written(summary) -> list[data.Transaction]:
    """The entries the summary would write, parsed back from their text."""
    entries, errors, _ = parser.parse_string(summary.text)
    assert errors == []
    return [e for e in entries if isinstance(e, data.Transaction)]


ROW = "02/10/2025,2025/26 P07,CC4102,5400,Acme Homecare Ltd,Reablement,{amount},{ref}\n"


def test_example_month_6_spend_is_reproduced_by_its_extract(tmp_path, ledger, importers):
    # An empty ledger: the example's agreement and accounts, without the bundled spend.
    empty = tmp_path / "ledger"
    empty.mkdir()
    for name in ("accounts.beancount", "agreement.beancount", "schemes.beancount", "mapping.csv"):
        (empty / name).write_bytes((EXAMPLE.parent / name).read_bytes())
    (empty / "2025-26").mkdir()
    for name in ("plan.beancount", "forecasts.beancount", "metrics.beancount", "receipts.beancount",
                 "statements.beancount", "commitments.beancount"):
        (empty / "2025-26" / name).write_bytes((EXAMPLE.parent / "2025-26" / name).read_bytes())
    main = (EXAMPLE.read_text().replace('include "2025-26/spend-*.beancount"\n', "")
            .replace('include "imports/*.beancount"\n', 'include "imported.beancount"\n'))
    (empty / "main.beancount").write_text(main)
    summary = run(EXTRACT, importers)
    assert (summary.refused, summary.rejected, summary.suspense, summary.written) == ("", [], 0, 259)
    (empty / "imported.beancount").write_text(summary.text)
    entries, errors, _ = loader.load_file(str(empty / "main.beancount"))
    assert errors == []
    date = datetime.date(2025, 9, 30)
    bundled = {s.scheme.scheme: s.actual_to_date for s in build_position(ledger, date).schemes}
    imported = {s.scheme.scheme: s.actual_to_date for s in build_position(entries, date).schemes}
    assert imported == bundled
    assert imported["S02"] == D("1480000.00")


def test_reimport_adds_nothing(ledger, importers):
    summary = run(EXTRACT, importers, ledger)
    assert (summary.written, summary.already, summary.text) == (0, 259, "")


def test_overlapping_extract_adds_only_the_new_rows(tmp_path, ledger, importers):
    old = EXTRACT.read_text().splitlines()[1:3]
    path = write(tmp_path, HEADER + "\n".join(old) + "\n" + ROW.format(amount="100.00", ref="GL-300001"))
    summary = run(path, importers, ledger)
    assert (summary.written, summary.already) == (1, 2)


def test_empty_file_is_refused(tmp_path, importers):
    summary = run(write(tmp_path, ""), importers)
    assert "unknown layout" in summary.refused and summary.text == ""


def test_header_only_writes_nothing(tmp_path, importers):
    summary = run(write(tmp_path, HEADER), importers)
    assert (summary.refused, summary.read, summary.written, summary.text) == ("", 0, 0, "")


def test_missing_required_column_is_refused(tmp_path, importers):
    council = importers[0]
    path = write(tmp_path, HEADER.replace(",Amount", "") + "02/10/2025,P07,CC4102,5400,Acme,Reablement,GL-1\n")
    assert not council.identify(str(path))  # so no importer takes it
    with pytest.raises(Refused, match="missing required column\\(s\\): Amount"):
        list(council.read(str(path)))


def test_unknown_layout_is_refused(tmp_path, importers):
    summary = run(write(tmp_path, "Date,Thing,Value\n2025-10-01,x,1\n"), importers)
    assert summary.refused.startswith("unknown layout") and summary.written == 0


def test_bad_date_rejects_the_row_only(tmp_path, importers):
    text = HEADER + ROW.format(amount="10.00", ref="GL-1") + ROW.format(amount="20.00", ref="GL-2").replace(
        "02/10/2025", "31/09/2025")
    summary = run(write(tmp_path, text), importers)
    assert summary.written == 1 and [str(r) for r in summary.rejected] == \
        ["extract.csv:3: date '31/09/2025' is not a date (d/m/Y or Y-m-d)"]


def test_amount_not_a_number_rejects_the_row(tmp_path, importers):
    text = HEADER + ROW.format(amount="twelve", ref="GL-1") + ROW.format(amount="12.00", ref="GL-2")
    summary = run(write(tmp_path, text), importers)
    assert summary.written == 1 and "amount 'twelve' is not a number" in str(summary.rejected[0])


def test_thousands_separators_and_brackets_are_accepted(tmp_path, importers):
    text = HEADER + ROW.format(amount='"1,234,567.80"', ref="GL-1") + ROW.format(amount='"(2,000.05)"', ref="GL-2")
    amounts = [e.postings[0].units.number for e in written(run(write(tmp_path, text), importers))]
    assert amounts == [D("1234567.80"), D("-2000.05")]


def test_other_currency_rejects_the_row(tmp_path, importers):
    text = HEADER.replace("Transaction Ref", "Transaction Ref,Currency") + \
        ROW.format(amount="10.00", ref="GL-1,EUR") + ROW.format(amount="10.00", ref="GL-2,GBP")
    summary = run(write(tmp_path, text), importers)
    assert summary.written == 1 and "currency EUR, the pool keeps GBP" in str(summary.rejected[0])


def test_utf8_bom_is_read(tmp_path, importers):
    summary = run(write(tmp_path, "\ufeff" + HEADER + ROW.format(amount="10.00", ref="GL-1")), importers)
    assert summary.written == 1 and summary.importer == "s75.council"


def test_windows_1252_text_is_read(tmp_path, importers):
    text = HEADER + ROW.format(amount="10.00", ref="GL-1").replace("Acme Homecare Ltd", "Café Société Ltd")
    (entry,) = written(run(write(tmp_path, text, encoding="cp1252"), importers))
    assert entry.payee == "Café Société Ltd"


def test_trailing_total_row_is_the_control_total(tmp_path, importers):
    text = HEADER + ROW.format(amount="10.00", ref="GL-1") + ROW.format(amount="20.50", ref="GL-2") + \
        ",,,,Total,,30.50,\n"
    summary = run(write(tmp_path, text), importers)
    assert (summary.written, summary.totals.control_total) == (2, D("30.50"))
    assert "control total 30.50 (total row)" in summary.control_line() and "agrees" in summary.control_line()


def test_total_row_that_does_not_agree_refuses_the_file(tmp_path, importers):
    text = HEADER + ROW.format(amount="10.00", ref="GL-1") + ",,,,Total,,99.00,\n"
    summary = run(write(tmp_path, text), importers)
    assert "total row says 99.00 but its lines add up to 10.00" in summary.refused and summary.text == ""


def test_duplicated_row_within_the_file_is_written_once_and_reported(tmp_path, importers):
    row = ROW.format(amount="10.00", ref="GL-1")
    summary = run(write(tmp_path, HEADER + row + row), importers)
    assert summary.written == 1 and summary.repeated == ["row 3 repeats row 2 (council GL-1)"]
    assert "repeated 10.00" in summary.control_line() and "agrees" in summary.control_line()


def test_formula_cells_in_xlsx_reject_the_row(tmp_path, importers):
    path = tmp_path / "extract.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["02/10/2025", "P07", "CC4102", "5400", "Acme", "Reablement", 10, "GL-1"])
    ws.append(["02/10/2025", "P07", "CC4102", "5400", "Acme", "Reablement", "=G2*2", "GL-2"])
    wb.save(path)
    summary = run(path, importers)
    assert summary.written == 1
    assert str(summary.rejected[0]) == "extract.xlsx:3: amount is a formula (=G2*2): export values, not formulas"


def test_blank_rows_are_skipped(tmp_path, importers):
    text = HEADER + "\n,,,,,,,\n" + ROW.format(amount="10.00", ref="GL-1") + "\n\n"
    summary = run(write(tmp_path, text), importers)
    assert (summary.read, summary.written, summary.rejected) == (1, 1, [])


def test_text_beginning_with_equals_is_kept_as_text(importers):
    entries = written(run(SAMPLES / "council/council-gl-2025-10.csv", importers))
    assert entries[4].payee == '=HYPERLINK("http://x","y")'


def test_unmapped_cost_centre_goes_to_suspense_flagged(importers):
    summary = run(SAMPLES / "council/council-gl-2025-10.csv", importers)
    assert (summary.suspense, summary.suspense_total) == (1, D("1250.00"))
    entry = next(e for e in written(summary) if e.postings[0].account == "Expenses:Suspense")
    assert entry.flag == "!" and entry.meta["cost-centre"] == "CC4199"


def test_a_line_longer_than_any_real_extract_rejects_the_row(tmp_path, importers):
    text = HEADER + ROW.format(amount="10.00", ref="GL-1") + \
        ROW.format(amount="11.00", ref="GL-2").replace("Reablement", "x" * 1_000_000) + ROW.format(amount="12.00", ref="GL-3")
    summary = run(write(tmp_path, text), importers)
    assert summary.written == 2 and len(summary.rejected) == 1
    assert "extract.csv:3: cannot read the row" in str(summary.rejected[0])


def test_large_file_is_streamed_not_loaded_whole(tmp_path, importers):
    # A 20 MB extract: reading it through holds a few rows at a time, not the file.
    import tracemalloc
    path = tmp_path / "big.csv"
    with open(path, "w") as out:
        out.write(HEADER)
        for i in range(20000):
            out.write(ROW.format(amount="1.00", ref=f"GL-{i}").replace("Reablement", "r" * 1000))
    size = path.stat().st_size
    tracemalloc.start()
    count = sum(1 for _ in importers[0].read(str(path)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 20000 and size > 20_000_000
    assert peak < size / 10, f"peak {peak} bytes for a {size}-byte file"


def test_beangulp_extract_is_all_or_nothing(tmp_path, importers):
    text = HEADER + ROW.format(amount="10.00", ref="GL-1") + ROW.format(amount="x", ref="GL-2")
    with pytest.raises(Refused, match="extract.csv:3: amount 'x' is not a number"):
        importers[0].extract(str(write(tmp_path, text)), [])


def test_an_order_column_is_written_as_order_and_an_invisible_character_in_it_rejects_the_row(tmp_path, importers):
    header = HEADER.rstrip("\n") + ",PO Number\n"
    path = write(tmp_path, header + ROW.format(amount="100.00", ref="GL-300001").rstrip("\n") + ", PO-4410 \n"
                 + ROW.format(amount="5.00", ref="GL-300002").rstrip("\n") + ",PO\u200b4410\n"
                 + ROW.format(amount="7.00", ref="GL-300003").rstrip("\n") + ",\n")
    summary = run(path, importers)
    assert summary.written == 2
    assert 'order: "PO-4410"' in summary.text and summary.text.count("order:") == 1
    assert [(r.number, r.reason.split(":")[0]) for r in summary.rejected] == [
        (3, "the order holds an invisible or control character (U+200B)")]


def test_a_workbook_amount_with_float_noise_is_rejected_saying_so(tmp_path, importers):
    """A number cell holding fractions of a penny (a formula's result pasted as a value)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["02/10/2025", "2025/26 P07", "CC4102", "5400", "Acme Homecare Ltd", "Reablement",
                  1234.5678, "GL-300009"])
    path = tmp_path / "extract.xlsx"
    book.save(path)
    summary = run(path, importers)
    assert summary.written == 0
    assert "amount '1234.5678' has fractions of a penny: round it to 2 decimal places" in str(summary.rejected[0])
