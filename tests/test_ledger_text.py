"""importers.ledger_text.entry_text writes an entry exactly as Beancount's printer does, for every
entry of the example ledger (as loaded, the rules' entries included), every entry the importers make
from their sample extracts, and transactions with the edges of the printer's rules."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from beancount import loader
from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser import printer

from conftest import EXAMPLE
from importer_support import SAMPLES, gl_importers
from importers.ledger_text import entry_text


def test_every_entry_of_the_example():
    entries, errors, _ = loader.load_file(str(EXAMPLE))
    assert errors == [] and len(entries) > 300
    for entry in entries:
        assert entry_text(entry) == printer.format_entry(entry), entry


def test_every_entry_the_ledger_extract_importers_make():
    made = 0
    for importer in gl_importers():
        for path in sorted(SAMPLES.glob("*/*")):
            if path.suffix.lower() in (".csv", ".xlsx") and importer.identify(str(path)):
                for item in importer.read(str(path)):
                    if hasattr(item, "entry"):
                        assert entry_text(item.entry) == printer.format_entry(item.entry), item
                        made += 1
    assert made > 10


def posting(account, number, currency="GBP"):
    return data.Posting(account, Amount(number, currency), None, None, None, None)


@pytest.mark.parametrize("numbers", [(D("48211.40"), D("-48211.40")), (D("5"), D("-5.00")), (D("1E+3"), D("-1000")),
                                     (D("0.001"), D("-0.001")), (D("-123456789.12"), D("123456789.12")),
                                     (D("12.5"), None)])
@pytest.mark.parametrize("payee, narration", [("Acme \"Homecare\" Ltd", "back\\slash"), (None, "Only narration"),
                                              ("Payee only", ""), (None, "")])
def test_transactions_at_the_edges(numbers, payee, narration):
    meta = data.new_metadata("x.beancount", 3)
    meta.update({"system": "council", "ref": "GL-1", "personal": True, "flagged": False,
                 "original-date": datetime.date(2025, 8, 3), "share": D("0.25"), "empty": None,
                 "__hidden__": True})
    postings = [posting("Expenses:Scheme:S02", numbers[0]),
                posting("Assets:Pool:Cash", numbers[1]) if numbers[1] is not None
                else data.Posting("Assets:Pool:Cash", None, None, None, None, None)]
    for flag, tags, links in (("*", data.EMPTY_SET, data.EMPTY_SET), ("!", frozenset({"b", "a"}), frozenset({"l1"}))):
        entry = data.Transaction(meta, datetime.date(2025, 9, 1), flag, payee, narration, tags, links, postings)
        assert entry_text(entry) == printer.format_entry(entry)


def test_what_it_leaves_to_the_printer_is_still_the_printers():
    meta = data.new_metadata("x.beancount", 3)
    meta["when"] = datetime.datetime(2025, 9, 1, 12, 0)
    entry = data.Transaction(meta, datetime.date(2025, 9, 1), "*", "P", "N", data.EMPTY_SET, data.EMPTY_SET,
                             [data.Posting("Assets:A", Amount(D("1"), "GBP"), None, None, "!", None),
                              posting("Assets:B", D("-1"))])
    assert entry_text(entry) == printer.format_entry(entry)
