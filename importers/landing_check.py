"""The check before an import lands (importers.landing.verify), made from the import's own load of the
ledger: the new file is parsed and booked alone, and the plugins and Beancount's validation run on the
ledger's booked entries and the new ones together, the list a load of both would give.

A big import is checked in parts, so that it never holds more new entries at once than the ledger
has, or PART, whichever is more (a million new entries held at once take about 4 GB):

- each part, with the whole ledger, gets every check that is about one entry: its accounts open, its
  scheme live on its date, its month open, its identity not already in the ledger, its order one of
  the pool's, its payee not a person's name... An error at a new entry is reported at its extract row;
  an error elsewhere is left to the next step, since it may come only from the part being alone (a
  balance assertion that holds with every part, not with one).
- the whole: the new entries summed by date, flag, tags, links, order: and accounts (a handful of
  transactions a day) are loaded with the ledger, so that balance assertions, locked months, orders
  drawn and everything the rules work out from totals see every penny of the import at once. An
  error at one of those sums names the date and the first row of the entries it sums.
- one identity (system:, ref:) in two parts: each part's check sees only its own, so the parts'
  identities are compared here, by hash first and then exactly.

That holds while the new file sets no option and includes nothing, and each of its postings states its
amount and currency and has no cost or price (so that booking it needs nothing from the ledger), as
the importers write it; and, for the parts, while it holds transactions only, each balancing to the
penny, and every part parses cleanly (a balance assertion or an open in the new file, a pushtag or a
multi-line string across a cut, amounts that balance only within a tolerance, would make the parts
answer otherwise than the whole). `check` returns None otherwise: the ledger is then loaded again
whole with the new file.
"""
from __future__ import annotations

import copy
import io
import itertools
import os
import re
from array import array

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser import parser

from reports import quick_booking
from reports.quick_load import sums_to_zero
from rules.identity import identity

PART = 20_000  # new entries checked at once, at least (a part is as big as the ledger when that is bigger)


def part_size(stages) -> int:
    """New entries checked at once: PART, or as many as the ledger has when that is more (each part is
    checked with the whole ledger: smaller parts would cost more time than they save memory)."""
    return max(PART, len(stages.booked))


def check(stages, staged_name: str, part: int | None = None) -> list[str] | None:
    """Every error of the ledger of `stages` (reports.ledger.Stages) loaded with the file `staged_name`,
    as lines, checked `part` new entries at a time (part_size by default); None when the file is not
    one this can check (see the module's docstring)."""
    size = part or part_size(stages)
    parts = _parts(staged_name, size)
    first = next(parts, None)
    second = next(parts, None)
    if second is None:  # one part: the whole, checked at once
        booked = _booked(stages, staged_name, *(first or (1, b"")))
        if booked is None:
            return None
        entries, errors = booked
        entries = _with_ledger(stages, entries)
        entries, errors, _ = stages.finish(entries, stages.errors + errors, _options(stages, staged_name))
        return lines_of(errors, entries, staged_name)
    lines: list[str] = []
    sums: dict[tuple, list] = {}
    identities = array("q")
    for first_line, text in itertools.chain((first, second), parts):
        booked = _booked(stages, staged_name, first_line, text, plain=True)
        if booked is None:
            return None
        new, errors = booked
        del booked
        if not _add_up(new, sums):
            return None
        identities.extend(hash(key) for key, _ in _identities(new))
        entries, errors, _ = stages.finish(_with_ledger(stages, new), errors, _options(stages, staged_name))
        # at a new entry, or nowhere in particular (which no part may pass over)
        lines += lines_of([e for e in errors if _filename(e) in (staged_name, None)], entries, staged_name)
        del new, entries, errors
    said = {line.partition(": ")[2] for line in lines}
    lines += _twice_across_parts(staged_name, size, identities)
    together = [_together(key, value, staged_name) for key, value in sums.items()]
    entries, errors, _ = stages.finish(_with_ledger(stages, together), list(stages.errors),
                                       _options(stages, staged_name))
    firsts = {entry.meta["lineno"]: entry for entry in together}
    for error in errors:
        if _filename(error) == staged_name:
            line = _lines([error], {}, staged_name)[0].partition(": ")[2]
            if line in said:
                continue  # a part's check named the row already
            entry = firsts.get((getattr(error, "source", None) or {}).get("lineno"))
            lines.append(f"{_describe(entry)}: {line}" if entry is not None else f"new entries: {line}")
        else:
            lines += _lines([error], {}, staged_name)
    return list(dict.fromkeys(lines))


def _parts(path: str, size: int):
    """(first line number, text) of each run of `size` entries of the file, cut before a dated line."""
    count, first, lineno, chunk = 0, 1, 0, []
    with open(path, "rb") as file:
        for lineno, line in enumerate(file, 1):
            if line[:1].isdigit():
                if count == size:
                    yield first, b"".join(chunk)
                    count, first, chunk = 0, lineno, []
                count += 1
            chunk.append(line)
    if chunk:
        yield first, b"".join(chunk)


def _booked(stages, staged_name: str, first_line: int, text: bytes, plain: bool = False):
    """The part's entries, parsed and booked, and their errors; None when the part sets an option or
    has a posting whose booking would need the ledger, and (`plain`, for a part of several) when it
    does not parse cleanly or holds anything but transactions: a balance assertion or an open in the
    new file, a pushtag, a string running over the cut between parts... need the file checked whole."""
    new, errors, new_options = parser.parse_file(io.BytesIO(text), report_filename=staged_name,
                                                 report_firstline=first_line)
    if plain and (errors or any(type(entry) is not data.Transaction for entry in new)):
        return None
    _, _, plain = parser.parse_string("", staged_name)
    if _without_dcontext(new_options) != _without_dcontext(plain):
        return None  # it sets an option, or includes or loads something
    for entry in new:
        for posting in getattr(entry, "postings", ()):
            units = posting.units
            if posting.cost is not None or posting.price is not None or not quick_booking.written(units):
                return None
    new.sort(key=data.entry_sortkey)
    options = _options(stages, staged_name)
    options["dcontext"].update_from(new_options["dcontext"])
    booked, booking_errors = quick_booking.book(new, options)
    return booked, errors + booking_errors


