"""Plugin: check the pool's agreement and the books against each other.

Adds no entries. Reports, each at the file and line of the directive or transaction at fault:
every error of `rules.reader.read_agreement` (unknown partner, joint split not 100%, duplicate
scheme ID, contribution below minimum, budget profile not summing to the budget, a directive with
missing or wrongly typed values...), and against the books:
- a scheme or contribution account that is not opened;
- an account claimed by two schemes;
- spend posted to a scheme's account before the scheme starts or after its `end:` date;
- money that leaves every scheme: a posting to an `Expenses:Scheme:*` account no scheme owns, or to
  any other `Expenses:` account but Expenses:Suspense (it would be in no scheme's spend);
- a posting to an `Income:Contribution:*` account that no `s75-contribution` of the transaction's
  financial year names (it would be in no partner's received);
- a year's scheme budgets not adding up to the partners' agreed contributions plus any underspend
  carried forward into the year (Income:CarryForward:In, written by rules.settlement);
- double counts (rules.double_count): one finance system's reference on two transactions, a `ref:`
  without its `system:`, a generated entry pasted into a ledger file.

Run it after the plugins that generate entries, so that it checks what they wrote too.

    plugin "rules.validate"
    2025-04-01 custom "s75-scheme" "S02" "Reablement" Expenses:Scheme:S02
      ...
      end: 2025-12-31
    2026-01-15 * "Acme Homecare" "January packages"
      Expenses:Scheme:S02   100.00 GBP      ; error: S02 ended on 2025-12-31
      Assets:Pool:Cash
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from beancount.core import data

from rules.calendar import year_of
from rules.commitments import ORDER, drawdown_errors, misplaced_order
from rules.double_count import double_counts
from rules.directives import S75Error
from rules.entries import is_generated, opened_accounts
from rules.locks import lock_errors
from rules.position import CARRIED_IN, SUSPENSE
from rules.reader import read_agreement

__plugins__ = ("validate",)


def validate(entries, options_map, config=None):
    agreement, errors = read_agreement(entries)
    return entries, errors + check(entries, options_map, agreement, opened_accounts(entries))


def check(entries, options_map, agreement, opened: set[str]) -> list:
    """The plugin's errors but the agreement's own, for `entries` whose agreement is `agreement` and
    which open the accounts `opened` (rules.pool calls it with what it has read once)."""
    errors = []
    owner: dict[str, object] = {}
    for scheme in agreement.schemes:
        for account in scheme.accounts:
            if account not in opened:
                errors.append(S75Error(scheme.meta, f"scheme {scheme.scheme}: account {account} is not opened",
                                       None))
            if account in owner:
                errors.append(S75Error(scheme.meta, f"scheme {scheme.scheme}: account {account} already "
                                                    f"belongs to scheme {owner[account].scheme}", None))
            owner.setdefault(account, scheme)
    for contribution in agreement.contributions:
        if contribution.account not in opened:
            errors.append(S75Error(contribution.meta, f"contribution {contribution.partner} "
                                   f"{contribution.source}: account {contribution.account} is not opened", None))

    life_errors, carried_in, ordered = _scan_transactions(entries, agreement, opened)
    errors.extend(life_errors)
    errors.extend(_budgets_against_funding(agreement, carried_in))
    errors.extend(double_counts(entries))
    errors.extend(drawdown_errors(ordered, agreement))
    errors.extend(lock_errors(entries, options_map))
    return errors


def _budgets_against_funding(agreement, carried_in):
    """Each year's latest budgets must add up to its agreed contributions plus what was carried in.
    Skipped for a year where a budget or contribution is itself in error (already reported)."""
    latest = defaultdict(dict)
    for budget in agreement.budgets:
        latest[budget.year][budget.scheme] = budget
    found = []
    for year, by_scheme in latest.items():
        contributions = agreement.contributions_for(year)
        if not contributions or {year, "all"} & agreement.incomplete_years:
            continue
        planned = sum(b.amount for b in by_scheme.values())
        funding = sum(c.agreed for c in contributions) + carried_in.get(year, Decimal(0))
        if planned != funding:
            last = max(by_scheme.values(), key=lambda b: (b.date, b.meta.get("lineno", 0)))
            carried = f" plus {carried_in[year]:,.2f} carried forward" if year in carried_in else ""
            found.append(S75Error(last.meta, f"scheme budgets for {year.label} total {planned:,.2f} but agreed "
                                             f"contributions{carried} total {funding:,.2f}", None))
    return found


# What a posting to an account outside the agreement's is (None: nothing to report).
_NO_SCHEME, _NOT_SCHEME, _RECEIPT = "no scheme", "not a scheme's", "receipt"


def _kind(account: str, agreement, opened: set) -> str | None:
    if agreement.unread(account) or account not in opened:  # reported already (or by Beancount)
        return None
    if account.startswith("Expenses:"):
        if account == SUSPENSE or account.startswith(SUSPENSE + ":"):
            return None
        return _NO_SCHEME if account.startswith("Expenses:Scheme:") else _NOT_SCHEME
    return _RECEIPT if account.startswith("Income:Contribution:") else None


def _stray(entry, account: str, kind: str, amount: Decimal) -> S75Error:
    if kind == _NO_SCHEME:
        message = (f"{account} belongs to no scheme: this {amount:,.2f} is in no scheme's spend and leaves the "
                   "pool's figures; name the account on its s75-scheme, or post to a scheme's account")
    elif kind == _NOT_SCHEME:
        message = (f"{account} is neither a scheme's account nor {SUSPENSE}: this {amount:,.2f} is in no "
                   f"scheme's spend and leaves the pool's figures; post it to a scheme's account, or to "
                   f"{SUSPENSE} until it is mapped")
    else:
        message = (f"{account}: no s75-contribution for {year_of(entry.date).label} names this account, so this "
                   f"receipt of {-amount:,.2f} is in no partner's received; agree the contribution, or post to "
                   "an agreed contribution's account")
    return S75Error(entry.meta, message, entry)


def _scan_transactions(entries, agreement, opened: set):
    """One pass: postings to a scheme's accounts dated before it starts or after it ends, postings
    to expense or contribution accounts outside the agreement, `order:` written under a posting, the
    underspend carried into each year, and the transactions that carry an order (rules.commitments
    checks those)."""
    errors = []
    schemes = agreement.schemes
    agreed = {(c.year, c.account) for c in agreement.contributions} | agreement.unread_receipts
    carried_in: dict = defaultdict(Decimal)
    scheme_of: dict[str, object] = {}
    kind_of: dict[str, str | None] = {}
    transaction, unknown = data.Transaction, object()
    ordered = []
    for entry in entries:
        if type(entry) is not transaction:
            continue
        if ORDER in entry.meta:
            ordered.append(entry)
        stray: dict[tuple[str, str], Decimal] | None = None
        for posting in entry.postings:
            if posting.meta and ORDER in posting.meta:
                errors.append(misplaced_order(entry, posting))
            account = posting.account
            if account == CARRIED_IN:
                carried_in[year_of(entry.date)] -= posting.units.number
            scheme = scheme_of.get(account, unknown)
            if scheme is unknown:
                scheme = scheme_of[account] = next((s for s in schemes if s.owns(account)), None)
            if scheme is None:
                if account not in kind_of:
                    kind_of[account] = _kind(account, agreement, opened)
                kind = kind_of[account]
                if kind == _RECEIPT and ((year_of(entry.date), account) in agreed or (None, account) in agreed):
                    kind = None
                if kind is not None:
                    stray = {} if stray is None else stray
                    number = posting.units.number if posting.units is not None else None
                    stray[(account, kind)] = stray.get((account, kind), Decimal(0)) + (number or 0)
                continue
            if entry.date < scheme.start:
                errors.append(S75Error(entry.meta, f"spend on scheme {scheme.scheme} ({account}) dated "
                                       f"{entry.date} is before the scheme starts on {scheme.start}", entry))
            elif scheme.end is not None and entry.date > scheme.end and not _accrual_reversal(entry):
                # (an accrual in a scheme's last month is reversed the day after: not spend after the end)
                errors.append(S75Error(entry.meta, f"spend on scheme {scheme.scheme} ({account}) dated "
                                       f"{entry.date} is after the scheme ended on {scheme.end}", entry))
        if stray:
            errors.extend(_stray(entry, account, kind, amount) for (account, kind), amount in stray.items())
    return errors, carried_in, ordered


def _accrual_reversal(entry) -> bool:
    """The reversal rules.accruals wrote for an accrual (not a hand-written entry saying so)."""
    return entry.meta.get("rule") == "accrual reversed" and is_generated(entry)
