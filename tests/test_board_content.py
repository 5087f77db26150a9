"""What the board reads: the month's commentary and sign-off (s75-commentary, s75-signoff) at the top
of the statement, each scheme's forecast note, the movement in forecast outturn since the previous
month end (worked by hand on the example pool), and the chart of forecast variance by scheme beside
cumulative spend against profile with the gap drawn on its own scale; in the HTML and the workbook."""
from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal as D

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from conftest import line_of, load_text
from htmlcells import cells
from reports.chart import ACTUAL, ADVERSE, BUDGET, FAVOURABLE, FORECAST, bars_layout, layout
from reports.html import statement_html
from reports.statement import build_statement
from reports.workbook import SCHEME_TOP
from reports.xlsx import statement_xlsx
from rules.position import build_position
from test_agreement_checks import BASE, assert_one_error, errors_of

SEPTEMBER = datetime.date(2025, 9, 30)

BOARD = '''\
2025-10-08 custom "s75-commentary" "2025-09" "First paragraph,
written over two lines.

Second paragraph."
2025-10-10 custom "s75-signoff" "2025-09"
  prepared-by: "Ann Preparer, Pooled Fund Manager"
  reviewed-by: "Ben Reviewer, Chief Finance Officer"
  date: 2025-10-10
'''


@pytest.fixture(scope="module")
def example_statement(example_entries):
    return build_statement(build_position(example_entries, SEPTEMBER), [], datetime.date(2025, 10, 10))


# ---- the directives and their figures -------------------------------------------------------------

def test_commentary_and_signoff_are_read_for_their_month():
    entries, errors, _ = load_text(BASE + BOARD)
    assert errors == []
    statement = build_statement(build_position(entries, SEPTEMBER), [], datetime.date(2025, 10, 10))
    assert statement.commentary.paragraphs == ("First paragraph, written over two lines.", "Second paragraph.")
    assert (statement.signoff.prepared_by, statement.signoff.reviewed_by, statement.signoff.signed) == (
        "Ann Preparer, Pooled Fund Manager", "Ben Reviewer, Chief Finance Officer", datetime.date(2025, 10, 10))
    html = statement_html(statement)
    top = html[:html.index('id="finance-summary"')]  # before the first table: what the board reads first
    assert "<p>First paragraph, written over two lines.</p>" in top and "<p>Second paragraph.</p>" in top
    assert re.search(r"<th>Prepared by</th><td[^>]*>Ann Preparer, Pooled Fund Manager</td>", top)
    assert re.search(r"<th>Reviewed by</th><td[^>]*>Ben Reviewer, Chief Finance Officer</td>", top)
    assert re.search(r"<th>Date</th><td[^>]*>10 October 2025</td>", top)


def test_another_month_has_neither_and_says_so():
    entries, errors, _ = load_text(BASE + BOARD)
    statement = build_statement(build_position(entries, datetime.date(2025, 8, 31)), [], datetime.date(2025, 9, 9))
    assert statement.commentary is None and statement.signoff is None
    html = statement_html(statement)
    assert "No commentary has been recorded for this month." in html and "s75-commentary" not in html
    assert "Not signed off." in html and "s75-signoff" not in html


def test_the_example_pools_month_6_statement_opens_with_its_commentary_and_signoff(example_statement):
    html = statement_html(example_statement)
    assert html.index('id="commentary"') < html.index('id="signoff"') < html.index('id="finance-summary"')
    assert "265,600.00 more than at Month 5" in html
    assert "Priya Shah, Pooled Fund Manager" in html[html.index('id="signoff"'):html.index('id="finance-summary"')]


# ---- errors at their lines ------------------------------------------------------------------------

@pytest.mark.parametrize("directive, words", [
    ('2025-10-08 custom "s75-commentary" "2025-9" "Text" ; here\n', ('month "2025-9" should look like "2025-09"',)),
    ('2025-10-08 custom "s75-commentary" "2025-13" "Text" ; here\n', ('month "2025-13"',)),
    ('2025-10-08 custom "s75-commentary" "2025-09" "  " ; here\n', ("the commentary for 2025-09 is empty",)),
    ('2025-10-08 custom "s75-commentary" "2026-09" "Text" ; here\n',
     ("2026-09 is in 2026-27, which the pool does not have",)),
    ('2025-10-08 custom "s75-commentary" "2025-09" ; here\n', ("s75-commentary: missing text",)),
    ('2025-10-08 custom "s75-commentary" "2025-09" 12 ; here\n', ("s75-commentary: text should be a quoted text",)),
])
def test_a_bad_commentary_is_an_error_at_its_line(directive, words):
    assert_one_error(BASE + directive, "; here", *words)