def _without_dcontext(options: dict) -> dict:
    return {k: v for k, v in options.items() if k != "dcontext"}


def _options(stages, staged_name: str) -> dict:
    options = copy.copy(stages.options)
    options["include"] = sorted(set(options["include"]) | {staged_name})
    options["dcontext"] = copy.deepcopy(options["dcontext"])
    return options


def _with_ledger(stages, new: list) -> list:
    entries = stages.booked + new
    entries.sort(key=data.entry_sortkey)
    return entries


def _filename(error) -> str | None:
    return (getattr(error, "source", None) or {}).get("filename")


def lines_of(errors, entries, staged_name: str) -> list[str]:
    """`errors` as lines, an error at a new entry (one of `entries` read from `staged_name`) named by
    the extract row it came from (its `source:`)."""
    sources = {e.meta.get("lineno"): e.meta.get("source") for e in entries
               if e.meta and e.meta.get("filename") == staged_name}
    return _lines(errors, sources, staged_name)


def _lines(errors, sources: dict, staged_name: str) -> list[str]:
    """Each error as a line: at its extract row when it is at a new entry, else at its file and line."""
    lines = []
    names = {staged_name}
    try:
        names.add(os.path.relpath(staged_name))  # as rules.entries.where shows it
    except ValueError:  # another drive
        pass
    mention = re.compile("(?:" + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
                         + r"):(\d+)")
    for error in errors:
        source = getattr(error, "source", None) or {}
        message = str(getattr(error, "message", error)).strip().splitlines()[0]
        # a new entry named in the message ("... is also at <the new file>:57") by its extract row
        message = mention.sub(lambda m: sources.get(int(m.group(1))) or m.group(0), message)
        if source.get("filename") == staged_name:
            lines.append(f"{sources.get(source.get('lineno')) or 'new entry'}: {message}")
        else:
            lines.append(f"{source.get('filename', '<ledger>')}:{source.get('lineno', 0)}: {message}")
    return lines


def _identities(entries):
    """(identity, entry) of each transaction with a system: and a ref: (rules.identity; one without a
    system is an error of its own part's check)."""
    for entry in entries:
        key = identity(entry)
        if key is not None and key[0]:
            yield key, entry


def _twice_across_parts(staged_name: str, size: int, identities: array) -> list[str]:
    """An identity in more than one part, at each of its entries (the parts are read again only
    when two hashes meet)."""
    ordered = sorted(identities)
    met = {a for a, b in zip(ordered, ordered[1:]) if a == b}
    if not met:
        return []
    places: dict[tuple, list[tuple[int, str]]] = {}
    for index, (first_line, text) in enumerate(_parts(staged_name, size)):
        new = parser.parse_file(io.BytesIO(text), report_filename=staged_name, report_firstline=first_line)[0]
        for key, entry in _identities(new):
            if hash(key) in met:
                places.setdefault(key, []).append((index, str(entry.meta.get("source") or "new entry")))
    lines = []
    for (system, ref), found in places.items():
        if len({index for index, _ in found}) < 2:
            continue  # within one part: that part's own check reported it
        times = "twice" if len(found) == 2 else f"{len(found)} times"
        for _, source in found:
            others = ", ".join(other for _, other in found if other != source)
            lines.append(f"{source}: system {system}, ref {ref} is also at {others}: counted {times}")
    return lines


def _add_up(entries, sums: dict) -> bool:
    """Fold the part's transactions into `sums`: key -> [amounts by posting, count, first entry's line,
    its source]. False when a transaction does not balance exactly (within Beancount's tolerance each
    may, and their sum not: those are checked whole)."""
    for entry in entries:
        postings = entry.postings
        if not sums_to_zero(postings):
            return False
        key = (entry.date, entry.flag, entry.tags or frozenset(), entry.links or frozenset(),
               entry.meta.get("order"), tuple((p.account, p.units.currency) for p in postings))
        held = sums.get(key)
        if held is None:
            sums[key] = [[p.units.number for p in postings], 1, entry.meta.get("lineno"), entry.meta.get("source")]
        else:
            held[0] = [total + p.units.number for total, p in zip(held[0], postings)]
            held[1] += 1
            if entry.meta.get("lineno") < held[2]:
                held[2], held[3] = entry.meta.get("lineno"), entry.meta.get("source")
    return True


def _together(key: tuple, value: list, staged_name: str):
    """One transaction of the new entries summed under `key` (see _add_up)."""
    date, flag, tags, links, order, accounts = key
    numbers, count, lineno, source = value
    meta = {"filename": staged_name, "lineno": lineno, "s75-together": count, "s75-first": source}
    if order is not None:
        meta["order"] = order
    postings = [data.Posting(account, Amount(number, currency), None, None, None,
                             {"filename": staged_name, "lineno": lineno})
                for (account, currency), number in zip(accounts, numbers)]
    return data.Transaction(meta, date, flag, None, f"{count} new entries together", tags, links, postings)


def _describe(entry) -> str:
    count, first = entry.meta["s75-together"], entry.meta["s75-first"]
    accounts = ", ".join(p.account for p in entry.postings)
    if count == 1:
        return f"the new entry of {entry.date} on {accounts}" + (f" ({first})" if first else "")
    return (f"the {count} new entries of {entry.date} on {accounts} together"
            + (f" (the first {first})" if first else ""))
