"""s75 trace and the statement's "Entries behind the figures": the postings behind a scheme's actual and a
partner's receipts, each list adding up to the position model's figure (rules.position.build_position)."""
from __future__ import annotations

import datetime
import re
import shutil
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.html import statement_html
from reports.ledger import load_ledger
from reports.publish import render_statement
from reports.statement import build_statement
from rules.position import build_position
from rules.reader import read_agreement
from rules.trace import PARTNER, SCHEME, figure_traces, traces_and_books
from s75.cli import main
from conftest import EXAMPLE, ROOT, WORKED

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"
IMPORTED = """\
2025-09-26 * "Rosewood Nursing Home" "S04 Discharge to assess beds, late September"
  system: "council"
  ref: "GL-900001"
  source: "council-gl-2025-09.csv:14"
  Expenses:Scheme:S04                      12345.67 GBP
  Assets:Pool:Cash
"""


@pytest.mark.parametrize("ledger", [EXAMPLE, WORKED, THREE], ids=lambda p: p.stem)
def test_every_list_adds_up_to_the_position_figure_at_every_month_end(ledger):
    loaded = load_ledger(ledger)
    assert loaded.errors == []
    agreement, _ = read_agreement(loaded.entries)
    for year in agreement.years():
        for as_of in year.month_ends() + [year.start, year.month_end(6) - datetime.timedelta(days=9)]:
            position = build_position(loaded.entries, as_of)
            traces = figure_traces(loaded.entries, agreement, as_of)
            assert set(traces) == ({(SCHEME, s.scheme.scheme) for s in position.schemes}
                                   | {(PARTNER, p.partner.partner) for p in position.partners})
            for s in position.schemes:
                assert traces[(SCHEME, s.scheme.scheme)].total == s.actual_to_date, (as_of, s.scheme.scheme)
            for p in position.partners:
                assert traces[(PARTNER, p.partner.partner)].total == p.received, (as_of, p.partner.partner)


@pytest.mark.parametrize("ledger", [EXAMPLE, WORKED, THREE], ids=lambda p: p.stem)
def test_the_statements_one_pass_gives_the_same_traces_and_position(ledger):
    """traces_and_books: figure_traces and the position built on its books are those of their own passes."""
    loaded = load_ledger(ledger)
    agreement, _ = read_agreement(loaded.entries)
    for year in agreement.years():
        for as_of in year.month_ends():
            traces, books = traces_and_books(loaded.entries, agreement, as_of, limit=3)
            assert traces == figure_traces(loaded.entries, agreement, as_of, limit=3)
            assert build_position(loaded.entries, as_of, agreement, books) == \
                build_position(loaded.entries, as_of, agreement), as_of


class Counted(list):
    """A list that counts the items read from it by index (the passes over a slice of the books)."""

    read = 0

    def __getitem__(self, index):
        Counted.read += 1
        return super().__getitem__(index)


def test_the_statement_reads_the_years_books_once_for_its_figures():
    loaded = load_ledger(EXAMPLE)
    as_of = datetime.date(2025, 9, 30)
    in_year = sum(1 for e in loaded.entries if datetime.date(2025, 4, 1) <= e.date <= as_of)
    Counted.read = 0
    files = render_statement(loaded.__class__(loaded.path, Counted(loaded.entries), [], loaded.options), as_of,
                             datetime.date(2025, 10, 8))
    assert files == render_statement(loaded, as_of, datetime.date(2025, 10, 8))
    # two passes over the year's slice (and the look-ups of where it starts and ends): the figures with the
    # entries behind them, and the prior-period adjustments; the position's own monthly pass is not made
    assert 2 * in_year <= Counted.read < 2.2 * in_year