SIGNOFF = ('2025-10-10 custom "s75-signoff" "{month}" ; here\n  prepared-by: "{prepared}"\n'
           '  reviewed-by: "{reviewed}"\n  date: {date}\n')
GOOD = {"month": "2025-09", "prepared": "Ann Preparer", "reviewed": "Ben Reviewer", "date": "2025-10-10"}


@pytest.mark.parametrize("change, words", [
    ({"month": "Sept 2025"}, ('month "Sept 2025" should look like "2025-09"',)),
    ({"month": "2024-09"}, ("2024-09 is in 2024-25, which the pool does not have",)),
    ({"reviewed": "ann preparer"}, ('"Ann Preparer" both prepared and reviewed the 2025-09 statement',)),
    ({"reviewed": " "}, ("reviewed-by is empty",)),
    ({"date": "2025-09-30"}, ("signed off on 2025-09-30, but Month 6 (2025-09) runs to 2025-09-30",)),
    ({"date": "2025-10-11"}, ("signed off on 2025-10-11, after the directive's date 2025-10-10",)),
    ({"date": '"10 October 2025"'}, ("s75-signoff: date should be a date (YYYY-MM-DD)",)),
])
def test_a_bad_signoff_is_an_error_at_its_line(change, words):
    assert_one_error(BASE + SIGNOFF.format(**{**GOOD, **change}), "; here", *words)


def test_a_signoff_without_a_reviewer_is_an_error_at_its_line():
    text = BASE + '2025-10-10 custom "s75-signoff" "2025-09" ; here\n  prepared-by: "Ann"\n  date: 2025-10-10\n'
    assert_one_error(text, "; here", "s75-signoff: missing metadata reviewed-by:")


def test_a_second_commentary_or_signoff_for_a_month_is_an_error_at_the_second_naming_the_first():
    text = (BASE + '2025-10-08 custom "s75-commentary" "2025-09" "One" ; first\n'
            + '2025-10-09 custom "s75-commentary" "2025-09" "Two" ; here\n')
    message = assert_one_error(text, "; here", "2025-09 has a commentary already, at")
    assert message.endswith(f":{line_of(text, '; first')}: keep one")
    first = SIGNOFF.format(**GOOD).replace(" ; here", " ; first")
    text = BASE + first + SIGNOFF.format(**GOOD).replace("2025-10-10 custom", "2025-10-12 custom")
    message = assert_one_error(text, "; here", "2025-09 has a sign-off already, at")
    assert message.endswith(f":{line_of(text, '; first')}: keep one")


# ---- forecast notes and movement, by hand on the example pool -------------------------------------

# Month 5 outturns (31 August 2025) and Month 6 (30 September 2025), from ledger/2025-26/forecasts.beancount,
# and for S10 (no forecast either month) and S14 (none at Month 5) the run-rate: actual to date / months x 12.
# S10 spent 384,000.00 to August and 462,000.00 to September: 384,000.00 / 5 x 12 = 921,600.00, and
# 462,000.00 / 6 x 12 = 924,000.00. S14 spent 157,000.00 to August: 157,000.00 / 5 x 12 = 376,800.00.
BY_HAND = {
    "S01": ("5600000.00", "5650000.00"), "S02": ("2980000.00", "3020000.00"), "S03": ("1430000.00", "1410000.00"),
    "S04": ("3700000.00", "3840000.00"), "S05": ("0.00", "0.00"), "S06": ("2150000.00", "2150000.00"),
    "S07": ("950000.00", "930000.00"), "S08": ("2600000.00", "2690000.00"), "S09": ("1300000.00", "1300000.00"),
    "S10": ("921600.00", "924000.00"), "S11": ("580000.00", "560000.00"), "S12": ("650000.00", "650000.00"),
    "S13": ("1000000.00", "1000000.00"), "S14": ("376800.00", "380000.00"),
}


