"""The annual return and the pool's memorandum account for a closed year, as data.

`annual_return(position, balances, ...)` is pure: `position` is the pool position at the year's
31 March (rules.position.build_position: actual outturn, the risk share settled on it) and `balances`
the ledger's account balances at the end of that day (`ledger_balances`), for the balance sheet, whose
accounts (cash, amounts due) the position does not hold.

Per partner: its contributions by source (agreed, received, outstanding: the position's); its share of
the year's spend, each scheme's actual split by its commissioner (a joint scheme by its % split, through
rules.allocation.allocate, as the risk share's commissioner step splits a variance); its risk-share
settlement (the position's share of the variance: positive it bears part of an overspend and owes it to
the pool, negative it gets part of an underspend back); budget moved out of the pool back to it by
virement (performance money redirected to it); and what is due from it (contributions not received,
an overspend share) or to it (an underspend share, money returned, contributions paid beyond the
agreed). An underspend carried forward stays in the pool: it is the pool's, not any partner's.

The income and expenditure account is kept on the accruals basis: income is the contributions agreed
for the year (what was not received by 31 March is a debtor on the balance sheet), less budget returned
to partners, plus the underspend carried in; expenditure is each scheme's actual. Income less
expenditure before settlement is the budget less the outturn, minus the net variance the risk share
settles; after the partners' shares and the carry-forward it is nil (or what the agreement leaves with
nobody, which the close refuses).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from beancount.core import data

from rules.agreement import Partner
from rules.allocation import allocate
from rules.calendar import FinancialYear, parse_year
from rules.position import PoolPosition, SchemePosition, SourceLine
from reports.returns.quarterly import ReturnError

ZERO = Decimal("0.00")
DUE, OWED, CARRY = "Assets:Pool:Due:", "Liabilities:Partner:", "Equity:CarryForward"


@dataclass(frozen=True)
class Line:
    key: str  # stable, for the HTML's data-line and the tests
    label: str
    amount: Decimal


@dataclass(frozen=True)
class PartnerAccount:
    partner: Partner
    host: bool
    sources: tuple[SourceLine, ...]
    agreed: Decimal
    received: Decimal
    outstanding: Decimal
    spend: tuple[Decimal, ...]  # its share of each scheme's actual, in the order of the position's schemes
    spend_total: Decimal
    returned: Decimal  # budget moved out of the pool back to it by virement
    settlement: Decimal  # risk share: + its share of an overspend, - its share of an underspend
    due_from: Decimal  # owed by it to the pool at 31 March
    due_to: Decimal  # owed to it by the pool at 31 March

    @property
    def net_due(self) -> Decimal:
        """Positive: due from the partner; negative: due to it."""
        return self.due_from - self.due_to


@dataclass(frozen=True)
class AnnualReturn:
    position: PoolPosition
    generated: datetime.date
    provenance: str
    partners: tuple[PartnerAccount, ...]
    schemes: tuple[SchemePosition, ...]
    carried_in: Decimal
    carried_forward: Decimal  # underspend carried into next year's pool (positive)
    unallocated: Decimal
    income: tuple[Line, ...]
    expenditure: tuple[Line, ...]
    settlement: tuple[Line, ...]
    assets: tuple[Line, ...]
    liabilities: tuple[Line, ...]
    funds: tuple[Line, ...]

    @property
    def year(self) -> FinancialYear:
        return self.position.year

    @property
    def stem(self) -> str:
        return f"{self.position.pool.id}-{self.year.label}-annual-return"

    @property
    def income_total(self) -> Decimal:
        return _sum(self.income)

    @property
    def expenditure_total(self) -> Decimal:
        return _sum(self.expenditure)

    @property
    def before_settlement(self) -> Decimal:
        """Income less expenditure before the risk share: the budget less the outturn."""
        return self.income_total - self.expenditure_total

    @property
    def settlement_total(self) -> Decimal:
        return _sum(self.settlement)

    @property
    def after_settlement(self) -> Decimal:
        """Nil when the year is settled in full."""
        return self.before_settlement + self.settlement_total

    @property
    def net_assets(self) -> Decimal:
        return _sum(self.assets) - _sum(self.liabilities)

    @property
    def funds_total(self) -> Decimal:
        return _sum(self.funds)

    def reconciliation(self) -> tuple[Line, ...]:
        """The lines that show income less expenditure is nil after settlement, and that the balance sheet
        balances: each check's difference is nil when it holds."""
        variance = self.position.risk_share.variance
        return (Line("before", "Income less expenditure before settlement", self.before_settlement),
                Line("variance", "Net variance settled by the risk share (outturn less budget)", variance),
                Line("check-variance", "Difference: income less expenditure plus the net variance",
                     self.before_settlement + variance),
                Line("settlement", "Partners' risk-share settlement and carry-forward", self.settlement_total),
                Line("after", "Income less expenditure after settlement", self.after_settlement),
                Line("net-assets", "Net assets at 31 March", self.net_assets),
                Line("funds", "Funds at 31 March", self.funds_total),
                Line("check-balance", "Difference: net assets less funds", self.net_assets - self.funds_total))


def parse_closed_year(text: str) -> FinancialYear:
    year = parse_year(text)
    if year is None:
        raise ReturnError(f"{text!r} is not a financial year as YYYY-YY, e.g. 2025-26")
    return year


def refusal(position: PoolPosition) -> str | None:
    """Why the year's annual return cannot be made yet (None when it can)."""
    label = position.year.label
    if not position.closed:
        return (f"{label} is not closed: the annual return is made once the year is closed and settled "
                f'(custom "s75-close" "{label}", dated {position.year.end} or later)')
    if not position.settled and position.risk_share.variance:
        return f"{label} is closed but its settlement is not in the books: check the ledger (s75 check)"
    return None


def ledger_balances(entries, as_of: datetime.date) -> dict[str, Decimal]:
    """Every account's balance at the end of `as_of` (entries in date order, as the loader gives them)."""
    sums: dict[str, Decimal] = {}
    for entry in entries:
        if entry.date > as_of:
            break
        if type(entry) is data.Transaction:
            for posting in entry.postings:
                if posting.units is not None and posting.units.number is not None:
                    sums[posting.account] = sums.get(posting.account, ZERO) + posting.units.number
    return sums


def annual_return(position: PoolPosition, balances: dict[str, Decimal], generated: datetime.date,
                  provenance: str) -> AnnualReturn:
    if position.as_of != position.year.end:
        raise ValueError("the annual return is made from the position at the year's 31 March")
    reason = refusal(position)
    if reason:
        raise ReturnError(reason)
    rs, agreement, year = position.risk_share, position.agreement, position.year
    returned = {p.partner.partner: ZERO for p in position.partners}
    for v in agreement.virements:
        if v.year == year and v.to in returned and v.date <= year.end:
            returned[v.to] += v.amount
    spend = _spend_shares(position)
    partners = tuple(_account(p, tuple(row[i] for row in spend), returned[p.partner.partner],
                              rs.shares.get(p.partner.partner, ZERO))
                     for i, p in enumerate(position.partners))
    names = {p.partner.partner: p.partner.name for p in position.partners}

    income = [Line(f"contribution:{p.partner.partner}:{s.source}", f"{p.partner.name}: {s.source_name}", s.agreed)
              for p in position.partners for s in p.sources]
    income += [Line(f"returned:{key}", f"Less budget returned to {names[key]} by virement", -amount)
               for key, amount in returned.items() if amount]
    if position.carried_in:
        income.append(Line("carried-in", f"Underspend carried forward from {year.previous().label}",
                           position.carried_in))
    expenditure = [Line(f"scheme:{s.scheme.scheme}", f"{s.scheme.scheme} {s.scheme.name}", s.actual_to_date)
                   for s in position.schemes]
    settlement = [Line(f"share:{key}", f"{names.get(key, key)}: share of the "
                       + ("overspend, due to the pool" if share > 0 else "underspend, due back"), share)
                  for key, share in rs.shares.items() if share]
    if rs.carried_forward:
        settlement.append(Line("carried-forward", f"Underspend carried forward into {year.next().label}",
                               rs.carried_forward))
    assets, liabilities, funds = _balance_sheet(position, balances, names)
    return AnnualReturn(position, generated, provenance, partners, position.schemes, position.carried_in,
                        -rs.carried_forward, rs.unallocated, tuple(income), tuple(expenditure), tuple(settlement),
                        assets, liabilities, funds)


def _spend_shares(position: PoolPosition) -> list[list[Decimal]]:
    """Per scheme, each partner's share of its actual, by the scheme's commissioner split."""
    order = [p.partner.partner for p in position.partners]
    rows = []
    for s in position.schemes:
        split = s.scheme.split
        parts = dict(zip((partner for partner, _ in split), allocate(s.actual_to_date, [pct for _, pct in split])))
        rows.append([parts.get(partner, ZERO) for partner in order])
    return rows


def _account(p, spend: tuple[Decimal, ...], returned: Decimal, share: Decimal) -> PartnerAccount:
    due_from = max(p.outstanding, ZERO) + max(share, ZERO)
    due_to = max(-p.outstanding, ZERO) + max(-share, ZERO) + returned
    return PartnerAccount(p.partner, p.host, p.sources, p.agreed, p.received, p.outstanding, spend,
                          sum(spend, ZERO), returned, share, due_from, due_to)


def _balance_sheet(position: PoolPosition, balances: dict[str, Decimal], names: dict[str, str]):
    """Assets and liabilities (positive amounts) and the funds they represent, at 31 March: the ledger's
    balances, with the contributions agreed but not received (the position's) accrued."""
    cash = position.pool.cash_account
    assets, liabilities, funds = [], [], []
    other_equity = ZERO
    unsettled = ZERO
    for account in sorted(balances):
        amount = balances[account]
        root = account.split(":")[0]
        if root in ("Income", "Expenses"):
            unsettled -= amount
        elif not amount:
            continue
        elif account == cash or account.startswith(cash + ":"):
            assets.append(Line(f"cash:{account}", f"Cash ({account})", amount))
        elif account.startswith(DUE):
            key = account[len(DUE):]
            assets.append(Line(f"due:{key}", f"Due from {names.get(key, key)}: risk-share settlement", amount))
        elif account.startswith(OWED):
            key = account[len(OWED):]
            liabilities.append(Line(f"owed:{key}", f"Owed to {names.get(key, key)}", -amount))
        elif root == "Assets":
            assets.append(Line(f"asset:{account}", account, amount))
        elif root == "Liabilities":
            liabilities.append(Line(f"liability:{account}", account, -amount))
        elif account == CARRY:
            funds.append(Line("carried-forward", f"Underspend carried forward into {position.year.next().label}",
                              -amount))
        else:
            other_equity -= amount
    for p in position.partners:
        key, name = p.partner.partner, p.partner.name
        if p.outstanding > 0:
            assets.append(Line(f"contributions:{key}", f"Contributions due from {name}, not yet received",
                               p.outstanding))
        elif p.outstanding < 0:
            liabilities.append(Line(f"overpaid:{key}", f"Contributions received from {name} beyond the agreed",
                                    -p.outstanding))
        unsettled += p.outstanding
    if other_equity:
        funds.append(Line("other-equity", "Other reserves (opening balances, performance money held)", other_equity))
    funds.append(Line("unsettled", "Income less expenditure not settled", unsettled))
    return tuple(assets), tuple(liabilities), tuple(funds)


def _sum(lines) -> Decimal:
    return sum((line.amount for line in lines), ZERO)
