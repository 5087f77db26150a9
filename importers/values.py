"""Reading one cell's text as money, a date or a reference, the same way for every importer: a value
is taken only when it can mean one thing (docs/importing.md lists what is accepted)."""
from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

MAX_WHOLE_DIGITS = 18  # 999,999,999,999,999,999.99: past any real pool, within exact arithmetic
FIRST_YEAR, LAST_YEAR = 1990, 2100  # a date outside these is a typing slip, not a pool's

_MONEY = re.compile(r"^(-)?\(?(-)?£?([0-9][0-9,]*)(?:\.([0-9]{1,2}))?\)?(-)?$")
_THOUSANDS_SPACE = re.compile(r"(?<=[0-9]) (?=[0-9]{3}(?![0-9]))")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


# The usual shape of an extract's amount ("-12,345.67", "12345.67"), read without the general rules
# below, to the same value.
_SUB_PENNY = re.compile(r"-?£?[0-9][0-9,]*\.[0-9]{3,}").fullmatch  # more than two decimal places
_PLAIN_MONEY = re.compile(r"(-?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)\.([0-9]{2})").fullmatch


def parse_money(text: str) -> Decimal:
    """"1,234.56", "5 000.00", "(1,234.56)" and "1,234.56-" (negative), "£12" -> Decimal to the penny.
    ValueError for anything else: more than two decimal places, a sign given twice ("--5", "(-5)"),
    digits split oddly ("12 34.56"), more than eighteen digits before the point."""
    plain = _PLAIN_MONEY(text)
    if plain is not None:
        whole = plain.group(2).replace(",", "")
        if len(whole.lstrip("0")) <= MAX_WHOLE_DIGITS:
            value = Decimal(whole + "." + plain.group(3))
            return -value if plain.group(1) else value
    cleaned = _THOUSANDS_SPACE.sub("", text.strip().replace("\u00a3", "£"))
    if re.search(r"[0-9] +[0-9]", cleaned):
        raise ValueError(f"amount {_shown(text)} has digits split by a space")
    cleaned = cleaned.replace(" ", "")
    match = _MONEY.match(cleaned)
    if not match and _SUB_PENNY(cleaned):
        # typically a spreadsheet's binary rounding (1500000 less a formula's error, 1499999.9999999998)
        raise ValueError(f"amount {_shown(text)} has fractions of a penny: round it to 2 decimal places")
    if not match or cleaned.count("(") != cleaned.count(")"):
        raise ValueError(f"amount {_shown(text)} is not a number")
    whole, pence = match.group(3), match.group(4) or "0"
    if "," in whole and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", whole):
        raise ValueError(f"amount {_shown(text)} has misplaced thousands separators")
    if len(whole.replace(",", "").lstrip("0")) > MAX_WHOLE_DIGITS:
        raise ValueError(f"amount {_shown(text)} is too large to be money (more than eighteen digits)")
    try:
        value = Decimal(whole.replace(",", "") + "." + pence.ljust(2, "0"))
    except InvalidOperation:
        raise ValueError(f"amount {_shown(text)} is not a number") from None
    signs = [bool(match.group(1)), bool(match.group(2)), bool(match.group(5)), "(" in cleaned]
    if sum(signs) > 1:
        raise ValueError(f"amount {_shown(text)} is marked negative more than once")
    return -value if any(signs) else value


def parse_date(text: str, formats: tuple[str, ...]) -> datetime.date:
    """The date in the first of `formats` that reads it; ValueError naming each format once. Digits
    other than 0-9 and years outside 1990-2100 are not taken. (An extract has a few hundred dates
    over many rows: each is read once.)"""
    return _parse_date(text, tuple(formats))


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str, formats: tuple[str, ...]) -> datetime.date:
    text = text.strip()
    names = " or ".join(dict.fromkeys(f.replace("%", "") for f in formats))
    if not text.isascii():
        raise ValueError(f"date {_shown(text)} is not a date ({names})")
    for fmt in formats:
        try:
            date = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not FIRST_YEAR <= date.year <= LAST_YEAR:
            raise ValueError(f"date {_shown(text)} is not a plausible date (the year {date.year})")
        return date
    raise ValueError(f"date {_shown(text)} is not a date ({names})")


def hidden_character(text: str) -> str | None:
    """The first invisible or control character in `text` (zero-width spaces, joiners, NUL, a
    non-breaking space inside it) as "U+200B", else None: two references that look the same must be
    the same text."""
    inner = text.strip()
    if inner.isascii() and inner.isprintable():  # no control character, and no space but " "
        return None
    for char in inner:
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp") or (
                unicodedata.category(char) == "Zs" and char != " "):
            return f"U+{ord(char):04X}"
    return None
