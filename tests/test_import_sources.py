"""Receipts and metrics: money and figures that people decide, not row order."""
from __future__ import annotations

import pytest

from importer_support import RECEIPTS_HEADER, copy_ledger, imported_entries
from s75.cli import main

METRICS_HEADER = "Metric,Period,Value,Numerator,Denominator,Published,Tranche,Revision\n"


def run(capsys, *args):
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def actuals(ledger):
    return [(e.values[0].value, e.values[1].value, e.values[2].value, e.meta.get("revises"))
            for e in imported_entries(ledger) if getattr(e, "type", "") == "s75-metric-actual"]


@pytest.mark.parametrize("order", ["9800 first", "9650 first"])
def test_two_figures_for_one_period_in_a_file_are_a_conflict_whatever_their_order(tmp_path, capsys, order):
    ledger = copy_ledger(tmp_path)
    rows = ["NEA,2025-26 Q3,4800,,,16/01/2026,,\n", "NEA,2025-26 Q3,4650,,,16/01/2026,,\n"]
    path = write(tmp_path, "metrics.csv", METRICS_HEADER + "".join(rows if order == "9800 first" else rows[::-1]))
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1 and "agrees" not in out
    assert "metrics.csv:3: conflict: metric-actual NEA 2025-26 Q3" in out
    assert "metrics.csv:2: conflict: metric-actual NEA 2025-26 Q3" in out
    assert actuals(ledger) == []


def test_two_figures_across_files_set_both_aside(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    first = write(tmp_path, "a.csv", METRICS_HEADER + "NEA,2025-26 Q3,4800,,,16/01/2026,,\n")
    second = write(tmp_path, "b.csv", METRICS_HEADER + "NEA,2025-26 Q3,4650,,,16/01/2026,,\n")
    status, out, _ = run(capsys, "import", str(first), str(second), "--ledger", str(ledger))
    assert status == 1
    assert "b.csv:2: conflict" in out and "a.csv:2: conflict" in out
    assert actuals(ledger) == []


def test_a_different_figure_than_the_ledgers_is_a_conflict_unless_marked_as_a_revision(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)  # the ledger has NEA 2025-26 H1 9780, published 2025-10-17
    plain = write(tmp_path, "plain.csv", METRICS_HEADER + "NEA,2025-26 H1,9650,,,16/02/2026,P4P,\n")
    status, out, _ = run(capsys, "import", str(plain), "--ledger", str(ledger))
    assert status == 1
    assert ("conflict: metric-actual NEA 2025-26 H1: the ledger holds 9780 (published 2025-10-17)" in out
            and "mark the row as a revision (Revision: Y)" in out)
    revised = write(tmp_path, "revised.csv", METRICS_HEADER + "NEA,2025-26 H1,9650,,,16/02/2026,P4P,Y\n")
    status, out, _ = run(capsys, "import", str(revised), "--ledger", str(ledger))
    assert status == 0, out
    assert actuals(ledger) == [("NEA", "2025-26 H1", 9650, __import__("datetime").date(2025, 10, 17))]


@pytest.mark.parametrize("row, reason", [
    ("NEA,2025-26 H1,9650,,,01/10/2025,P4P,Y\n", "a revision published 2025-10-01, not after the figure it revises "
                                                 "(published 2025-10-17)"),
    ("NEA,2025-26 Q4,4000,,,16/04/2026,,Y\n", "a revision of NEA 2025-26 Q4, which the ledger has no figure for"),
    ("NEA,2025-26 Q3,-5,,,16/01/2026,,\n", "value -5 is negative"),
    ("RES,2025-26 Q3,151.9,68,4000,16/01/2026,,\n", "numerator 68 and denominator 4000 do not give the value 151.9"),
    ("NEA,2030-31 Q1,4000,,,16/08/2030,,\n", "period 2030-31 Q1 is outside the pool's years (2025-26)"),
    ("NEA,2025-26 Q3,4800,,,01/12/2025,,\n", "published 2025-12-01, before its period ends on 2025-12-31"),
    ("NEA,2025-26 Q1,4800,,,01/06/2027,,\n", "published 2027-06-01, more than eighteen months after its period "
                                             "ended on 2025-06-30"),
], ids=["revision-before", "revision-of-nothing", "negative", "ratio", "outside-years", "too-early", "too-late"])
def test_figures_that_cannot_stand_are_refused(tmp_path, capsys, row, reason):
    ledger = copy_ledger(tmp_path)
    path = write(tmp_path, "metrics.csv", METRICS_HEADER + row)
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 1
    assert f"metrics.csv:2: {reason}" in out
    assert actuals(ledger) == []


def test_a_rate_per_hundred_thousand_is_taken(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = write(tmp_path, "metrics.csv", METRICS_HEADER + "RES,2025-26 Q3,151.9,68,44760,16/01/2026,,\n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 0, out


def test_receipts_past_the_agreed_contribution_are_flagged_counting_the_ledgers_receipts(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    # DFG: 2,150,000.00 agreed for 2025-26 and received in full already (receipts.beancount)
    path = write(tmp_path, "receipts.csv", RECEIPTS_HEADER + "15/10/2025,Council,DFG,1000.00,LA-DFG-X,Extra\n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert "receipts.csv:2: flagged: takes Council's 2025-26 DFG received to 2,151,000.00, more than its " \
           "agreed contribution of 2,150,000.00" in out
    assert [e.flag for e in imported_entries(ledger)] == ["!"]


def test_a_zero_receipt_is_skipped_and_counted(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = write(tmp_path, "receipts.csv", RECEIPTS_HEADER + "15/10/2025,ICB,MinimumNHS,0.00,ICB-0,Nothing\n")
    status, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert status == 0 and "zero amounts skipped 1" in out and imported_entries(ledger) == []


@pytest.mark.parametrize("total, status, outcome", [
    ("1,100.00", 0, "agrees"), ("999.00", 1, "REFUSED, nothing written: its total row says 999.00")])
def test_a_receipts_total_row_is_the_control_total(tmp_path, capsys, total, status, outcome):
    ledger = copy_ledger(tmp_path)
    path = write(tmp_path, "receipts.csv", RECEIPTS_HEADER +
                 "15/10/2025,ICB,MinimumNHS,1000.00,ICB-X-1,One\n"
                 "16/10/2025,ICB,MinimumNHS,100.00,ICB-X-2,Two\n"
                 f',Total,,"{total}",,\n')
    got, out, _ = run(capsys, "import", str(path), "--ledger", str(ledger))
    assert got == status and outcome in out
    assert len(imported_entries(ledger)) == (2 if status == 0 else 0)


def test_the_default_narration_says_contribution_once(tmp_path, capsys):
    ledger = copy_ledger(tmp_path)
    path = write(tmp_path, "receipts.csv", RECEIPTS_HEADER + "15/10/2025,ICB,MinimumNHS,100.00,ICB-X-1,\n")
    assert run(capsys, "import", str(path), "--ledger", str(ledger))[0] == 0
    assert [e.narration for e in imported_entries(ledger)] == ["Minimum NHS contribution"]
