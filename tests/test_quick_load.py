"""reports.quick_load: a load with the quicker steps gives exactly Beancount's entries and errors; the
balance check asks Beancount only about transactions that do not sum to zero, and the entries are
sorted twice fewer times."""
from __future__ import annotations

import contextlib
import datetime
import threading
import time
import types
from decimal import Decimal

from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.interpolate import AUTOMATIC_RESIDUAL
from beancount.core.position import Cost
from beancount.parser import booking, options
from hypothesis import given, settings
from hypothesis import strategies as st

from beancount import loader

from reports import quick_booking, quick_load
from reports.ledger import load_ledger
from reports.quick_load import BEANCOUNTS, sums_to_zero, transaction_balances
from tests.conftest import EXAMPLE, WORKED

OPTIONS = options.OPTIONS_DEFAULTS.copy()
DAY = datetime.date(2025, 5, 1)


def posting(account, number, currency="GBP", cost=None, price=None, meta=None):
    return data.Posting(account, Amount(Decimal(number), currency), cost, price, None, meta)


def transaction(*postings, line=1):
    return data.Transaction(data.new_metadata("main.beancount", line), DAY, "*", None, "t", frozenset(), frozenset(),
                            list(postings))


def test_a_transaction_summing_to_zero_passes_without_beancount():
    assert sums_to_zero([posting("Expenses:A", "10.00"), posting("Assets:B", "-10.00")])
    assert sums_to_zero([posting("Expenses:A", "0.00"), posting("Assets:B", "0")])
    assert sums_to_zero([posting("Expenses:A", "5", "EUR"), posting("Expenses:A", "1.10"),
                         posting("Assets:B", "-5", "EUR"), posting("Assets:B", "-1.10")])


def test_everything_else_is_asked_of_beancount():
    assert not sums_to_zero([posting("Expenses:A", "10.00"), posting("Assets:B", "-9.999")])
    assert not sums_to_zero([posting("Expenses:A", "10.00", "EUR"), posting("Assets:B", "-10.00")])
    assert not sums_to_zero([posting("Expenses:A", "10.00", price=Amount(Decimal("1"), "GBP")),
                             posting("Assets:B", "-10.00")])
    assert not sums_to_zero([posting("Assets:Units", "1", "UNIT", cost=Cost(Decimal("10.00"), "GBP", DAY, None)),
                             posting("Assets:B", "-10.00")])
    assert not sums_to_zero([posting("Expenses:A", "10.00"), posting("Assets:B", "-10.00"),
                             posting("Equity:Rounding", "0.00", meta={AUTOMATIC_RESIDUAL: True})])


def test_the_errors_are_beancounts_in_its_order():
    entries = [transaction(posting("Expenses:A", "10.00"), posting("Assets:B", "-9.00"), line=3),
               transaction(posting("Expenses:A", "10.00"), posting("Assets:B", "-10.00"), line=7),
               transaction(posting("Expenses:A", "10.001"), posting("Assets:B", "-10.00"), line=9),
               transaction(posting("Expenses:A", "10.00", "EUR"), posting("Assets:B", "-10.00"), line=12)]
    errors = transaction_balances(entries, OPTIONS)
    assert [(e.source["lineno"], e.message) for e in errors] == \
        [(e.source["lineno"], e.message) for e in BEANCOUNTS(entries, OPTIONS)]
    assert [e.source["lineno"] for e in errors] == [3, 12]  # 0.001 GBP is within the inferred tolerance


NUMBERS = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=3, allow_nan=False)
CURRENCIES = st.sampled_from(["GBP", "GBP", "GBP", "EUR"])


@st.composite
def postings(draw):
    """Postings that often sum to zero, sometimes by a little less, with now and then a price, a cost,
    a residual posting or a second currency."""
    numbers = draw(st.lists(NUMBERS, min_size=1, max_size=5))
    numbers.append(-sum(numbers) + draw(st.sampled_from([Decimal(0)] * 4 + [Decimal("0.001"), Decimal("0.005"),
                                                                            Decimal("0.01"), Decimal("-0.004")])))
    made = []
    for number in numbers:
        currency = draw(CURRENCIES) if draw(st.integers(0, 9)) == 0 else "GBP"
        kind = draw(st.integers(0, 19))
        price = Amount(Decimal("1.5"), "GBP") if kind == 0 else None
        cost = Cost(Decimal("2"), "GBP", DAY, None) if kind == 1 else None
        meta = {AUTOMATIC_RESIDUAL: True} if kind == 2 else None
        made.append(posting("Assets:A", number, currency, cost, price, meta))
    return made


