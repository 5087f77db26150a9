"""Reading and checking the plan workbook's two sheets, Contributions and Schemes, against the
agreement the ledger already holds. Kept apart from the importer (importers/plan.py), which turns the
checked rows into directives; every problem found here is collected so the whole workbook is refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from beancount.core import account as account_lib
from beancount.core.amount import Amount

from importers.gl import CURRENCY
from importers.base import lookup
from importers.rows import Refused, Rejection, Row, data_rows, has_layout, header_row
from importers.values import parse_money
from rules.agreement import AREAS, JOINT, Agreement, parse_split
from rules.calendar import FinancialYear, parse_year
from importers.plan_register import _partner, _source, register_changes

CONTRIBUTIONS, SCHEMES = "Contributions", "Schemes"
CONTRIBUTION_COLUMNS = {"year": ("Year",), "partner": ("Partner",), "source": ("Source",),
                        "minimum": ("Minimum",), "agreed": ("Agreed",)}
SCHEME_COLUMNS = {
    "year": ("Year",), "id": ("ID", "Scheme ID"), "name": ("Scheme", "Scheme name"), "type": ("Scheme type",),
    "area": ("Area of spend",), "commissioner": ("Commissioner",), "split": ("Split",),
    "provider": ("Lead provider",), "source": ("Funding source",), "recurrent": ("Recurrent",),
    "new": ("New/existing", "New or existing"), "budget": ("Annual budget",),
    "benefits": ("Planned benefits",)}
SCHEME_OPTIONAL = {"account": ("Account", "Accounts")}
FLAGS = {"y": True, "yes": True, "true": True, "n": False, "no": False, "false": False}
RECURRENT = {**FLAGS, "recurrent": True, "non-recurrent": False, "non recurrent": False, "nonrecurrent": False}
NEW = {**FLAGS, "new": True, "existing": False}
_ID = re.compile(r"^[A-Z0-9][A-Za-z0-9-]*$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")  # a number cell's text (importers.rows)
# What the scheme register holds that a Schemes row also says, by field, and how a message names it.

@dataclass(frozen=True)
class ContributionRow:
    row: int
    year: FinancialYear
    partner: str
    source: str
    agreed: Decimal
    minimum: Decimal | None


@dataclass(frozen=True)
class SchemeRow:
    row: int
    year: FinancialYear
    id: str
    budget: Decimal
    new: dict | None  # for a scheme the ledger does not have: name, accounts and metadata


def find_sheet(path: Path, names: list[str], wanted: str, strict: bool = True) -> str | None:
    """The sheet named `wanted` (exactly, else uniquely ignoring case); Refused if none, unless not strict."""
    found = lookup(names, wanted)
    if found is None and strict:
        raise Refused(f"{path.name}: no sheet named {wanted!r} (sheets: {', '.join(names) or 'none'})")
    return found


SHEET_COLUMNS = {CONTRIBUTIONS: CONTRIBUTION_COLUMNS, SCHEMES: SCHEME_COLUMNS}


def headed_like(path: Path, names: list[str]) -> dict[str, list[str]]:
    """For each of the plan's sheets, the workbook's sheets (by any name) whose header row has its
    required columns; Refused when the workbook cannot be read."""
    found: dict[str, list[str]] = {wanted: [] for wanted in SHEET_COLUMNS}
    for name in names:
        for wanted, columns in SHEET_COLUMNS.items():
            if has_layout(header_row(path, name, columns), columns):
                found[wanted].append(name)
    return found


def missing_sheets(path: Path, names: list[str]) -> str:
    """Why the workbook cannot be read as the plan when it lacks a sheet it needs, naming each one
    missing and, where one other sheet has its headings, that sheet; "" when none is missing."""
    present = {s: find_sheet(path, names, s, strict=False) for s in SHEET_COLUMNS}
    missing = [s for s, sheet in present.items() if sheet is None]
    if not missing:
        return ""
    text = (f"{path.name}: no sheet named {' or '.join(repr(s) for s in missing)} "
            f"(sheets: {', '.join(names) or 'none'})")
    headed = headed_like(path, names)
    hints = [(headed[wanted][0], wanted) for wanted in missing
             if len(headed[wanted]) == 1 and headed[wanted][0] not in present.values()]
    if len(missing) == 1 and hints:
        return text + f": sheet {hints[0][0]!r} has its headings: rename it {hints[0][1]!r}"
    if hints:
        said = [f"sheet {sheet!r} " + ("has the headings of" if i == 0 else "those of") + f" {wanted!r}"
                for i, (sheet, wanted) in enumerate(hints)]
        return text + ": " + ", ".join(said) + (": rename them" if len(hints) > 1 else ": rename it")
    return text


def _rows(path: Path, sheet: str, required: dict, optional: dict) -> Iterator[Row | Rejection]:
    """The sheet's rows; a refusal names the sheet."""
    try:
        yield from data_rows(path, required, optional, sheet=sheet)
    except Refused as exc:
        text, prefix = str(exc), f"{path.name}:"
        raise Refused(f"{path.name}:{sheet}:{text[len(prefix):]}" if text.startswith(prefix) else text) from None


