"""A deterministic synthetic pool year at a chosen size, for the benchmark.

Three partners (County council, host; City council; ICB), four funding sources, 40 schemes,
`transactions` payments spread over the twelve months of 2025-26, monthly receipts, Month 9
forecasts, two performance tranches with their metrics, a tiered risk-share agreement, and the
council GL extract of the same payments as CSV. The same seed and size give the same bytes.

    python -m bench.generate OUT_DIR TRANSACTIONS
writes OUT_DIR/main.beancount (with the project's plugins), OUT_DIR/bare.beancount (the same
files, no project plugins), OUT_DIR/empty/main.beancount (everything but the spend, to import
into), OUT_DIR/extract.csv, and for the benchmark's other imports OUT_DIR/full/ (the whole ledger,
to import the extract into again), OUT_DIR/month/ (the ledger to February) and
OUT_DIR/extract-2026-03.csv (March's rows).
"""
from __future__ import annotations

import csv
import datetime
import os
import random
import sys
from decimal import Decimal
from pathlib import Path

from rules.agreement import AREAS
from rules.allocation import allocate

SEED = 75
YEAR = "2025-26"
START = datetime.date(2025, 4, 1)
PARTNERS = (("County", "Example County Council", "council"), ("City", "Example City Council", "council"),
            ("ICB", "NHS Example County ICB", "nhs"))
SOURCES = (("County", "IBCF", "Improved Better Care Fund grant", "60000000.00"),
           ("County", "AdditionalLA", "Additional council contribution", "40000000.00"),
           ("City", "DFG", "Disabled Facilities Grant", "20000000.00"),
           ("ICB", "MinimumNHS", "Minimum NHS contribution", "180000000.00"))
SCHEMES = 40
PAYEES = ("Acme Homecare Ltd", "Brightside Care Ltd", "Rosewood Nursing Home", "Maple Lodge Care Home",
          "Example Community Health NHS Trust", "Example Hospitals NHS Foundation Trust", "Helping Hands Ltd",
          "Stairlift Solutions Ltd", "Example Carers Centre", "Age UK Example County")
COMMISSIONERS = ("County", "ICB", "City", "joint")


def _budgets(rng: random.Random) -> list[Decimal]:
    total = sum(Decimal(s[3]) for s in SOURCES)
    weights = [rng.randint(50, 400) for _ in range(SCHEMES - 1)]
    contingency = Decimal("5000000.00")
    return allocate(total - contingency, weights) + [contingency]


def carries_its_tranches(seed: int) -> bool:
    """Whether the pool made from `seed` is valid: the schemes carrying the tranches (S01 the P4P's
    3,576,000.00, S02 the REA-T's 1,000,000.00) have budgets at least that large. SEED's does."""
    budgets = _budgets(random.Random(seed))
    return budgets[0] >= Decimal("3576000.00") and budgets[1] >= Decimal("1000000.00")


def _agreement(budgets: list[Decimal], pool_id: str = "XC-BCF") -> str:
    out = [f'2025-04-01 custom "s75-pool" "{pool_id}" "Example County pooled budget"', '  host: "County"']
    for order, (short, name, kind) in enumerate(PARTNERS, 1):
        out += [f'2025-04-01 custom "s75-partner" "{short}" "{name}"', f'  kind: "{kind}"', f"  order: {order}"]
    for partner, key, name, amount in SOURCES:
        out += [f'2025-04-01 custom "s75-source" "{key}" "{name}"',
                f'2025-04-01 open Income:Contribution:{partner}:{key} GBP',
                f'2025-04-01 custom "s75-contribution" "{YEAR}" "{partner}" "{key}" {amount} GBP',
                f"  minimum: {amount} GBP"]
    out += ["2025-04-01 open Assets:Pool:Cash GBP", "2025-04-01 open Expenses:Suspense GBP"]
    for i, budget in enumerate(budgets, 1):
        sid, commissioner = f"S{i:02d}", COMMISSIONERS[i % 4] if i < SCHEMES else "joint"
        out += [f"2025-04-01 open Expenses:Scheme:{sid} GBP",
                f'2025-04-01 custom "s75-scheme" "{sid}" "Scheme {sid}" Expenses:Scheme:{sid}',
                f'  type: "{"Contingency" if i == SCHEMES else "Community based schemes"}"',
                f'  area: "{AREAS[i % len(AREAS)] if i < SCHEMES else "Other"}"',
                f'  commissioner: "{commissioner}"']
        if commissioner == "joint":
            out.append('  split: "ICB 50, County 30, City 20"')
        out += ['  provider: "Example provider"', '  source: "MinimumNHS"', "  recurrent: TRUE", "  new: FALSE",
                f'2025-04-01 custom "s75-budget" "{YEAR}" "{sid}" {budget} GBP']
    out += _terms()
    return "\n".join(out) + "\n"


