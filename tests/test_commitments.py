"""Commitments (orders raised, drawn down by the invoices that carry their reference) and month-end
accruals (an entry on the month's last day, reversed the next day), worked by hand (docs/ledger.md,
"Commitments and accruals").

S02 (budget 400,000.00) has two orders: PO-4410, 60,000.00 from Acme Homecare, and PO-4500, 30,000.00
from Bright Care, closed on 31 August. Invoices: Acme 20,000.00 in May and 20,000.00 in June, Bright
Care 10,000.00 in July (its reference written "po-4500 "), and 5,000.00 in July with no order. For
September 12,000.00 is accrued against PO-4410.

At 30 September (Month 6): actual 67,000.00 (55,000.00 invoiced and the 12,000.00 accrual); PO-4410
drawn 52,000.00, so 8,000.00 committed; PO-4500 closed, nil. Actual plus committed 75,000.00. No
forecast, so the outturn is actual + committed + the run-rate for the six months left:
67,000.00 + 8,000.00 + 67,000.00 / 6 x 6 = 142,000.00 ("commitments").
At 31 August: actual 55,000.00, committed 20,000.00, outturn 55,000.00 + 20,000.00 + 55,000.00 / 5 x 7
= 152,000.00: the movement to September is -10,000.00.
At 31 October the accrual is reversed: actual 55,000.00, committed 20,000.00, outturn
55,000.00 + 20,000.00 + 55,000.00 / 7 x 5 = 114,285.71.
"""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest

from conftest import line_of, load_text
from rules.position import build_position
from test_agreement_checks import BASE, assert_one_error, errors_of

ORDERS = BASE + """
2025-05-01 custom "s75-commitment" "S02" "Acme Homecare Ltd" "PO-4410" 60000.00 GBP ; po-4410
  description: "Reablement packages, May to July"
2025-06-01 custom "s75-commitment" "S02" "Bright Care" "PO-4500" 30000.00 GBP
  closed: 2025-08-31

2025-05-31 * "Acme Homecare Ltd" "May packages"
  order: "PO-4410"
  Expenses:Scheme:S02   20000.00 GBP
  Assets:Pool:Cash
2025-06-30 * "Acme Homecare Ltd" "June packages"
  order: "PO-4410"
  Expenses:Scheme:S02   20000.00 GBP
  Assets:Pool:Cash
2025-07-15 * "Bright Care" "July"
  order: "po-4500 "
  Expenses:Scheme:S02   10000.00 GBP
  Assets:Pool:Cash
2025-07-20 * "Other supplier" "No order"
  Expenses:Scheme:S02   5000.00 GBP
  Assets:Pool:Cash

2025-09-30 custom "s75-accrual" "2025-09" "PO-4410" 12000.00 GBP ; accrual
  note: "September packages delivered, invoice awaited"
"""


def invoice(date: str, narration: str, order: str, amount: str) -> str:
    """An Acme invoice (or credit note) on S02 carrying `order`, as ledger text."""
    return (f'\n{date} * "Acme Homecare Ltd" "{narration}"\n  order: "{order}"\n'
            f"  Expenses:Scheme:S02   {amount} GBP\n  Assets:Pool:Cash\n")


def s02(text: str, date: datetime.date):
    entries, errors, _ = load_text(text)
    assert errors == []
    position = build_position(entries, date)
    return position, next(s for s in position.schemes if s.scheme.scheme == "S02")


def test_september_worked_by_hand():
    position, row = s02(ORDERS, datetime.date(2025, 9, 30))
    assert (row.actual_to_date, row.committed, row.actual_plus_committed) == (
        D("67000.00"), D("8000.00"), D("75000.00"))
    assert (row.forecast_outturn, row.forecast_basis) == (D("142000.00"), "commitments")
    assert (row.previous_outturn, row.forecast_movement) == (D("152000.00"), D("-10000.00"))
    orders = {c.commitment.reference: (c.drawn, c.outstanding) for c in position.commitments}
    assert orders == {"PO-4410": (D("52000.00"), D("8000.00")), "PO-4500": (D("10000.00"), D("0.00"))}
    totals = position.scheme_totals
    assert (totals["committed"], totals["actual_plus_committed"]) == (D("8000.00"), D("125000.00"))  # S01: 50,000.00


def test_october_the_accrual_is_reversed():
    _, row = s02(ORDERS, datetime.date(2025, 10, 31))
    assert (row.actual_to_date, row.committed) == (D("55000.00"), D("20000.00"))
    assert row.forecast_outturn == D("114285.71")