def _money(row: Row, field: str, what: str) -> Decimal:
    if field in row.formulas:
        raise ValueError(f"{what} is a formula ({row.values[field]}): export values")
    text = row.values[field]
    try:
        return parse_money(text)
    except ValueError as exc:
        noise = _float_noise(text)
        if noise:
            raise ValueError(f"{what} {noise} is not a whole number of pence: round the cell to 2 decimal "
                             "places") from None
        raise ValueError(f"{what}: {exc}") from None


def _float_noise(text: str) -> str:
    """A number cell holding fractions of a penny, as "1,499,999.9999999998" (typically a formula's
    result pasted as a value: 1,500,000.00 less a binary rounding error); "" for anything else."""
    if not _NUMBER.match(text.strip()):
        return ""
    try:
        value = Decimal(text.strip())
        if value == value.quantize(Decimal("0.01")):
            return ""
    except InvalidOperation:  # too many digits to be money: parse_money's message says so
        return ""
    return format(value, ",f")


def _year(text: str) -> FinancialYear:
    year = parse_year(text)
    if year is None:
        raise ValueError(f'year "{text}" should look like "2026-27"')
    return year


def read_contributions(agreement: Agreement, path: Path, sheet: str, problems: list[str]) -> list[ContributionRow]:
    """The Contributions sheet's checked rows; each bad row's problem is added to `problems`."""
    found: list[ContributionRow] = []
    first: dict[tuple, int] = {}
    for row in _rows(path, sheet, CONTRIBUTION_COLUMNS, {}):
        if isinstance(row, Rejection):
            problems.append(f"{path.name}:{sheet}:{row.number}: {row.reason}")
            continue
        where = f"{path.name}:{sheet}:{row.number}"
        v = row.values
        try:
            year = _year(v["year"])
            partner, source = _partner(agreement, v["partner"]), _source(agreement, v["source"])
            agreed = _money(row, "agreed", "agreed")
            minimum = _money(row, "minimum", "minimum") if v["minimum"] else None
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if agreed < (minimum or Decimal("0.00")):
            problems.append(f"{where}: agreed {agreed:,.2f} from {partner} ({source}) is below its minimum "
                            f"{minimum or Decimal('0.00'):,.2f}")
            continue
        key = (year, partner, source)
        if key in first:
            problems.append(f"{where}: repeats row {first[key]} ({year.label} {partner} {source})")
            continue
        first[key] = row.number
        held = next((c for c in agreement.contributions if (c.year, c.partner, c.source) == key), None)
        if held is not None and (held.agreed != agreed or held.minimum != (minimum or Decimal("0.00"))):
            problems.append(f"{where}: {year.label} {partner} {source} is agreed {agreed:,.2f} (minimum "
                            f"{minimum or Decimal('0.00'):,.2f}) here but {held.agreed:,.2f} (minimum "
                            f"{held.minimum:,.2f}) in the ledger; change a plan in the ledger")
            continue
        found.append(ContributionRow(row.number, year, partner, source, agreed, minimum))
    return found


