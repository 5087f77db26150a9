"""The risk-share engine: who bears the pool's overspend, or gets its underspend, step by step.

`share_risk(steps, variances, splits, contributions)` is pure. It takes the agreement's steps in
force for the side of the net variance, each scheme's variance (outturn - budget; positive is an
overspend), each scheme's commissioner split and each partner's agreed contribution, and returns
every step with its working and each partner's share. Shares + carried forward + unallocated
always equal the net variance exactly; every split goes through `allocate`.

Steps, in the order the agreement lists them (docs/risk-share.md has worked figures):
- absorb (schemes): those schemes' underspends absorb the other schemes' overspends, in proportion
  to the overspends; the net is unchanged, the schemes' variances move. Overspend only.
- commissioner: each scheme's remaining variance falls to its commissioner, joint schemes by split.
- tier (from, to, split): the part of the net variance within the band, by the split (fixed
  percentages, or in proportion to contributions when no split is given).
- proportional / return: what is left, in proportion to contributions.
- fixed (split): what is left, by fixed percentages.
- carry-forward: what is left goes into next year's pool. Underspend only.
- cap (limits): no partner bears more than its limit (default: its agreed contribution); the
  excess goes to the others in proportion to contributions, and what nobody can take is left
  unallocated, to be met from outside the pool.
Scheme-level steps (absorb, commissioner) come before pool-level ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

from rules.agreement import RiskStep
from rules.allocation import allocate

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StepResult:
    number: int
    kind: str
    label: str
    variance_in: Decimal  # what was left to share when the step began
    shares: dict[str, Decimal]  # this step's amount per partner
    schemes: dict[str, Decimal]  # absorb: amount absorbed per scheme; commissioner: variance borne per scheme
    carried: Decimal
    variance_out: Decimal  # what is left after the step
    working: tuple[tuple[str, str], ...] = ()  # (what, figure) lines for the statement
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class RiskShareResult:
    side: str | None  # "overspend", "underspend", or None when the net variance is nil
    variance: Decimal
    steps: tuple[StepResult, ...]
    shares: dict[str, Decimal]  # per partner: positive bears an overspend, negative receives an underspend
    carried_forward: Decimal
    unallocated: Decimal
    in_force_from: object = None  # date of the set of steps used
    note: str = ""


def side_of(variance: Decimal) -> str | None:
    return "overspend" if variance > 0 else "underspend" if variance < 0 else None


def share_risk(steps: Sequence[RiskStep], variances: Sequence[tuple[str, Decimal]],
               splits: dict[str, tuple[tuple[str, Decimal], ...]],
               contributions: dict[str, Decimal]) -> RiskShareResult:
    """Apply `steps` (one side's set, in order) to the schemes' variances."""
    partners = list(contributions)
    residual = {scheme: v for scheme, v in variances}
    net = sum(residual.values(), ZERO)
    side = side_of(net)
    shares = {p: ZERO for p in partners}
    if side is None or not steps:
        note = "" if side is None else f"no {side} rule: the variance is not shared"
        return RiskShareResult(side, net, (), shares, ZERO, net if side else ZERO, None, note)

    remaining, carried, results = net, ZERO, []
    tier_base = None  # the net variance when the first tier began
    for step in steps:
        before = remaining
        step_shares, step_schemes, step_carried, working = {p: ZERO for p in partners}, {}, ZERO, []
        if step.kind == "absorb":
            step_schemes, working = _absorb(step, residual)
        elif step.kind == "commissioner":
            for scheme, variance in residual.items():
                if variance:
                    step_schemes[scheme] = variance
                    split = splits[scheme]
                    for (partner, _), part in zip(split, allocate(variance, [pct for _, pct in split])):
                        step_shares[partner] = step_shares.get(partner, ZERO) + part
            residual = {s: ZERO for s in residual}
            remaining = ZERO
        elif step.kind == "tier":
            tier_base = remaining if tier_base is None else tier_base
            portion = _band(tier_base, step)
            portion = max(min(portion, remaining), ZERO) if side == "overspend" else \
                min(max(portion, remaining), ZERO)
            _split_into(step_shares, portion, step.split, contributions)
            remaining -= portion
            working.append(("band", f"{step.lower:,.2f} to {step.upper:,.2f}" if step.upper is not None
                            else f"above {step.lower:,.2f}"))
        elif step.kind in ("proportional", "return", "fixed"):
            _split_into(step_shares, remaining, step.split if step.kind == "fixed" else (), contributions)
            remaining = ZERO
        elif step.kind == "carry-forward":
            step_carried, remaining = remaining, ZERO
            carried += step_carried
        elif step.kind == "cap":
            step_shares, working = _cap(step, shares, contributions)
        for partner, amount in step_shares.items():
            shares[partner] = shares.get(partner, ZERO) + amount
        results.append(StepResult(step.number, step.kind, step.label, before, step_shares, step_schemes,
                                  step_carried, remaining, tuple(working), step.meta))

    unallocated = net - sum(shares.values(), ZERO) - carried
    return RiskShareResult(side, net, tuple(results), shares, carried, unallocated, steps[0].date)


def _band(base: Decimal, step: RiskStep) -> Decimal:
    """The part of `base` (signed) that lies within the step's band of magnitudes."""
    magnitude = abs(base)
    top = magnitude if step.upper is None else min(magnitude, step.upper)
    inside = max(top - step.lower, ZERO)
    return inside if base >= 0 else -inside


def _split_into(shares: dict, amount: Decimal, split, contributions: dict) -> None:
    if not amount:
        return
    if split:
        names, weights = [p for p, _ in split], [pct for _, pct in split]
    else:
        names, weights = list(contributions), list(contributions.values())
    for name, part in zip(names, allocate(amount, weights)):
        shares[name] = shares.get(name, ZERO) + part


def _absorb(step: RiskStep, residual: dict) -> tuple[dict, list]:
    """Underspends on the step's schemes absorb the other schemes' overspends, pro rata to them."""
    pot_schemes = [s for s in step.schemes if residual.get(s, ZERO) < 0]
    pot = -sum((residual[s] for s in pot_schemes), ZERO)
    over = [(s, v) for s, v in residual.items() if v > 0 and s not in step.schemes]
    gross = sum((v for _, v in over), ZERO)
    absorbed = min(pot, gross)
    moved: dict[str, Decimal] = {}
    if absorbed:
        for (scheme, _), part in zip(over, allocate(absorbed, [v for _, v in over])):
            residual[scheme] -= part
            moved[scheme] = -part
        for scheme, part in zip(pot_schemes, allocate(absorbed, [-residual[s] for s in pot_schemes])):
            residual[scheme] += part
            moved[scheme] = moved.get(scheme, ZERO) + part
    working = [("available to absorb", f"{pot:,.2f}"), ("gross overspends", f"{gross:,.2f}"),
               ("absorbed", f"{absorbed:,.2f}")]
    if absorbed:  # absorption moves variance between schemes: their net, the amount to share, is the same
        working.append(("the underspend was already in the net variance, so the amount to share", "is unchanged"))
    return moved, working


def _cap(step: RiskStep, shares: dict, contributions: dict) -> tuple[dict, list]:
    """Hold each partner's share at its limit; pass the excess to the others by contribution."""
    limits = dict(step.limits) if step.limits else dict(contributions)
    current = dict(shares)
    capped: set[str] = set()
    while True:
        excess = ZERO
        for partner, amount in current.items():
            limit = limits.get(partner)
            if limit is not None and amount > limit:
                excess += amount - limit
                current[partner] = limit
                capped.add(partner)
        open_partners = [p for p in current if p not in capped and contributions.get(p, ZERO) > 0]
        if not excess or not open_partners:
            break
        for partner, part in zip(open_partners, allocate(excess, [contributions[p] for p in open_partners])):
            current[partner] += part
    changes = {p: current[p] - shares[p] for p in shares}
    working = [(f"limit {p}", f"{limits[p]:,.2f}") for p in shares if p in limits]
    return changes, working