def test_a_scheme_with_a_forecast_keeps_it_and_one_without_orders_keeps_the_run_rate():
    text = ORDERS + '2025-09-15 custom "s75-forecast" "2025-26" "S02" 150000.00 GBP\n'
    _, row = s02(text, datetime.date(2025, 9, 30))
    assert (row.forecast_outturn, row.forecast_basis, row.committed) == (D("150000.00"), "forecast", D("8000.00"))
    _, row = s02(ORDERS.replace('"PO-4410" 60000.00', '"PO-4410" 52000.00'), datetime.date(2025, 9, 30))
    assert (row.committed, row.forecast_basis, row.forecast_outturn) == (D("0.00"), "run-rate", D("134000.00"))


def test_the_accrual_is_written_and_reversed_naming_its_rule_order_and_directive():
    entries, errors, _ = load_text(ORDERS)
    assert errors == []
    written = [e for e in entries if e.meta.get("rule", "").startswith("accrual") and hasattr(e, "postings")]
    assert [(e.date.isoformat(), e.meta["rule"], e.meta["order"], e.payee,
             [(p.account, p.units.number) for p in e.postings]) for e in written] == [
        ("2025-09-30", "accrual", "PO-4410", "Acme Homecare Ltd",
         [("Expenses:Scheme:S02", D("12000.00")), ("Liabilities:Accruals", D("-12000.00"))]),
        ("2025-10-01", "accrual reversed", "PO-4410", "Acme Homecare Ltd",
         [("Expenses:Scheme:S02", D("-12000.00")), ("Liabilities:Accruals", D("12000.00"))])]
    assert all("s75-generated" in e.tags for e in written)
    assert all(e.meta["directive"].endswith(f":{line_of(ORDERS, '; accrual')}") for e in written)
    assert "September packages delivered" in written[0].narration


def test_both_spellings_of_the_plugins_write_the_same_accruals():
    three = ORDERS
    one = ORDERS.replace('plugin "rules.tranches"\nplugin "rules.settlement"\nplugin "rules.validate"\n',
                         'plugin "rules.pool"\n')
    assert one != three
    first, _, _ = load_text(three)
    second, _, _ = load_text(one)
    assert [(e.date, getattr(e, "narration", None)) for e in first] == [(e.date, getattr(e, "narration", None))
                                                                       for e in second]


@pytest.mark.parametrize("change, marker, words", [
    (('"May packages"\n  order: "PO-4410"', '"May packages" ; here\n  order: "PO-9999"'),
     "; here", ("PO-9999", "not a commitment", "PO-4410, PO-4500")),
    (('2025-07-20 * "Other supplier" "No order"\n',
      '2025-07-20 * "Other supplier" "No order" ; here\n  order: "PO-4410"\n  Expenses:Scheme:S01   1.00 GBP\n'
      '  Assets:Pool:Cash\n2025-07-21 * "x" "y"\n'),
     "; here", ("PO-4410", "S02", "posts nothing to S02")),
    (('"2025-09" "PO-4410" 12000.00 GBP ; accrual', '"2025-09" "PO-4410" 25000.00 GBP ; here'),
     "; here", ("25,000.00", "PO-4410", "65,000.00", "60,000.00")),
    (('"2025-09" "PO-4410" 12000.00 GBP ; accrual', '"2025-09" "PO-4500" 1000.00 GBP ; here'),
     "; here", ("PO-4500", "closed", "2025-08-31")),
    (('"2025-09" "PO-4410" 12000.00 GBP ; accrual', '"2025-09" "PO-1" 1000.00 GBP ; here'),
     "; here", ("PO-1", "not a commitment")),
    (('"2025-09" "PO-4410" 12000.00 GBP ; accrual', '"2025-9" "PO-4410" 1000.00 GBP ; here'),
     "; here", ("2025-9", "2025-09")),
    (('\n2025-05-31 * "Acme', '\n2025-05-20 custom "s75-commitment" "S02" "Acme" "po-4410 " 1.00 GBP ; here\n2025-05-31 * "Acme'),
     "; here", ("po-4410", "already raised", ":" + str(line_of(ORDERS, "; po-4410")))),
    (('"S02" "Bright Care" "PO-4500" 30000.00 GBP', '"S09" "Bright Care" "PO-4500" 30000.00 GBP ; here'),
     "; here", ("S09", "unknown scheme")),
    (('"S02" "Bright Care" "PO-4500" 30000.00 GBP', '"S02" "Bright Care" "PO-4500" 0.00 GBP ; here'),
     "; here", ("more than nil",)),
])
def test_one_plain_error_for_each_mistake(change, marker, words):
    old, new = change
    assert old in ORDERS
    assert_one_error(ORDERS.replace(old, new, 1), marker, *words)