def _terms() -> list[str]:
    out = []
    for metric, name, better, baseline, plan in (("NEA", "Non-elective admissions", "lower", 40000, 38800),
                                                ("REA", "Still at home 91 days after reablement", "higher", 80, 84)):
        out += [f'2025-04-01 custom "s75-metric" "{metric}" "{name}"', f'  better: "{better}"']
        for half, actual in (("H1", plan + (300 if better == "lower" else -1)), ("H2", plan)):
            out += [f'2025-04-01 custom "s75-metric-plan" "{metric}" "{YEAR} {half}"',
                    f"  baseline: {baseline}", f"  plan: {plan}"]
            published = "2025-10-20" if half == "H1" else "2026-03-31"
            out.append(f'{published} custom "s75-metric-actual" "{metric}" "{YEAR} {half}" {actual}')
    out += ['2025-04-01 custom "s75-tranche" "P4P" "ICB" "MinimumNHS" 3576000.00 GBP', '  metric: "NEA"',
            f'  periods: "{YEAR} H1, {YEAR} H2"', '  method: "per-unit"', "  rate: 1490.00 GBP",
            '  funds: "S01"', '  unreleased-to: "S40"',
            '2025-04-01 custom "s75-tranche" "REA-T" "County" "IBCF" 1000000.00 GBP', '  metric: "REA"',
            f'  periods: "{YEAR} H1, {YEAR} H2"', '  method: "proportional"', '  funds: "S02"',
            '  unreleased-to: "County"']
    out += ['2025-04-01 custom "s75-risk-share" "overspend" 1 "absorb"', '  schemes: "S40"',
            '2025-04-01 custom "s75-risk-share" "overspend" 2 "tier"', "  to: 2000000.00 GBP",
            '  split: "County 40, City 20, ICB 40"',
            '2025-04-01 custom "s75-risk-share" "overspend" 3 "tier"', "  from: 2000000.00 GBP",
            '2025-04-01 custom "s75-risk-share" "overspend" 4 "cap"',
            '2025-04-01 custom "s75-risk-share" "underspend" 1 "return"']
    return out


def _payments(rng: random.Random, budgets: list[Decimal], count: int):
    """(date, scheme number, payee, amount, reference) for `count` payments, spending each scheme's
    budget to within a few per cent over the year."""
    schemes = rng.choices(range(1, SCHEMES), weights=[float(b) for b in budgets[:-1]], k=count)
    per_scheme = _counts(schemes)
    for n, scheme in enumerate(schemes):
        day = START + datetime.timedelta(days=rng.randrange(365))
        mean = budgets[scheme - 1] * Decimal(rng.randint(96, 104)) / 100 / per_scheme[scheme]
        amount = (mean * Decimal(rng.randint(50, 150)) / 100).quantize(Decimal("0.01"))
        yield day, scheme, PAYEES[n % len(PAYEES)], amount, f"GL-{1000000 + n}"


