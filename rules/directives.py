"""The vocabulary of `custom "s75-..."` directives and a typed reader for their values.

Each directive type declares its positional values and its metadata keys with a kind
(text, number, money, date, flag, account). `read` checks one Custom entry against its
declaration and returns the values by name, or an error naming the directive's file and line.
docs/ledger.md documents every directive with an example.
"""
from __future__ import annotations

import datetime
from collections import namedtuple
from decimal import Decimal
from typing import Any

from beancount.core import account as account_lib
from beancount.core.amount import Amount

S75Error = namedtuple("S75Error", "source message entry")

CURRENCY = "GBP"
SUSPENSE = "Expenses:Suspense"  # imported lines not yet mapped to a scheme
REQUIRED, OPTIONAL, MANY = "required", "optional", "one or more"
MONEY_LIMIT = Decimal(10) ** 18  # an amount in a directive has at most eighteen digits before the point

# kind -> (description, test of a ValueType's dtype/value)
KINDS = {
    "text": "a quoted text",
    "number": "a number",
    "money": "an amount in GBP, e.g. 1000.00 GBP",
    "date": "a date (YYYY-MM-DD)",
    "flag": "TRUE or FALSE",
    "account": "an account name",
}

# Each: (positional values as (name, kind, REQUIRED|OPTIONAL|MANY)), {meta key: (kind, REQUIRED|OPTIONAL)}
VOCABULARY: dict[str, tuple[tuple[tuple[str, str, str], ...], dict[str, tuple[str, str]]]] = {
    "s75-pool": (
        (("id", "text", REQUIRED), ("name", "text", REQUIRED)),
        {"host": ("text", REQUIRED), "manager": ("text", OPTIONAL), "agreement": ("text", OPTIONAL),
         "cash": ("account", OPTIONAL)},
    ),
    "s75-partner": (
        (("partner", "text", REQUIRED), ("name", "text", REQUIRED)),
        {"kind": ("text", REQUIRED), "order": ("number", OPTIONAL)},
    ),
    "s75-source": ((("source", "text", REQUIRED), ("name", "text", REQUIRED)), {}),
    "s75-contribution": (
        (("year", "text", REQUIRED), ("partner", "text", REQUIRED), ("source", "text", REQUIRED),
         ("agreed", "money", REQUIRED)),
        {"minimum": ("money", OPTIONAL), "account": ("account", OPTIONAL)},
    ),
    "s75-scheme": (
        (("scheme", "text", REQUIRED), ("name", "text", REQUIRED), ("accounts", "account", MANY)),
        {"type": ("text", REQUIRED), "area": ("text", REQUIRED), "commissioner": ("text", REQUIRED),
         "split": ("text", OPTIONAL), "provider": ("text", REQUIRED), "source": ("text", REQUIRED),
         "recurrent": ("flag", REQUIRED), "new": ("flag", REQUIRED), "benefits": ("money", OPTIONAL),
         "end": ("date", OPTIONAL)},
    ),
    "s75-budget": (
        (("year", "text", REQUIRED), ("scheme", "text", REQUIRED), ("amount", "money", REQUIRED)),
        {"profile": ("text", OPTIONAL), "approved": ("text", OPTIONAL), "reason": ("text", OPTIONAL)},
    ),
    "s75-forecast": (
        (("year", "text", REQUIRED), ("scheme", "text", REQUIRED), ("amount", "money", REQUIRED)),
        {"note": ("text", OPTIONAL)},
    ),
    "s75-metric": (
        (("metric", "text", REQUIRED), ("name", "text", REQUIRED)),
        {"better": ("text", REQUIRED), "unit": ("text", OPTIONAL)},
    ),
    "s75-metric-plan": (
        (("metric", "text", REQUIRED), ("period", "text", REQUIRED)),
        {"baseline": ("number", REQUIRED), "plan": ("number", REQUIRED)},
    ),
    "s75-metric-actual": (
        (("metric", "text", REQUIRED), ("period", "text", REQUIRED), ("value", "number", REQUIRED)),
        {"numerator": ("number", OPTIONAL), "denominator": ("number", OPTIONAL),
         "tranche": ("text", OPTIONAL), "revises": ("date", OPTIONAL)},
    ),
    "s75-prior-spend": (
        (("year", "text", REQUIRED), ("partner", "text", REQUIRED), ("amount", "money", REQUIRED)),
        {},
    ),
    "s75-contingency-plan": (
        (("year", "text", REQUIRED), ("partner", "text", REQUIRED)),
        {"savings": ("money", OPTIONAL), "support": ("money", OPTIONAL), "note": ("text", OPTIONAL)},
    ),
    "s75-commentary": ((("month", "text", REQUIRED), ("text", "text", REQUIRED)), {}),
    "s75-signoff": (
        (("month", "text", REQUIRED),),
        {"prepared-by": ("text", REQUIRED), "reviewed-by": ("text", REQUIRED), "date": ("date", REQUIRED)},
    ),
    "s75-close": ((("year", "text", REQUIRED),), {}),
    "s75-lock": ((("month", "text", REQUIRED),), {}),  # read and checked by rules.locks
    "s75-tranche": (
        (("tranche", "text", REQUIRED), ("partner", "text", REQUIRED), ("source", "text", REQUIRED),
         ("amount", "money", REQUIRED)),
        {"metric": ("text", REQUIRED), "periods": ("text", REQUIRED), "method": ("text", REQUIRED),
         "rate": ("money", OPTIONAL), "funds": ("text", REQUIRED), "unreleased-to": ("text", REQUIRED)},
    ),
    "s75-virement": (
        (("year", "text", REQUIRED), ("from", "text", REQUIRED), ("to", "text", REQUIRED),
         ("amount", "money", REQUIRED)),
        {"note": ("text", OPTIONAL), "approved": ("text", OPTIONAL)},
    ),
    "s75-commitment": (
        (("scheme", "text", REQUIRED), ("supplier", "text", REQUIRED), ("reference", "text", REQUIRED),
         ("amount", "money", REQUIRED)),
        {"description": ("text", OPTIONAL), "closed": ("date", OPTIONAL)},
    ),
    "s75-accrual": (
        (("month", "text", REQUIRED), ("reference", "text", REQUIRED), ("amount", "money", REQUIRED)),
        {"note": ("text", OPTIONAL)},
    ),
    "s75-risk-share": (
        (("side", "text", REQUIRED), ("step", "number", REQUIRED), ("kind", "text", REQUIRED)),
        {"name": ("text", OPTIONAL), "schemes": ("text", OPTIONAL), "split": ("text", OPTIONAL),
         "from": ("money", OPTIONAL), "to": ("money", OPTIONAL), "limits": ("text", OPTIONAL)},
    ),
}


