"""The pool's agreement read from the ledger: pool, partners, sources, contributions, schemes,
budgets, forecasts, metrics and closes, as typed records with cross-references checked; with the
monthly statements' commentary and sign-off.

`rules.reader.read_agreement(entries)` is pure: it returns the Agreement and a list of errors, each naming the
directive's file and line. The validation plugin reports the errors; the pool-position model
reads the Agreement (skipping what is in error, so a ledger with mistakes still shows a position).
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from beancount.core import data

from rules.allocation import allocate
from rules.calendar import FinancialYear, Period
from rules.commitments import order_key

AREAS = ("Social care", "Community health", "Acute", "Mental health", "Primary care", "Other")
KINDS = ("council", "nhs")
JOINT = "joint"


@dataclass(frozen=True)
class Pool:
    id: str
    name: str
    host: str
    manager: str
    agreement: str
    cash_account: str


@dataclass(frozen=True)
class Partner:
    partner: str
    name: str
    kind: str
    order: Decimal


@dataclass(frozen=True)
class Contribution:
    year: FinancialYear
    partner: str
    source: str
    agreed: Decimal
    minimum: Decimal
    account: str
    meta: dict = field(compare=False, repr=False)


@dataclass(frozen=True)
class Scheme:
    scheme: str
    name: str
    accounts: tuple[str, ...]
    type: str
    area: str
    commissioner: str  # a partner's short name, or "joint"
    split: tuple[tuple[str, Decimal], ...]  # (partner, percent) summing to 100
    provider: str
    source: str
    recurrent: bool
    new: bool
    benefits: Decimal | None
    start: datetime.date
    end: datetime.date | None
    meta: dict = field(compare=False, repr=False)

    def owns(self, account: str) -> bool:
        return any(account == a or account.startswith(a + ":") for a in self.accounts)


@dataclass(frozen=True)
class Budget:
    year: FinancialYear
    scheme: str
    amount: Decimal
    profile: tuple[Decimal, ...]  # twelve monthly amounts, April first
    date: datetime.date
    meta: dict = field(compare=False, repr=False)


@dataclass(frozen=True)
class Forecast:
    year: FinancialYear
    scheme: str
    amount: Decimal
    date: datetime.date
    note: str
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Commentary:
    """The pooled fund manager's narrative on a month's statement ("2025-09"), shown at its top."""

    month: str  # "YYYY-MM"
    text: str
    date: datetime.date
    meta: dict = field(compare=False, repr=False)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The text split at blank lines, each paragraph's lines joined by spaces."""
        blocks = re.split(r"\n\s*\n", self.text.strip())
        return tuple(" ".join(line.strip() for line in block.splitlines() if line.strip()) for block in blocks)


@dataclass(frozen=True)
class Signoff:
    """Who prepared and who reviewed a month's statement, and when it was signed off."""

    month: str  # "YYYY-MM"
    prepared_by: str
    reviewed_by: str
    signed: datetime.date  # the sign-off's `date:`
    date: datetime.date  # the directive's date (when it was recorded)
    meta: dict = field(compare=False, repr=False)


@dataclass(frozen=True)
class Metric:
    metric: str
    name: str
    better: str  # "lower" or "higher"
    unit: str


@dataclass(frozen=True)
class MetricPlan:
    metric: str
    period: Period
    baseline: Decimal
    plan: Decimal


@dataclass(frozen=True)
class MetricActual:
    metric: str
    period: Period
    value: Decimal
    numerator: Decimal | None
    denominator: Decimal | None
    date: datetime.date
    meta: dict = field(compare=False, repr=False)
    revises: datetime.date | None = None  # the published date of the figure this one revises


@dataclass(frozen=True)
class Tranche:
    """Part of a partner's contribution released to the schemes only as far as a metric improves."""

    tranche: str
    partner: str
    source: str
    amount: Decimal
    metric: str
    periods: tuple[Period, ...]
    method: str  # "per-unit", "proportional" or "all-or-nothing"
    rate: Decimal | None  # per-unit: money per unit of improvement
    funds: str  # as written: a scheme ID, "S01 60, S02 40", "equal", "equal S01, S02" or "pro-rata"
    unreleased_to: str  # a scheme ID or a partner's short name
    date: datetime.date
    meta: dict = field(compare=False, repr=False)
    # The schemes whose budgets carry the tranche, with their weights, in the order that takes the odd
    # pennies: (scheme, 100) for a single scheme; the weights as written, in the order written; 1 each for
    # equal, and each scheme's budget for the year for pro-rata, in the order of the scheme register.
    shares: tuple[tuple[str, Decimal], ...] = ()

    @property
    def schemes(self) -> tuple[str, ...]:
        """The funded schemes, in the order of `shares`."""
        return tuple(scheme for scheme, _ in self.shares)

    def split(self, amount: Decimal) -> tuple[tuple[str, Decimal], ...]:
        """(scheme, part) of `amount` withheld from each funded scheme, by their weights through the
        largest-remainder allocation: the parts sum exactly to `amount`, odd pennies to the largest
        remainders, ties to the scheme first in `shares`. () when nothing is withheld."""
        if not amount or not self.shares:
            return ()
        return tuple(zip(self.schemes, allocate(amount, [weight for _, weight in self.shares])))

    def period_amounts(self) -> list[Decimal]:
        """The amount split evenly between the periods (largest remainder: the first periods take the pennies)."""
        return allocate(self.amount, [1] * len(self.periods))


@dataclass(frozen=True)
class Virement:
    """A transfer of budget from a scheme to another scheme, or out of the pool back to a partner."""

    year: FinancialYear
    from_scheme: str
    to: str  # a scheme ID or a partner's short name
    amount: Decimal
    date: datetime.date
    meta: dict = field(compare=False, repr=False)


@dataclass(frozen=True)
class RiskStep:
    """One step of the risk-share agreement for overspends or underspends, in force from its date."""

    side: str  # "overspend" or "underspend"
    number: int
    kind: str  # absorb, commissioner, tier, proportional, fixed, return, carry-forward, cap
    label: str
    schemes: tuple[str, ...] = ()  # absorb
    split: tuple[tuple[str, Decimal], ...] = ()  # fixed, tier (empty: in proportion to contributions)
    lower: Decimal = Decimal(0)  # tier band
    upper: Decimal | None = None  # tier band; None: no upper bound
    limits: tuple[tuple[str, Decimal], ...] = ()  # cap (empty: each partner's agreed contribution)
    date: datetime.date = datetime.date.min
    meta: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Agreement:
    pool: Pool | None = None
    partners: list[Partner] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    contributions: list[Contribution] = field(default_factory=list)
    schemes: list[Scheme] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    forecasts: list[Forecast] = field(default_factory=list)
    metrics: dict[str, Metric] = field(default_factory=dict)
    plans: list[MetricPlan] = field(default_factory=list)
    actuals: list[MetricActual] = field(default_factory=list)
    prior_spend: dict[tuple[FinancialYear, str], Decimal] = field(default_factory=dict)
    contingency_plans: dict[tuple[FinancialYear, str], dict] = field(default_factory=dict)
    closes: dict[FinancialYear, data.Custom] = field(default_factory=dict)
    commentaries: dict[str, Commentary] = field(default_factory=dict)  # by month, "YYYY-MM"
    signoffs: dict[str, Signoff] = field(default_factory=dict)  # by month, "YYYY-MM"
    tranches: list[Tranche] = field(default_factory=list)
    virements: list[Virement] = field(default_factory=list)
    risk_steps: list[RiskStep] = field(default_factory=list)
    commitments: list = field(default_factory=list)  # rules.commitments.Commitment, in date order
    accruals: list = field(default_factory=list)  # rules.commitments.Accrual
    # Years with a contribution, budget or scheme in error ("all" for a scheme): totals not checked.
    incomplete_years: set = field(default_factory=set)
    # What directives left out for their errors named, so that the books are not faulted for it again:
    # the accounts of schemes (with their sub-accounts), and (year, account) of contributions (year None
    # when unreadable).
    unread_accounts: set = field(default_factory=set)
    unread_receipts: set = field(default_factory=set)
    unread_orders: set = field(default_factory=set)  # order keys of commitments left out for their errors

    def partner(self, short: str) -> Partner | None:
        return next((p for p in self.partners if p.partner == short), None)

    def scheme(self, scheme_id: str) -> Scheme | None:
        return next((s for s in self.schemes if s.scheme == scheme_id), None)

    def years(self) -> list[FinancialYear]:
        return sorted({c.year for c in self.contributions} | {b.year for b in self.budgets})

    def contributions_for(self, year: FinancialYear) -> list[Contribution]:
        order = {p.partner: i for i, p in enumerate(self.partners)}
        rows = [c for c in self.contributions if c.year == year]
        return sorted(rows, key=lambda c: (order.get(c.partner, len(order)), c.source))

    def budget(self, year: FinancialYear, scheme_id: str, as_of: datetime.date) -> Budget | None:
        """The scheme's budget for the year as last set on or before `as_of` (else the first set)."""
        rows = [b for b in self.budgets if b.year == year and b.scheme == scheme_id]
        before = [b for b in rows if b.date <= as_of]
        return before[-1] if before else (rows[0] if rows else None)

    def unread(self, account: str) -> bool:
        """True when a scheme left out for its errors named the account (or a parent of it)."""
        return any(account == a or account.startswith(a + ":") for a in self.unread_accounts)

    def commitment(self, reference: str):
        """The order (rules.commitments.Commitment) raised under `reference`, case and spaces aside
        (rules.commitments.order_key); None when the pool has none."""
        key = order_key(reference)
        return next((c for c in self.commitments if order_key(c.reference) == key), None)

    def tranche(self, tranche_id: str) -> Tranche | None:
        return next((t for t in self.tranches if t.tranche == tranche_id), None)

    def risk_steps_in_force(self, side: str, date: datetime.date) -> list[RiskStep]:
        """The set of steps for `side` in force on `date`: those of the latest date on or before it.
        A variation restates the whole set for its side from its date."""
        dates = [s.date for s in self.risk_steps if s.side == side and s.date <= date]
        if not dates:
            return []
        latest = max(dates)
        return sorted((s for s in self.risk_steps if s.side == side and s.date == latest),
                      key=lambda s: s.number)

    def forecast(self, year: FinancialYear, scheme_id: str, as_of: datetime.date) -> Forecast | None:
        """The latest forecast outturn made on or before `as_of`."""
        rows = [f for f in self.forecasts if f.year == year and f.scheme == scheme_id and f.date <= as_of]
        return rows[-1] if rows else None


