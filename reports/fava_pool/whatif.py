"""The Fava page's what-if panel: forecasts changed or a named scenario chosen, each partner's share
of the variance now and under the scenario, side by side. It writes nothing.

The page's address carries the question (a GET form): `view=whatif`, `month=2025-09` (one the
month list offers), `scenario=NAME` (one of the files under the ledger's scenarios/ folder, or none)
and `forecast_S04=+200000` per scheme (an outturn, or a change to it with + or -; blank for none).
Every parameter is checked before anything is read or built; what is wrong is said in plain words on
the page. Then the scenario file is read and both positions come from reports.whatif.what_if, the
function `s75 whatif` calls, so the panel's figures are the command's. The panel's results are kept
for the WHATIFS_KEPT questions last asked, and forgotten on every reload of the ledger.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import request
from markupsafe import Markup

from reports.html import environment
from reports.publish import month_end
from reports.whatif import (WhatIf, WhatIfError, read_fragment, scenario_names, scenario_path, schemes_changed,
                            shares_side_by_side, steps_side_by_side, what_if)
from rules.calendar import month_title, year_of
from rules.position import PositionError, build_position
from rules.scenario import COMMAND_LINE, ForecastChange, describe_error, parse_amount

TEMPLATE = "fava_whatif.html"
FIELD = "forecast_"  # forecast_S04=+200000
WHATIFS_KEPT = 8  # results kept, for the questions last asked
SHOWN = 24  # characters of a bad value repeated on the page
ERRORS_SHOWN = 8


@dataclass
class Question:
    """The what-if asked in the page's address, checked: `errors` says what is wrong with it."""

    month: str = ""
    scenario: str = ""
    given: dict[str, str] = field(default_factory=dict)  # scheme -> as typed, to show again in its field
    changes: list[ForecastChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def asked(self) -> bool:
        return bool(self.scenario or self.changes)


def _short(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "..."


def question(args, extension) -> Question:
    """The what-if in `args` (the request's query), every parameter checked, nothing built or read."""
    q = Question()
    for name in ("month", "scenario"):
        if len(args.getlist(name)) > 1:
            q.errors.append(f"{name} is given more than once: give it once.")
    asked = args.get("month", "")
    if not asked:
        q.month = extension.month()
    elif extension.offered(asked):
        q.month = asked
    else:
        q.errors.append(f'"{_short(asked)}" is not a month of this pool: choose one from the list.')
    names = scenario_names(extension.ledger.beancount_file_path)
    chosen = args.get("scenario", "")
    if chosen and chosen not in names:
        listed = f"the scenarios kept are {', '.join(names)}" if names else "no scenarios are kept beside the ledger"
        q.errors.append(f'No scenario "{_short(chosen)}": {listed}.')
    else:
        q.scenario = chosen
    known = {s.scheme: s for s in extension.agreement().schemes}
    budgeted = {s for s, _ in schemes(extension, q.month)}
    for key in args:
        if not key.startswith(FIELD):
            continue  # Fava's own parameters (time, account, filter...) and the page's view
        scheme, values = key[len(FIELD):], args.getlist(key)
        text = values[0].strip()
        if len(values) > 1:
            q.errors.append(f"The forecast for {_short(scheme)} is given more than once: give it once.")
            continue
        if scheme not in known:
            q.errors.append(f'"{_short(scheme)}" is not one of the pool\'s schemes.')
            continue
        q.given[scheme] = text
        if not text:
            continue
        if q.month and scheme not in budgeted:
            q.errors.append(f"{scheme} has no budget for {year_of(month_end(q.month)).label}, so no outturn to change.")
            continue
        if len(text) > SHOWN:
            q.errors.append(f'Forecast for {scheme}: "{_short(text)}" is too long to be an amount.')
            continue
        try:
            amount, relative = parse_amount(text)
        except ValueError as exc:
            q.errors.append(f"Forecast for {scheme}: {exc}.")
            continue
        q.changes.append(ForecastChange(scheme, amount, relative, f"{scheme}={text}"))
    if q.changes and q.month:
        as_of = month_end(q.month)
        if as_of >= year_of(as_of).end:
            q.errors.append(f"Forecasts play no part at {q.month}: from 31 March the outturn is the actual spend. "
                            "Choose an earlier month, or a scenario of risk-share steps only.")
    return q


def schemes(extension, month: str) -> list[tuple[str, str]]:
    """(ID, name) of the schemes whose forecast can be changed in `month`: those with a budget in its
    year (all the agreement's schemes when no month is chosen)."""
    agreement = extension.agreement()
    if not month:
        return [(s.scheme, s.name) for s in agreement.schemes]
    as_of = month_end(month)
    return [(s.scheme, s.name) for s in agreement.schemes if agreement.budget(year_of(as_of), s.scheme, as_of)]


def answer(extension, q: Question) -> tuple[WhatIf | None, list[str]]:
    """The positions now and under the scenario (current only when nothing is asked), or what is
    wrong. Kept for the WHATIFS_KEPT questions last asked."""
    fragment, stamp = [], None
    if q.scenario:
        path = scenario_path(extension.ledger.beancount_file_path, q.scenario)
        try:
            fragment = read_fragment(path, f"scenario {q.scenario}")
            info = path.stat()
        except (WhatIfError, OSError) as exc:
            return None, [str(exc)]
        stamp = (info.st_mtime_ns, info.st_size)
    kept = extension.__dict__.setdefault("_whatifs", {})
    key = (q.month, q.scenario, stamp, tuple((c.scheme, c.amount, c.relative) for c in q.changes))
    found = kept.pop(key, None)
    if found is None:
        found = _compute(extension, q, fragment)
        while len(kept) >= WHATIFS_KEPT:
            del kept[next(iter(kept))]  # the question asked longest ago
    kept[key] = found  # last: asked most recently
    return found


def _compute(extension, q: Question, fragment) -> tuple[WhatIf | None, list[str]]:
    as_of = month_end(q.month)
    books = getattr(extension, "_books", {}).get(year_of(as_of))
    entries = extension.ledger.all_entries
    try:
        if not q.asked:
            return WhatIf(build_position(entries, as_of, extension.agreement(), books), None), []
        result = what_if(entries, as_of, fragment, q.changes, extension.agreement(), books)
    except PositionError as exc:
        return None, [str(exc)]
    return result, [_described(e) for e in result.errors]


def _described(error) -> str:
    """A scenario's error for the page: a forecast typed on it by its scheme, a file's at its line."""
    source = error.source or {}
    if source.get("filename") == COMMAND_LINE and source.get("given"):
        scheme, _, text = source["given"].partition("=")
        return f"Forecast for {scheme} ({text}): {error.message}"
    return describe_error(error).replace("--date", "month")


def panel_markup(extension) -> Markup:
    """The panel: its form, and the answer or what is wrong with the question."""
    if not extension.months():
        return Markup("<p class=\"s75-message\"><strong>The pool has no months to show yet.</strong></p>")
    q = question(request.args, extension)
    result, errors = (None, q.errors) if q.errors or not q.month else answer(extension, q)
    if len(errors) > ERRORS_SHOWN:
        errors = errors[:ERRORS_SHOWN] + [f"and {len(errors) - ERRORS_SHOWN} more"]
    current = result.current if result is not None else None
    scenario = result.scenario if result is not None and not errors else None
    outturns = {s.scheme.scheme: s for s in current.schemes} if current is not None else {}
    html = environment().get_template(TEMPLATE).render(
        q=q, months=extension.months(), selected=q.month or extension.months()[-1][0],
        scenarios=scenario_names(extension.ledger.beancount_file_path),
        schemes=schemes(extension, q.month), field=FIELD, outturns=outturns, errors=errors,
        current=current, scenario=scenario, described=described(q),
        changed=schemes_changed(current, scenario) if scenario else [],
        steps=steps_side_by_side(current, scenario) if scenario else [],
        shares=shares_side_by_side(current, scenario) if scenario else [],
        partners=[p.partner.partner for p in current.partners] if current is not None else [],
        title=month_title(current.as_of) if current is not None else "")
    return Markup(html)  # built by an autoescaping template


def described(q: Question) -> list[str]:
    """What the scenario is, a part each."""
    parts = [f"scenario {q.scenario}"] if q.scenario else []
    for change in q.changes:
        text = f"{abs(change.amount):,.2f}"
        parts.append(f"{change.scheme} {'+' if change.amount >= 0 else '-'}{text}" if change.relative
                     else f"{change.scheme} outturn {text}")
    return parts