def error(entry: Any, message: str) -> S75Error:
    """An error pointing at `entry`'s file and line."""
    return S75Error(entry.meta, message, entry)


def _convert(kind: str, value: Any, dtype: Any) -> Any:
    """The value as `kind`, or raise ValueError."""
    if kind == "text" and isinstance(value, str) and dtype is not account_lib.TYPE:
        return value
    if kind == "number" and isinstance(value, Decimal):
        return value
    if kind == "money" and isinstance(value, Amount) and value.number is not None:
        if value.currency != CURRENCY:
            raise ValueError(f"is in {value.currency}, the pool keeps {CURRENCY}")
        number = value.number
        if not number.is_finite() or number.as_tuple().exponent < -2:
            raise ValueError(f"{number} has more than two decimal places: money is kept to the penny")
        if abs(number) >= MONEY_LIMIT:
            raise ValueError(f"{number} is too large to be money (more than eighteen digits)")
        return number
    if kind == "date" and isinstance(value, datetime.date):
        return value
    if kind == "flag" and isinstance(value, bool):
        return value
    if kind == "account" and isinstance(value, str) and account_lib.is_valid(value):
        return value
    raise ValueError(f"should be {KINDS[kind]}")


def read(entry: Any) -> tuple[dict[str, Any] | None, list[S75Error]]:
    """Check a Custom entry against the vocabulary; return its values by name, or None with errors."""
    spec = VOCABULARY.get(entry.type)
    if spec is None:
        return None, [error(entry, f'unknown directive "{entry.type}"; known: {", ".join(VOCABULARY)}')]
    positional, meta_spec = spec
    errors: list[S75Error] = []
    out: dict[str, Any] = {}
    values = list(entry.values)
    for index, (name, kind, how) in enumerate(positional):
        if how == MANY:
            rest, values = values[index:], []
            if not rest:
                errors.append(error(entry, f'{entry.type}: missing {name} ({KINDS[kind]})'))
                continue
            try:
                out[name] = tuple(_convert(kind, v.value, v.dtype) for v in rest)
            except ValueError as exc:
                errors.append(error(entry, f"{entry.type}: {name} {exc}"))
            continue
        if index >= len(values):
            if how == REQUIRED:
                errors.append(error(entry, f"{entry.type}: missing {name} ({KINDS[kind]})"))
            continue
        try:
            out[name] = _convert(kind, values[index].value, values[index].dtype)
        except ValueError as exc:
            errors.append(error(entry, f"{entry.type}: {name} {exc}"))
    if len(values) > len(positional):
        errors.append(error(entry, f"{entry.type}: {len(values) - len(positional)} value(s) too many"))
    for key, (kind, how) in meta_spec.items():
        if key not in entry.meta:
            if how == REQUIRED:
                errors.append(error(entry, f"{entry.type}: missing metadata {key}: ({KINDS[kind]})"))
            continue
        raw = entry.meta[key]
        try:
            out[key] = _convert(kind, raw, account_lib.TYPE if kind == "account" else type(raw))
        except ValueError as exc:
            errors.append(error(entry, f"{entry.type}: {key} {exc}"))
    return (None if errors else out), errors