def read_schemes(agreement: Agreement, path: Path, sheet: str, problems: list[str]) -> list[SchemeRow]:
    """The Schemes sheet's checked rows; each bad row's problem is added to `problems`. A row for a
    scheme the ledger has must say what its register says (blank cells say nothing); a new scheme is
    described by its row for its first year, and its other rows must say the same."""
    found: list[SchemeRow] = []
    first: dict[tuple, int] = {}
    claimed: dict[str, str] = {}  # account -> new scheme claiming it
    rows = []
    for row in _rows(path, sheet, SCHEME_COLUMNS, SCHEME_OPTIONAL):
        if isinstance(row, Rejection):
            problems.append(f"{path.name}:{sheet}:{row.number}: {row.reason}")
            continue
        rows.append(row)
    # A new scheme is described once, by its first row for its earliest year.
    years = {}
    for row in rows:
        year = parse_year(row.values["year"])
        if year is not None and (row.values["id"] not in years or year < years[row.values["id"]]):
            years[row.values["id"]] = year
    describing = {}  # new scheme ID -> its describing row
    for row in rows:
        scheme_id = row.values["id"]
        if agreement.scheme(scheme_id) is None and scheme_id not in describing \
                and parse_year(row.values["year"]) == years.get(scheme_id):
            describing[scheme_id] = row
    for row in rows:
        where = f"{path.name}:{sheet}:{row.number}"
        v = row.values
        try:
            year = _year(v["year"])
            scheme_id = v["id"]
            if not _ID.match(scheme_id):
                raise ValueError(f'scheme ID "{scheme_id}" should be letters and digits starting with a '
                                 f'capital or digit, e.g. "S15"')
            budget = _money(row, "budget", "annual budget")
            if budget < 0:
                raise ValueError(f"annual budget {budget:,.2f} is negative")
            new = None
            if describing.get(scheme_id) is row:
                new = _describe(agreement, row, scheme_id)
            changed = register_changes(agreement, row, scheme_id, describing.get(scheme_id))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if changed:
            problems.extend(f"{where}: {change}" for change in changed)
            continue
        key = (year, scheme_id)
        if key in first:
            problems.append(f"{where}: repeats row {first[key]} ({year.label} {scheme_id})")
            continue
        first[key] = row.number
        held = agreement.budget(year, scheme_id, year.start)
        if held is not None and held.amount != budget:
            problems.append(f"{where}: the {year.label} budget for {scheme_id} is {budget:,.2f} here but "
                            f"{held.amount:,.2f} in the ledger; change a plan in the ledger")
            continue
        if new is not None:
            clash = [f"{a} is also scheme {claimed[a]}'s" for a in new["accounts"] if a in claimed]
            if clash:
                problems.append(f"{where}: {'; '.join(clash)}")
                continue
            claimed.update({a: scheme_id for a in new["accounts"]})
        found.append(SchemeRow(row.number, year, scheme_id, budget, new))
    return found