def run(capsys, *argv) -> tuple[int, list[str], list[str]]:
    code = main(["trace", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def line_at(where: str) -> str:
    """The text of the ledger line `file:line` names (relative to the current folder)."""
    name, number = where.rsplit(":", 1)
    return Path(name).read_text().splitlines()[int(number) - 1]


def test_a_schemes_actual_entry_by_entry_with_file_and_line(capsys, monkeypatch, example_entries):
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, "ledger/main.beancount", "--scheme", "S04", "--month", "2025-09")
    assert (code, err) == (0, [])
    assert out[0] == ("S04 Discharge to assess: actual to date, 2025-26 Month 6, to 30 September 2025 "
                      "(Example Borough Better Care Fund)")
    rows = [line for line in out if re.match(r"\d{4}-\d\d-\d\d  ", line)]
    assert len(rows) == 20
    total = Decimal(0)
    for row in rows:
        date, amount, where = row.split()[:3]
        assert where.startswith("ledger/2025-26/spend-2025-0") and line_at(where).startswith(f"{date} * ")
        assert row.endswith("]") and "[council GL-" in row
        total += Decimal(amount.replace(",", ""))
    s04 = next(s for s in build_position(example_entries, datetime.date(2025, 9, 30)).schemes
               if s.scheme.scheme == "S04")
    assert total == s04.actual_to_date == Decimal("1912000.00")
    assert out[-2].split()[:3] == ["Total", "1,912,000.00", "20"]
    assert out[-1].strip() == "the statement's actual to date for S04: 1,912,000.00"
    assert rows[0].split()[:3] == ["2025-04-01", "63,534.07", "ledger/2025-26/spend-2025-04.beancount:9"]


def test_a_partners_receipts(capsys, monkeypatch, example_entries):
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, "ledger/main.beancount", "--partner", "ICB", "--month", "2025-06")
    assert (code, err) == (0, [])
    rows = [line for line in out if re.match(r"\d{4}-\d\d-\d\d  ", line)]
    icb = next(p for p in build_position(example_entries, datetime.date(2025, 6, 30)).partners
               if p.partner.partner == "ICB")
    assert sum(Decimal(r.split()[1].replace(",", "")) for r in rows) == icb.received
    assert all(line_at(r.split()[2]).startswith(r.split()[0]) for r in rows)
    assert all("[Income:Contribution:ICB:" in r for r in rows)  # two sources: each posting names its account
    assert out[-1].strip() == f"the statement's received to date for ICB: {icb.received:,.2f}"


def test_an_imported_entry_names_the_file_and_row_it_came_from(tmp_path, capsys, monkeypatch):
    shutil.copytree(ROOT / "ledger", tmp_path / "ledger", ignore=shutil.ignore_patterns(".*cache*"))
    (tmp_path / "ledger" / "imports" / "2025-10-01.beancount").write_text(IMPORTED)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "ledger/main.beancount", "--scheme", "S04", "--month", "2025-09")
    assert (code, err) == (0, [])
    row = next(line for line in out if line.startswith("2025-09-26"))
    assert row.split()[:3] == ["2025-09-26", "12,345.67", "ledger/imports/2025-10-01.beancount:1"]
    assert row.endswith("[council GL-900001; imported from council-gl-2025-09.csv, row 14]")
    assert out[-1].strip() == "the statement's actual to date for S04: 1,924,345.67"


