"""The entries behind a figure of the position: a scheme's actual to date, a partner's receipts to date.

`figure_traces(entries, agreement, as_of)` gives, for every scheme on the statement and every
partner, the postings that make up that figure, with the file and line of each transaction and,
for imported ones, the finance system's file and row (`source:`); and the same postings by month
and file. The postings are chosen exactly as `rules.position.monthly_sums` chooses them for
`build_position` (the financial year's transactions up to the date, on the accounts the scheme owns
or the partner's contribution accounts for the year), so each adds up to the figure on the
statement. `s75 trace` lists one figure's postings; the statement file lists each figure's (by
month and file only, past `limit` postings, so that a county pool's statement stays a readable size).
"""
from __future__ import annotations

import bisect
import datetime
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from beancount.core import data

from rules.agreement import Agreement
from rules.books import YearBooks, counted
from rules.calendar import FinancialYear, year_of
from rules.entries import GENERATED, shown_payee, where

ZERO = Decimal("0.00")
SCHEME, PARTNER = "scheme", "partner"
FIGURES = {SCHEME: "Actual to date", PARTNER: "Received to date"}


class TraceError(Exception):
    """No such figure: an unknown scheme or partner, or a date outside the pool's years."""


class Line(NamedTuple):
    """One posting behind a figure, signed as the figure counts it (a receipt is positive). A named
    tuple: a county pool makes hundreds of thousands."""

    date: datetime.date
    where: str  # "2025-26/spend-2025-09.beancount:3": the transaction's file and line
    payee: str
    narration: str
    account: str
    amount: Decimal
    source: str  # the finance system's file and row for an imported entry ("gl-2025-10.csv:12"), else ""
    reference: str  # the finance system and its reference ("council GL-100214"), else ""
    rule: str  # for an entry the rules wrote (a tranche, a settlement), what wrote it; else ""


class Group(NamedTuple):
    """The postings behind a figure from one file in one month."""

    month: str  # "2025-09"
    file: str
    postings: int
    amount: Decimal


@dataclass(frozen=True)
class Trace:
    kind: str  # SCHEME or PARTNER
    key: str  # the scheme's ID or the partner's short name
    name: str
    year: FinancialYear
    as_of: datetime.date
    lines: tuple[Line, ...]  # every posting; none when there are more than the limit asked for
    postings: int
    total: Decimal
    groups: tuple[Group, ...]  # by month, then file

    @property
    def figure(self) -> str:
        return FIGURES[self.kind]

    @property
    def listed(self) -> bool:
        """Whether `lines` holds every posting."""
        return len(self.lines) == self.postings


class _Collect:
    __slots__ = ("lines", "postings", "total", "groups")

    def __init__(self):
        self.lines: list[Line] | None = []
        self.postings, self.total = 0, ZERO
        self.groups: dict[tuple[int, int, str], list] = {}  # (year, month, file) -> [postings, amount]


def figure_traces(entries, agreement: Agreement, as_of: datetime.date, base: str | os.PathLike | None = None,
                  limit: int | None = None, only: tuple[str, str] | None = None) -> dict[tuple[str, str], Trace]:
    """{(SCHEME, ID) or (PARTNER, short name): Trace} for the schemes with a budget in `as_of`'s
    financial year (those on the statement) and every partner, in the agreement's order (or for
    `only` that one). One pass over the year's transactions. A figure made of more than `limit`
    postings keeps its groups, count and total but not its lines. File names are relative to `base`
    when given (a statement names them from its ledger's folder, wherever that is), else to the
    current folder when below it."""
    return _traces(entries, agreement, as_of, base, limit, only)[0]


