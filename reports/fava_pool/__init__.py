"""Fava extension: the pooled-budget page, with downloads of the month's statement.

Registered in a ledger with `custom "fava-extension" "reports.fava_pool"`. The page lays out the
same Statement model as `s75 statement` (reports.statement), for a month chosen on the page
(default: the latest month with transactions), with each scheme and partner figure linked to
Fava's account view from the start of the pool's financial year to the chosen month
(`time=2025-04 - 2025-09`), so that a clicked figure is the total of the journal it opens. The
downloads (HTML, XLSX and PDF) call the same function as the command
(reports.publish.render_statement), so their files are byte-identical. A ledger with
errors still opens: the page lists the errors instead of the statement, including those the
`s75` commands add to Beancount's (reports.ledger.pool_errors: not a pool ledger, the agreement's
rules not loaded or loaded in the wrong order). The page says which months are locked
(rules.locks: `s75 lock`, and closed years) and marks them in the month list; an edit through Fava
inside a locked month is one of the ledger's errors, listed like any other.

The page's What if tab (`?view=whatif`, reports.fava_pool.whatif) is the what-if panel: forecasts
changed or a named scenario chosen, each partner's share of the variance now and under it, side by
side, from the function `s75 whatif` calls; a GET form that writes nothing.

The month asked for (`?month=`) must be one the month list offers, checked before anything is built
or kept; pages are kept for the PAGES_KEPT months last shown, so junk in the address cannot grow the
process.
"""
from __future__ import annotations

import datetime
import gc
import io
from pathlib import Path
from urllib.parse import urlencode

from fava.application import url_for
from fava.ext import FavaExtensionBase, extension_endpoint
from flask import abort, g, request, send_file
from flask import url_for as flask_url_for
from markupsafe import Markup

from reports.fava_pool.whatif import panel_markup
from reports.html import statement_html
from reports.ledger import Loaded, format_error, latest_month_end, pool_errors
from reports.publish import month_end, render_statement
from reports.statement import build_statement
from rules.calendar import year_of
from rules.periods import period_control
from rules.position import PositionError, build_position, year_books
from rules.reader import read_agreement

TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html", "pdf": "application/pdf"}


PAGES_KEPT = 12  # statement pages kept built, for the months last shown


