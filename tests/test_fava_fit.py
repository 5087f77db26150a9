"""The Fava page on a 1440x900 laptop, and what it accepts in its address.

In Chromium (as test_fava_browser): the money columns and RAG are in view without scrolling sideways,
the register's descriptive columns are behind "Details", the ID and scheme columns stay put when the
table is scrolled, the month chooser waits for Show, and a clicked figure equals the total of the
journal it opens (read off Fava's own journal for the linked account and time). In process (Flask's
test client): junk months are refused without building or keeping anything, the pages kept are bounded,
the HTML download carries one charset, and Fava's own pages show the example pool's figures with
thousands separators and its contributions as positive."""
from __future__ import annotations

import gc
import resource
from decimal import Decimal as D
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import EXAMPLE, fava_serving
from test_fava_browser import SLUG, figure

PAGE = f"/{SLUG}/extension/PoolBudget/"
MONEY = ("annual_budget", "budget_to_date", "actual_to_date", "variance_to_date", "forecast_outturn",
         "forecast_movement", "forecast_variance", "rag")
DESCRIPTIVE = ("Scheme type", "Area of spend", "Commissioner", "Lead provider", "Funding source", "Recurrent")


@pytest.fixture(scope="module")
def fava():
    with fava_serving(EXAMPLE) as base:
        yield base


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context.new_page()
    context.close()


# ---- in the browser -------------------------------------------------------------------------------

def test_money_columns_and_rag_are_in_view_at_1440_by_900(fava, laptop):
    laptop.goto(fava + PAGE)
    laptop.wait_for_selector("tr[data-total=schemes]")
    width = laptop.evaluate("window.innerWidth")
    assert width == 1440
    # nothing on the page scrolls sideways: not the window, not Fava's article
    assert laptop.evaluate("document.scrollingElement.scrollWidth") <= width
    assert laptop.evaluate("(a => a.scrollWidth <= a.clientWidth)(document.querySelector('article'))")
    boxes = laptop.evaluate("""fields => [...document.querySelectorAll('#finance-schemes tr[data-scheme], '
                                          + '#finance-schemes tr[data-total]')].flatMap(row => fields.map(f => {
        const cell = row.querySelector(`td[data-field=${f}]`), box = cell && cell.getBoundingClientRect();
        return cell ? [[row.dataset.scheme || 'total', f, box.left, box.right, cell.offsetWidth > 0]] : []; }).flat())""",
                            list(MONEY))
    assert len(boxes) == 15 * len(MONEY) - 1  # the total row has no RAG
    scroller = laptop.evaluate("""(s => { const b = s.getBoundingClientRect(); return [b.left, b.right, s.scrollLeft]; })
                                  (document.querySelector('#finance-schemes .s75-scroll'))""")
    assert scroller[2] == 0
    for scheme, field, left, right, shown in boxes:
        assert shown and scroller[0] <= left and right <= min(width, scroller[1]), (scheme, field, left, right)
    headings = laptop.evaluate("""[...document.querySelectorAll('#finance-schemes thead th')]
        .filter(th => th.offsetWidth > 0).map(th => th.innerText.replace(/\\s+/g, ' '))""")
    assert headings[:2] == ["ID", "Scheme"] and not set(DESCRIPTIVE) & set(headings)
    summary = laptop.evaluate("""[...document.querySelectorAll('#finance-summary tr[data-partner] td[data-field]')]
        .filter(td => td.offsetWidth > 0).map(td => td.getBoundingClientRect().right)""")
    assert summary and max(summary) <= width  # the summary's figures too (agreed by source behind Details)


def test_details_shows_the_register_and_the_id_and_scheme_columns_stay_put(fava, laptop):
    laptop.goto(fava + PAGE)
    laptop.wait_for_selector("#s75-details")
    laptop.click("label.s75-toggle")
    headings = laptop.evaluate("""[...document.querySelectorAll('#finance-schemes thead th')]
        .filter(th => th.offsetWidth > 0).map(th => th.innerText.replace(/\\s+/g, ' '))""")
    assert set(DESCRIPTIVE) <= set(headings)
    place = """() => ['td:first-child', 'td:nth-child(2)'].map(c =>
        document.querySelector('#finance-schemes tr[data-scheme=S04] ' + c).getBoundingClientRect().left)"""
    laptop.evaluate("document.querySelector('#finance-schemes tr[data-scheme=S04]').scrollIntoView({block: 'center'})")
    before = laptop.evaluate(place)
    laptop.evaluate("document.querySelector('#finance-schemes .s75-scroll').scrollLeft = 600")
    assert laptop.evaluate("document.querySelector('#finance-schemes .s75-scroll').scrollLeft") == 600
    assert laptop.evaluate(place) == before
    # and they are on top: what is drawn at the ID cell's place is the ID cell
    assert laptop.evaluate("""(() => { const id = document.querySelector('#finance-schemes tr[data-scheme=S04] td');
        id.scrollIntoView({block: 'center', inline: 'nearest'});
        const b = id.getBoundingClientRect();
        return id.contains(document.elementFromPoint(b.left + 3, b.top + b.height / 2)); })()""")


def test_the_month_chooser_waits_for_show(fava, laptop):
    laptop.goto(fava + PAGE)
    laptop.wait_for_selector("#s75-month")
    loads = []
    laptop.on("framenavigated", lambda frame: loads.append(frame.url))
    laptop.focus("#s75-month")
    for _ in range(3):
        laptop.keyboard.press("ArrowUp")
    laptop.wait_for_timeout(300)
    assert loads == [] and laptop.input_value("#s75-month") == "2025-06"
    laptop.click("#s75-show")
    laptop.wait_for_url("**month=2025-06**")
    assert "Month 3, to 30 June 2025" in laptop.inner_text("#s75-page")


