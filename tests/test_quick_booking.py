"""reports.quick_booking: booking a ledger gives exactly Beancount's booked entries (equal, and printed
the same, digits and all) and errors, in the same order; Beancount books only what is not plain."""
from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

from beancount.parser import booking, booking_full, parser, printer
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import quick_booking
from tests.conftest import EXAMPLE, WORKED

HEADER = """\
2025-01-01 open Assets:Bank
2025-01-01 open Assets:Units
2025-01-01 open Assets:Fifo FIFO
2025-01-01 open Expenses:Care
2025-01-01 open Expenses:Other
2025-01-01 open Income:Council
"""


def booked_by(book, text: str):
    entries, parse_errors, options = parser.parse_string(text)  # parsed anew: booking marks the parsed postings
    entries.sort(key=lambda e: (e.date, e.meta["lineno"]))
    booked, errors = book(entries, options)
    return booked, errors


def outcome(book, text: str):
    try:
        return booked_by(book, text)
    except Exception as exc:  # Beancount's booking raises on some numbers (a quantize beyond its precision)
        return type(exc)


def same_as_beancount(text: str) -> None:
    ours, theirs = outcome(quick_booking.book, text), outcome(booking.book, text)
    if isinstance(theirs, type):  # Beancount stops: the transaction it stopped at is left out, with its line
        assert issubclass(theirs, ArithmeticError)
        assert quick_booking.TOO_MANY_DIGITS in [error.message for error in ours[1]]
        return
    (ours, our_errors), (theirs, their_errors) = ours, theirs
    assert ours == theirs
    assert [printer.format_entry(e) for e in ours] == [printer.format_entry(e) for e in theirs]
    assert [(type(e), e.source, e.message) for e in our_errors] == [(type(e), e.source, e.message)
                                                                      for e in their_errors]


def test_a_payment_with_an_auto_posting_is_filled_as_beancount_fills_it():
    text = HEADER + """
2025-05-01 * "Care package"
  Expenses:Care   1200.50 GBP
  Expenses:Other    99.5 GBP
  Assets:Bank
"""
    same_as_beancount(text)
    booked, errors = booked_by(quick_booking.book, text)
    payment = booked[-1]
    assert errors == []
    # 1200.50 + 99.5 = 1300.00, quantized to the coarser written precision (tolerance 0.05, quantum 0.1)
    assert str(payment.postings[-1].units) == "-1300.0 GBP"
    assert payment.postings[-1].meta["__automatic__"] is True
    assert payment.meta["__tolerances__"]["GBP"] == Decimal("0.05")


def test_an_auto_posting_with_nothing_to_absorb_is_left_out():
    same_as_beancount(HEADER + """
2025-05-01 * "Nothing"
  Expenses:Care   10.00 GBP
  Expenses:Care  -10.00 GBP
  Assets:Bank
""")


def test_precise_interpolation_and_given_tolerances():
    same_as_beancount('option "use_precise_interpolation" "TRUE"\n'
                      'option "inferred_tolerance_default" "GBP:0.05"\n'
                      'option "tolerance_multiplier" "0.6"\n' + HEADER + """
2025-05-01 * "Thirds"
  Expenses:Care   33.333 GBP
  Expenses:Other  10.1 GBP
  Assets:Bank
2025-05-02 * "Whole"
  Expenses:Care   7 GBP
  Assets:Bank
""")


def test_a_currency_left_out_is_found_from_the_accounts_inventory_as_beancount_finds_it():
    # The second payment's bank line has no currency and its other lines have two: Beancount reads
    # it from the bank's inventory, which must hold the first payment (which is plain) for the
    # answer to be the same.
    text = HEADER + """
2025-05-01 * "First"
  Expenses:Care   10.00 EUR
  Assets:Bank
2025-05-02 * "Second"
  Expenses:Care   5.00 EUR
  Expenses:Other  3.00 GBP
  Assets:Bank    -5.00
  Income:Council -3.00 GBP
"""
    same_as_beancount(text)
    booked, errors = booked_by(quick_booking.book, text)
    bank = [p for p in booked[-1].postings if p.account == "Assets:Bank"]
    assert errors == [] and [str(p.units) for p in bank] == ["-5.00 EUR"]


