"""Metric actuals (CSV or XLSX): the figures published for the agreement's metrics. Each row becomes

    2026-01-16 custom "s75-metric-actual" "RES" "2025-26 Q3" 151.9
      source: "metrics-2025-q3.xlsx:3"
      numerator: 68
      denominator: 44760

dated when the figure was published. The columns:

    Metric,Period,Value,Numerator,Denominator,Published,Tranche
    RES,2025-26 Q3,151.9,68,44760,16/01/2026,

Metric is a metric's key declared in the ledger (s75-metric); Period a period label ("2025-26 Q3",
"2025-26 H1", "2025-26 M07", "2025-26"); Value, Numerator and Denominator plain numbers; Published a
date (dd/mm/yyyy or ISO), the period's last day when blank; Tranche the tranche the figure is
recorded for, when it is. Numerator, Denominator, Published and Tranche are optional columns. A row
that cannot be taken is rejected; the rest of the file is still imported.

A figure is one per metric and period: the ledger's figure again is left out; a different value for a
period the ledger (or an earlier row) has is a conflict, not written, unless the row is marked as a
revision (the optional Revision column: Y). A revision is written dated when it was published, with
`revises:` the date of the figure it revises, and counts from its own date forward: positions before
it stay as they were issued. Refused rows: a negative value; a numerator and denominator that do not
give the value (as a rate per 1, 100, 1,000, 10,000 or 100,000); a period outside the pool's years; a
figure published before its period ends or more than eighteen months after; a revision of a figure
the ledger does not have, or dated on or before it.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from beancount.core import data
from beancount.parser.grammar import ValueType

from importers.base import FileTotals, Known, Line, AgreementImporter, known_at, lookup
from importers.receipts import DATE_FORMATS
from importers.rows import Rejection, Row, data_rows
from importers.values import parse_date
from rules.calendar import parse_period

COLUMNS = {"metric": ("Metric",), "period": ("Period",), "value": ("Value", "Actual")}
OPTIONAL = {"numerator": ("Numerator",), "denominator": ("Denominator",),
            "published": ("Published", "Date published", "Date"), "tranche": ("Tranche",),
            "revision": ("Revision", "Revised")}
YES = {"y", "yes", "true", "1", "revised", "revision"}
RATE_BASES = (1, 100, 1000, 10000, 100000)
LATEST_PUBLICATION = datetime.timedelta(days=548)  # eighteen months after the period ends
ACTUAL = "s75-metric-actual"

_NUMBER = re.compile(r"^-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$")


def parse_number(text: str, what: str) -> Decimal:
    """"4905", "4,905", "158.4", "-2" -> Decimal; ValueError for anything else (no exponents, no
    NaN, no percent signs)."""
    cleaned = text.strip()
    if not _NUMBER.match(cleaned):
        raise ValueError(f"{what} {text!r} is not a number")
    return Decimal(cleaned.replace(",", ""))


def value_key(value: Decimal) -> str:
    """The value as text without trailing zeros, so that 158.40 and 158.4 are the same figure."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def actual_key(metric: str, period: str, revision_of: datetime.date | None = None) -> tuple:
    """One figure per metric and period; a revision is its own (published on its own date)."""
    return ("metric-actual", metric, period) if revision_of is None else ("metric-revision", metric, period,
                                                                          revision_of.isoformat())


@dataclass(frozen=True)
class Figure:
    """What must agree for a metric figure to be the same one again: its value."""

    value: Decimal
    date: datetime.date
    hint = "if the figure was revised, mark the row as a revision (Revision: Y)"

    def agrees(self, other: "Figure") -> bool:
        return value_key(self.value) == value_key(other.value)

    def describe(self) -> str:
        return f"{value_key(self.value)} (published {self.date})"


def _implausible(numbers: dict[str, Decimal]) -> str | None:
    """Why the figures cannot stand together: a negative value, or a numerator and denominator that
    give another value at every usual rate base."""
    value = numbers["value"]
    if value < 0:
        return f"value {value_key(value)} is negative"
    if "numerator" not in numbers or "denominator" not in numbers:
        return None
    places = Decimal(1).scaleb(value.as_tuple().exponent) if value.as_tuple().exponent < 0 else Decimal(1)
    ratio = numbers["numerator"] / numbers["denominator"]
    if any(abs(ratio * base - value) <= places for base in RATE_BASES):
        return None
    return (f"numerator {value_key(numbers['numerator'])} and denominator {value_key(numbers['denominator'])} "
            f"do not give the value {value_key(value)} (as a rate per 1, 100, 1,000, 10,000 or 100,000)")