def test_an_accrual_twice_for_one_order_and_month():
    text = ORDERS + '2025-09-30 custom "s75-accrual" "2025-09" "PO-4410" 1000.00 GBP ; here\n'
    assert_one_error(text, "; here", "already accrued", "2025-09")


def test_the_example_and_a_clean_ledger_with_orders_check_clean():
    assert errors_of(ORDERS) == []


# -- s75 accrue --------------------------------------------------------------------------------------

@pytest.fixture
def ledger(tmp_path):
    """The orders ledger without its accrual, including an imports/ folder, as a pool keeps it."""
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports" / "0000-imports.beancount").write_text("")
    main = tmp_path / "main.beancount"
    main.write_text(ORDERS.split("2025-09-30 custom")[0] + 'include "imports/*.beancount"\n')
    return main


def written(ledger) -> list[str]:
    return sorted(p.name for p in (ledger.parent / "imports").glob("*.beancount"))


def test_accrue_writes_the_accrual_and_the_position_counts_it(ledger, capsys):
    from s75.cli import main
    assert main(["accrue", str(ledger), "--month", "2025-09", "--order", "po-4410=12,000.00",
                 "--note", "September packages delivered, invoice awaited"]) == 0
    out = capsys.readouterr().out
    assert "accrued 12,000.00 against PO-4410 (S02, Acme Homecare Ltd) at 2025-09-30, reversed on 2025-10-01" in out
    assert len(written(ledger)) == 2
    entries, errors, _ = load_text(ledger.read_text().replace('include "imports/*.beancount"\n', "")
                                   + "".join((p.read_text()) for p in (ledger.parent / "imports").glob("2*.beancount")))
    assert errors == []
    row = next(s for s in build_position(entries, datetime.date(2025, 9, 30)).schemes if s.scheme.scheme == "S02")
    assert (row.actual_to_date, row.committed) == (D("67000.00"), D("8000.00"))  # as the hand-worked September


@pytest.mark.parametrize("args, words", [
    (["--order", "PO-4410=12000.00", "--month", "2025-13"], ("2025-13", "YYYY-MM")),
    (["--order", "PO-4410=20000.01"], ("20,000.01", "more than the 20,000.00", "40,000.00 drawn")),
    (["--order", "PO-4410=0"], ("more than nil",)),
    (["--order", "PO-4410=1.005"], ("1.005", "fractions of a penny")),
    (["--order", "PO-4410=12,5"], ("12,5", "misplaced thousands separators")),
    (["--order", "PO-4410=1e30"], ("1e30", "not a number")),
    (["--order", "PO-4410=1000", "--month", "2025-9"], ("2025-9", "YYYY-MM")),
    (["--order", "PO-4410=1000", "--wait", "-5"], ("--wait", "0 or more")),
    (["--order", "PO-4410"], ("REFERENCE=AMOUNT",)),
    (["--order", "PO-9=1.00"], ("PO-9", "not an order", "PO-4410, PO-4500")),
    (["--order", "PO-4500=1.00"], ("PO-4500", "closed on 2025-08-31")),
    (["--order", "PO-4410=1.00", "--order", "po-4410=2.00"], ("given twice",)),
    (["--order", "PO-4410=1.00", "--month", "2027-01"], ("2026-27", "not one of the pool's years")),
    ([], ("at least one --order",)),
])
def test_accrue_refuses_and_writes_nothing(ledger, capsys, args, words):
    from s75.cli import main
    if "--month" not in args:
        args = args + ["--month", "2025-09"]
    before = ledger.read_text()
    assert main(["accrue", str(ledger), *args]) == 1
    err = capsys.readouterr().err
    assert all(word in err for word in words), err
    assert "Traceback" not in err and "nothing written" in err
    assert written(ledger) == ["0000-imports.beancount"] and ledger.read_text() == before


