"""Exact allocation: split an amount between parties by weights, to the penny.

Every split in the project goes through `allocate`, so that the parts always sum to the
whole. Method: largest remainder. Each party first gets its exact share rounded towards
zero to the penny; the pennies left over go one each to the parties with the largest
remainders, ties to the party declared first.

    allocate(Decimal("1000.00"), [1, 1, 1])  -> [333.34, 333.33, 333.33]
    allocate(Decimal("100.01"), [40, 60])     -> [40.00, 60.01]
"""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

PENNY = Decimal("0.01")


def to_penny(value: Decimal) -> Decimal:
    """Round half away from zero to the penny (only at the edges: display and final figures)."""
    return value.quantize(PENNY, rounding="ROUND_HALF_UP")


def allocate(amount: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split `amount` (a whole number of pennies) in proportion to non-negative `weights`."""
    amount = Decimal(amount)
    if amount != amount.quantize(PENNY):
        raise ValueError(f"amount {amount} is not a whole number of pennies")
    weights = [Decimal(w) for w in weights]
    if not weights:
        raise ValueError("no parties to allocate between")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    if sum(weights) == 0:
        raise ValueError("weights sum to zero")

    sign = -1 if amount < 0 else 1
    pennies = int(abs(amount) / PENNY)
    # Scale the weights to integers so that shares and remainders are exact.
    places = max(-w.as_tuple().exponent for w in weights)
    scale = Decimal(10) ** max(places, 0)
    ints = [int(w * scale) for w in weights]
    denominator = sum(ints)
    floors = [pennies * w // denominator for w in ints]
    remainders = [pennies * w % denominator for w in ints]
    left = pennies - sum(floors)
    # Largest remainder first; ties to the party declared first (lower index).
    order = sorted(range(len(ints)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * Decimal(f) * PENNY for f in floors]


def spread_evenly(amount: Decimal, periods: int) -> list[Decimal]:
    """Spread `amount` over `periods` so that the running total after period k is the exact
    pro-rata amount k/periods rounded to the penny. Budget to date at Month 6 of an even profile is
    then exactly half the budget, and the periods still sum exactly to the amount."""
    amount = Decimal(amount)
    cumulative = [to_penny(amount * k / periods) for k in range(periods + 1)]
    return [cumulative[k + 1] - cumulative[k] for k in range(periods)]