@settings(max_examples=400, deadline=None)
@given(st.lists(postings(), min_size=1, max_size=6))
def test_the_same_errors_as_beancount_for_any_transactions(groups):
    entries = [transaction(*group, line=number) for number, group in enumerate(groups, 1)]
    ours = transaction_balances(entries, OPTIONS)
    beancounts = BEANCOUNTS(entries, OPTIONS)
    assert [(e.source["lineno"], e.message, e.entry) for e in ours] == \
        [(e.source["lineno"], e.message, e.entry) for e in beancounts]


# A balanced payment, one that does not balance, one at a price (in both ledgers below).
TRANSACTIONS = """\
2025-05-01 * "Balanced"
  Expenses:Care  100.00 GBP
  Assets:Bank   -100.00 GBP

2025-05-02 * "Does not balance"
  Expenses:Care  100.00 GBP
  Assets:Bank    -99.00 GBP

2025-05-03 * "At a price"
  Assets:Shares  10 EUR @ 1.50 GBP
  Assets:Bank   -15.00 GBP
"""
LEDGER = """\
option "operating_currency" "GBP"
2025-04-01 open Assets:Bank
2025-04-01 open Expenses:Care
2025-04-01 open Assets:Shares

""" + TRANSACTIONS


def test_a_load_asks_beancount_only_about_what_does_not_sum_to_zero(tmp_path, monkeypatch):
    path = tmp_path / "main.beancount"
    path.write_text(LEDGER)
    asked = []

    def beancounts(entries, options_map):
        asked.extend(entry.narration for entry in entries)
        return BEANCOUNTS(entries, options_map)

    monkeypatch.setattr(quick_load, "BEANCOUNTS", beancounts)
    monkeypatch.setenv("BEANCOUNT_DISABLE_LOAD_CACHE", "1")
    loaded = load_ledger(path)
    assert asked == ["Does not balance", "At a price"]
    unbalanced = [e for e in loaded.errors if "does not balance" in e.message]
    assert [e.source["lineno"] for e in unbalanced] == [10]
    assert unbalanced[0].message == "Transaction does not balance: (1.00 GBP)"


EVERY_STEP = """\
option "operating_currency" "GBP"
option "documents" "{documents}"
2025-04-01 open Assets:Bank
2025-04-01 open Assets:Petty
2025-04-01 open Equity:Opening
2025-04-01 open Expenses:Care
2025-04-01 open Assets:Shares

2025-04-02 pad Assets:Petty Equity:Opening
2025-04-03 balance Assets:Petty  50.00 GBP
2025-04-02 pad Assets:Shares Equity:Opening

""" + TRANSACTIONS + """
2025-05-04 document Assets:Bank "{documents}/gone.pdf"
2025-05-31 balance Assets:Bank  -214.00 GBP
2025-05-31 balance Expenses:Care  10.00 GBP
"""


def _both(path):
    """Beancount's own load of `path` and the load with the quicker steps."""
    own = loader._load([(str(path), True)], None, None, None)
    with quick_load.quick_load():
        quick = loader._load([(str(path), True)], None, None, None)
    return own, quick


def _same(own, quick):
    entries, errors, _ = own
    quick_entries, quick_errors, _ = quick
    assert quick_entries == entries
    assert [(type(e), e.source, e.message) for e in quick_errors] == [(type(e), e.source, e.message) for e in errors]


def test_every_step_gives_beancounts_answer(tmp_path):
    """Pads used and unused, balance assertions met and failed, a document found in the documents folder
    and one that is not there, a transaction that does not balance and one at a price."""
    folder = tmp_path / "documents" / "Assets" / "Bank"
    folder.mkdir(parents=True)
    (folder / "2025-05-06.statement.pdf").write_bytes(b"%PDF")
    path = tmp_path / "main.beancount"
    path.write_text(EVERY_STEP.format(documents=tmp_path / "documents"))
    own, quick = _both(path)
    assert sorted(e.source["lineno"] for e in own[1]) == [11, 17, 25, 27]  # unused pad, no balance, gone, failed
    assert any(e.narration.startswith("(Padding inserted") for e in own[0] if isinstance(e, data.Transaction))
    assert any(getattr(e, "filename", "").endswith("statement.pdf") for e in own[0])  # found in the folder
    _same(own, quick)


def test_the_example_ledgers_load_the_same(tmp_path):
    for path in (EXAMPLE, WORKED):
        _same(*_both(path))
    without_documents = tmp_path / "main.beancount"
    without_documents.write_text(EVERY_STEP.replace('option "documents" "{documents}"\n', "").format(documents=tmp_path))
    _same(*_both(without_documents))


