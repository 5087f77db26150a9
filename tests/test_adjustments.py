"""Prior-period adjustments: a correction to a locked month is entered in the first open month with
`adjusts:`. `s75 import` posts a row dated in a locked month that way by itself and says so; the
position lists the year's adjustments, and the statement (HTML and XLSX) and the Fava page show them."""
from __future__ import annotations

import datetime
import json
import io
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from beancount import loader

from importer_support import COUNCIL_HEADER, RECEIPTS_HEADER, copy_ledger, imported_entries
from reports.html import statement_html
from reports.statement import build_statement
from reports.xlsx import statement_xlsx
from rules.position import build_position
from s75.cli import main

OCTOBER = datetime.date(2025, 10, 31)


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main([*args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def load(ledger: Path):
    entries, errors, _ = loader.load_file(str(ledger))
    assert [e.message for e in errors] == []
    return entries


@pytest.fixture
def locked(tmp_path, capsys):
    """The example ledger, locked to 2025-09 (first open month 2025-10)."""
    ledger = copy_ledger(tmp_path)
    assert run(capsys, "lock", str(ledger), "--month", "2025-09")[0] == 0
    return ledger


def extract(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "council-gl-late.csv"
    path.write_text(COUNCIL_HEADER + "".join(row + "\n" for row in rows))
    return path


def test_importing_a_locked_month_row_posts_it_as_an_adjustment_listed_on_the_next_statement(
        locked, tmp_path, capsys):
    gl = extract(tmp_path,
                 "15/09/2025,2025/26 P06,CC4102,5400,Acme Homecare Ltd,S02 Late invoice September,\"2,500.00\",GL-700001",
                 "02/10/2025,2025/26 P07,CC4102,5400,Acme Homecare Ltd,S02 Reablement October,\"1,000.00\",GL-700002")
    status, out, err = run(capsys, "import", str(gl), "--ledger", str(locked))
    assert status == 0, out + err
    assert ('council-gl-late.csv:2: dated 2025-09-15, in locked month 2025-09: posted on 2025-10-01 as a '
            'prior-period adjustment (adjusts: "2025-09")') in out
    assert out.count("prior-period adjustment") == 1
    late = next(e for e in imported_entries(locked) if e.meta.get("ref") == "GL-700001")
    assert late.date == datetime.date(2025, 10, 1)
    assert late.meta["adjusts"] == "2025-09" and late.meta["original-date"] == datetime.date(2025, 9, 15)
    assert run(capsys, "check", str(locked))[0] == 0

    # the position lists it, with the month it corrects, the scheme and the amount
    position = build_position(load(locked), OCTOBER)
    assert [(a.ref, a.adjusts, a.scheme, a.amount) for a in position.adjustments] == \
        [("GL-700001", "2025-09", "S02", D("2500.00"))]
    assert position.adjustments_total == D("2500.00")
    s02 = next(s for s in position.schemes if s.scheme.scheme == "S02")
    assert s02.monthly_actual[6] == D("3500.00")  # counted in October, the month it was posted in

    # the October statement shows the table; September's (the locked month's) does not change
    assert run(capsys, "statement", str(locked), "--month", "2025-10", "--out", str(tmp_path / "out"))[0] == 0
    html = (tmp_path / "out" / "EB-BCF-2025-10-statement.html").read_text()
    section = html[html.index('id="prior-period-adjustments"'):]
    section = section[:section.index("</section>")]
    assert "Prior-period adjustments" in section and "GL-700001" in section and "2025-09" in section
    assert 'data-scheme="S02"' in section and "2,500.00" in section
    workbook = openpyxl.load_workbook(tmp_path / "out" / "EB-BCF-2025-10-statement.xlsx")
    ws = workbook["Finance - Schemes"]
    title = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Prior-period adjustments")
    header = title + 1
    labels = [ws.cell(header, c).value for c in range(1, 9)]
    assert labels[:7] == ["Date", "Entry", "Reference", "Corrects", "Scheme", "Partner", "Amount"]
    row = [ws.cell(header + 1, c).value for c in range(1, 8)]
    assert row[2:6] == ["GL-700001", "2025-09", "S02", None] and D(str(row[6])) == D("2500.00")
    assert ws.cell(header + 2, 1).value == "Total"
    assert ws.cell(header + 2, 7).value == f"=SUBTOTAL(109,G{header + 1}:G{header + 1})"
    assert run(capsys, "statement", str(locked), "--month", "2025-09", "--out", str(tmp_path / "sep"))[0] == 0
    assert "GL-700001" not in (tmp_path / "sep" / "EB-BCF-2025-09-statement.html").read_text()

    # importing the same extract again adds nothing: the adjustment is the row already in the ledger
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(locked))
    assert status == 0 and "already in ledger 2" in out and "nothing new to write" in out


def test_a_locked_month_receipt_is_an_adjustment_of_the_partners_received(locked, tmp_path, capsys):
    receipts = tmp_path / "receipts-late.csv"
    receipts.write_text(RECEIPTS_HEADER + "20/09/2025,ICB,AdditionalNHS,\"1,000.00\",ICB-ADD-LATE,Late receipt\n")
    status, out, err = run(capsys, "import", str(receipts), "--ledger", str(locked))
    assert status == 0, out + err
    assert "dated 2025-09-20, in locked month 2025-09: posted on 2025-10-01" in out
    position = build_position(load(locked), OCTOBER)
    assert [(a.ref, a.scheme, a.partner, a.amount) for a in position.adjustments] == \
        [("ICB-ADD-LATE", None, "ICB", D("1000.00"))]


def test_a_handwritten_adjustment_in_the_open_month_is_accepted_and_listed(locked, capsys):
    corrections = locked.parent / "imports" / "corrections.beancount"
    corrections.write_text('2025-10-03 * "Example Integrated Equipment Ltd" "S03 credit note for August deliveries"\n'
                           '  adjusts: "2025-08"\n'
                           '  Expenses:Scheme:S03   -1200.00 GBP\n'
                           '  Assets:Pool:Cash\n')
    status, out, err = run(capsys, "check", str(locked))
    assert status == 0, err
    position = build_position(load(locked), OCTOBER)
    assert [(a.adjusts, a.scheme, a.amount, a.narration) for a in position.adjustments] == \
        [("2025-08", "S03", D("-1200.00"), "S03 credit note for August deliveries")]
    assert position.adjustments_total == D("-1200.00")
    # the statement to a date before it does not list it
    assert build_position(load(locked), datetime.date(2025, 9, 30)).adjustments == ()
    # s75 position lists it, as text and in its JSON
    status, out, _ = run(capsys, "position", str(locked), "--date", "2025-10-31")
    listed = out[out.index("Prior-period adjustments"):]
    assert status == 0 and "2025-08" in listed and "-1,200.00" in listed and "S03" in listed
    status, out, _ = run(capsys, "position", str(locked), "--date", "2025-10-31", "--json")
    shape = json.loads(out)
    assert [(a["adjusts"], a["scheme"], a["amount"], a["receipt"]) for a in shape["adjustments"]] == [
        ("2025-08", "S03", "-1200.00", False)]
    assert shape["adjustments_total"] == "-1200.00"
    # and the frames (so s75 export) have it as a table
    from reports.frames import position_frames
    frame = position_frames(position)["adjustments"]
    assert frame[["adjusts", "scheme", "amount"]].values.tolist() == [["2025-08", "S03", D("-1200.00")]]


def test_an_adjustment_must_name_an_earlier_month(locked, capsys):
    corrections = locked.parent / "imports" / "corrections.beancount"
    corrections.write_text('2025-10-03 * "Supplier" "credit"\n  adjusts: "August"\n'
                           '  Expenses:Scheme:S03   -10.00 GBP\n  Assets:Pool:Cash\n\n'
                           '2025-10-04 * "Supplier" "credit"\n  adjusts: "2025-11"\n'
                           '  Expenses:Scheme:S03   -10.00 GBP\n  Assets:Pool:Cash\n')
    status, _, err = run(capsys, "check", str(locked))
    assert status == 1
    assert f"{corrections}:1: " in err and 'adjusts: "August"' in err and "YYYY-MM" in err
    assert f"{corrections}:6: " in err and "2025-11" in err and "before" in err


def test_an_adjustment_dated_in_the_locked_month_itself_breaks_the_lock(locked, capsys):
    corrections = locked.parent / "imports" / "corrections.beancount"
    corrections.write_text('2025-09-30 * "Supplier" "credit"\n  adjusts: "2025-08"\n'
                           '  Expenses:Scheme:S03   -10.00 GBP\n  Assets:Pool:Cash\n')
    status, _, err = run(capsys, "check", str(locked))
    assert status == 1 and f"{corrections}:1: " in err and "added after 2025-09 was locked" in err


def test_a_row_in_a_year_locked_to_its_end_is_rejected(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    assert run(capsys, "lock", str(ledger), "--year", "2025-26")[0] == 0
    gl = extract(tmp_path, "15/09/2025,2025/26 P06,CC4102,5400,Acme Homecare Ltd,S02 Late,\"2,500.00\",GL-700001")
    status, out, _ = run(capsys, "import", str(gl), "--ledger", str(ledger))
    assert status == 1
    assert "rejected council-gl-late.csv:2: dated 2025-09-15, in 2025-26, which is locked to 31 March 2026" in out


def test_a_metric_figure_dated_in_a_locked_month_is_rejected(locked, tmp_path, capsys):
    metrics = tmp_path / "metrics-late.csv"
    metrics.write_text("Metric,Period,Value,Published\nNEA,2025-26 M05,1600,10/09/2025\n")
    status, out, _ = run(capsys, "import", str(metrics), "--ledger", str(locked))
    assert status == 1
    assert "rejected metrics-late.csv:2: dated 2025-09-10, in locked month 2025-09" in out


def test_the_fava_page_lists_the_adjustments(locked, capsys):
    from fava.application import create_app

    corrections = locked.parent / "imports" / "corrections.beancount"
    corrections.write_text('2025-10-03 * "Example Integrated Equipment Ltd" "S03 credit note for August deliveries"\n'
                           '  adjusts: "2025-08"\n  Expenses:Scheme:S03   -1200.00 GBP\n  Assets:Pool:Cash\n')
    app = create_app([str(locked)], load=True, read_only=True)
    page = app.test_client().get("/example-borough-better-care-fund/extension/PoolBudget/?month=2025-10")
    text = page.get_data(as_text=True)
    assert 's75-errors' not in text
    section = text[text.index('id="prior-period-adjustments"'):]
    assert "S03 credit note for August deliveries" in section[:section.index("</section>")]
    assert "(1,200.00)" in section[:section.index("</section>")]


def test_statement_model_without_adjustments_says_so(locked):
    position = build_position(load(locked), datetime.date(2025, 9, 30))
    statement = build_statement(position, [], datetime.date(2025, 10, 20))
    html = statement_html(statement)
    assert "No prior-period adjustments in 2025-26 to 30 September 2025." in html
    workbook = openpyxl.load_workbook(io.BytesIO(statement_xlsx(statement)))
    ws = workbook["Finance - Schemes"]
    assert any(ws.cell(r, 1).value == "No prior-period adjustments in 2025-26 to 30 September 2025."
               for r in range(1, ws.max_row + 1))