def test_movement_in_forecast_outturn_by_scheme_and_in_total_worked_by_hand(example_entries):
    august = build_position(example_entries, datetime.date(2025, 8, 31))
    s10, s14 = (next(s for s in august.schemes if s.scheme.scheme == k) for k in ("S10", "S14"))
    assert (s10.actual_to_date, s14.actual_to_date) == (D("384000.00"), D("157000.00"))
    position = build_position(example_entries, SEPTEMBER)
    assert position.previous_date == datetime.date(2025, 8, 31)
    for s in position.schemes:
        before, now = (D(x) for x in BY_HAND[s.scheme.scheme])
        assert (s.previous_outturn, s.forecast_outturn, s.forecast_movement) == (before, now, now - before), s.scheme
    # 50,000 + 40,000 - 20,000 + 140,000 - 20,000 + 90,000 + 2,400 - 20,000 + 3,200
    assert position.scheme_totals["forecast_movement"] == D("265600.00")
    assert position.scheme_totals["previous_outturn"] == D("24238400.00")
    # the previous month's outturns are what that month's own position gave
    assert {s.scheme.scheme: s.forecast_outturn for s in august.schemes} == {
        s.scheme.scheme: s.previous_outturn for s in position.schemes}


def test_in_month_1_the_outturn_moves_from_the_budget(example_entries):
    april = build_position(example_entries, datetime.date(2025, 4, 30))
    assert april.previous_date is None
    assert all(s.previous_outturn == s.annual_budget for s in april.schemes if s.scheme.scheme != "S05")
    assert april.scheme_totals["forecast_movement"] == april.scheme_totals["forecast_outturn"] - D("24250000.00")
    statement = build_statement(april, [], datetime.date(2025, 5, 9))
    assert statement.movement_since == "the budget"
    assert "Movement since the budget" in statement_html(statement)


def test_the_schemes_table_shows_each_note_and_movement_beside_its_scheme(example_statement):
    html = statement_html(example_statement)
    table = cells(html).cells
    position = example_statement.position
    for s in position.schemes:
        key = f"scheme={s.scheme.scheme}"
        assert table[(key, "forecast_note")] == s.forecast_note
        assert table[(key, "forecast_movement")] == _shown(s.forecast_movement)
    assert table[("scheme=S04", "forecast_note")] == "Winter discharge beds from November"
    assert table[("scheme=S03", "forecast_movement")] == "(20,000.00)"
    assert table[("scheme=S10", "forecast_note")] == ""  # no forecast: its run-rate, and no note
    assert table[("total=schemes", "forecast_movement")] == "265,600.00"
    assert table[("area=Acute", "forecast_movement")] == "140,000.00"
    assert "Movement since Month 5" in html


def _shown(value: D) -> str:
    return f"({-value:,.2f})" if value < 0 else f"{value:,.2f}"


# ---- the chart ------------------------------------------------------------------------------------

def test_variance_bars_red_only_for_an_overspend(example_statement):
    bars = example_statement.variance_bars
    assert [b.scheme for b in bars][:2] == ["S04", "S08"] and bars[-1].scheme == "S05"  # most adverse first
    drawn = {b.scheme: b for b in bars_layout(bars).bars}
    for bar in bars:
        assert drawn[bar.scheme].colour == (ADVERSE if bar.variance > 0 else FAVOURABLE), bar
    assert drawn["S05"].value == "(£719k)" and drawn["S04"].value == "£359k"
    zero = bars_layout(bars).zero
    assert drawn["S04"].x == zero and drawn["S05"].x + drawn["S05"].width == zero  # adverse right, favourable left
    html = statement_html(example_statement)
    svg = html[html.index('id="variance-chart"'):html.index('id="cumulative-chart"')]
    for scheme, colour in (("S04", ADVERSE), ("S05", FAVOURABLE), ("S03", FAVOURABLE)):
        group = svg[svg.index(f'data-scheme="{scheme}"'):]
        assert f'fill="#{colour}"' in group[:group.index("</g>")]
    assert svg.count(f'fill="#{ADVERSE}"') == sum(1 for b in bars if b.variance > 0) == 6


def test_the_gap_to_profile_is_drawn_on_a_scale_that_shows_it(example_statement):
    points = example_statement.chart
    september = points[5]
    assert (september.gap, september.forecast_gap) == (D("60000.00"), D("60000.00"))
    assert points[-1].forecast_gap == D("254000.00") == example_statement.position.scheme_totals["forecast_variance"]
    chart = layout(points)
    # on the cumulative axis (0 to 30m over 190 points) the March gap is under 2 points high ...
    spend_scale = (chart.bottom - chart.top) / D(30000000)
    assert D(254000) * spend_scale < 2
    # ... on the gap panel's own axis it is over a quarter of the panel
    gap_at = {label: y for y, label in chart.gap_ticks}
    assert chart.gap_zero == gap_at["£0"]
    march_y = D(chart.gap_forecast.split()[-1].split(",")[1])
    assert chart.gap_zero - march_y > (chart.gap_bottom - chart.gap_top) / 4
    html = statement_html(example_statement)
    assert "Cumulative, £m (axis from £0)" in html
    assert "Gap: actual and forecast less profile, cumulative (own scale, around £0)" in html


