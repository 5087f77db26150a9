"""The HTML statement: DOMAIN.md's worked example in the right cells, escaping, layout."""
from __future__ import annotations

import datetime

from beancount import loader

from conftest import WORKED
from htmlcells import cells
from reports.html import statement_html
from reports.statement import build_statement
from rules.position import build_position

GENERATED = datetime.date(2026, 4, 20)
PROPORTIONAL = '\n2025-04-01 custom "s75-risk-share" "overspend" 1 "proportional"\n'


def worked_html() -> str:
    entries, errors, options = loader.load_string(WORKED.read_text() + PROPORTIONAL)
    assert errors == []
    position = build_position(entries, datetime.date(2026, 3, 31))
    return statement_html(build_statement(position, [str(WORKED)], GENERATED))


def test_worked_example_table_in_the_schemes_tab():
    got = cells(worked_html()).cells
    expected = {  # DOMAIN.md: budget, outturn, variance (underspends in brackets)
        "S01": ("6,000,000.00", "6,500,000.00", "500,000.00"),
        "S02": ("4,000,000.00", "4,400,000.00", "400,000.00"),
        "S03": ("2,000,000.00", "1,900,000.00", "(100,000.00)"),
        "S04": ("7,500,000.00", "7,600,000.00", "100,000.00"),
        "S05": ("500,000.00", "0.00", "(500,000.00)"),
    }
    for scheme, (budget, outturn, variance) in expected.items():
        row = f"scheme={scheme}"
        assert (got[(row, "annual_budget")], got[(row, "forecast_outturn")], got[(row, "forecast_variance")]) \
            == (budget, outturn, variance)
    total = "total=schemes"
    assert (got[(total, "annual_budget")], got[(total, "forecast_outturn")], got[(total, "forecast_variance")]) \
        == ("20,000,000.00", "20,400,000.00", "400,000.00")


def test_worked_example_proportional_risk_share():
    got = cells(worked_html()).cells
    assert got[("partner=Council", "risk_share")] == "160,000.00"
    assert got[("partner=ICB", "risk_share")] == "240,000.00"
    assert (got[("total=risk-share", "Council")], got[("total=risk-share", "ICB")]) == ("160,000.00", "240,000.00")
    assert got[("partner=Council", "share")] == "40.00%" and got[("partner=ICB", "agreed")] == "12,000,000.00"


def test_cover_names_the_month_and_provenance():
    html = worked_html()
    assert "Month 12, to 31 March 2026" in html
    assert "Generated 20 April 2026" in html
    assert "Ledger: git " in html or "Ledger: sha256 " in html


def test_ledger_text_is_escaped():
    text = WORKED.read_text().replace('"Reablement" Expenses', '"<script>alert(1)</script>" Expenses').replace(
        'provider: "Worked Example Equipment Ltd"', 'provider: "=HYPERLINK(\\"http://x\\",\\"y\\") & <b>"')
    entries, errors, _ = loader.load_string(text + PROPORTIONAL)
    assert errors == []
    html = statement_html(build_statement(build_position(entries, datetime.date(2026, 3, 31)), [], GENERATED))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html and "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;) &amp; &lt;b&gt;" in html


def test_example_pool_month_6_totals(example_entries):
    position = build_position(example_entries, datetime.date(2025, 9, 30))
    got = cells(statement_html(build_statement(position, [], GENERATED))).cells
    assert got[("total=schemes", "forecast_variance")] == "254,000.00"
    assert got[("total=partners", "received")] == "13,200,000.02"
    assert got[("scheme=S10", "forecast_outturn")].startswith("924,000.00")
    assert got[("scheme=S04", "rag")] == "Red" and got[("scheme=S02", "rag")] == "Amber" \
        and got[("scheme=S03", "rag")] == "Green"
    assert got[("area=Social care", "annual_budget")] == "10,050,000.00"