def traces_and_books(entries, agreement: Agreement, as_of: datetime.date, base: str | os.PathLike | None = None,
                     limit: int | None = None) -> tuple[dict[tuple[str, str], Trace], YearBooks]:
    """`figure_traces` and, from the same pass, the year's books to `as_of` (rules.books.year_books,
    without the adjustments) for `build_position`: the statement needs both, and the pass is most of
    the time of each. The books' sums are `monthly_sums`' to `as_of`, added up by file first (sums
    of pennies, exact either way)."""
    wanted = counted(agreement)
    traces, sums = _traces(entries, agreement, as_of, base, limit, None, wanted)
    monthly: dict[str, list[Decimal]] = {}
    for (account, _, month, _), (_, amount) in sums.items():
        if wanted(account):
            row = monthly.get(account)
            if row is None:
                row = monthly[account] = [ZERO] * 12
            row[(month - 4) % 12] += amount
    return traces, YearBooks(year_of(as_of), monthly)


def _traces(entries, agreement: Agreement, as_of: datetime.date, base, limit: int | None,
            only: tuple[str, str] | None, also=None) -> tuple[dict[tuple[str, str], Trace], dict]:
    """The traces, and the pass's sums by (account, year, month, file), which take in the accounts
    `also(account)` names beside the figures' own."""
    year = year_of(as_of)
    if year not in agreement.years():
        known = ", ".join(y.label for y in agreement.years()) or "none"
        raise TraceError(f"{as_of} is in {year.label}, which is not one of the pool's years ({known})")
    schemes = [s for s in agreement.schemes if agreement.budget(year, s.scheme, as_of) is not None]
    contributions = agreement.contributions_for(year)
    owners: dict[str, list[tuple[str, _Collect]]] = {}  # account -> the figures it counts in, once per count
    figures = {(SCHEME, s.scheme): _Collect() for s in schemes}
    figures.update({(PARTNER, p.partner): _Collect() for p in agreement.partners})
    wanted = (lambda key: key == only) if only else (lambda key: True)

    def counted_in(account: str) -> list[tuple[str, _Collect]]:
        found = owners.get(account)
        if found is None:
            keys = ([(SCHEME, s.scheme) for s in schemes if s.owns(account)]
                    + [(PARTNER, c.partner) for c in contributions if c.account == account])
            found = owners[account] = [(key[0], figures[key]) for key in keys if wanted(key)]
        return found

    sums = _collect(entries, bisect.bisect_left(entries, year.start, key=_date),
                    bisect.bisect_right(entries, min(as_of, year.end), key=_date), counted_in, base, limit, also)
    traces = {}
    for s in schemes:
        if wanted((SCHEME, s.scheme)):
            traces[(SCHEME, s.scheme)] = _trace(SCHEME, s.scheme, s.name, year, as_of, figures[(SCHEME, s.scheme)])
    for p in agreement.partners:
        if wanted((PARTNER, p.partner)):
            traces[(PARTNER, p.partner)] = _trace(PARTNER, p.partner, p.name, year, as_of,
                                                  figures[(PARTNER, p.partner)])
    return traces, sums


