"""The monthly statement as a PDF for the board pack: the statement's HTML printed by WeasyPrint.

`statement_pdf(statement, html)` lays the page out as a browser prints it (the print rules in
templates/statement/style.html: A4 landscape, small type, table headings repeated on each page,
rows never split, the entries behind the figures left out) and adds what only the PDF has: a
running header with the pool and the month, and a footer with the generation date, the ledger's
commit and "Page x of y". WeasyPrint cuts a table wider than the page rather than shrinking it, so
the print rules keep every table inside the page's width.

The same Statement and HTML always give the same bytes: the document's dates are the statement's
generation date (not the time of rendering), it carries no random identifier, and fonts are
subset the same way each time.
"""
from __future__ import annotations

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


def page_css(statement: Statement) -> str:
    """The @page rules: size, margins, the running header and the footer."""
    p = statement.position
    generated = statement.generated
    header_left = css_string(p.pool.name)
    header_right = css_string(f"Pooled budget statement, {p.year.label}: {statement.title}")
    footer_left = css_string(f"Generated {generated.day} {generated:%B %Y}. Ledger: {statement.provenance}.")
    box = f"font: {HEADER_FONT}; color: #5f6b73;"
    return f"""
@page {{
  size: {PAGE};
  margin: {MARGINS};
  @top-left {{ content: {header_left}; {box} font-weight: bold; color: #1d1d1b; vertical-align: bottom; }}
  @top-right {{ content: {header_right}; {box} vertical-align: bottom; }}
  @bottom-left {{ content: {footer_left}; {box} vertical-align: top; width: 80%; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages); {box} vertical-align: top; }}
}}
"""


def statement_document(statement: Statement, html: str):
    """The statement laid out on pages (a weasyprint Document), with its metadata fixed."""
    try:
        import weasyprint  # imported here: loading pango is only needed when a PDF is made
    except OSError as exc:  # the library is installed, the pango it draws with is not
        raise RuntimeError(f"the PDF statement needs the pango library (Debian or Ubuntu: apt-get install "
                           f"libpango-1.0-0 libpangoft2-1.0-0): {exc}") from exc

    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its notes on CSS it does not support are not the reader's concern
    try:
        document = weasyprint.HTML(string=html).render(stylesheets=[weasyprint.CSS(string=page_css(statement))])
    finally:
        logger.setLevel(level)
    document.metadata.created = document.metadata.modified = statement.generated.isoformat()  # W3C: 2025-10-20
    document.metadata.generator = "s75"
    document.metadata.authors = [statement.position.pool.name]
    return document


def statement_pdf(statement: Statement, html: str) -> bytes:
    """The PDF of `statement`, printed from its HTML (`reports.html.statement_html`)."""
    return statement_document(statement, html).write_pdf()