def test_lots_at_cost_are_reduced_from_what_plain_payments_left():
    same_as_beancount(HEADER + """
2025-05-01 * "Buy"
  Assets:Fifo     10 UNIT {2.00 GBP}
  Assets:Bank
2025-05-02 * "Plain"
  Expenses:Care   5.00 GBP
  Assets:Bank
2025-05-03 * "Sell"
  Assets:Fifo     -4 UNIT {}
  Assets:Bank      8.00 GBP
2025-05-04 * "Sell too many"
  Assets:Fifo     -40 UNIT {}
  Assets:Bank      80.00 GBP
""")


def test_booking_errors_are_beancounts_in_its_order():
    same_as_beancount(HEADER + """
2025-05-01 * "Two auto-postings"
  Expenses:Care   5.00 GBP
  Assets:Bank
  Income:Council
2025-05-02 * "Fine"
  Expenses:Care   5.00 GBP
  Assets:Bank
2025-05-03 * "Two currencies, one auto-posting"
  Expenses:Care   5.00 GBP
  Expenses:Other  6.00 EUR
  Assets:Bank
2025-05-04 * "Price"
  Expenses:Care   5.00 USD @ 0.80 GBP
  Assets:Bank
2025-05-05 * "Nothing known"
  Assets:Bank
""")


def test_an_amount_too_long_to_book_is_an_error_at_its_line_where_beancount_stops():
    text = HEADER + """
2025-05-01 * "Fine"
  Expenses:Care   5.00 GBP
  Assets:Bank
2025-05-02 * "Too long"
  Expenses:Care   100000000000000000000000000.01 GBP
  Assets:Bank
2025-05-03 * "Too long, and one amount without its currency"
  Expenses:Care   100000000000000000000000000.01 GBP
  Expenses:Other  1.00
  Assets:Bank
"""
    assert outcome(booking.book, text) is decimal.InvalidOperation
    booked, errors = booked_by(quick_booking.book, text)
    assert [(e.source["lineno"], e.message) for e in errors] == [(11, quick_booking.TOO_MANY_DIGITS),
                                                                (14, quick_booking.TOO_MANY_DIGITS)]
    assert [e.narration for e in booked if hasattr(e, "narration")] == ["Fine"]


def test_plain_and_not_plain():
    def postings(text):
        entries, _, _ = parser.parse_string(HEADER + text)
        return entries[-1].postings
    assert quick_booking.plain(postings('2025-05-01 *\n  Expenses:Care 5.00 GBP\n  Assets:Bank\n')) == ("GBP", 1)
    assert quick_booking.plain(postings('2025-05-01 *\n  Expenses:Care 5 GBP\n  Assets:Bank -5 GBP\n')) == ("GBP", None)
    for text in ('2025-05-01 *\n  Expenses:Care 5.00 GBP\n  Assets:Bank -5.00\n',  # a currency left out
                 '2025-05-01 *\n  Expenses:Care 5.00 GBP\n  Assets:Bank -5.00 EUR\n',  # two currencies
                 '2025-05-01 *\n  Assets:Units 1 UNIT {5.00 GBP}\n  Assets:Bank\n',  # at cost
                 '2025-05-01 *\n  Expenses:Care 1 USD @ 1 GBP\n  Assets:Bank\n',  # priced
                 '2025-05-01 *\n  Expenses:Care 5 GBP\n  Assets:Bank\n  Income:Council\n',  # two auto-postings
                 '2025-05-01 *\n  Assets:Bank\n'):  # nothing written
        assert quick_booking.plain(postings(text)) is None, text