def test_accrue_refuses_a_second_accrual_for_the_month_and_a_locked_month(ledger, capsys):
    from s75.cli import main
    assert main(["accrue", str(ledger), "--month", "2025-09", "--order", "PO-4410=1000.00"]) == 0
    capsys.readouterr()
    assert main(["accrue", str(ledger), "--month", "2025-09", "--order", "PO-4410=1000.00"]) == 1
    assert "already accrued for 2025-09" in capsys.readouterr().err
    assert main(["lock", str(ledger), "--month", "2025-09"]) == 0
    capsys.readouterr()
    assert main(["accrue", str(ledger), "--month", "2025-09", "--order", "PO-4410=1000.00"]) == 1
    assert "2025-09 is locked" in capsys.readouterr().err


# -- what the statement shows ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def september():
    from reports.statement import build_statement
    entries, errors, options = load_text(ORDERS)
    assert errors == []
    return build_statement(build_position(entries, datetime.date(2025, 9, 30)), [], datetime.date(2025, 10, 20))


def test_the_statement_html_shows_committed_actual_plus_committed_the_basis_and_the_orders(september):
    from htmlcells import cells
    from reports.html import statement_html
    html = statement_html(september)
    found = cells(html).cells
    assert (found[("scheme=S02", "committed")], found[("scheme=S02", "actual_plus_committed")]) == (
        "8,000.00", "75,000.00")
    assert found[("scheme=S02", "forecast_outturn")].startswith("142,000.00") and ">c</abbr>" in html
    assert (found[("total=schemes", "committed")], found[("total=schemes", "actual_plus_committed")]) == (
        "8,000.00", "125,000.00")
    assert (found[("order=PO-4410", "amount")], found[("order=PO-4410", "drawn")], found[("order=PO-4410", "committed")]) \
        == ("60,000.00", "52,000.00", "8,000.00")
    assert found[("order=PO-4500", "committed")] == "0.00"


def test_the_workbook_shows_them_too(september):
    import io
    import openpyxl
    from reports.workbook import statement_xlsx
    ws = openpyxl.load_workbook(io.BytesIO(statement_xlsx(september)), data_only=True)["Finance - Schemes"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "ID")
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    row = next(r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value == "S02")
    assert [D(str(ws.cell(row, columns[h]).value)) for h in ("Actual to date", "Committed", "Actual plus committed")] \
        == [D("67000"), D("8000"), D("75000")]
    assert ws.cell(row, columns["Forecast basis"]).value == "commitments"
    orders = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Orders (commitments)")
    assert [ws.cell(orders + 2, c).value for c in (1, 2, 3)] == ["PO-4410", "S02", "Acme Homecare Ltd"]
    assert [D(str(ws.cell(orders + 2, c).value)) for c in (6, 7, 8)] == [D("60000"), D("52000"), D("8000")]


def test_a_pool_without_orders_shows_no_commitment_columns():
    from reports.html import statement_html
    from reports.statement import build_statement
    entries, errors, _ = load_text(BASE)
    assert errors == []
    statement = build_statement(build_position(entries, datetime.date(2025, 9, 30)), [], datetime.date(2025, 10, 20))
    html = statement_html(statement)
    assert "Committed" not in html and "Orders (commitments)" not in html


def test_s75_position_shows_committed_and_marks_the_basis(tmp_path, capsys):
    from s75.cli import main
    ledger = tmp_path / "orders.beancount"
    ledger.write_text(ORDERS)
    assert main(["position", str(ledger), "--date", "2025-09-30"]) == 0
    out = capsys.readouterr().out
    assert "Committed" in out and "8,000.00" in out and "75,000.00" in out and "142,000.00 c" in out
    assert " c  no forecast recorded" in out
    orders = out[out.index("Orders (commitments)"):]
    assert "PO-4410" in orders and "52,000.00" in orders and "2025-08-31" in orders  # PO-4500 closed
    assert main(["position", str(ledger), "--date", "2025-09-30", "--json"]) == 0
    import json
    shape = json.loads(capsys.readouterr().out)
    s02 = next(s for s in shape["schemes"] if s["id"] == "S02")
    assert (s02["committed"], s02["actual_plus_committed"], s02["forecast_basis"]) == ("8000.00", "75000.00",
                                                                                      "commitments")
    assert [(o["order"], o["drawn"], o["committed"]) for o in shape["commitments"]] == [
        ("PO-4410", "52000.00", "8000.00"), ("PO-4500", "10000.00", "0.00")]



