"""The monthly statement as a PDF for the board pack: the statement's HTML printed by WeasyPrint.

`statement_pdf(statement, html)` lays the page out as a browser prints it (the print rules in
templates/statement/style.html: A4 landscape, small type, table headings repeated on each page,
rows never split, the entries behind the figures left out) and adds what only the PDF has: a
running header with the pool and the month, and a footer with the generation date, the ledger's
commit and "Page x of y". WeasyPrint cuts a table wider than the page rather than shrinking it, so
the print rules keep every table inside the page's width.

The same Statement and HTML always give the same bytes: the document's dates are the statement's
generation date (not the time of rendering), it carries no random identifier, and fonts are
subset the same way each time. So `printed` keeps what it prints (reports.pdf_cache) and gives the
same document again without laying it out.
"""
from __future__ import annotations

import datetime
import logging

from reports.statement import Statement

# The page box: the statement's tables are laid out for this width (A4 landscape less the margins).
PAGE = "A4 landscape"
MARGINS = "13mm 9mm 12mm 9mm"
HEADER_FONT = "7.5pt Arial, Helvetica, sans-serif"


def css_string(text: str) -> str:
    """`text` as a CSS string literal: quotes and backslashes escaped, line breaks as spaces."""
    text = " ".join(str(text).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def page_css(pool: str, heading: str, generated: datetime.date, provenance: str) -> str:
    """The @page rules: size, margins, the running header (pool, and what the document is) and the footer
    (generation date, the ledger's commit, page x of y)."""
    box = f"font: {HEADER_FONT}; color: #5f6b73;"
    footer = css_string(f"Generated {generated.day} {generated:%B %Y}. Ledger: {provenance}.")
    return f"""
@page {{
  size: {PAGE};
  margin: {MARGINS};
  @top-left {{ content: {css_string(pool)}; {box} font-weight: bold; color: #1d1d1b; vertical-align: bottom; }}
  @top-right {{ content: {css_string(heading)}; {box} vertical-align: bottom; }}
  @bottom-left {{ content: {footer}; {box} vertical-align: top; width: 80%; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} vertical-align: top; }}
}}
"""


def document(html: str, css: str, generated: datetime.date, author: str):
    """`html` laid out on pages (a weasyprint Document) under the @page rules `css`, its metadata fixed:
    dated `generated` (not the time of rendering), so the same input gives the same bytes."""
    try:
        import weasyprint  # imported here: loading pango is only needed when a PDF is made
    except OSError as exc:  # the library is installed, the pango it draws with is not
        raise RuntimeError(f"the PDF needs the pango library (Debian or Ubuntu: apt-get install "
                           f"libpango-1.0-0 libpangoft2-1.0-0): {exc}") from exc

    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its notes on CSS it does not support are not the reader's concern
    try:
        laid_out = weasyprint.HTML(string=html).render(stylesheets=[weasyprint.CSS(string=css)])
    finally:
        logger.setLevel(level)
    laid_out.metadata.created = laid_out.metadata.modified = generated.isoformat()  # W3C: 2025-10-20
    laid_out.metadata.generator = "s75"
    laid_out.metadata.authors = [author]
    return laid_out


def statement_document(statement: Statement, html: str):
    """The statement laid out on pages (a weasyprint Document)."""
    return document(html, _statement_css(statement), statement.generated, statement.position.pool.name)


def _statement_css(statement: Statement) -> str:
    p = statement.position
    return page_css(p.pool.name, f"Pooled budget statement, {p.year.label}: {statement.title}", statement.generated,
                    statement.provenance)


def printed(html: str, css: str, generated: datetime.date, author: str) -> bytes:
    """The PDF of `document(html, css, generated, author)`: the one kept from an earlier printing of the
    same (reports.pdf_cache), else printed now and kept."""
    from reports import pdf_cache

    name = pdf_cache.key(html, css, generated.isoformat(), author)
    data = pdf_cache.get(name)
    if data is None:
        data = document(html, css, generated, author).write_pdf()
        pdf_cache.put(name, data)
    return data


def statement_pdf(statement: Statement, html: str) -> bytes:
    """The PDF of `statement`, printed from its HTML (`reports.html.statement_html`)."""
    p = statement.position
    return printed(html, _statement_css(statement), statement.generated, p.pool.name)