def _counts(items) -> dict[int, int]:
    counts: dict[int, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def generate(out: Path, transactions: int, seed: int = SEED, pool_id: str = "XC-BCF", extract: bool = True,
             spend: bool = True) -> None:
    """The pool in `out`. `pool_id` names it (the consolidation stage makes many pools); with `extract`
    False, only the ledger: no GL extract and no ledger without spend to import into. With the extract
    also full/ (the whole ledger with an imports folder, to import the extract into again) and month/
    (the ledger to February, to import March's rows, extract-2026-03.csv, into). With `spend` False,
    no spend file (the pool's ledgers are then for importing into only)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    budgets = _budgets(rng)
    common = ['option "title" "Example County pooled budget"', 'option "operating_currency" "GBP"',
              '2025-04-01 custom "fava-option" "fiscal-year-end" "15-31"',
              '2025-04-01 custom "fava-extension" "reports.fava_pool"']
    plugins = ['plugin "rules.pool"']
    (out / "agreement.beancount").write_text(_agreement(budgets, pool_id))
    (out / "receipts.beancount").write_text(_receipts())
    (out / "forecasts.beancount").write_text(_forecasts(rng, budgets))
    files = ['include "agreement.beancount"', 'include "receipts.beancount"', 'include "forecasts.beancount"']
    (out / "main.beancount").write_text("\n".join(common + plugins + files + ['include "spend.beancount"']) + "\n")
    (out / "bare.beancount").write_text("\n".join(common + files + ['include "spend.beancount"']) + "\n")
    if extract:
        mapping = ["system,cost_centre,account_code,scheme,account,note"]
        mapping += [f"council,CC{5000 + i},,S{i:02d},," for i in range(1, SCHEMES + 1)]
        above = [f.replace('include "', 'include "../') for f in files]
        ledgers = [("empty", []), ("full", ['include "../spend.beancount"']),
                   ("month", ['include "../spend-to-2026-02.beancount"'])]
        for name, spent in ledgers if spend else ledgers[:1]:
            (out / name / "imports").mkdir(parents=True, exist_ok=True)
            lines = common + plugins + above + spent + ['include "imports/*.beancount"']
            (out / name / "main.beancount").write_text("\n".join(lines) + "\n")
            (out / name / "imports" / "0000-imports.beancount").write_text("; imports land here\n")
            (out / name / "mapping.csv").write_text("\n".join(mapping) + "\n")
    header = ["Posting Date", "Period", "Cost Centre", "Account Code", "Supplier", "Description", "Amount",
              "Transaction Ref"]
    none = os.devnull
    with open(out / "spend.beancount" if spend else none, "w") as spend_file, \
            open(out / "spend-to-2026-02.beancount" if extract and spend else none, "w") as to_february, \
            open(out / "extract.csv" if extract else none, "w", newline="") as gl_extract, \
            open(out / "extract-2026-03.csv" if extract else none, "w", newline="") as march_extract:
        writer, march = csv.writer(gl_extract), csv.writer(march_extract)
        writer.writerow(header)
        march.writerow(header)
        for day, scheme, payee, amount, ref in _payments(rng, budgets, transactions):
            sid = f"S{scheme:02d}"
            text = (f'{day} * "{payee}" "{sid} payment"\n  system: "council"\n  ref: "{ref}"\n'
                    f"  Expenses:Scheme:{sid}  {amount} GBP\n  Assets:Pool:Cash\n\n")
            spend_file.write(text)
            row = [f"{day:%d/%m/%Y}", f"2025/26 P{(day.month - 4) % 12 + 1:02d}", f"CC{5000 + scheme}",
                   "5400", payee, f"{sid} payment", f"{amount:,.2f}", ref]
            writer.writerow(row)
            if day.month == 3:
                march.writerow(row)
            else:
                to_february.write(text)


def _receipts() -> str:
    out = []
    for partner, key, _, amount in SOURCES:
        for month, part in enumerate(allocate(Decimal(amount), [1] * 12)):
            day = datetime.date(2025 + (month + 3) // 12, (month + 3) % 12 + 1, 15)
            out += [f'{day} * "{partner}" "{key} instalment {month + 1}"', '  system: "receipts"',
                    f'  ref: "R-{partner}-{key}-{month + 1}"',
                    f"  Assets:Pool:Cash  {part} GBP", f"  Income:Contribution:{partner}:{key}", ""]
    return "\n".join(out)


def _forecasts(rng: random.Random, budgets: list[Decimal]) -> str:
    out = []
    for i, budget in enumerate(budgets, 1):
        outturn = Decimal(0) if i == SCHEMES else (budget * Decimal(rng.randint(97, 104)) / 100).quantize(Decimal("1"))
        out.append(f'2025-12-31 custom "s75-forecast" "{YEAR}" "S{i:02d}" {outturn:.2f} GBP')
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