def test_accrue_refuses_a_folder_for_the_ledger_in_one_line(ledger, capsys):
    from s75.cli import main
    assert main(["accrue", str(ledger.parent), "--month", "2025-09", "--order", "PO-4410=1.00"]) == 1
    err = capsys.readouterr().err
    assert "is a folder, not a ledger file" in err and "nothing written" in err


# -- what a sceptical reader tried -------------------------------------------------------------------

def test_an_accrual_dated_outside_its_month_is_an_error_so_a_locked_month_cannot_move_by_it():
    text = ORDERS.replace('2025-09-30 custom "s75-accrual" "2025-09"', '2025-10-15 custom "s75-accrual" "2025-09"')
    assert_one_error(text, "; accrual", "dated 2025-10-15", "outside 2025-09", "lock")


def test_a_credit_note_never_takes_what_is_committed_above_the_order():
    text = ORDERS + invoice("2025-09-20", "Credit: May packages overcharged", "PO-4410", "-50000.00")
    position, row = s02(text, datetime.date(2025, 9, 30))
    po = next(c for c in position.commitments if c.commitment.reference == "PO-4410")
    assert (po.drawn, po.outstanding) == (D("2000.00"), D("58000.00"))
    text += invoice("2025-09-25", "Credit again", "PO-4410", "-10000.00")
    position, row = s02(text, datetime.date(2025, 9, 30))
    po = next(c for c in position.commitments if c.commitment.reference == "PO-4410")
    assert (po.drawn, po.outstanding) == (D("-8000.00"), D("60000.00"))  # never more than the order


def test_order_written_under_a_posting_is_an_error_at_that_line():
    text = ORDERS.replace('2025-07-20 * "Other supplier" "No order"\n  Expenses:Scheme:S02   5000.00 GBP\n',
                          '2025-07-20 * "Other supplier" "No order"\n  Expenses:Scheme:S02   5000.00 GBP ; here\n'
                          '    order: "PO-4410"\n')
    assert_one_error(text, "; here", "written under a posting", "on the transaction")


def test_an_invoice_before_its_order_was_raised_is_an_error():
    text = ORDERS.replace('2025-05-31 * "Acme Homecare Ltd" "May packages"', '2025-04-30 * "Acme Homecare Ltd" "May packages" ; here')
    assert_one_error(text, "; here", "PO-4410", "raised on 2025-05-01", "after this entry")


def test_an_order_after_its_scheme_ended_is_an_error_and_nothing_is_committed_after_the_end():
    ended = ORDERS.replace('  recurrent: TRUE\n  new: FALSE\n2025-04-01 custom "s75-budget" "2025-26" "S01"',
                           '  recurrent: TRUE\n  new: FALSE\n  end: 2025-09-30\n2025-04-01 custom "s75-budget" "2025-26" "S01"')
    assert ended != ORDERS
    text = ended + '2025-10-05 custom "s75-commitment" "S02" "Late Ltd" "PO-LATE" 5000.00 GBP ; here\n'
    assert_one_error(text, "; here", "S02 ended on 2025-09-30")
    _, row = s02(ended, datetime.date(2025, 9, 30))
    assert row.committed == D("8000.00")
    _, row = s02(ended, datetime.date(2025, 10, 31))
    assert row.committed == D("0.00")


def test_a_commitment_of_fractions_of_a_penny_or_an_absurd_size_is_an_error():
    text = ORDERS.replace('"PO-4500" 30000.00 GBP', '"PO-4500" 30000.005 GBP ; here')
    assert_one_error(text, "; here", "more than two decimal places")
    text = ORDERS.replace('"PO-4500" 30000.00 GBP', '"PO-4500" 99999999999999999999999999999.99 GBP ; here')
    assert_one_error(text, "; here", "too large")


def test_s75_check_warns_of_an_order_drawn_beyond_its_amount(tmp_path, capsys):
    from s75.cli import main
    ledger = tmp_path / "orders.beancount"
    ledger.write_text(ORDERS + invoice("2025-10-10", "October packages", "PO-4410", "30000.00"))
    assert main(["check", str(ledger)]) == 0
    err = capsys.readouterr().err
    # drawn by the 31 October: 40,000.00 invoiced before, 30,000.00 in October (the accrual reversed)
    assert "warning: order PO-4410 (S02, " in err and "drawn 70,000.00, 10,000.00 more than its 60,000.00" in err
    ledger.write_text(ORDERS)
    assert main(["check", str(ledger)]) == 0
    assert "warning" not in capsys.readouterr().err