class MetricsImporter(AgreementImporter):
    """Metric actuals as s75-metric-actual directives, checked against the agreement's metrics."""

    kind = "metrics"
    columns = COLUMNS
    title = "Metric actuals (Metric, Period, Value)"

    def existing_keys(self, entries) -> dict[tuple, Known]:
        """The figures already in a ledger, by metric and period (revisions by their date too)."""
        keys = {}
        for e in entries:
            if isinstance(e, data.Custom) and e.type == ACTUAL and len(e.values) >= 3:
                metric, period, value = (v.value for v in e.values[:3])
                if isinstance(metric, str) and isinstance(period, str) and isinstance(value, Decimal):
                    revises = e.meta.get("revises")
                    key = actual_key(metric, period, e.date if isinstance(revises, datetime.date) else None)
                    keys.setdefault(key, Known(known_at(e).where, Figure(value, e.date)))
        return keys

    def read(self, filepath: str, totals: FileTotals | None = None) -> Iterator[Line | Rejection]:
        """Every data row as a Line or a Rejection; raises Refused for a file that cannot be taken."""
        path = Path(filepath)
        for row in data_rows(path, COLUMNS, OPTIONAL):
            yield row if isinstance(row, Rejection) else self._line(path, row)

    def _line(self, path: Path, row: Row) -> Line | Rejection:
        v = row.values

        def reject(reason: str) -> Rejection:
            return Rejection(row.file, row.number, reason)

        metric = lookup(self.agreement.metrics, v["metric"])
        if metric is None:
            known = ", ".join(self.agreement.metrics) or "none declared"
            return reject(f'unknown metric "{v["metric"]}" (metrics: {known})')
        period = parse_period(v["period"])
        if period is None:
            return reject(f'period "{v["period"]}" should look like "2025-26 Q1", "2025-26 H1", '
                          f'"2025-26 M07" or "2025-26"')
        numbers = {}
        for name in ("value", "numerator", "denominator"):
            if name in row.formulas:
                return reject(f"{name} is a formula ({v[name]}): export values")
            if name == "value" or v.get(name):
                try:
                    numbers[name] = parse_number(v.get(name, ""), name)
                except ValueError as exc:
                    return reject(str(exc))
        if numbers.get("denominator") == 0:
            return reject("denominator is nil")
        problem = _implausible(numbers)
        if problem:
            return reject(problem)
        if period.year not in self.agreement.years():
            years = ", ".join(y.label for y in self.agreement.years()) or "none"
            return reject(f"period {period.label} is outside the pool's years ({years})")
        published = period.end
        if v.get("published"):
            try:
                published = parse_date(v["published"], DATE_FORMATS)
            except ValueError as exc:
                return reject(str(exc).replace("date", "published date", 1))
        if published < period.end:
            return reject(f"published {published}, before its period ends on {period.end}")
        if published > period.end + LATEST_PUBLICATION:
            return reject(f"published {published}, more than eighteen months after its period ended on "
                          f"{period.end}: check the date")
        revises = None
        if v.get("revision", "").strip().lower() in YES:
            earlier = [a for a in self.agreement.actuals if (a.metric, a.period.label) == (metric, period.label)]
            if not earlier:
                return reject(f"a revision of {metric} {period.label}, which the ledger has no figure for: "
                              "import the first figure without Revision")
            revises = max(a.date for a in earlier)
            if published <= revises:
                return reject(f"a revision published {published}, not after the figure it revises "
                              f"(published {revises})")
        tranche_id = v.get("tranche", "")
        if tranche_id:
            tranche = self.agreement.tranche(tranche_id)
            if tranche is None:
                known = ", ".join(t.tranche for t in self.agreement.tranches) or "none declared"
                return reject(f'unknown tranche "{tranche_id}" (tranches: {known})')
            if tranche.metric != metric:
                return reject(f"tranche {tranche_id} is measured on {tranche.metric}, not {metric}")
        meta = data.new_metadata(str(path), row.number)
        meta["source"] = f"{row.file}:{row.number}"
        meta.update({k: numbers[k] for k in ("numerator", "denominator") if k in numbers})
        if tranche_id:
            meta["tranche"] = tranche_id
        if revises is not None:
            meta["revises"] = revises
        value = numbers["value"]
        entry = data.Custom(meta, published, ACTUAL, [ValueType(metric, str), ValueType(period.label, str),
                                                      ValueType(value, Decimal)])
        key = actual_key(metric, period.label, published if revises is not None else None)
        return Line(row.number, entry, key, fingerprint=Figure(value, published))
