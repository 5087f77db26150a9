"""Plugin and computation: performance-linked tranches, released or redirected against a metric.

A tranche is part of a partner's contribution, carried in the budgets of the schemes it funds
(`funds:`: one scheme, "S01 60, S02 40", "equal [S01, S02, ...]" or "pro-rata"; read into
`Tranche.shares` by rules.reader_terms), and paid into the schemes only as far as a metric improves
on its baseline towards its plan. For each period of the tranche (its amount split evenly between them):

    planned  = baseline - plan      (or plan - baseline when higher is better)
    achieved = baseline - actual    (or actual - baseline)
    per-unit:       released = achieved x rate
    proportional:   released = amount x achieved / planned
    all-or-nothing: released = amount if achieved >= planned, else nothing
    never more than the period's amount, never less than nil; redirected = amount - released.

What is not released goes to `unreleased-to:`: a scheme (a budget virement to it from each funded
scheme, for its part) or a partner (virements out of the pool; the pool owes the partner the money).
Each funded scheme's part is the largest-remainder allocation of the amount withheld by the
tranche's weights (`Tranche.split`), so the parts sum exactly to it. A period with no
actual recorded is pending. Decided periods are dated at the period end: the outcome belongs to
the period even though the actual is published later.

    2025-04-01 custom "s75-tranche" "P4P" "ICB" "MinimumNHS" 447000.00 GBP
      metric: "NEA"              periods: "2025-26 H1"      method: "per-unit"
      rate: 1490.00 GBP          funds: "S04"               unreleased-to: "S05"
    2025-10-17 custom "s75-metric-actual" "NEA" "2025-26 H1" 9800     ; baseline 10000, plan 9700

generates, tagged #s75-generated, with rule: and directive: metadata:

    2025-04-01 * "Tranche P4P held back pending NEA"      Equity:Tranche:P4P  -447000.00 GBP
    2025-09-30 * "Tranche P4P 2025-26 H1 released"         Equity:Tranche:P4P   298000.00 GBP
    2025-09-30 * "Tranche P4P 2025-26 H1 redirected to S05" Equity:Tranche:P4P  149000.00 GBP
    2025-09-30 custom "s75-virement" "2025-26" "S04" "S05" 149000.00 GBP
(each balanced against Equity:Tranche:Contributions). Redirected to a partner, the redirect also
moves the money from Income:Tranche:<ID> to Liabilities:Partner:<partner>. With `funds: "S01 60,
S02 40"` the one virement is two, S01 to S05 89,400.00 and S02 to S05 59,600.00, each naming the
tranche, the period, `funds:` and the scheme's `share:` in its metadata.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from rules.agreement import Agreement, MetricActual, Tranche
from rules.allocation import to_penny
from rules.calendar import Period
from rules.accruals import accrual_entries
from rules.directives import S75Error
from rules.entries import custom, generated_meta, opened_accounts, openings, transaction
from rules.reader import read_agreement

__plugins__ = ("tranches",)
ZERO = Decimal("0.00")
CONTRA = "Equity:Tranche:Contributions"


@dataclass(frozen=True)
class PeriodOutcome:
    period: Period
    amount: Decimal
    baseline: Decimal | None
    plan: Decimal | None
    actual: MetricActual | None  # the figure in force: the first published, or its latest revision
    planned: Decimal | None  # improvement planned, in the metric's units
    achieved: Decimal | None  # improvement achieved
    released: Decimal
    redirected: Decimal
    status: str  # "released", "part released", "withheld", "pending"
    first: MetricActual | None = None  # the figure first published, when a revision is in force
    given_up: tuple[tuple[str, Decimal], ...] = ()  # (scheme, part of `redirected`) per funded scheme

    @property
    def revision_note(self) -> str:
        """"revised 2026-02-16 from 9780" when a revision is in force, else ""."""
        return f"revised {self.actual.date} from {self.first.value}" if self.first and self.actual else ""


@dataclass(frozen=True)
class TrancheStatus:
    tranche: Tranche
    periods: tuple[PeriodOutcome, ...]
    released: Decimal
    redirected: Decimal
    pending: Decimal


def figures(agreement: Agreement, metric: str, period: Period) -> list[MetricActual]:
    """The period's figure as first published, then its revisions in date order (rules.reader_checks
    leaves one first figure per period and revisions dated after it)."""
    found = sorted((a for a in agreement.actuals if a.metric == metric and a.period == period),
                   key=lambda a: (a.revises is not None, a.date))
    return found if found and found[0].revises is None else []


def assess(tranche: Tranche, agreement: Agreement, as_of: datetime.date | None = None,
           revised_to: datetime.date | None = None) -> TrancheStatus:
    """The tranche's outcome per period. Periods not ended by `as_of` (if given) are pending. The
    figure first published decides a period at its end; a revision counts from its own date, so the
    outcome uses the revisions made by `revised_to` (by default `as_of`; with neither, all of them)."""
    better = agreement.metrics[tranche.metric].better
    revised_to = revised_to or as_of
    outcomes = []
    for period, amount in zip(tranche.periods, tranche.period_amounts()):
        plan = _latest(p for p in agreement.plans if p.metric == tranche.metric and p.period == period)
        published = figures(agreement, tranche.metric, period)
        in_force = [a for a in published if a.revises is None or revised_to is None or a.date <= revised_to]
        actual = in_force[-1] if in_force else None
        if plan is None or actual is None or (as_of is not None and period.end > as_of):
            outcomes.append(PeriodOutcome(period, amount, plan and plan.baseline, plan and plan.plan,
                                          None, None, None, ZERO, ZERO, "pending"))
            continue
        sign = 1 if better == "higher" else -1
        planned = sign * (plan.plan - plan.baseline)
        achieved = sign * (actual.value - plan.baseline)
        released = _release(tranche, amount, planned, achieved)
        status = "released" if released == amount else "withheld" if released == 0 else "part released"
        outcomes.append(PeriodOutcome(period, amount, plan.baseline, plan.plan, actual, planned, achieved,
                                      released, amount - released, status,
                                      in_force[0] if actual is not in_force[0] else None,
                                      tranche.split(amount - released)))
    released = sum((o.released for o in outcomes), ZERO)
    redirected = sum((o.redirected for o in outcomes), ZERO)
    pending = sum((o.amount for o in outcomes if o.status == "pending"), ZERO)
    return TrancheStatus(tranche, tuple(outcomes), released, redirected, pending)


def _latest(rows):
    rows = list(rows)
    return max(rows, key=lambda r: getattr(r, "date", datetime.date.min)) if rows else None


def _release(tranche: Tranche, amount: Decimal, planned: Decimal, achieved: Decimal) -> Decimal:
    if tranche.method == "per-unit":
        earned = achieved * tranche.rate
    elif tranche.method == "proportional":
        earned = amount * achieved / planned if planned > 0 else ZERO
    else:  # all-or-nothing
        earned = amount if achieved >= planned else ZERO
    return to_penny(min(max(earned, ZERO), amount))


def tranches(entries, options_map, config=None):
    """Generate the hold, release and redirect entries of every tranche (see the module docstring), and the
    month-end accruals (rules.accruals), as rules.pool does."""
    agreement, _ = read_agreement(entries)  # the validate plugin reports the agreement's errors
    opened = opened_accounts(entries)
    new, errors = tranche_entries(agreement, opened)
    accruals, found = accrual_entries(agreement, opened)  # the period-end entries too: rules.accruals
    return entries + new + accruals, errors + found


def tranche_entries(agreement: Agreement, opened: set[str]) -> tuple[list, list]:
    """(new entries, errors) of the plugin, for a ledger whose agreement is `agreement` and which
    opens the accounts `opened` (rules.pool calls it with what it has read once)."""
    new, wanted, errors = [], {}, []
    for tranche in agreement.tranches:
        status = assess(tranche, agreement, revised_to=datetime.date.min)  # the first figures only
        rule = f"tranche {tranche.method}"
        account = f"Equity:Tranche:{tranche.tranche}"
        wanted.setdefault(account, (tranche.date, tranche.meta))
        wanted.setdefault(CONTRA, (tranche.date, tranche.meta))
        meta = generated_meta(rule, tranche.meta, tranche=tranche.tranche)
        new.append(transaction(tranche.date, meta, tranche.partner,
                               f"Tranche {tranche.tranche} held back pending {tranche.metric}",
                               [(account, -tranche.amount), (CONTRA, tranche.amount)]))
        for outcome in status.periods:
            if outcome.status != "pending":
                new.extend(_decided(tranche, outcome, agreement, rule, wanted))
        revised, problems = _revisions(tranche, agreement, status, rule, wanted)
        new.extend(revised)
        errors.extend(problems)
    new.extend(openings(opened, wanted, "tranche"))
    return new, errors


def _revisions(tranche: Tranche, agreement: Agreement, first: TrancheStatus, rule: str, wanted: dict):
    """Each revision of a figure moves what the tranche released from the revision's date: the budget
    moves between each funded scheme and `unreleased-to:` by the difference in that scheme's part of
    what is withheld, and money redirected to a partner is owed less (or more). Earlier positions keep
    the outcome of the figure then published."""
    dates = sorted({a.date for p in tranche.periods for a in figures(agreement, tranche.metric, p)[1:]})
    out, errors, before = [], [], first
    for date in dates:
        after = assess(tranche, agreement, revised_to=date)
        for old, now in zip(before.periods, after.periods):
            moved = now.released - old.released
            if not moved or now.actual is None or now.actual.date != date:
                continue
            cause, label, target = now.actual.meta, now.period.label, tranche.unreleased_to
            working = f"{tranche.metric} {label} revised from {old.actual.value} to {now.actual.value}"
            meta = lambda: generated_meta(f"{rule} revised", cause, tranche=tranche.tranche, period=label,
                                          working=working)
            if agreement.partner(target) is not None:
                if moved > 0:
                    errors.append(S75Error(cause, f"{working}: it releases {moved:,.2f} already redirected to "
                                                  f"{target}; record its return to the pool by hand", None))
                    continue
                income, owed = f"Income:Tranche:{tranche.tranche}", f"Liabilities:Partner:{target}"
                wanted.setdefault(income, (tranche.date, tranche.meta))
                wanted.setdefault(owed, (tranche.date, tranche.meta))
                out.append(transaction(date, meta(), tranche.partner, f"Tranche {tranche.tranche} {label} "
                                       f"revised: {-moved:,.2f} more redirected to {target}",
                                       [(income, -moved), (owed, moved)]))
            # Each scheme moves the difference between its part of the amount now withheld and of the
            # amount withheld before, so that it has always given up exactly its part of what is withheld.
            old_parts, new_parts = dict(old.given_up), dict(now.given_up)
            for scheme in tranche.schemes:
                more = new_parts.get(scheme, ZERO) - old_parts.get(scheme, ZERO)
                if more:
                    source, to = (scheme, target) if more > 0 else (target, scheme)
                    out.append(custom(date, meta() | _share(tranche, scheme), "s75-virement",
                                      now.period.year.label, source, to, abs(more)))
        before = after
    return out, errors


def _share(tranche: Tranche, scheme: str) -> dict:
    """For a tranche funding several schemes, the metadata naming the scheme's share on its virement."""
    if len(tranche.shares) < 2:
        return {}
    weights = dict(tranche.shares)
    total = sum(weights.values())
    return {"funds": tranche.funds, "share": f"{scheme} {weights[scheme]} of {total}"}


def _decided(tranche: Tranche, outcome: PeriodOutcome, agreement: Agreement, rule: str, wanted: dict):
    account, date, label = f"Equity:Tranche:{tranche.tranche}", outcome.period.end, outcome.period.label
    cause = outcome.actual.meta
    working = (f"{tranche.metric} actual {outcome.actual.value} against baseline {outcome.baseline}, "
               f"plan {outcome.plan}")
    meta = lambda: generated_meta(rule, cause, tranche=tranche.tranche, period=label, working=working)
    out = []
    if outcome.released:
        out.append(transaction(date, meta(), tranche.partner, f"Tranche {tranche.tranche} {label} released "
                               "into the schemes", [(account, outcome.released), (CONTRA, -outcome.released)]))
    if outcome.redirected:
        target = tranche.unreleased_to
        postings = [(account, outcome.redirected), (CONTRA, -outcome.redirected)]
        if agreement.partner(target) is not None:
            income, owed = f"Income:Tranche:{tranche.tranche}", f"Liabilities:Partner:{target}"
            wanted.setdefault(income, (tranche.date, tranche.meta))
            wanted.setdefault(owed, (tranche.date, tranche.meta))
            postings += [(income, outcome.redirected), (owed, -outcome.redirected)]
        out.append(transaction(date, meta(), tranche.partner,
                               f"Tranche {tranche.tranche} {label} redirected to {target}", postings))
        for scheme, part in outcome.given_up:
            if part:
                out.append(custom(date, meta() | _share(tranche, scheme), "s75-virement",
                                  outcome.period.year.label, scheme, target, part))
    return out
