"""A what-if scenario applied to the agreement in memory: forecasts and/or a whole risk-share set.

Pure: `scenario_agreement(entries, current, fragment, changes)` returns the Agreement the pool would
have under the scenario, and the scenario's errors; `rules.position.build_position(entries, as_of,
agreement)` then gives the scenario's position by the same model as the ledger's. Nothing is written.

A scenario is made of
- a fragment: `s75-forecast` and/or `s75-risk-share` directives as written in a ledger file (e.g.
  ledger/scenarios/NAME.beancount, or a --steps file), and
- forecast changes given on the command line: `S01=5800000` (the outturn becomes 5,800,000.00) or
  `S04=+200000` / `S04=-50000` (the outturn moves by that much from what it is without the change:
  the scenario's own forecast for the scheme if it has one, else the position's outturn, whatever its
  basis).

How it is applied, for a position on `as_of`:
- a scenario's forecast counts as made on `as_of` and replaces the ledger's for its scheme (a forecast
  change given on the command line comes after the fragment's). Its year must be the year of
  `as_of`. From 31 March the outturn is the actual, so forecasts are refused from that date;
- a risk-share set for a side replaces, whole, the ledger's set for that side in force on `as_of`
  (on 31 March once the year has ended), and holds from that set's date; when none is in force, from
  the start of the pool's first year. The ledger's sets dated after it stay as they are;
- everything is read by `rules.reader.read_agreement` as if it were in the ledger, so a scenario's
  directives are checked as the ledger's are (an unknown scheme, a split not summing to 100, tiers
  with a gap), each error at its file and line.

Before/after: with the ledger's overspend steps "tier to 250,000 equal; tier from 250,000
proportional", a fragment holding

    2025-12-01 custom "s75-risk-share" "overspend" 1 "fixed"
      split: "Council 50, ICB 50"

shares the whole overspend 50:50 on any date of the year, and `S04=+200000` raises S04's forecast
outturn by 200,000.00 and so the net variance by the same.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType

from rules.agreement import Agreement, natural_key
from rules.directives import CURRENCY, S75Error, error, read
from rules.reader import read_agreement

FORECAST, RISK_SHARE = "s75-forecast", "s75-risk-share"
ALLOWED = (FORECAST, RISK_SHARE)
COMMAND_LINE = "<--forecast>"  # the `filename` of a forecast change given on the command line
_AMOUNT = re.compile(r"^\s*([+-]?)\s*£?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*$")  # a pound sign may be written


@dataclass(frozen=True)
class ForecastChange:
    """`S04=+200000` as given: the scheme, the amount, and whether it moves the outturn (+/-)."""

    scheme: str
    amount: Decimal  # signed when relative
    relative: bool
    given: str


def parse_change(text: str) -> ForecastChange:
    """"S04=+200000" -> ForecastChange("S04", 200000.00, relative); ValueError saying what is wrong.
    An amount may have thousands separators and at most two decimals (pence)."""
    if "=" not in text:
        raise ValueError(f'"{text}" should be SCHEME=AMOUNT, e.g. S01=5800000 or S04=+200000')
    scheme, given = text.split("=", 1)
    try:
        if not re.fullmatch(r"\s*[^=\s]+\s*", scheme):
            raise ValueError(f'"{given.strip()}" is not an amount (e.g. 5800000, 5800000.00, +200000 or -50000)')
        amount, relative = parse_amount(given)
    except ValueError as exc:
        raise ValueError(f'"{text}": {exc}') from None
    return ForecastChange(scheme.strip(), amount, relative, text.strip())


def parse_amount(text: str) -> tuple[Decimal, bool]:
    """"+200000" -> (200000.00, True): the amount, signed, and whether it moves the outturn (a sign
    given) rather than sets it; ValueError saying what is wrong with it."""
    match = _AMOUNT.match(text)
    if match is None:
        raise ValueError(f'"{text.strip()}" is not an amount (e.g. 5800000, 5800000.00, +200000 or -50000)')
    sign, number = match.groups()
    digits = number.replace(",", "")
    if "," in number and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?", number):
        raise ValueError(f'"{number}" is not an amount: thousands separators go every three digits')
    try:
        amount = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f'"{number}" is not an amount') from None
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"{number} has more than two decimals; amounts are to the penny")
    amount = amount.quantize(Decimal("0.01"))
    return (-amount if sign == "-" else amount), bool(sign)


def fragment_errors(entries) -> list[S75Error]:
    """What a scenario fragment may not hold: anything but s75-forecast and s75-risk-share directives
    (no transactions, accounts or other directives), each at its line."""
    errors = []
    for entry in entries:
        kind = entry.type if isinstance(entry, data.Custom) else type(entry).__name__.lower()
        if kind not in ALLOWED:
            errors.append(S75Error(entry.meta, f"a scenario holds only s75-forecast and s75-risk-share directives, "
                                               f"not {kind}", entry))
    return errors


def scenario_agreement(entries, current, fragment=(), changes=()) -> tuple[Agreement | None, list[S75Error]]:
    """The Agreement under the scenario, and its errors (the Agreement is None when there are any).

    `entries` are the ledger's loaded entries; `current` the position built from them on the
    scenario's date (rules.position.PoolPosition: its agreement, year and outturns); `fragment` the
    scenario's directives (each with its file and line in `meta`); `changes` ForecastChange's from the
    command line, applied in order after the fragment."""
    as_of, year, ledger = current.as_of, current.year, current.agreement
    forecasts = [e for e in fragment if isinstance(e, data.Custom) and e.type == FORECAST]
    steps = [e for e in fragment if isinstance(e, data.Custom) and e.type == RISK_SHARE]
    errors = fragment_errors([e for e in fragment if not (isinstance(e, data.Custom) and e.type in ALLOWED)])
    if (forecasts or changes) and as_of >= year.end:
        what = forecasts[0] if forecasts else None
        message = (f"forecasts play no part on {as_of}: from {year.end} (31 March) the outturn of {year.label} is "
                   f"the actual spend; give a --date before {year.end}")
        errors.append(S75Error(what.meta if what else {"filename": COMMAND_LINE, "lineno": 0}, message, what))
    scenario_forecasts = {}
    outturns = {s.scheme.scheme: s.forecast_outturn for s in current.schemes}
    for entry in forecasts:
        values, problems = read(entry)
        errors.extend(problems)
        if values is None:
            continue
        if values["year"] != year.label:
            errors.append(error(entry, f"s75-forecast: the scenario's forecast is for {values['year']}, but "
                                       f"{as_of} is in {year.label}"))
            continue
        if values["scheme"] not in outturns and ledger.scheme(values["scheme"]) is not None:
            errors.append(error(entry, f"s75-forecast: scheme {values['scheme']} has no budget for {year.label}, so "
                                       "no outturn to change"))
            continue
        scenario_forecasts[values["scheme"]] = values["amount"]
    changed = []
    for change in changes:
        place = {"filename": COMMAND_LINE, "lineno": 0, "given": change.given}
        if change.scheme not in outturns:
            if ledger.scheme(change.scheme) is None:
                known = ", ".join(sorted((s.scheme for s in ledger.schemes), key=natural_key)) or "none"
                message = f"unknown scheme {change.scheme} (the pool's schemes: {known})"
            else:
                message = f"scheme {change.scheme} has no budget for {year.label}, so no outturn to change"
            errors.append(S75Error(place, message, None))
            continue
        base = scenario_forecasts.get(change.scheme, outturns[change.scheme])
        amount = base + change.amount if change.relative else change.amount
        if amount < 0:
            errors.append(S75Error(place, f"takes {change.scheme}'s forecast outturn from {base:,.2f} to "
                                          f"{amount:,.2f}: an outturn cannot be below nil", None))
            continue
        scenario_forecasts[change.scheme] = amount
        changed.append(_forecast_entry(place, as_of, year.label, change.scheme, amount))
    if errors:
        return None, errors

    in_force_on = min(as_of, year.end)
    replaced, restated = set(), []
    for side in dict.fromkeys(_side(e) for e in steps):
        in_force = ledger.risk_steps_in_force(side, in_force_on) if side else []
        if in_force:
            replaced.add((side, in_force[0].date))
            since = in_force[0].date
        else:
            since = min((y.start for y in ledger.years()), default=year.start)
        restated += [e._replace(date=since) for e in steps if _side(e) == side]
    kept = [e for e in entries
            if not (isinstance(e, data.Custom) and e.type == RISK_SHARE and (_side(e), e.date) in replaced)]
    scenario = [e._replace(date=as_of) for e in forecasts] + restated + changed
    agreement, problems = read_agreement(kept + scenario)
    if problems:
        return None, problems
    order = {id(e.meta): rank for rank, e in enumerate(scenario, 1)}
    agreement.forecasts.sort(key=lambda f: order.get(id(f.meta), 0))  # the scenario's last: they count
    return agreement, []


def _side(entry) -> str | None:
    values = entry.values
    return values[0].value if values and isinstance(values[0].value, str) else None


def _forecast_entry(meta: dict, date: datetime.date, year: str, scheme: str, amount: Decimal) -> data.Custom:
    values = [ValueType(year, str), ValueType(scheme, str), ValueType(Amount(amount, CURRENCY), Amount)]
    return data.Custom(dict(meta), date, FORECAST, values)


def describe_error(err: S75Error) -> str:
    """One line: `file:line: message`, or `--forecast S04=+200000: message` for a command-line change."""
    from rules.entries import where
    source = err.source or {}
    if source.get("filename") == COMMAND_LINE:
        given = source.get("given")
        return f"--forecast {given}: {err.message}" if given else str(err.message)
    return f"{where(source)}: {err.message}"
