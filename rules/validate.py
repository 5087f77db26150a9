"""Plugin: check the pool's agreement and the books against each other.

Adds no entries. Reports, each at the file and line of the directive or transaction at fault:
every error of `rules.reader.read_agreement` (unknown partner, joint split not 100%, duplicate
scheme ID, contribution below minimum, budget profile not summing to the budget, a directive with
missing or wrongly typed values...), and against the books:
- a scheme or contribution account that is not opened;
- an account claimed by two schemes;
- spend posted to a scheme's account before the scheme starts or after its `end:` date.

    plugin "rules.validate"
    2025-04-01 custom "s75-scheme" "S02" "Reablement" Expenses:Scheme:S02
      ...
      end: 2025-12-31
    2026-01-15 * "Acme Homecare" "January packages"
      Expenses:Scheme:S02   100.00 GBP      ; error: S02 ended on 2025-12-31
      Assets:Pool:Cash
"""
from __future__ import annotations

from beancount.core import data

from rules.directives import S75Error
from rules.reader import read_agreement

__plugins__ = ("validate",)


def validate(entries, options_map, config=None):
    agreement, errors = read_agreement(entries)
    opened = {e.account for e in entries if isinstance(e, data.Open)}

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

    errors.extend(_spend_outside_life(entries, agreement.schemes))
    return entries, errors


def _spend_outside_life(entries, schemes):
    """Postings to a scheme's accounts dated before it starts or after it ends."""
    if not schemes:
        return []
    errors = []
    scheme_of: dict[str, object] = {}
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        for posting in entry.postings:
            account = posting.account
            if account not in scheme_of:
                scheme_of[account] = next((s for s in schemes if s.owns(account)), None)
            scheme = scheme_of[account]
            if scheme is None:
                continue
            if entry.date < scheme.start:
                errors.append(S75Error(entry.meta, f"spend on scheme {scheme.scheme} ({account}) dated "
                                       f"{entry.date} is before the scheme starts on {scheme.start}", entry))
            elif scheme.end is not None and entry.date > scheme.end:
                errors.append(S75Error(entry.meta, f"spend on scheme {scheme.scheme} ({account}) dated "
                                       f"{entry.date} is after the scheme ended on {scheme.end}", entry))
    return errors