class PoolBudget(FavaExtensionBase):
    """The pooled budget: Finance - Summary and Schemes, risk share, tranches, metrics, chart."""

    report_title = "Pooled budget"

    def after_load_file(self) -> None:
        """On every (re)load: freeze what the load made out of the garbage collector's work (as the `s75`
        commands do: reports.ledger.collector_paused), then read the agreement and sum the latest year's
        books by month once, so that the page for any month of that year needs no further pass over the
        entries."""
        gc.freeze()
        self._pages: dict[str, tuple[str, str]] = {}
        self._downloads: dict[tuple[str, datetime.date], dict[str, bytes]] = {}
        self._whatifs: dict = {}  # the what-if panel's results (reports.fava_pool.whatif)
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
        """The month asked for (?month=YYYY-MM) when the month list offers it, else "" (`problem` says
        why); with none asked for, the latest with transactions."""
        asked = request.args.get("month", "")
        if asked:
            return asked if self.offered(asked) else ""
        latest = latest_month_end(self._transactions())
        return f"{latest:%Y-%m}" if latest else ""

    def problem(self) -> str:
        """Why the month asked for is not shown ("" when it is, or none was asked for)."""
        asked = request.args.get("month", "")
        if not asked or self.offered(asked):
            return ""
        shown = asked if len(asked) <= 24 else asked[:23] + "..."
        return f'"{shown}" is not a month of this pool: choose one from the list and press Show.'

    def offered(self, month: str) -> bool:
        """Whether `month` is one the month list offers (exactly as it writes them: "2025-09")."""
        return any(value == month for value, _ in self.months())

    def page(self, month: str) -> tuple[str, str]:
        """(statement HTML, message): the month's statement, or why there is none."""
        if not hasattr(self, "_pages"):
            self.after_load_file()
        if not self.offered(month):
            return "", f'"{month}" is not a month of this pool'
        found = self._pages.pop(month, None)
        if found is None:
            found = self._build(month)
            while len(self._pages) >= PAGES_KEPT:
                del self._pages[next(iter(self._pages))]  # the month shown longest ago
        self._pages[month] = found  # last: shown most recently
        return found

    def _build(self, month: str) -> tuple[str, str]:
        try:
            as_of = month_end(month)
            books = getattr(self, "_books", {}).get(year_of(as_of))
            position = build_position(self._transactions(), as_of, self.agreement(), books)
        except (ValueError, PositionError) as exc:
            return "", str(exc)
        statement = build_statement(position, self.ledger.options.get("include", []), datetime.date.today())
        html = statement_html(statement, "statement/fava_page.html",
                              link=lambda account: self.account_url(account, position.year.start, as_of))
        return html, ""

    @staticmethod
    def account_url(account: str, start: datetime.date, end: datetime.date) -> str:
        """Fava's page for `account` with its time filter from the month of `start` to the month of `end`
        ("2025-04 - 2025-09"), and no other filter, whatever the page was opened with: the journal there
        totals what the statement shows."""
        return flask_url_for("account", bfile=g.beancount_file_slug, name=account,
                             time=f"{start:%Y-%m} - {end:%Y-%m}")

    def download_url(self, kind: str, month: str) -> str:
        """The endpoint URL for a download (Flask's url_for cannot take a value named "endpoint")."""
        return f"{url_for('extension_report', extension_name=self.name)}download_{kind}?{urlencode({'month': month})}"

    def page_markup(self, month: str) -> Markup:
        return Markup(self.page(month)[0])  # built by our autoescaping templates

    def view(self) -> str:
        """"whatif" for the what-if panel (`?view=whatif`), else "statement"."""
        return "whatif" if request.args.get("view") == "whatif" else "statement"

    def view_query(self, view: str, month: str) -> str:
        """The page's query for a view of `month` (none: the latest)."""
        return urlencode({**({"view": view} if view == "whatif" else {}), **({"month": month} if month else {})})

    def whatif_markup(self) -> Markup:
        """The what-if panel: forecasts changed or a scenario chosen, the shares now and under it."""
        if not hasattr(self, "_whatifs"):
            self.after_load_file()
        return panel_markup(self)

    @extension_endpoint("download_xlsx")
    def download_xlsx(self):
        return self._download("xlsx")

    @extension_endpoint("download_html")
    def download_html(self):
        return self._download("html")

    @extension_endpoint("download_pdf")
    def download_pdf(self):
        return self._download("pdf")

    def _download(self, kind: str):
        if self.all_errors():
            return abort(409, "The ledger has errors; correct them before downloading the statement.")
        if not self.offered(request.args.get("month", "")):  # before anything is made or kept
            return abort(400, f"{request.args.get('month', '')[:24]!r} is not a month of this pool")
        try:
            files = self._statement_files(month_end(request.args.get("month", "")))
        except (ValueError, PositionError) as exc:
            return abort(400, str(exc))
        name, content = next((n, c) for n, c in files.items() if n.endswith(f".{kind}"))
        return send_file(io.BytesIO(content), mimetype=TYPES[kind], as_attachment=True, download_name=name)

    def _statement_files(self, as_of: datetime.date) -> dict[str, bytes]:
        """The month's statement files, made once per load, month and day (they carry the day they were
        made): the workbook and the page of one month come from one rendering."""
        if not hasattr(self, "_downloads"):
            self.after_load_file()
        key = (f"{as_of:%Y-%m}", datetime.date.today())
        if key not in self._downloads:
            self._downloads[key] = render_statement(self._loaded(), as_of, key[1])
        return self._downloads[key]
