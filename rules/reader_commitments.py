"""Read `s75-commitment` and `s75-accrual` directives into the Agreement (rules.commitments), each
checked as it is read; a directive in error is left out, with an error at its file and line."""
from __future__ import annotations


from rules.commitments import Accrual, Commitment, order_key
from rules.directives import error
from rules.entries import where
from rules.periods import parse_month



def read_commitment(agreement, entry, v, state):
    errors = []
    scheme = agreement.scheme(v["scheme"])
    if scheme is None:
        errors.append(error(entry, f's75-commitment: unknown scheme "{v["scheme"]}"'))
    if v["amount"] <= 0:
        errors.append(error(entry, f"s75-commitment: amount {v['amount']:,.2f} should be more than nil"))
    reference = " ".join(v["reference"].split())
    if not reference:
        errors.append(error(entry, "s75-commitment: the order's reference is blank"))
    if not " ".join(v["supplier"].split()):
        errors.append(error(entry, "s75-commitment: the supplier is blank"))
    twice = agreement.commitment(reference)
    if twice is not None:
        errors.append(error(entry, f"s75-commitment: order {reference} is already raised at {where(twice.meta)}: "
                                   "an order is raised once (to change it, correct that directive)"))
    if scheme is not None and entry.date < scheme.start:
        errors.append(error(entry, f"s75-commitment: {scheme.scheme} starts on {scheme.start}, after this order"))
    if scheme is not None and scheme.end is not None and entry.date > scheme.end:
        errors.append(error(entry, f"s75-commitment: {scheme.scheme} ended on {scheme.end}, before this order"))
    closed = v.get("closed")
    if closed is not None and closed < entry.date:
        errors.append(error(entry, f"s75-commitment: closed {closed}, before the order was raised on {entry.date}"))
    if not errors:
        agreement.commitments.append(Commitment(v["scheme"], " ".join(v["supplier"].split()), reference, v["amount"],
                                                entry.date, v.get("description", ""), closed, entry.meta))
    return errors


def read_accrual(agreement, entry, v, state):
    errors = []
    date = parse_month(v["month"])
    if date is None:
        return [error(entry, f's75-accrual: month "{v["month"]}" should look like "2025-09"')]
    if (entry.date.year, entry.date.month) != (date.year, date.month):
        errors.append(error(entry, f"s75-accrual: dated {entry.date}, outside {v['month']}, the month it accrues "
                                   f"for: date it in that month (s75 accrue dates it {date}), so that locking the "
                                   "month locks it too"))
    commitment = agreement.commitment(v["reference"])
    if commitment is None and order_key(v["reference"]) in agreement.unread_orders:
        return [None]  # its s75-commitment is in error, and reported
    if commitment is None:
        known = ", ".join(c.reference for c in agreement.commitments) or "none"
        errors.append(error(entry, f's75-accrual: order "{v["reference"]}" is not a commitment of the pool '
                                   f"(orders: {known})"))
    elif commitment.date > date:
        errors.append(error(entry, f"s75-accrual: order {commitment.reference} was raised on {commitment.date}, "
                                   f"after {v['month']}"))
    elif commitment.closed is not None and commitment.closed <= date:
        errors.append(error(entry, f"s75-accrual: order {commitment.reference} was closed on {commitment.closed}"))
    if v["amount"] <= 0:
        errors.append(error(entry, f"s75-accrual: amount {v['amount']:,.2f} should be more than nil"))
    twice = next((a for a in agreement.accruals
                  if a.month == v["month"] and order_key(a.reference) == order_key(v["reference"])), None)
    if twice is not None:
        errors.append(error(entry, f"s75-accrual: {v['reference']} is already accrued for {v['month']} at "
                                   f"{where(twice.meta)}"))
    if not errors:
        agreement.accruals.append(Accrual(v["month"], commitment.reference, v["amount"], date, v.get("note", ""),
                                          entry.meta))
    return errors