def journal_total(page) -> tuple[D, D]:
    """Fava's account journal, as shown: the sum of its Change column, and its running balance after
    the latest entry (the journal is newest first)."""
    page.wait_for_selector(".journal li.transaction")
    rows = page.evaluate("""[...document.querySelectorAll('.journal > li.transaction')].map(li =>
        [...li.querySelectorAll(':scope > p > span.num')].map(s => s.innerText.trim()))""")
    changes = [figure(change) for change, _ in rows]
    return sum(changes, D(0)), figure(rows[0][1])


@pytest.mark.parametrize("month, row, field, account, sign", [
    ("2025-09", "tr[data-scheme=S02]", "actual_to_date", "Expenses:Scheme:S02", 1),
    ("2025-06", "tr[data-scheme=S08]", "actual_to_date", "Expenses:Scheme:S08", 1),
    ("2025-09", "tr[data-partner=ICB]", "received", "Income:Contribution:ICB", -1),  # a credit in the journal
])
def test_a_clicked_figure_equals_its_journals_total(fava, laptop, month, row, field, account, sign):
    laptop.goto(f"{fava}{PAGE}?month={month}")
    link = laptop.wait_for_selector(f"{row} td[data-field={field}] a")
    shown = figure(link.inner_text())
    link.click()
    laptop.wait_for_url(f"**/account/{account}/**")
    assert parse_qs(urlparse(laptop.url).query)["time"] == [f"2025-04 - {month}"]
    changes, balance = journal_total(laptop)
    assert changes == balance == sign * shown


def test_favas_own_pages_show_separators_and_contributions_as_positive(fava, laptop):
    laptop.goto(f"{fava}/{SLUG}/income_statement/?time=2025-04 - 2025-09")
    shown = {}
    for account in ("Income:Contribution", "Income:Contribution:ICB", "Income:Contribution:Council:IBCF"):
        name = laptop.wait_for_selector(f'.tree-table-new span[data-account-name="{account}"]')
        shown[account] = name.evaluate("n => n.closest('p').querySelector('span.num').innerText.trim()")
    assert shown == {"Income:Contribution": "13,200,000.02", "Income:Contribution:ICB": "7,900,000.02",
                     "Income:Contribution:Council:IBCF": "2,650,000.00"}


# ---- in process -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app():
    from fava.application import create_app
    return create_app([str(EXAMPLE)], load=True, read_only=True)


def extension(app):
    return app.config["LEDGERS"].ledgers_by_slug[SLUG].extensions.get_extension("PoolBudget")


def rss() -> int:
    """This process's resident memory now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


# Month values Fava's page must refuse: near misses that a lax parser reads as a month ("2025-9",
# " 2025-09", "2025-0_9"), months outside the pool or after its latest entries, and plain junk.
JUNK = ([f"2025-{n}" for n in range(1, 10)] + [f"2025-{n:03d}" for n in range(1, 400)]
        + [f"{year}-09" for year in range(1000, 1480)] + [f"2025-09{c}" for c in " x-_/.#"]
        + [" 2025-09", "+2025-09", "2025-0_9", "2025-09-30", "2025-13", "2025-00", "2025-12", "2026-03", "2030-01",
           "../etc", "%00", "x" * 5000, "2025-10", "2025-03"])


def test_junk_months_are_refused_before_anything_is_built_or_kept(app):
    client = app.test_client()
    assert client.get(PAGE + "?month=2025-09").status_code == 200
    kept = dict(extension(app)._pages)
    assert list(kept) == ["2025-09"]
    assert len(JUNK) == len(set(JUNK)) >= 900
    assert not {value for value, _ in extension(app).months()} & set(JUNK)
    gc.collect()
    before = rss()
    for junk in JUNK:
        reply = client.get(PAGE, query_string={"month": junk})
        text = reply.get_data(as_text=True)
        assert reply.status_code == 200 and "is not a month of this pool" in text, junk
        assert 'id="finance-schemes"' not in text and "download_xlsx" not in text
    gc.collect()
    assert extension(app)._pages == kept
    assert rss() - before < 8 * 2**20  # building a page for each would take hundreds of MB


def test_a_download_for_a_month_not_offered_is_refused(app):
    client = app.test_client()
    for junk in ("2025-9", " 2025-09", "2025-0_9", "2025-12", "x" * 5000):
        reply = client.get(PAGE + "download_xlsx", query_string={"month": junk})
        assert reply.status_code == 400 and "is not a month of this pool" in reply.get_data(as_text=True), junk
    assert client.get(PAGE + "download_xlsx?month=2025-09").status_code == 200


def test_the_pages_kept_are_bounded(app, monkeypatch):
    import reports.fava_pool as fava_pool
    monkeypatch.setattr(fava_pool, "PAGES_KEPT", 2)
    client = app.test_client()
    for month in ("2025-04", "2025-05", "2025-06", "2025-05", "2025-07"):
        assert 'id="finance-schemes"' in client.get(PAGE, query_string={"month": month}).get_data(as_text=True)
    assert list(extension(app)._pages) == ["2025-05", "2025-07"]  # the two shown last, oldest first


def test_the_html_download_carries_one_charset(app):
    reply = app.test_client().get(PAGE + "download_html?month=2025-09")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"




def test_the_risk_share_partners_shares_are_in_view_at_1440_by_900(fava, laptop):
    """The working of a step wraps in its cell rather than pushing the partners' shares off the page."""
    laptop.goto(fava + PAGE)
    laptop.wait_for_selector("#risk-share tr[data-total=risk-share]")
    rights = laptop.evaluate("""[...document.querySelectorAll('#risk-share td[data-partner]')]
                                .map(td => td.getBoundingClientRect().right)""")
    assert rights and max(rights) <= 1440