def _collect(entries, first: int, last: int, counted_in, base, limit: int | None, also=None) -> dict:
    """Fill each figure's _Collect from the transactions entries[first:last]. One tight pass sums the
    postings by account, month and file, and keeps each account's first `limit` + 1 postings; the
    figures are made from those (a figure's first postings are among its accounts' first). The sums
    are returned; they take in the accounts `also(account)` names too."""
    sums: dict[tuple, list] = {}  # (account, year, month, file name) -> [postings, amount]
    heads: dict[str, list] = {}  # account -> its first postings, (order, entry, posting)
    counted: dict[str, bool] = {}
    cap = None if limit is None else limit + 1
    transaction = data.Transaction
    order = 0
    for index in range(first, last):
        entry = entries[index]
        if type(entry) is not transaction:
            continue
        for posting in entry.postings:
            account = posting.account
            wanted = counted.get(account)
            if wanted is None:
                wanted = counted[account] = bool(counted_in(account)) or bool(also and also(account))
            if not wanted or posting.units is None or posting.units.number is None:
                continue
            date = entry.date
            key = (account, date.year, date.month, entry.meta.get("filename", "<unknown>"))
            group = sums.get(key)
            if group is None:
                sums[key] = [1, posting.units.number]
            else:
                group[0] += 1
                group[1] += posting.units.number
            head = heads.get(account)
            if head is None:
                head = heads[account] = []
            if cap is None or len(head) < cap:
                head.append((order, entry, posting))
            order += 1
    places: dict[str, str] = {}  # file name -> as shown
    for (account, year, month, filename), (count, amount) in sums.items():
        place = _place_of(filename, places, base)
        for kind, figure in counted_in(account):
            signed = -amount if kind == PARTNER else amount
            figure.postings += count
            figure.total += signed
            group = figure.groups.setdefault((year, month, place), [0, ZERO])
            group[0] += count
            group[1] += signed
    by_figure: dict[int, tuple] = {}  # id(figure) -> (kind, figure, its accounts' first postings)
    for account, head in heads.items():
        for kind, figure in counted_in(account):
            by_figure.setdefault(id(figure), (kind, figure, []))[2].extend(head)
    for kind, figure, head in by_figure.values():
        if limit is not None and figure.postings > limit:
            figure.lines = None
            continue
        head.sort(key=lambda item: item[0])
        figure.lines = [_line(entry, posting, -posting.units.number if kind == PARTNER else posting.units.number,
                              _place_of(entry.meta.get("filename", "<unknown>"), places, base))
                        for _, entry, posting in head]
    return sums


def _place_of(filename, places: dict, base) -> str:
    """A file as the traces show it (_place), worked out once per file."""
    place = places.get(filename)
    if place is None:
        place = places[filename] = _place(str(filename), base)
    return place


def trace_figure(entries, agreement: Agreement, as_of: datetime.date, scheme: str | None = None,
                 partner: str | None = None, base: str | os.PathLike | None = None) -> Trace:
    """The Trace of one scheme's actual or one partner's receipts, every posting listed; TraceError when
    there is no such figure."""
    year = year_of(as_of)
    if scheme is not None:
        if agreement.scheme(scheme) is None:
            known = ", ".join(s.scheme for s in agreement.schemes) or "none"
            raise TraceError(f"no scheme {scheme} in the agreement (schemes: {known})")
        if year in agreement.years() and agreement.budget(year, scheme, as_of) is None:
            raise TraceError(f"scheme {scheme} has no budget in {year.label} on {as_of}, so it is not on the "
                             "statement")
        key = (SCHEME, scheme)
    else:
        if agreement.partner(partner) is None:
            known = ", ".join(p.partner for p in agreement.partners) or "none"
            raise TraceError(f"no partner {partner} in the agreement (partners: {known})")
        key = (PARTNER, partner)
    return figure_traces(entries, agreement, as_of, base, only=key)[key]


def _trace(kind, key, name, year, as_of, figure: _Collect) -> Trace:
    groups = tuple(Group(f"{y:04d}-{m:02d}", place, n, amount)
                   for (y, m, place), (n, amount) in sorted(figure.groups.items()))
    return Trace(kind, key, name, year, as_of, tuple(figure.lines or ()), figure.postings, figure.total, groups)


def _line(entry, posting, amount: Decimal, place: str) -> Line:
    meta = entry.meta
    system, ref = meta.get("system"), meta.get("ref")
    return Line(
        entry.date, f"{place}:{meta.get('lineno', 0)}", shown_payee(entry), entry.narration or "", posting.account,
        amount, str(meta.get("source") or ""), f"{system} {ref}" if system and ref else str(system or ref or ""),
        str(meta.get("rule") or "") if meta.get(GENERATED) else "")


def _place(filename: str, base) -> str:
    """A file as a trace names it: relative to `base` when given, else as rules.entries.where does."""
    if base is None:
        return where({"filename": filename, "lineno": 0}).rsplit(":", 1)[0]
    try:
        filename = os.path.relpath(filename, base)
    except ValueError:  # another drive
        pass
    return filename.replace(os.sep, "/")


def _date(entry) -> datetime.date:
    return entry.date
