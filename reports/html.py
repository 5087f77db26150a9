"""The monthly statement as one self-contained HTML page (Jinja templates under reports/templates).

`statement_html(statement)` renders `statement/statement.html`, which extends `statement/base.html`
and includes one partial per tab. Autoescaping is on: everything from the ledger is escaped.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from reports.chart import bars_layout, layout
from reports.statement import Statement
from rules.allocation import to_penny
from rules.trace import PARTNER, SCHEME


def money(value: Decimal | None) -> str:
    """1,234.50; negatives in brackets, as officers write them: (1,234.50); blank for None."""
    if value is None:
        return ""
    text = f"{abs(to_penny(Decimal(value))):,.2f}"
    return f"({text})" if value < 0 else text


def adverse(value: Decimal | None) -> str:
    """" adverse", the class added to a figure's cell for an overspend (a positive variance on spend,
    shown in red), else "". An underspend is favourable and never red: class="num{{ v|adverse }}"."""
    return " adverse" if value is not None and value > 0 else ""


def savings(value: Decimal | None) -> str:
    """A scheme's planned benefits as the planned savings officers speak of: the ledger records them
    negative (less spend), the statement shows them positive."""
    return "" if value is None else money(-value)


def savings_total(schemes) -> str:
    """The planned savings of the scheme positions `schemes` added up (0.00 when none has any)."""
    return money(-sum((s.scheme.benefits for s in schemes if s.scheme.benefits is not None), Decimal("0.00")))


def total(values) -> str:
    """Figures added up, blanks left out (0.00 when all are blank), as the workbook's totals add them."""
    return money(sum((v for v in values if v is not None), Decimal("0.00")))


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{to_penny(value):.2f}%"


def long_date(value) -> str:
    return f"{value.day} {value:%B %Y}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One Jinja environment per process: templates are compiled once, not on every render."""
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(money=money, percent=percent, long_date=long_date, adverse=adverse, savings=savings,
                       savings_total=savings_total, total=total)
    return env


# A figure made of more postings than this is shown in the statement file by month and file, not
# posting by posting (`s75 trace` lists them): a county pool's statement stays a readable size.
ENTRIES_LISTED = 1000


def statement_html(statement: Statement, template: str = "statement/statement.html", link=None,
                   traces=None) -> str:
    """The statement as HTML. `link(account) -> url`, when given, links figures to the entries behind
    them (the Fava page). `traces`, rules.trace's lists for the statement's date, when given (the
    file): the entries behind each scheme's actual and each partner's receipts are listed at the end
    of the page, and those figures link to them, so the links work wherever the file is opened."""
    lists = entry_lists(statement, traces) if traces is not None else []
    if traces is not None and link is None:
        anchors = {account: anchor for anchor, account, _, _ in reversed(lists) if account}
        link = lambda account: f"#{anchors.get(account, 'entries')}"  # noqa: E731
    return environment().get_template(template).render(s=statement, p=statement.position,
                                                       chart=layout(statement.chart),
                                                       bars=bars_layout(statement.variance_bars), link=link, entries=lists,
                                                       listed=ENTRIES_LISTED)


def entry_lists(statement: Statement, traces) -> list[tuple[str, str, object, Markup]]:
    """(anchor, account the figures link by, Trace, its rows) for each scheme on the statement, then
    each partner."""
    lists = []
    for kind, key, account in ([(SCHEME, r.scheme.scheme, statement.scheme_account[r.scheme.scheme])
                                for r in statement.position.schemes]
                               + [(PARTNER, r.partner.partner, statement.partner_account[r.partner.partner])
                                  for r in statement.position.partners]):
        trace = traces[(kind, key)]
        rows = entry_rows(trace.lines) if trace.listed else group_rows(trace.groups)
        lists.append((f"entries-{kind}-{key}", account, trace, rows))
    return lists


def entry_rows(lines) -> Markup:
    """The table rows of an entry list (made here, not in the template: a statement can list tens of
    thousands of postings, and a template loop is many times slower). Dates, payees and accounts
    repeat, so each of those is escaped once."""
    shown: dict = {}

    def text(value) -> str:
        found = shown.get(value)
        if found is None:
            found = shown[value] = str(escape(value))
        return found

    return Markup("".join(
        f"<tr><td>{escape(e.where)}</td><td>{text(e.date)}</td><td>{text(e.payee)}</td><td>{escape(e.narration)}</td>"
        f"<td>{text(e.account)}</td><td>{escape(e.reference or e.rule)}</td><td>{escape(e.source)}</td>"
        f"<td class=\"num\">{money(e.amount)}</td></tr>\n" for e in lines))


def group_rows(groups) -> Markup:
    """The table rows of a figure's postings by month and file (a figure of more than ENTRIES_LISTED)."""
    return Markup("".join(f"<tr><td>{g.month}</td><td>{escape(g.file)}</td><td class=\"num\">{g.postings:,}</td>"
                          f"<td class=\"num\">{money(g.amount)}</td></tr>\n" for g in groups))
