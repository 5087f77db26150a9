"""Read the statement's HTML back: cells keyed by their row's data-* attribute and data-field."""
from __future__ import annotations

from html.parser import HTMLParser


class Cells(HTMLParser):
    """Collects {(row key, field): text} where a <tr data-X="key"> holds <td data-field|data-partner="field">."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cells: dict[tuple[str, str], str] = {}
        self.texts: list[str] = []
        self._row: str | None = None
        self._field: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = next((f"{k[5:]}={v}" for k, v in attrs.items() if k.startswith("data-")), None)
        elif tag in ("td", "strong") and self._row is not None:
            key = attrs.get("data-field") or attrs.get("data-partner")
            if key:
                self._field, self._buffer = key, []

    def handle_endtag(self, tag):
        if tag in ("td", "strong") and self._field is not None:
            self.cells[(self._row, self._field)] = "".join(self._buffer).strip()
            self._field = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        self.texts.append(data)
        if self._field is not None:
            self._buffer.append(data)


def cells(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser
