"""The monthly statement as one self-contained HTML page (Jinja templates under reports/templates).

`statement_html(statement)` renders `statement/statement.html`, which extends `statement/base.html`
and includes one partial per tab. Autoescaping is on: everything from the ledger is escaped.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.chart import layout
from reports.statement import Statement
from rules.allocation import to_penny


def money(value: Decimal | None) -> str:
    """1,234.50; negatives in brackets, as officers write them: (1,234.50); blank for None."""
    if value is None:
        return ""
    text = f"{abs(to_penny(value)):,.2f}"
    return f"({text})" if value < 0 else text


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{to_penny(value):.2f}%"


def long_date(value) -> str:
    return f"{value.day} {value:%B %Y}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One Jinja environment per process: templates are compiled once, not on every render."""
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(money=money, percent=percent, long_date=long_date)
    return env


def statement_html(statement: Statement, template: str = "statement/statement.html", link=None) -> str:
    """The statement as HTML. `link(account) -> url`, when given, links figures to the entries behind
    them (the Fava page); files are written without links."""
    return environment().get_template(template).render(s=statement, p=statement.position,
                                                       chart=layout(statement.chart), link=link)
