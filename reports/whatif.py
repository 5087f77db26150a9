"""A what-if as `s75 whatif` and the Fava page's what-if panel both ask it: the named scenarios beside
a ledger, a scenario file read and checked, the position now and under the scenario from the one
model, and the rows both lay out side by side.

`what_if(entries, as_of, fragment, changes)` builds the position on `as_of` with
`rules.position.build_position`, applies the scenario to its agreement in memory
(`rules.scenario.scenario_agreement`) and builds the scenario's position with the same function.
Reading a scenario only parses its file; nothing here writes anything.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from beancount.parser import parser as beancount_parser

from reports.ledger import file_problem, format_error
from rules.position import PoolPosition, SchemePosition, build_position
from rules.risk_share import StepResult
from rules.scenario import ForecastChange, fragment_errors, scenario_agreement

SCENARIOS = "scenarios"  # the folder of named scenarios, beside the ledger's main file
ZERO = Decimal("0.00")


class WhatIfError(Exception):
    """A scenario that cannot be read or used: its message is one line for the person who asked."""


@dataclass(frozen=True)
class WhatIf:
    """The position now and under the scenario (None, with `errors`, when the scenario is in error)."""

    current: PoolPosition
    scenario: PoolPosition | None
    errors: tuple = ()


def what_if(entries, as_of: datetime.date, fragment=(), changes: tuple[ForecastChange, ...] | list = (),
            agreement=None, books=None) -> WhatIf:
    """The position on `as_of` now and under the scenario made of `fragment` (a scenario file's
    directives) and `changes` (forecast changes, applied after the fragment). `agreement` and `books`,
    when given, are the ledger's (read and summed once per load) and only save work: the figures
    are the same. Raises rules.position.PositionError for a date outside the pool's years."""
    current = build_position(entries, as_of, agreement, books)
    changed, errors = scenario_agreement(entries, current, fragment, changes)
    if errors:
        return WhatIf(current, None, tuple(errors))
    # A scenario changes forecasts and risk-share steps only: the year's books are the ledger's.
    return WhatIf(current, build_position(entries, as_of, changed, books))


# ---- named scenarios ----

def scenario_folder(ledger: str | Path) -> Path:
    return Path(ledger).resolve().parent / SCENARIOS


def scenario_path(ledger: str | Path, name: str) -> Path:
    """`scenarios/NAME.beancount` beside the ledger's main file."""
    return scenario_folder(ledger) / f"{name}.beancount"


def scenario_names(ledger: str | Path) -> list[str]:
    """The scenarios kept beside the ledger, by name (the file names under scenarios/ without
    .beancount), sorted; none when there is no such folder."""
    folder = scenario_folder(ledger)
    try:
        return sorted(p.stem for p in folder.glob("*.beancount") if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []


def read_fragment(path: Path, what: str) -> list:
    """The directives of a scenario file, parsed (not loaded into any ledger) and checked: only
    s75-forecast and s75-risk-share directives, no includes or plugins, at least one. WhatIfError
    with the first problem at its file and line (and how many more) otherwise."""
    problem = file_problem(str(path))
    if problem is not None:
        raise WhatIfError(f"{what}: {format_error(problem)}")
    try:
        entries, errors, options = beancount_parser.parse_file(str(path.resolve()))
    except (OSError, UnicodeDecodeError) as exc:
        raise WhatIfError(f"{what}: {shown(path)} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    for include in options.get("include", []):
        raise WhatIfError(f"{shown(path)}: a scenario cannot include other files (include \"{include}\")")
    for plugin, _ in options.get("plugin", []):
        raise WhatIfError(f"{shown(path)}: a scenario cannot load plugins (plugin \"{plugin}\")")
    problems = list(errors) + fragment_errors(entries)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise WhatIfError(f"{format_error(problems[0])}{more}")
    if not entries:
        raise WhatIfError(f"{shown(path)} holds no s75-forecast or s75-risk-share directive: nothing to change")
    return entries


def shown(path: Path) -> str:
    """A path as a message shows it: relative to the working folder when inside it."""
    import os
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


# ---- what both the terminal tables and the Fava panel lay out ----

def schemes_changed(current: PoolPosition, scenario: PoolPosition) -> list[tuple[SchemePosition, SchemePosition]]:
    """(now, under the scenario) for each scheme whose forecast outturn or its basis the scenario changes."""
    after = {s.scheme.scheme: s for s in scenario.schemes}
    pairs = [(now, after[now.scheme.scheme]) for now in current.schemes]
    return [(now, then) for now, then in pairs
            if (now.forecast_outturn, now.forecast_basis) != (then.forecast_outturn, then.forecast_basis)]


@dataclass(frozen=True)
class StepPair:
    """A risk-share step now and under the scenario (either None where one set has fewer steps)."""

    number: str
    rules: tuple[tuple[str, str], ...]  # ("", label) when both are the same step, else ("now"/"scenario", label)
    now: StepResult | None
    then: StepResult | None


def steps_side_by_side(current: PoolPosition, scenario: PoolPosition) -> list[StepPair]:
    now_steps, then_steps = current.risk_share.steps, scenario.risk_share.steps
    pairs = []
    for index in range(max(len(now_steps), len(then_steps))):
        a = now_steps[index] if index < len(now_steps) else None
        b = then_steps[index] if index < len(then_steps) else None
        if a is not None and b is not None and (a.number, a.label) == (b.number, b.label):
            pairs.append(StepPair(str(a.number), (("", a.label),), a, b))
        else:
            number = " / ".join(str(s.number) if s else "-" for s in (a, b))
            pairs.append(StepPair(number, tuple((when, s.label) for when, s in (("now", a), ("scenario", b)) if s),
                                  a, b))
    return pairs


def shares_side_by_side(current: PoolPosition, scenario: PoolPosition) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(partner, share now, share under the scenario, change) for each partner, then carried forward
    and unallocated when either position has any."""
    rows = []
    for p in current.partners:
        key = p.partner.partner
        now = current.risk_share.shares.get(key, ZERO)
        then = scenario.risk_share.shares.get(key, ZERO)
        rows.append((key, now, then, then - now))
    for label, attr in (("Carried forward", "carried_forward"), ("Unallocated", "unallocated")):
        now, then = getattr(current.risk_share, attr), getattr(scenario.risk_share, attr)
        if now or then:
            rows.append((label, now, then, then - now))
    return rows
