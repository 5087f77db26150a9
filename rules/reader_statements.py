"""Read the monthly statement's `s75-commentary` and `s75-signoff` directives into the Agreement, each
checked as it is read (its month, empty text or names, who signed off and when), and check afterwards
that each names a month of one of the pool's years. A directive in error is left out, with an error
at its file and line."""
from __future__ import annotations

import datetime

from rules.agreement import Agreement, Commentary, Signoff
from rules.calendar import month_number, year_of
from rules.directives import S75Error, error
from rules.entries import where
from rules.periods import parse_month



def _statement_month(entry, text: str, errors) -> datetime.date | None:
    """The last day of the month "YYYY-MM" a commentary or sign-off is for; None (with an error) when
    the month is not written so."""
    end = parse_month(text)
    if end is None:
        errors.append(error(entry, f'{entry.type}: month "{text}" should look like "2025-09"'))
    return end


def _twice(entry, found, month: str):
    what = "commentary" if entry.type == "s75-commentary" else "sign-off"
    return error(entry, f"{entry.type}: {month} has a {what} already, at {where(found.meta)}: keep one")


def read_commentary(agreement, entry, v, state):
    errors = []
    _statement_month(entry, v["month"], errors)
    if not v["text"].strip():
        errors.append(error(entry, f'{entry.type}: the commentary for {v["month"]} is empty'))
    if not errors and v["month"] in agreement.commentaries:
        errors.append(_twice(entry, agreement.commentaries[v["month"]], v["month"]))
    if not errors:
        agreement.commentaries[v["month"]] = Commentary(v["month"], v["text"], entry.date, entry.meta)
    return errors


def read_signoff(agreement, entry, v, state):
    errors = []
    end = _statement_month(entry, v["month"], errors)
    prepared, reviewed, signed = v["prepared-by"].strip(), v["reviewed-by"].strip(), v["date"]
    for key, name in (("prepared-by", prepared), ("reviewed-by", reviewed)):
        if not name:
            errors.append(error(entry, f"{entry.type}: {key} is empty: name who {key.split('-')[0]} the statement"))
    if prepared and prepared.casefold() == reviewed.casefold():
        errors.append(error(entry, f'{entry.type}: "{prepared}" both prepared and reviewed the {v["month"]} '
                                   "statement: the reviewer is someone else"))
    if end is not None and signed <= end:
        errors.append(error(entry, f"{entry.type}: signed off on {signed}, but Month {month_number(end)} "
                                   f"({v['month']}) runs to {end}: a month is signed off after it ends"))
    if signed > entry.date:
        errors.append(error(entry, f"{entry.type}: signed off on {signed}, after the directive's date {entry.date}: "
                                   "record a sign-off once it is given, dated that day or later"))
    if not errors and v["month"] in agreement.signoffs:
        errors.append(_twice(entry, agreement.signoffs[v["month"]], v["month"]))
    if not errors:
        agreement.signoffs[v["month"]] = Signoff(v["month"], prepared, reviewed, signed, entry.date, entry.meta)
    return errors


def check_statement_months(agreement: Agreement) -> list[S75Error]:
    """Commentary and sign-off for a month outside the pool's years: an error at each, left out."""
    errors = []
    years = set(agreement.years())
    for kind, records in (("s75-commentary", agreement.commentaries), ("s75-signoff", agreement.signoffs)):
        for month, record in list(records.items()):
            year = year_of(datetime.date(int(month[:4]), int(month[5:]), 1))
            if year not in years:
                errors.append(S75Error(record.meta, f"{kind}: {month} is in {year.label}, which the pool does not "
                                                    "have (no contributions or budgets for it)", None))
                del records[month]
    return errors
