"""`s75 accrue LEDGER --month 2025-09 --order PO-4410=12000.00 [--order ...] [--note TEXT]`: month-end
accruals against the pool's orders.

Each `--order` is spend delivered in the month against an order (s75-commitment) and not yet
invoiced. The command writes one `s75-accrual` directive per order, dated the month's last day, into
the ledger's imports/ folder, as `s75 import` writes: under the ledger's lock, all or nothing, and
only when the ledger with them still checks clean. The rules (rules.accruals) then post each as the
scheme's spend on the month's last day and reverse it on the next day.

Refused, with nothing written and exit status 1: a month that is not YYYY-MM, outside the pool's
years, or locked (s75-lock or a closed year); an order the pool does not have, closed, raised after
the month, or already accrued for the month; an amount that is not more than nil, has more than two
decimal places, or is more than what the order still holds at the month end.
"""
from __future__ import annotations

import datetime
import sys
from decimal import Decimal
from pathlib import Path

from importers.landing import LandingRefused, LedgerBusy, land, ledger_lock
from importers.values import parse_money
from reports.ledger import collector_paused, format_error, load_ledger
from rules.calendar import year_of
from rules.commitments import commitments_at, order_key
from rules.periods import month_of, parse_month, period_control
from rules.reader import read_agreement


def run_accrue(args) -> int:
    path = Path(args.ledger)
    if path.is_dir():
        print(f"{args.ledger} is a folder, not a ledger file: give the main file, e.g. {path / 'main.beancount'}; "
              "nothing written", file=sys.stderr)
        return 1
    if not path.is_file():
        print(f"{args.ledger}: no such ledger file; nothing written", file=sys.stderr)
        return 1
    end = parse_month(args.month)
    if end is None:
        print(f"s75 accrue: {args.month!r} is not a month as YYYY-MM (e.g. 2025-09); nothing written", file=sys.stderr)
        return 1
    if args.wait < 0:
        print("s75 accrue: --wait is a number of seconds, 0 or more; nothing written", file=sys.stderr)
        return 1
    wanted, problems = _orders(args.order or [])
    if problems or not wanted:
        print(*(problems or ["s75 accrue: give at least one --order REFERENCE=AMOUNT; nothing written"]), sep="\n", file=sys.stderr)
        return 1
    try:
        with ledger_lock(path, args.wait), collector_paused():
            return _accrue(path, args.month, end, wanted, args.note)
    except (LedgerBusy, LandingRefused) as exc:
        print(*getattr(exc, "problems", [str(exc)]), sep="\n", file=sys.stderr)
        return 1


def _orders(given: list[str]) -> tuple[list[tuple[str, Decimal]], list[str]]:
    """[(reference, amount)] from REFERENCE=AMOUNT arguments, or the problems, one line each."""
    found, problems = [], []
    for text in given:
        reference, sep, amount_text = text.rpartition("=")
        reference = " ".join(reference.split())
        if not sep or not reference:
            problems.append(f"--order {text}: give it as REFERENCE=AMOUNT, e.g. PO-4410=12000.00")
            continue
        try:
            amount = parse_money(amount_text) if amount_text.strip() else None
        except ValueError as exc:  # "12,5", "1e3", more than two decimals, eighteen digits...
            problems.append(f"--order {text}: {exc} (write it as 12000.00 or 12,000.00)")
            continue
        if amount is None:
            problems.append(f"--order {text}: give it as REFERENCE=AMOUNT, e.g. PO-4410=12000.00")
        elif amount <= 0:
            problems.append(f"--order {text}: the amount should be more than nil")
        elif any(order_key(r) == order_key(reference) for r, _ in found):
            problems.append(f"--order {text}: {reference} is given twice")
        else:
            found.append((reference, amount))
    return found, [f"s75 accrue: {p}; nothing written" for p in problems]


def _accrue(path: Path, month: str, end: datetime.date, wanted, note: str | None) -> int:
    loaded = load_ledger(path, keep_stages=True)
    if loaded.errors:
        for error in loaded.errors:
            print(format_error(error), file=sys.stderr)
        print(f"{path} has errors: correct them before accruing; nothing written", file=sys.stderr)
        return 1
    agreement, _ = read_agreement(loaded.entries)
    problems = _month_problems(loaded.entries, agreement, end)
    orders = {order_key(c.commitment.reference): c for c in commitments_at(loaded.entries, agreement, end)}
    raised = {order_key(c.reference): c for c in agreement.commitments}
    done = {order_key(a.reference) for a in agreement.accruals if a.month == month}
    lines = []
    for reference, amount in wanted:
        key, row = order_key(reference), orders.get(order_key(reference))
        if key not in raised:
            known = ", ".join(c.reference for c in agreement.commitments) or "none"
            problems.append(f"{reference}: not an order of the pool (s75-commitment; orders: {known})")
        elif row is None:
            problems.append(f"{reference}: raised on {raised[key].date}, after {month}")
        elif row.commitment.closed is not None and row.commitment.closed <= end:
            problems.append(f"{reference}: closed on {row.commitment.closed}")
        elif key in done:
            problems.append(f"{reference}: already accrued for {month}")
        elif amount > row.outstanding:
            problems.append(f"{reference}: {amount:,.2f} is more than the {row.outstanding:,.2f} the order still "
                            f"holds at {end} ({row.commitment.amount:,.2f} less {row.drawn:,.2f} drawn)")
        else:
            lines.append((row.commitment, amount))
    if problems:
        print(*(f"s75 accrue: {p}" for p in problems), sep="\n", file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 1
    text = "".join(_directive(end, month, commitment.reference, amount, note) for commitment, amount in lines)
    target = land(loaded.path, f"; s75 accrue --month {month}\n" + text, datetime.date.today(), loaded.stages)
    for commitment, amount in lines:
        print(f"accrued {amount:,.2f} against {commitment.reference} ({commitment.scheme}, {commitment.supplier}) "
              f"at {end}, reversed on {end + datetime.timedelta(days=1)}")
    print(f"wrote {target}")
    return 0


def _month_problems(entries, agreement, end: datetime.date) -> list[str]:
    year = year_of(end)
    if year not in agreement.years():
        return [f"{month_of(end)} is in {year.label}, which is not one of the pool's years"]
    control = period_control(entries)
    if control.locked_to is not None and end <= control.locked_to:
        return [f"{month_of(end)} is locked (to {control.locked_to}): accrue in an open month"]
    return []


def _directive(end: datetime.date, month: str, reference: str, amount: Decimal, note: str | None) -> str:
    text = f'{end} custom "s75-accrual" "{month}" "{_quoted(reference)}" {amount} GBP\n'
    if note:
        text += f'  note: "{_quoted(note)}"\n'
    return text


def _quoted(text: str) -> str:
    return " ".join(str(text).split()).replace("\\", "\\\\").replace('"', '\\"')