# ---- the workbook ---------------------------------------------------------------------------------

def _workbook(statement, data_only=True):
    return openpyxl.load_workbook(io.BytesIO(statement_xlsx(statement)), data_only=data_only)


def test_the_workbook_has_each_schemes_note_and_movement_beside_it(example_statement):
    book = _workbook(example_statement)
    ws = book["Finance - Schemes"]
    header = [c.value for c in ws[SCHEME_TOP]]
    column = {name: header.index(name) + 1 for name in ("ID", "Forecast outturn", "Outturn at previous month end",
                                                        "Movement in outturn", "Forecast note", "RAG")}
    rows = {ws.cell(r, 1).value: r for r in range(SCHEME_TOP + 1, SCHEME_TOP + 15)}
    for s in example_statement.position.schemes:
        row = rows[s.scheme.scheme]
        before, now = (D(x) for x in BY_HAND[s.scheme.scheme])
        assert D(str(ws.cell(row, column["Outturn at previous month end"]).value)) == before
        assert D(str(ws.cell(row, column["Movement in outturn"]).value)).quantize(D("0.01")) == now - before
        assert (ws.cell(row, column["Forecast note"]).value or "") == s.forecast_note
        assert ws.cell(row, column["RAG"]).value == example_statement.rag[s.scheme.scheme]
    total = next(r for r in range(SCHEME_TOP + 15, ws.max_row + 1) if ws.cell(r, 1).value == "Total")
    assert D(str(ws.cell(total, column["Movement in outturn"]).value)).quantize(D("0.01")) == D("265600.00")
    formulas = _workbook(example_statement, data_only=False)["Finance - Schemes"]
    outturn, before = (get_column_letter(column[k]) for k in ("Forecast outturn", "Outturn at previous month end"))
    assert formulas.cell(rows["S04"], column["Movement in outturn"]).value == f"={outturn}{rows['S04']}-{before}{rows['S04']}"
    assert ws.cell(3, 1).value.startswith("Movement in outturn: since Month 5 (31 August 2025)")


def test_the_workbook_opens_with_the_commentary_and_signoff(example_statement):
    ws = _workbook(example_statement)["Finance - Summary"]
    column_a = [ws.cell(r, 1).value for r in range(1, 30)]
    start = column_a.index("Commentary")
    assert column_a[start + 1] == example_statement.commentary.paragraphs[0]
    assert column_a[start + 2] == example_statement.commentary.paragraphs[1]
    signed = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(start, 30)}
    assert signed["Prepared by"] == "Priya Shah, Pooled Fund Manager"
    assert signed["Reviewed by"] == "Daniel Okafor, Chief Finance Officer, Example Borough Council"
    assert signed["Date"].date() == datetime.date(2025, 10, 10)
    assert column_a.index("Partner") > column_a.index("Date")  # all of it above the partner table
    # the headline says which way the outturn moved, as the HTML's does
    headline = next(text for text in column_a if isinstance(text, str) and text.startswith("Forecast outturn"))
    assert headline.endswith("Movement in forecast outturn since Month 5: 265,600.00 (up).")


def _charts(statement) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(statement_xlsx(statement))) as archive:
        return [archive.read(n).decode() for n in sorted(archive.namelist()) if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]


def test_the_workbooks_charts_draw_as_the_html_does(example_statement):
    cumulative, gap, bars = _charts(example_statement)
    # the cumulative lines: the HTML's colours, each its own dash
    assert re.findall(r'srgbClr val="(\w+)"', cumulative)[:3] == [BUDGET, ACTUAL, FORECAST]
    assert re.findall(r'prstDash val="(\w+)"', cumulative) == ["dash", "solid", "sysDot"]
    assert re.findall(r'srgbClr val="(\w+)"', gap)[:2] == [ACTUAL, FORECAST] and "Gap: actual and forecast" in gap
    # the bars in the order of the statement's, red only for an overspend
    assert "<c:barChart>" in bars and "invertIfNegative val=\"1\"" not in bars
    colours = re.findall(r'<c:dPt><c:idx val="(\d+)"/><c:spPr><a:solidFill><a:srgbClr val="(\w+)"/>', bars)
    expected = [(str(i), ADVERSE if b.variance > 0 else FAVOURABLE) for i, b in enumerate(example_statement.variance_bars)]
    assert colours == expected and sum(1 for _, c in colours if c == ADVERSE) == 6
