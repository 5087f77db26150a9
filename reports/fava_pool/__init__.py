"""Fava extension: the pooled-budget page, with downloads of the month's statement.

Registered in a ledger with `custom "fava-extension" "reports.fava_pool"`. The page lays out the
same Statement model as `s75 statement` (reports.statement), for a month chosen on the page
(default: the latest month with transactions), with each scheme and partner figure linked to
Fava's account view for the pool's financial year. The downloads call the same function as the
command (reports.publish.render_statement), so their files are byte-identical. A ledger with
errors still opens: the page lists the errors instead of the statement, including those the
`s75` commands add to Beancount's (reports.ledger.pool_errors: not a pool ledger, the agreement's
rules not loaded or loaded in the wrong order). The page says which months are locked
(rules.locks: `s75 lock`, and closed years) and marks them in the month list; an edit through Fava
inside a locked month is one of the ledger's errors, listed like any other.
"""
from __future__ import annotations

import datetime
import io
from pathlib import Path
from urllib.parse import urlencode

from fava.application import url_for
from fava.ext import FavaExtensionBase, extension_endpoint
from flask import abort, request, send_file
from markupsafe import Markup

from reports.html import statement_html
from reports.ledger import Loaded, format_error, latest_month_end, pool_errors
from reports.publish import month_end, render_statement
from reports.statement import build_statement
from rules.calendar import year_of
from rules.periods import period_control
from rules.position import PositionError, build_position, year_books
from rules.reader import read_agreement

TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html; charset=utf-8"}


class PoolBudget(FavaExtensionBase):
    """The pooled budget: Finance - Summary and Schemes, risk share, tranches, metrics, chart."""

    report_title = "Pooled budget"

    def after_load_file(self) -> None:
        """On every (re)load: read the agreement and sum the latest year's books by month once, so that
        the page for any month of that year needs no further pass over the entries."""
        self._pages: dict[str, tuple[str, str]] = {}
        self._agreement = None
        self._pool_errors = None
        self._control = None
        self._books = {}
        latest = latest_month_end(self._transactions())
        if latest is not None and year_of(latest) in self.agreement().years():
            self._books[year_of(latest)] = year_books(self._transactions(), year_of(latest), self.agreement())

    def agreement(self):
        """The agreement, read once per load from the ledger's custom directives only."""
        if getattr(self, "_agreement", None) is None:
            self._agreement, _ = read_agreement(self.ledger.all_entries_by_type.Custom)
        return self._agreement

    def control(self):
        """The ledger's locks and closes, read once per load from its custom directives."""
        if getattr(self, "_control", None) is None:
            self._control = period_control(self.ledger.all_entries_by_type.Custom)
        return self._control

    def locks(self) -> list[str]:
        """Which months are locked, a line each (none when nothing is)."""
        return self.control().describe()

    def _transactions(self):
        return self.ledger.all_entries_by_type.Transaction

    def _loaded(self) -> Loaded:
        ledger = self.ledger
        return Loaded(Path(ledger.beancount_file_path), ledger.all_entries, ledger.errors, ledger.options)

    def all_errors(self) -> list:
        """Fava's errors for the ledger (Beancount's and the rules') and the pool's own (`pool_errors`)."""
        if getattr(self, "_pool_errors", None) is None:
            ledger = self.ledger
            self._pool_errors = pool_errors(ledger.beancount_file_path, ledger.all_entries, ledger.options)
        return [*self.ledger.errors, *self._pool_errors]

    def errors(self) -> list[str]:
        return [format_error(e) for e in self.all_errors()]

    def months(self) -> list[tuple[str, str]]:
        """(value, label) for each month of the pool's years up to the latest with transactions."""
        latest = latest_month_end(self._transactions())
        locked_to = self.control().locked_to
        out = []
        for year in self.agreement().years():
            for month in range(1, 13):
                end = year.month_end(month)
                if latest is None or end <= latest:
                    locked = " - locked" if locked_to is not None and end <= locked_to else ""
                    out.append((f"{end:%Y-%m}", f"{year.label} Month {month} ({end:%b %Y}){locked}"))
        return out

    def month(self) -> str:
        """The month asked for (?month=YYYY-MM), else the latest with transactions."""
        asked = request.args.get("month", "")
        if asked:
            return asked
        latest = latest_month_end(self._transactions())
        return f"{latest:%Y-%m}" if latest else ""

    def page(self, month: str) -> tuple[str, str]:
        """(statement HTML, message): the month's statement, or why there is none."""
        if not hasattr(self, "_pages"):
            self.after_load_file()
        if month not in self._pages:
            self._pages[month] = self._build(month)
        return self._pages[month]

    def _build(self, month: str) -> tuple[str, str]:
        try:
            as_of = month_end(month)
            books = getattr(self, "_books", {}).get(year_of(as_of))
            position = build_position(self._transactions(), as_of, self.agreement(), books)
        except (ValueError, PositionError) as exc:
            return "", str(exc)
        statement = build_statement(position, self.ledger.options.get("include", []), datetime.date.today())
        fy = f"FY{position.year.start_year}"
        html = statement_html(statement, "statement/fava_page.html",
                              link=lambda account: url_for("account", name=account, time=fy))
        return html, ""

    def download_url(self, kind: str, month: str) -> str:
        """The endpoint URL for a download (Flask's url_for cannot take a value named "endpoint")."""
        return f"{url_for('extension_report', extension_name=self.name)}download_{kind}?{urlencode({'month': month})}"

    def page_markup(self, month: str) -> Markup:
        return Markup(self.page(month)[0])  # built by our autoescaping templates

    @extension_endpoint("download_xlsx")
    def download_xlsx(self):
        return self._download("xlsx")

    @extension_endpoint("download_html")
    def download_html(self):
        return self._download("html")

    def _download(self, kind: str):
        if self.all_errors():
            return abort(409, "The ledger has errors; correct them before downloading the statement.")
        try:
            files = render_statement(self._loaded(), month_end(request.args.get("month", "")),
                                     datetime.date.today())
        except (ValueError, PositionError) as exc:
            return abort(400, str(exc))
        name, content = next((n, c) for n, c in files.items() if n.endswith(f".{kind}"))
        return send_file(io.BytesIO(content), mimetype=TYPES[kind], as_attachment=True, download_name=name)
