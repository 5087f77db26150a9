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

A figure the ledger already has (same metric, period and value) is not imported again; a revised
value for a period is a new actual, and the latest published counts.
"""
from __future__ import annotations

import re
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
            "published": ("Published", "Date published", "Date"), "tranche": ("Tranche",)}
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


def actual_key(metric: str, period: str, value: Decimal) -> tuple:
    return ("metric-actual", metric, period, value_key(value))


class MetricsImporter(AgreementImporter):
    """Metric actuals as s75-metric-actual directives, checked against the agreement's metrics."""

    kind = "metrics"
    columns = COLUMNS
    title = "Metric actuals (Metric, Period, Value)"

    def existing_keys(self, entries) -> dict[tuple, Known]:
        """Keys of the actuals already in a ledger."""
        keys = {}
        for e in entries:
            if isinstance(e, data.Custom) and e.type == ACTUAL and len(e.values) >= 3:
                metric, period, value = (v.value for v in e.values[:3])
                if isinstance(metric, str) and isinstance(period, str) and isinstance(value, Decimal):
                    keys.setdefault(actual_key(metric, period, value), known_at(e))
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
        published = period.end
        if v.get("published"):
            try:
                published = parse_date(v["published"], DATE_FORMATS)
            except ValueError as exc:
                return reject(str(exc).replace("date", "published date", 1))
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
        value = numbers["value"]
        entry = data.Custom(meta, published, ACTUAL, [ValueType(metric, str), ValueType(period.label, str),
                                                      ValueType(value, Decimal)])
        return Line(row.number, entry, actual_key(metric, period.label, value))