def test_beancount_books_only_the_transactions_that_are_not_plain_or_share_their_accounts(monkeypatch):
    given_to_beancount = []
    books = booking_full.book

    def counting(entries, *args):
        given_to_beancount.extend(e.narration for e in entries if hasattr(e, "narration"))
        return books(entries, *args)

    monkeypatch.setattr(booking_full, "book", counting)
    booked_by(quick_booking.book, HEADER + """
2025-05-01 * "Plain"
  Expenses:Care   5.00 GBP
  Assets:Bank
2025-05-02 * "At cost"
  Assets:Units    1 UNIT {5.00 GBP}
  Income:Council
2025-05-03 * "Plain, sharing an account with one at cost"
  Expenses:Other  5.00 GBP
  Income:Council
""")
    assert given_to_beancount == ["At cost", "Plain, sharing an account with one at cost"]


def test_the_example_ledgers_book_as_beancount_books_them():
    for ledger in (EXAMPLE, WORKED):
        folder = Path(ledger).parent
        text = "\n".join(path.read_text() for path in sorted(folder.rglob("*.beancount")))
        same_as_beancount(text)


ACCOUNTS = ("Assets:Bank", "Assets:Units", "Assets:Fifo", "Expenses:Care", "Expenses:Other", "Income:Council")
NUMBERS = st.sampled_from(["0", "0.00", "1", "-1", "5.00", "-5.00", "10.005", "-3.3", "0.01", "1200.50", "-99.5",
                           "7", "33.333", "-12.10", "1E+2", "100000000000000000000000000.01"])


@st.composite
def postings_text(draw):
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        account = draw(st.sampled_from(ACCOUNTS))
        kind = draw(st.sampled_from(["amount", "amount", "amount", "auto", "no-currency", "cost", "price"]))
        number = draw(NUMBERS)
        currency = draw(st.sampled_from(["GBP", "GBP", "EUR"]))
        if kind == "amount":
            lines.append(f"  {account}  {number} {currency}")
        elif kind == "auto":
            lines.append(f"  {account}")
        elif kind == "no-currency":
            lines.append(f"  {account}  {number}")
        elif kind == "cost":
            lines.append(f"  Assets:Fifo  {draw(st.sampled_from(['2', '-1', '1.5']))} UNIT "
                         f"{draw(st.sampled_from(['{1.00 GBP}', '{}', '{2 EUR}']))}")
        else:
            lines.append(f"  {account}  {number} USD @ {draw(st.sampled_from(['0.80', '1.1']))} {currency}")
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(st.lists(postings_text(), min_size=1, max_size=8),
       st.sampled_from(["", 'option "use_precise_interpolation" "TRUE"\n',
                        'option "inferred_tolerance_default" "GBP:0.01"\n'
                        'option "tolerance_multiplier" "2"\n']))
def test_any_ledger_books_as_beancount_books_it(transactions, options):
    text = options + HEADER + "".join(f'\n2025-05-{day:02d} * "t{day}"\n{body}\n'
                                      for day, body in enumerate(transactions, start=1))
    same_as_beancount(text)


def test_tolerances_worked_out_once_are_beancounts_for_each_transaction():
    from beancount.core.interpolate import infer_tolerances
    entries, _, options = parser.parse_string(HEADER + """
2025-05-01 * "a"
  Expenses:Care   10.00 GBP
  Assets:Bank    -10 GBP
2025-05-02 * "b, its pence line marked as filled in by booking"
  Expenses:Care   10.00 GBP
  Assets:Bank    -10 GBP
2025-05-03 * "c"
  Expenses:Care   10.5 GBP
  Assets:Bank    -10.50 GBP
""")
    transactions = sorted((e for e in entries if hasattr(e, "postings")), key=lambda e: e.date)
    transactions[1].postings[0].meta["__automatic__"] = True
    known = quick_booking.Tolerances(options)
    for entry in transactions + transactions:
        for mode in ("max", "min"):
            assert known.of(entry.postings, "GBP", mode) == infer_tolerances(entry.postings, options, mode=mode)
    assert known.of(transactions[0].postings, "GBP", "max") is known.of(transactions[0].postings, "GBP", "max")
