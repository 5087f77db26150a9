"""`s75 whatif LEDGER [--date D] [--forecast S01=5800000 ...] [--steps FILE] [--scenario NAME] [--json]`.

Each partner's share of the variance now and under a scenario, step by step, side by side. The
ledger is only read: the scenario is applied to the agreement in memory (rules.scenario) and both
positions come from the one model, rules.position.build_position. `--json` prints
`{"current": <position JSON>, "scenario": <position JSON>}` (docs/position-json.md).

A scenario named NAME is the file `scenarios/NAME.beancount` beside the ledger's main file: s75-forecast
and/or s75-risk-share directives. `--steps FILE` is a file of s75-risk-share directives only. Bad input
(an unknown scheme, an amount that is not one, a missing scenario, a scenario in error) is one line on
stderr and exit status 1.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

from reports.whatif import (SCENARIOS, WhatIfError, read_fragment, scenario_names, scenario_path,
                            schemes_changed as changed_pairs, shares_side_by_side as share_rows, shown as _shown,
                            steps_side_by_side, what_if)
from rules.calendar import month_title
from rules.directives import S75Error
from rules.position import PoolPosition, PositionError
from rules.scenario import FORECAST, RISK_SHARE, ForecastChange, describe_error, parse_change


def run_whatif(args) -> int:
    from s75.cli import _load_or_report, report_date
    try:
        changes = _changes(args.forecast or [])
        fragment = _fragments(args)
    except WhatIfError as exc:
        print(f"s75 whatif: {exc}", file=sys.stderr)
        return 1
    if not changes and not fragment:
        print("s75 whatif: nothing to change: give --forecast SCHEME=AMOUNT, --steps FILE or --scenario NAME",
              file=sys.stderr)
        return 1
    loaded = _load_or_report(args.ledger)
    if loaded is None:
        return 1
    as_of = report_date(args, loaded)
    if as_of is None:
        return 1
    try:
        result = what_if(loaded.entries, as_of, fragment, changes)
    except PositionError as exc:
        print(f"{args.ledger}: {exc}", file=sys.stderr)
        return 1
    if result.errors:
        errors = result.errors
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        print(f"s75 whatif: {describe_error(errors[0])}{more}", file=sys.stderr)
        return 1
    current, scenario = result.current, result.scenario
    if args.json:
        from reports.position_json import position_to_json
        print(json.dumps({"current": position_to_json(current), "scenario": position_to_json(scenario)}, indent=2))
    else:
        print_whatif(current, scenario, _described(args, changes, current, scenario))
    return 0


def _changes(given: list[str]) -> list[ForecastChange]:
    changes, seen = [], set()
    for text in given:
        try:
            change = parse_change(text)
        except ValueError as exc:
            raise WhatIfError(f"--forecast {exc}") from None
        if change.scheme in seen:
            raise WhatIfError(f"--forecast {change.scheme} is given twice: give each scheme once")
        seen.add(change.scheme)
        changes.append(change)
    return changes


def _fragments(args) -> list:
    """The directives of the scenario and the --steps file, read without loading them into the ledger."""
    entries = []
    if args.scenario is not None:
        name = args.scenario
        if not name or name != Path(name).name or name.startswith("."):
            raise WhatIfError(f'--scenario "{name}" should be a scenario\'s name, the file name under '
                              f"{SCENARIOS}/ without .beancount")
        path = scenario_path(args.ledger, name)
        if not path.is_file():
            folder = path.parent
            known = scenario_names(args.ledger)
            listed = f" (scenarios there: {', '.join(known)})" if known else f" ({_shown(folder)} has none)"
            raise WhatIfError(f'no scenario "{name}": {_shown(path)} does not exist{listed}')
        entries += read_fragment(path, "the scenario")
    if args.steps is not None:
        steps = read_fragment(Path(args.steps), "--steps")
        forecast = next((e for e in steps if getattr(e, "type", None) == FORECAST), None)
        if forecast is not None:
            message = "--steps holds risk-share steps only; put forecasts in a scenario or give --forecast"
            raise WhatIfError(describe_error(S75Error(forecast.meta, message, None)))
        sides = {_side(e) for e in entries if getattr(e, "type", None) == RISK_SHARE}
        clash = next((e for e in steps if getattr(e, "type", None) == RISK_SHARE and _side(e) in sides), None)
        if clash is not None:
            message = (f"the scenario has its own {_side(clash)} steps: give them in one place, --steps or the "
                       "scenario")
            raise WhatIfError(describe_error(S75Error(clash.meta, message, None)))
        entries += steps
    return entries


def _side(entry) -> str | None:
    return entry.values[0].value if entry.values else None


# ---- the terminal tables ----

def _described(args, changes, current: PoolPosition, scenario: PoolPosition) -> list[str]:
    """What the scenario is, a line per part."""
    lines = []
    if args.scenario is not None:
        lines.append(f"scenario {args.scenario} ({_shown(scenario_path(args.ledger, args.scenario))})")
    if args.steps is not None:
        lines.append(f"risk-share steps from {args.steps}")
    for change in changes:
        lines.append(f"--forecast {change.given}")
    return lines


def print_whatif(current: PoolPosition, scenario: PoolPosition, described: list[str], file=None) -> None:
    import shutil

    from rich.console import Console
    width = shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 200
    console = Console(file=file, width=max(width, 120), highlight=False)
    console.print(f"[bold]{current.pool.name}[/bold] ({current.pool.id}), {current.year.label}: "
                  f"{month_title(current.as_of)}")
    console.print("What if: " + "; ".join(described) + ". The ledger is unchanged.")
    console.print(schemes_changed(current, scenario))
    console.print(risk_share_side_by_side(current, scenario))
    console.print(shares_side_by_side(current, scenario))
    for label, position in (("now", current), ("under the scenario", scenario)):
        if position.risk_share.note:
            console.print(f"{label}: {position.risk_share.note}")


def _money(value: Decimal | None) -> str:
    from s75.tables import money
    return money(value)


def schemes_changed(current: PoolPosition, scenario: PoolPosition):
    from rich.table import Table

    from s75.tables import BASIS_MARK
    table = Table(title="Forecast outturn: schemes the scenario changes", title_justify="left")
    for name in ("ID", "Scheme", "Budget", "Outturn now", "Outturn scenario", "Variance now", "Variance scenario"):
        table.add_column(name, justify="left" if name in ("ID", "Scheme") else "right")
    for now, then in changed_pairs(current, scenario):
        table.add_row(now.scheme.scheme, now.scheme.name, _money(now.annual_budget),
                      _money(now.forecast_outturn) + BASIS_MARK[now.forecast_basis],
                      _money(then.forecast_outturn) + BASIS_MARK[then.forecast_basis],
                      _money(now.forecast_variance), _money(then.forecast_variance))
    table.add_section()
    table.add_row("", "[b]Pool[/b]", _money(current.scheme_totals["annual_budget"]),
                  _money(current.scheme_totals["forecast_outturn"]), _money(scenario.scheme_totals["forecast_outturn"]),
                  _money(current.scheme_totals["forecast_variance"]),
                  _money(scenario.scheme_totals["forecast_variance"]))
    return table


def _net(position: PoolPosition) -> str:
    r = position.risk_share
    basis = "actual" if position.risk_basis == "actual" else "forecast"
    since = f", steps in force from {r.in_force_from}" if r.in_force_from else ""
    return f"{r.side or 'nil variance'} {_money(abs(r.variance))} ({basis}{since})"


def risk_share_side_by_side(current: PoolPosition, scenario: PoolPosition):
    from rich.table import Table
    partners = [p.partner.partner for p in current.partners]
    title = f"Risk share, step by step: now {_net(current)}; under the scenario {_net(scenario)}"
    table = Table(title=title, title_justify="left")
    table.add_column("Step")
    table.add_column("Rule")
    table.add_column("To share now", justify="right")
    table.add_column("To share scenario", justify="right")
    for partner in partners:
        table.add_column(f"{partner} now", justify="right")
        table.add_column(f"{partner} scenario", justify="right")
    table.add_column("Left now", justify="right")
    table.add_column("Left scenario", justify="right")
    for pair in steps_side_by_side(current, scenario):
        a, b = pair.now, pair.then
        rule = "\n".join(f"{when}: {label}" if when else label for when, label in pair.rules)
        cells = []
        for partner in partners:
            cells += [_money(a.shares.get(partner)) if a else "", _money(b.shares.get(partner)) if b else ""]
        table.add_row(pair.number, rule, _money(a.variance_in) if a else "", _money(b.variance_in) if b else "",
                      *cells, _money(a.variance_out) if a else "", _money(b.variance_out) if b else "")
    table.add_section()
    totals = []
    for partner in partners:
        totals += [_money(current.risk_share.shares.get(partner)), _money(scenario.risk_share.shares.get(partner))]
    table.add_row("", "[b]Share of the variance[/b]", _money(current.risk_share.variance),
                  _money(scenario.risk_share.variance), *totals, _money(current.risk_share.unallocated),
                  _money(scenario.risk_share.unallocated))
    if current.risk_share.carried_forward or scenario.risk_share.carried_forward:
        table.add_row("", "Carried forward into next year", _money(current.risk_share.carried_forward),
                      _money(scenario.risk_share.carried_forward), *("" for _ in totals), "", "")
    return table


def shares_side_by_side(current: PoolPosition, scenario: PoolPosition):
    from rich.table import Table
    table = Table(title="Each partner's share of the variance", title_justify="left")
    for name in ("Partner", "Now", "Under the scenario", "Change"):
        table.add_column(name, justify="left" if name == "Partner" else "right")
    for label, now, then, change in share_rows(current, scenario):
        table.add_row(label, _money(now), _money(then), _money(change))
    return table
