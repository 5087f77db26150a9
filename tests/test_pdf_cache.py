"""A PDF printed before is given again, not laid out again, and only when everything it was printed
from is the same (reports.pdf_cache); the cache never stops a PDF being made."""
from __future__ import annotations

import datetime

import pytest

from reports import pdf, pdf_cache

HTML = "<html><body><h1>Pooled budget</h1><p>Month 6: 1,450,000.00</p></body></html>"
CSS = pdf.page_css("Example pool", "Statement", datetime.date(2025, 10, 20), "not in git")
DAY = datetime.date(2025, 10, 20)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("S75_PDF_CACHE", str(tmp_path / "pdfs"))
    return tmp_path / "pdfs"


@pytest.fixture
def layouts(monkeypatch):
    """The documents laid out (each call of reports.pdf.document)."""
    made = []
    document = pdf.document

    def counting(html, *args):
        made.append(html)
        return document(html, *args)

    monkeypatch.setattr(pdf, "document", counting)
    return made


def test_the_same_document_is_printed_once_and_given_again_byte_for_byte(cache, layouts):
    first = pdf.printed(HTML, CSS, DAY, "Example pool")
    again = pdf.printed(HTML, CSS, DAY, "Example pool")
    assert first.startswith(b"%PDF-") and again == first
    assert len(layouts) == 1 and len(list(cache.glob("*.pdf"))) == 1


@pytest.mark.parametrize("change", ["html", "css", "day", "author"])
def test_any_change_to_what_it_is_printed_from_prints_it_anew(cache, layouts, change):
    pdf.printed(HTML, CSS, DAY, "Example pool")
    html = HTML.replace("1,450,000.00", "1,450,000.01") if change == "html" else HTML
    css = CSS.replace("Statement", "Statement (revised)") if change == "css" else CSS
    day = DAY + datetime.timedelta(days=1) if change == "day" else DAY
    author = "Another pool" if change == "author" else "Example pool"
    pdf.printed(html, css, day, author)
    assert len(layouts) == 2


def test_a_damaged_kept_file_is_not_used(cache, layouts):
    first = pdf.printed(HTML, CSS, DAY, "Example pool")
    kept = next(cache.glob("*.pdf"))
    kept.write_bytes(first[: len(first) // 2])  # cut short
    assert pdf.printed(HTML, CSS, DAY, "Example pool") == first
    assert len(layouts) == 2 and kept.read_bytes() == first


def test_a_cache_folder_that_cannot_be_written_still_prints(tmp_path, monkeypatch, layouts):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("S75_PDF_CACHE", str(blocked / "pdfs"))
    assert pdf.printed(HTML, CSS, DAY, "Example pool").startswith(b"%PDF-")
    assert pdf.printed(HTML, CSS, DAY, "Example pool").startswith(b"%PDF-")
    assert len(layouts) == 2


def test_off_keeps_nothing(tmp_path, monkeypatch, layouts):
    monkeypatch.setenv("S75_PDF_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    pdf.printed(HTML, CSS, DAY, "Example pool")
    pdf.printed(HTML, CSS, DAY, "Example pool")
    assert len(layouts) == 2 and not list(tmp_path.rglob("*.pdf"))


def test_only_the_newest_are_kept(cache, monkeypatch):
    monkeypatch.setattr(pdf_cache, "KEEP", 2)
    for n in range(4):
        pdf_cache.put(f"{n:064x}", b"%PDF-1.7\n%%EOF\n")
    assert len(list(cache.glob("*.pdf"))) == 2


def test_without_a_home_folder_nothing_is_kept_and_the_pdf_is_made(monkeypatch, layouts):
    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("S75_PDF_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(pdf_cache.Path, "home", staticmethod(no_home))
    assert pdf.printed(HTML, CSS, DAY, "Example pool").startswith(b"%PDF-")
    assert len(layouts) == 1
