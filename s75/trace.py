"""`s75 trace LEDGER --scheme S04 --month 2025-09` (or `--partner ICB`): the entries behind a figure.

Lists each posting behind a scheme's actual to date, or a partner's receipts to date, for the month
end in that financial year: date, amount, the transaction's file:line, payee and narration, its
finance-system reference and, for an imported entry, the file and row it came from (`source:`).
Then the total, checked against the statement's figure from the position model
(rules.position.build_position): they agree, or the command says so and exits 1.
"""
from __future__ import annotations

import sys

from reports.publish import month_end
from rules.allocation import to_penny
from rules.calendar import month_title
from rules.position import PositionError, build_position
from rules.trace import PARTNER, TraceError, trace_figure


def run_trace(args) -> int:
    from s75.cli import _load_or_report
    try:
        as_of = month_end(args.month)
    except ValueError as exc:
        print(f"s75 trace: {exc}", file=sys.stderr)
        return 1
    loaded = _load_or_report(args.ledger, refused="nothing traced")
    if loaded is None:
        return 1
    try:
        position = build_position(loaded.entries, as_of)
        trace = trace_figure(loaded.entries, position.agreement, as_of, scheme=args.scheme, partner=args.partner)
    except (PositionError, TraceError) as exc:
        print(f"{args.ledger}: {exc}", file=sys.stderr)
        return 1
    if trace.kind == PARTNER:
        figure = next(p.received for p in position.partners if p.partner.partner == trace.key)
    else:
        figure = next(s.actual_to_date for s in position.schemes if s.scheme.scheme == trace.key)

    print(f"{trace.key} {trace.name}: {trace.figure.lower()}, {position.year.label} {month_title(as_of)} "
          f"({position.pool.name})")
    print(f"postings dated {trace.year.start} to {min(as_of, trace.year.end)}; amounts as the figure counts them"
          + (" (a receipt is positive)" if trace.kind == PARTNER else ""))
    print()
    width = max([len(_money(line.amount)) for line in trace.lines] + [len(_money(trace.total)), 6])
    where = max([len(line.where) for line in trace.lines] + [5])
    for line in trace.lines:
        said = ": ".join(part for part in (line.payee, line.narration) if part)
        extra = [line.reference] if line.reference else []
        if line.rule:
            extra.append(f"written by the rules: {line.rule}")
        if line.source:
            extra.append(f"imported from {_source(line.source)}")
        if len({l.account for l in trace.lines}) > 1:
            extra.insert(0, line.account)
        print(f"{line.date}  {_money(line.amount):>{width}}  {line.where:<{where}}  {said}"
              + (f"  [{'; '.join(extra)}]" if extra else ""))
    count = len(trace.lines)
    print(f"{'':10}  {'-' * width}")
    print(f"{'Total':10}  {_money(trace.total):>{width}}  {count} posting{'s' if count != 1 else ''}")
    if trace.total != figure:
        print(f"s75 trace: these postings add up to {_money(trace.total)} but the statement's {trace.figure.lower()} "
              f"for {trace.key} is {_money(figure)}", file=sys.stderr)
        return 1
    print(f"{'':10}  the statement's {trace.figure.lower()} for {trace.key}: {_money(figure)}")
    return 0


def _money(value) -> str:
    return f"{to_penny(value):,.2f}"


def _source(source: str) -> str:
    """"council-gl-2025-10.csv:12" -> "council-gl-2025-10.csv, row 12"."""
    name, _, row = source.rpartition(":")
    return f"{name}, row {row}" if name and row.isdigit() else source
