"""The PDF statement for the board pack: A4 landscape, at most 8 pages for the example's Month 6, every
table inside the page, headings repeated and no row split across pages, a header and footer on every
page, the same bytes from `s75 statement` and from the Fava page's download.

The statement is rendered once for the module (WeasyPrint takes about a second): by the command, and
laid out again from the same ledger, as its pages, for the checks of the layout."""
from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from collections import defaultdict

import pytest

from conftest import EXAMPLE
from reports.html import statement_html
from reports.ledger import load_ledger
from reports.pdf import MARGINS, statement_document
from reports.publish import month_end
from reports.statement import build_statement
from rules.position import build_position
from s75.cli import main

MONTH, STEM = "2025-09", "EB-BCF-2025-09-statement"
A4_LANDSCAPE = "841.89 x 595.276 pts (A4)"
poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None or shutil.which("pdftotext") is None,
                             reason="poppler-utils (pdfinfo, pdftotext) is not installed")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The PDF `s75 statement` writes for the example's Month 6."""
    out = tmp_path_factory.mktemp("statement")
    assert main(["statement", str(EXAMPLE), "--month", MONTH, "--out", str(out)]) == 0
    return out / f"{STEM}.pdf"


@pytest.fixture(scope="module")
def statement():
    loaded = load_ledger(EXAMPLE)
    position = build_position(loaded.entries, month_end(MONTH))
    return build_statement(position, loaded.options.get("include", [str(loaded.path)]), datetime.date.today(),
                           loaded.path)


@pytest.fixture(scope="module")
def document(statement):
    """The same statement laid out on pages (weasyprint's Document), to look at its boxes."""
    return statement_document(statement, statement_html(statement))


def info(pdf) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", "-isodates", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def page_texts(pdf) -> list[str]:
    """Each page's text (pdftotext; pages are separated by form feeds)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


@poppler
def test_a4_landscape_in_at_most_8_pages(written):
    found = info(written)
    assert 1 <= int(found["Pages"]) <= 8, found["Pages"]
    assert found["Page size"] == A4_LANDSCAPE


@poppler
def test_every_page_has_the_pool_and_month_at_its_head_and_date_commit_and_page_at_its_foot(written, statement):
    pages = page_texts(written)
    generated = f"Generated {statement.generated.day} {statement.generated:%B %Y}. Ledger: {statement.provenance[:16]}"
    for number, text in enumerate(pages, 1):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        assert lines[0].startswith("Example Borough Better Care Fund"), (number, lines[0])
        assert lines[0].endswith("Pooled budget statement, 2025-26: Month 6, to 30 September 2025"), (number, lines[0])
        footer = " ".join(lines[-2:])
        assert generated in footer and footer.endswith(f"Page {number} of {len(pages)}"), (number, footer)


@poppler
def test_the_metadata_carries_the_generation_date_not_the_time_of_rendering(written, statement):
    found = info(written)
    assert found["Creator"] == "s75" and found["Author"] == "Example Borough Better Care Fund"
    assert found["CreationDate"] == found["ModDate"] == f"{statement.generated.isoformat()}T00:00:00Z"


def test_the_same_statement_gives_the_same_bytes(written, document):
    """Laid out again (another rendering, in this process), the statement is the command's file byte for byte."""
    assert document.write_pdf() == written.read_bytes()


def tables(document):
    """(page number, table box, {row group tag: [row boxes]}) for every table on every page."""
    from weasyprint.formatting_structure import boxes

    for number, page in enumerate(document.pages, 1):
        for table in (b for b in page._page_box.descendants() if isinstance(b, boxes.TableBox)):
            groups = defaultdict(list)
            for group in table.children:
                if isinstance(group, boxes.TableRowGroupBox):
                    groups[group.element_tag].extend(group.children)
            yield number, table, groups


def test_every_table_fits_inside_the_page(document):
    """WeasyPrint cuts what is wider than the page, so every table must end inside the right margin."""
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        right = page.width - box.margin_right - box.padding_right
        for found, table, _ in tables(document):
            if found == number:
                assert table.position_x + table.margin_width() <= right + 0.5, (number, table.element.attrib)


def test_no_row_is_split_across_pages(document):
    pages = defaultdict(set)
    for number, _, groups in tables(document):
        for tag in ("tbody", "tfoot"):
            for row in groups[tag]:
                pages[id(row.element)].add(number)
    assert pages and all(len(found) == 1 for found in pages.values())


def test_a_table_running_over_pages_has_its_headings_on_each(document):
    spans = defaultdict(dict)  # table element -> page -> has its heading row
    for number, table, groups in tables(document):
        spans[id(table.element)][number] = bool(groups["thead"])
    running = [pages for pages in spans.values() if len(pages) > 1]
    assert running, "the example's Month 6 has a table over two pages (the schemes)"
    assert all(all(pages.values()) for pages in running)


def test_the_fava_download_is_the_commands_file_byte_for_byte(written):
    from fava.application import create_app

    app = create_app([str(EXAMPLE)], load=True, read_only=True)
    client = app.test_client()
    page = client.get("/example-borough-better-care-fund/extension/PoolBudget/?month=2025-09").get_data(as_text=True)
    link = re.search(r'id="s75-download-pdf" href="([^"]+)"', page)
    assert link and ">Download PDF<" in page
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"filename={STEM}.pdf" in response.headers["Content-Disposition"]
    assert response.get_data() == written.read_bytes()


def words(pdf) -> list[tuple[int, float, float, str]]:
    """(page, x min, x max, word) for every word pdftotext finds, clipped or not."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        elif match := re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*)</word>', line):
            found.append((page, float(match[1]), float(match[2]), match[3]))
    return found


@poppler
def test_every_word_is_inside_the_margins_so_none_is_cut(written):
    """The charts' labels included: an SVG drawn with a larger font than the page's CSS gives it (WeasyPrint reads
    only the SVG's own attributes) runs its scheme names past the left edge of the figure, where they are cut."""
    left, right = (float(mm) * 72 / 25.4 for mm in (MARGINS.split()[3].rstrip("m"), MARGINS.split()[1].rstrip("m")))
    width = float(A4_LANDSCAPE.split()[0])
    found = words(written)
    assert any(word == "Contingency" for _, _, _, word in found)
    outside = [(page, word, x0) for page, x0, x1, word in found if x0 < left - 1 or x1 > width - right + 1]
    assert outside == []


def test_every_row_of_a_printed_table_has_as_many_cells_as_its_headings(document):
    """A column hidden on paper (the forecast note, beside the scheme name in print) is hidden in every row:
    a totals row with one cell more than its headings prints a stray empty cell past the last column."""
    def width(row):
        return sum(cell.colspan for cell in row.children)

    for number, table, groups in tables(document):
        if groups["thead"]:
            heading = width(groups["thead"][0])
            for row in groups["tbody"] + groups["tfoot"]:
                assert width(row) == heading, (number, table.element.get("id"), row.element.attrib)