def natural_key(text: str) -> tuple:
    """Sort "S2" before "S10"."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def parse_split(text: str) -> list[tuple[str, Decimal]]:
    """"ICB 60, Council 40" -> [("ICB", 60), ("Council", 40)]; ValueError when malformed or when a
    partner is named twice."""
    parts = []
    for chunk in text.split(","):
        words = chunk.split()
        if len(words) != 2:
            raise ValueError(f'"{chunk.strip()}" should be a partner and a percentage, e.g. "ICB 60"')
        try:
            percent = Decimal(words[1].rstrip("%"))
        except InvalidOperation:
            raise ValueError(f'"{words[1]}" is not a percentage') from None
        if percent < 0:
            raise ValueError(f'"{chunk.strip()}" is negative')
        if any(name == words[0] for name, _ in parts):
            raise ValueError(f'names "{words[0]}" twice')
        parts.append((words[0], percent))
    return parts


_EQUAL = re.compile(r"\s*equal\b(.*)", re.IGNORECASE | re.DOTALL)


def parse_shares(text: str, partners: list[str]) -> tuple[list[tuple[str, Decimal]], bool]:
    """A split as written, and whether it is an equal one. "ICB 60, Council 40" as `parse_split`;
    "equal" shares between all `partners` (the pool's, in their declared order), "equal Council, ICB"
    between those listed, put in the declared order (names not among `partners` last, for the caller to
    report). Equal shares carry equal percentages (33.33 each for three), so the largest-remainder
    allocation gives each exactly the same but for the odd pennies, which go to the partners declared
    first. ValueError when malformed or when a partner is named twice."""
    match = _EQUAL.fullmatch(text)
    if match is None:
        return parse_split(text), False
    listed = [name.strip() for name in match.group(1).split(",") if name.strip()]
    for name in listed:
        if len(name.split()) != 1:
            raise ValueError(f'"{name}" should be a partner\'s short name, e.g. "equal Council, ICB"')
        if listed.count(name) > 1:
            raise ValueError(f'names "{name}" twice')
    names = sorted(listed, key=lambda n: partners.index(n) if n in partners else len(partners)) or list(partners)
    if not names:
        raise ValueError('"equal" has no partners to share between')
    share = (Decimal(100) / len(names)).quantize(Decimal("0.01"))
    return [(name, share) for name in names], True