def test_the_lists_are_beancounts_again_after_a_load(tmp_path):
    before = list(loader.PLUGINS_PRE), list(loader.PLUGINS_POST), list(quick_load.validation.VALIDATIONS)
    with contextlib.suppress(RuntimeError), quick_load.quick_load():
        assert loader.PLUGINS_POST == [(quick_load.THIS, quick_load.AFTER)]
        assert loader.booking is quick_booking  # the loader books with reports.quick_booking
        raise RuntimeError
    assert (loader.PLUGINS_PRE, loader.PLUGINS_POST, quick_load.validation.VALIDATIONS) == before
    assert loader.booking is booking


def test_a_booking_not_beancounts_is_left_alone(monkeypatch):
    other = types.SimpleNamespace(book=booking.book)
    monkeypatch.setattr(loader, "booking", other)
    with quick_load.quick_load():
        assert loader.booking is other
    assert loader.booking is other


def test_loads_in_two_threads_leave_beancounts_lists():
    """A second thread's load waits for the first's to put the lists back, so the last to finish does not
    put back the first's quick lists."""
    before = list(loader.PLUGINS_PRE), list(loader.PLUGINS_POST), list(quick_load.validation.VALIDATIONS)
    second_in = threading.Event()

    def first():
        with quick_load.quick_load():
            second_in.wait(timeout=0.5)  # the second is kept out until this ends

    def second():
        with quick_load.quick_load():
            second_in.set()
            time.sleep(0.05)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    time.sleep(0.05)
    threads[1].start()
    for thread in threads:
        thread.join()
    assert (loader.PLUGINS_PRE, loader.PLUGINS_POST, quick_load.validation.VALIDATIONS) == before
    with quick_load.quick_load(), quick_load.quick_load():  # a load within a load, in one thread
        assert loader.PLUGINS_PRE == [(quick_load.THIS, quick_load.BEFORE)]
    assert (loader.PLUGINS_PRE, loader.PLUGINS_POST, quick_load.validation.VALIDATIONS) == before


def test_a_load_sorts_the_entries_twice_fewer_times(tmp_path, monkeypatch):
    """Beancount sorts the entries seven times on this load (twice after parsing, in its documents step,
    and after each plugin module: documents, the ledger's, pad, balance). The quick load leaves out the
    documents step's own sort, and pad and balance are one module: five."""
    path = tmp_path / "main.beancount"
    path.write_text(LEDGER + 'plugin "beancount.plugins.noduplicates"\n')
    keys = []
    sortkey = data.entry_sortkey
    monkeypatch.setattr(data, "entry_sortkey", lambda entry: keys.append(entry) or sortkey(entry))
    loader._load([(str(path), True)], None, None, None)
    beancounts, keys[:] = len(keys), []
    with quick_load.quick_load():
        entries, _, _ = loader._load([(str(path), True)], None, None, None)
    assert (beancounts, len(keys)) == (7 * len(entries), 5 * len(entries))


FAMILY = """\
2025-04-01 open Assets:Pool
2025-04-01 open Assets:Pool:Cash
2025-04-01 open Assets:Pool:Cash:Petty
2025-04-01 open Assets:Poolside
2025-04-01 open Expenses:Care

2025-05-01 * "To a sub-account"
  Expenses:Care            20.00 GBP
  Assets:Pool:Cash:Petty

2025-05-02 * "To the parent"
  Expenses:Care            30.00 GBP
  Assets:Pool

2025-05-03 * "To an account whose name begins the same"
  Expenses:Care            40.00 GBP
  Assets:Poolside

2025-05-04 * "To the account itself"
  Expenses:Care            50.00 GBP
  Assets:Pool:Cash

2025-05-31 balance Assets:Pool:Cash  -70.00 GBP
2025-06-01 balance Assets:Pool:Cash  -69.00 GBP
2025-05-31 balance Expenses:Care    140.00 GBP
"""


def test_balance_assertions_on_parents_sub_accounts_and_lookalikes(tmp_path, monkeypatch):
    path = tmp_path / "main.beancount"
    path.write_text(FAMILY)
    own, quick = _both(path)
    assert [e.source["lineno"] for e in own[1]] == [24]
    _same(own, quick)
    failed = [e for e in quick[0] if isinstance(e, data.Balance) and e.diff_amount is not None]
    assert [e.meta["lineno"] for e in failed] == [24]


def test_the_balance_assertions_are_given_only_the_transactions_they_add_up(tmp_path, monkeypatch):
    path = tmp_path / "main.beancount"
    path.write_text(FAMILY.replace("2025-05-31 balance Expenses:Care    140.00 GBP\n", ""))
    given = []
    check = quick_load.balance.check
    monkeypatch.setattr(quick_load.balance, "check", lambda entries, options_map: given.append(
        [e.narration for e in entries if isinstance(e, data.Transaction)]) or check(entries, options_map))
    with quick_load.quick_load():
        loader._load([(str(path), True)], None, None, None)
    assert given == [["To a sub-account", "To the parent", "To the account itself"]]