def _describe(agreement: Agreement, row: Row, scheme_id: str) -> dict:
    """A new scheme's name, accounts and s75-scheme metadata from its row; ValueError if bad."""
    v = row.values
    for field, what in (("name", "scheme name"), ("type", "scheme type"), ("provider", "lead provider")):
        if not v[field]:
            raise ValueError(f"no {what} for new scheme {scheme_id}")
    if '"' in v["name"] or "\n" in v["name"]:
        raise ValueError(f"scheme name {v['name']!r} has a double quote or line break, which a custom "
                         f"directive's value cannot hold; use single quotes")
    area = next((a for a in AREAS if a.lower() == v["area"].lower()), None)
    if area is None:
        raise ValueError(f'area of spend "{v["area"]}" should be one of {", ".join(AREAS)}')
    meta: dict = {"type": v["type"], "area": area}
    if v["commissioner"].lower() == JOINT:
        meta["commissioner"] = JOINT
        if not v["split"]:
            raise ValueError(f'joint scheme {scheme_id} needs a split, e.g. "ICB 60, Council 40"')
        try:
            split = parse_split(v["split"])
        except ValueError as exc:
            raise ValueError(f"split {exc}") from None
        for partner, _ in split:
            if agreement.partner(partner) is None:  # the ledger matches partners exactly
                known = ", ".join(p.partner for p in agreement.partners) or "none declared"
                raise ValueError(f'unknown partner "{partner}" in the split (partners: {known})')
        total = sum((p for _, p in split), Decimal(0))
        if total != 100:
            raise ValueError(f"joint split sums to {total}%, not 100%")
        meta["split"] = v["split"]
    else:
        meta["commissioner"] = _partner(agreement, v["commissioner"], "commissioner")
    meta["provider"] = v["provider"]
    meta["source"] = _source(agreement, v["source"], "funding source")
    for field, words, what in (("recurrent", RECURRENT, "Recurrent or Non-recurrent"),
                               ("new", NEW, "New or Existing")):
        flag = words.get(v[field].strip().lower())
        if flag is None:
            raise ValueError(f'{SCHEME_COLUMNS[field][0]} "{v[field]}" should be {what} (or Y or N)')
        meta[field] = flag
    if v["benefits"]:
        meta["benefits"] = Amount(_money(row, "benefits", "planned benefits"), CURRENCY)
    accounts = tuple(v.get("account", "").replace(",", " ").split()) or (f"Expenses:Scheme:{scheme_id}",)
    for account in accounts:
        if not account_lib.is_valid(account) or not account.startswith("Expenses:"):
            raise ValueError(f"account {account} should be an Expenses account, e.g. Expenses:Scheme:{scheme_id}")
        owner = next((s for s in agreement.schemes if s.owns(account)), None)
        if owner is not None:
            raise ValueError(f"account {account} already belongs to scheme {owner.scheme}")
    return {"name": v["name"], "accounts": accounts, "meta": meta}


def check_totals(agreement: Agreement, path: Path, contributions: list[ContributionRow],
                 schemes: list[SchemeRow]) -> list[str]:
    """Each year's budgets against its agreed contributions, the ledger's for the year included; a year
    with contributions and no budgets at all is named as such."""
    problems = []
    for year in sorted({c.year for c in contributions} | {s.year for s in schemes}):
        agreed = {(c.partner, c.source): c.agreed for c in agreement.contributions if c.year == year}
        agreed.update({(c.partner, c.source): c.agreed for c in contributions if c.year == year})
        held = {b.scheme for b in agreement.budgets if b.year == year}
        budgets = {s: agreement.budget(year, s, year.start).amount for s in held}
        budgets.update({s.id: s.budget for s in schemes if s.year == year})
        planned, funding = sum(budgets.values(), Decimal("0.00")), sum(agreed.values(), Decimal("0.00"))
        if not budgets:  # else the year would be a pool year with money agreed and nowhere to spend it
            problems.append(f"{path.name}: {year.label} has agreed contributions ({CONTRIBUTIONS}) of "
                            f"{funding:,.2f} but no scheme budgets, in this workbook or the ledger: add the "
                            f"year's budgets to {SCHEMES}")
            continue
        if planned != funding:
            problems.append(f"{path.name}: {year.label} scheme budgets ({SCHEMES}) total {planned:,.2f} but "
                            f"agreed contributions ({CONTRIBUTIONS}) total {funding:,.2f}; they must be equal "
                            f"(difference {planned - funding:,.2f})")
    return problems