def test_what_cannot_be_traced_is_one_line(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert run(capsys, "ledger/main.beancount", "--scheme", "S99", "--month", "2025-09") == (
        1, [], ["ledger/main.beancount: no scheme S99 in the agreement (schemes: S01, S02, S03, S04, S05, S06, S07, "
                "S08, S09, S10, S11, S12, S13, S14)"])
    assert run(capsys, "ledger/main.beancount", "--partner", "NHS", "--month", "2025-09") == (
        1, [], ["ledger/main.beancount: no partner NHS in the agreement (partners: Council, ICB)"])
    code, out, err = run(capsys, "ledger/main.beancount", "--scheme", "S04", "--month", "2019-09")
    assert (code, out) == (1, []) and err == [
        "ledger/main.beancount: 2019-09-30 is in 2019-20, which is not one of the pool's years (2025-26)"]
    assert run(capsys, "ledger/main.beancount", "--scheme", "S04", "--month", "Sept") == (
        1, [], ["s75 trace: 'Sept' is not a month as YYYY-MM"])
    code, out, err = run(capsys, "no-such.beancount", "--scheme", "S04", "--month", "2025-09")
    assert (code, out, len(err)) == (1, [], 1) and err[0].endswith("; nothing traced")
    with pytest.raises(SystemExit):
        main(["trace", "ledger/main.beancount", "--scheme", "S04", "--partner", "ICB", "--month", "2025-09"])


class Page(HTMLParser):
    """Links, ids, and the text of each table row under each id'd heading of the statement page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: dict[str, list[str]] = {}  # href -> the texts linked
        self.ids: set[str] = set()
        self.totals: dict[str, str] = {}  # heading id -> the amount in its table's Total row
        self.rows: dict[str, int] = {}  # heading id -> rows in its table body
        self._href = self._heading = None
        self._text: list[str] = []
        self._cells: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "h3" and "id" in attrs:
            self._heading = attrs["id"]
        if tag == "a":
            self._href, self._text = attrs.get("href"), []
        if tag == "tbody":
            self._in_body = True
        if tag == "tr":
            self._cells = []
        if tag == "td":
            self._text = []

    def handle_endtag(self, tag):
        if tag == "a" and self._href:
            self.links.setdefault(self._href, []).append("".join(self._text))
            self._href = None
        if tag == "td" and self._cells is not None:
            self._cells.append("".join(self._text).strip())
        if tag == "tbody":
            self._in_body = False
        if tag == "tr" and self._cells and self._heading:
            if self._cells[0] == "Total":
                self.totals[self._heading] = self._cells[-1]
            elif self._in_body:
                self.rows[self._heading] = self.rows.get(self._heading, 0) + 1
            self._cells = None

    def handle_data(self, data):
        self._text.append(data)


def test_the_statement_file_links_each_actual_and_receipts_to_its_entries(example_entries):
    loaded = load_ledger(EXAMPLE)
    as_of = datetime.date(2025, 9, 30)
    files = render_statement(loaded, as_of, datetime.date(2025, 10, 3))
    page = Page()
    page.feed(files["EB-BCF-2025-09-statement.html"].decode())
    position = build_position(example_entries, as_of)
    traces = figure_traces(example_entries, position.agreement, as_of)
    for s in position.schemes:
        anchor = f"entries-scheme-{s.scheme.scheme}"
        assert page.links[f"#{anchor}"] == [s.scheme.scheme, f"{s.actual_to_date:,.2f}"]
        assert anchor in page.ids and page.totals[anchor] == f"{s.actual_to_date:,.2f}"
        assert page.rows.get(anchor, 0) == len(traces[(SCHEME, s.scheme.scheme)].lines)
    for p in position.partners:
        anchor = f"entries-partner-{p.partner.partner}"
        assert page.links[f"#{anchor}"] == [p.partner.name, f"{p.received:,.2f}"]
        assert anchor in page.ids and page.totals[anchor] == f"{p.received:,.2f}"
    html = files["EB-BCF-2025-09-statement.html"].decode()
    assert "<td>2025-26/spend-2025-09.beancount:3</td><td>2025-09-01</td><td>Rosewood Nursing Home</td>" in html
    assert all(href.startswith("#") for href in page.links)  # nothing leaves the file: no server needed


def test_the_fava_page_keeps_its_links_to_fava_and_has_no_entry_lists(example_entries):
    position = build_position(example_entries, datetime.date(2025, 9, 30))
    html = statement_html(build_statement(position, [], datetime.date(2025, 10, 3)), "statement/fava_page.html",
                          link=lambda account: f"/fava/account/{account}/")
    assert 'href="/fava/account/Expenses:Scheme:S04/"' in html
    assert "entries-scheme-" not in html and "Entries behind the figures" not in html


def test_a_figure_of_more_postings_than_the_file_lists_is_shown_by_month_and_file(example_entries):
    as_of = datetime.date(2025, 9, 30)
    position = build_position(example_entries, as_of)
    traces = figure_traces(example_entries, position.agreement, as_of, base=EXAMPLE.parent, limit=12)
    s04 = traces[(SCHEME, "S04")]
    assert (s04.listed, s04.lines, s04.postings) == (False, (), 20)
    assert s04.total == sum(g.amount for g in s04.groups) == next(
        s.actual_to_date for s in position.schemes if s.scheme.scheme == "S04")
    assert sum(g.postings for g in s04.groups) == 20
    assert [g.month for g in s04.groups] == ["2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09"]
    assert {g.file for g in s04.groups} == {f"2025-26/spend-2025-0{m}.beancount" for m in range(4, 10)}
    icb = traces[(PARTNER, "ICB")]
    assert icb.listed and len(icb.lines) == icb.postings == 8

    html = statement_html(build_statement(position, [], datetime.date(2025, 10, 3)), traces=traces)
    page = Page()
    page.feed(html)
    assert page.links["#entries-scheme-S04"] == ["S04", "1,912,000.00"]
    assert page.totals["entries-scheme-S04"] == "1,912,000.00" and page.rows["entries-scheme-S04"] == 6
    assert "<code>--scheme S04 --month 2025-09</code> lists each one" in html
    september = next(g for g in s04.groups if g.month == "2025-09")
    assert (f'<tr><td>2025-09</td><td>2025-26/spend-2025-09.beancount</td><td class="num">{september.postings}</td>'
            f'<td class="num">{september.amount:,.2f}</td></tr>') in html
