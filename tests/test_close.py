"""Closing a year: it settles on the actual outturn, so a scheme without a forecast does not block it;
and a closed year is described as "closed and settled" only when the settlement's entries are in the
books (rules.settlement wrote them at this load), never merely because an s75-close is there."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

from beancount import loader
from beancount.core import data
from beancount.parser import printer

from conftest import ROOT
from reports.html import statement_html
from reports.statement import build_statement
from rules.position import build_position

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"
END_2025_26 = datetime.date(2026, 3, 31)
END_2024_25 = datetime.date(2025, 3, 31)
# The ledger's rules (rules.pool runs tranches, settlement, validate), and the same without settlement.
SETTLEMENT = 'plugin "rules.pool"\n'
NO_SETTLEMENT = 'plugin "rules.tranches"\nplugin "rules.validate"\n'


def load(text: str):
    entries, errors, _ = loader.load_string(text)
    return entries, errors


def settlements(entries):
    return sorted((e.date, p.account, f"{p.units.number:.2f}") for e in entries
                  if isinstance(e, data.Transaction) and str(e.meta.get("rule", "")).startswith("risk-share")
                  for p in e.postings)


def described(entries, as_of) -> str:
    """The risk-share sentence of the statement for `as_of`."""
    html = statement_html(build_statement(build_position(entries, as_of), [], datetime.date(2026, 4, 1)))
    start = html.index("On the ")
    return " ".join(html[start:html.index("</p>", start)].split())


# ---- a scheme without a forecast does not block the close ----

def test_a_scheme_without_a_forecast_does_not_block_the_close():
    full, errors = load(THREE.read_text())
    assert errors == []
    text = THREE.read_text()
    for line in ('2026-03-31 custom "s75-forecast" "2025-26" "S02" 4150000.00 GBP\n',
                 '2025-03-31 custom "s75-forecast" "2024-25" "S03" 0.00 GBP\n'):
        assert line in text
        text = text.replace(line, "")
    entries, errors = load(text)
    assert [e.message for e in errors] == []
    # Settled on the actual outturn exactly as with the forecasts: 170,000.00 / 280,000.00 for 2025-26.
    assert settlements(entries) == settlements(full)
    assert ("2026-03-31", "Assets:Pool:Due:Council", "170000.00") in [(str(d), a, n) for d, a, n in
                                                                        settlements(entries)]
    position = build_position(entries, END_2025_26)
    s02 = next(s for s in position.schemes if s.scheme.scheme == "S02")
    assert (s02.forecast_basis, s02.forecast_outturn) == ("actual", D("4150000.00"))


def test_a_year_with_no_forecast_at_all_closes_on_its_actuals():
    text = "".join(line for line in THREE.read_text().splitlines(keepends=True)
                   if not line.startswith('2026-03-31 custom "s75-forecast"')
                   and not line.startswith('2025-09-30 custom "s75-forecast"'))
    entries, errors = load(text)
    assert [e.message for e in errors] == []
    assert [n for _, a, n in settlements(entries) if a.startswith("Assets:Pool:Due")] == ["170000.00", "280000.00"]


# ---- "closed and settled" only when the settlement is in the books ----

def test_closed_and_settled_with_the_settlement_plugin():
    entries, errors = load(THREE.read_text())
    assert errors == []
    position = build_position(entries, END_2025_26)
    assert position.closed and position.settled
    assert "(year closed and settled)" in described(entries, END_2025_26)
    # 2024-25 settled by carrying its underspend forward: the carry entries are the settlement.
    assert build_position(entries, END_2024_25).settled
    assert "(year closed and settled)" in described(entries, END_2024_25)


def test_a_closed_year_without_the_settlement_plugin_is_not_described_as_settled():
    text = THREE.read_text()
    assert SETTLEMENT in text
    entries, _ = load(text.replace(SETTLEMENT, NO_SETTLEMENT))  # errors aside: the s75 commands refuse this ledger
    for as_of in (END_2025_26, END_2024_25):
        position = build_position(entries, as_of)
        assert position.closed and not position.settled
        sentence = described(entries, as_of)
        assert "settled" not in sentence.replace("not settled", "")
        assert "closed, not settled" in sentence, sentence


def test_settlement_entries_pasted_into_a_file_do_not_make_the_year_settled():
    entries, _ = load(THREE.read_text())
    pasted = "".join(printer.format_entry(e) for e in entries
                     if isinstance(e, data.Transaction) and str(e.meta.get("rule", "")).startswith("risk-share"))
    assert "Assets:Pool:Due:Council" in pasted
    copied, _ = load(THREE.read_text().replace(SETTLEMENT, NO_SETTLEMENT) + "\n" + pasted)
    assert not build_position(copied, END_2025_26).settled


def test_before_31_march_a_closed_year_is_not_yet_closed():
    entries, _ = load(THREE.read_text())
    position = build_position(entries, datetime.date(2026, 2, 28))
    assert not position.closed and not position.settled
    assert "closed" not in described(entries, datetime.date(2026, 2, 28))


def test_a_closed_year_with_nothing_to_settle_says_so():
    text = THREE.read_text()
    spend = '2026-03-31 * "Provider" "S01 spend"\n  Expenses:Scheme:S01  3500000.00 GBP\n'
    paid = text[text.index("; The partners pay their shares"):]
    assert spend in text
    # S01 450,000.00 less: 6,450,000.00 against 6,500,000.00 (-50,000), S02 +150,000, S03 -100,000: nil.
    text = text.replace(spend, spend.replace("3500000.00", "3050000.00")).replace(paid, "")
    entries, errors = load(text)
    assert errors == []
    position = build_position(entries, END_2025_26)
    assert position.risk_share.side is None and position.closed and not position.settled
    assert "(year closed: nothing to settle)" in described(entries, END_2025_26)
