"""plugin "rules.pool" is the three lines plugin "rules.tranches", "rules.settlement", "rules.validate":
the same entries (generated ones included, in the same order) and the same errors, in the same order,
on the example (as it is, with a revised figure whose virement settlement and the check must see, and
with errors), on the three-year ledger (closes, settlement, a carry forward) and with errors there."""
from __future__ import annotations

import shutil

import pytest
from beancount import loader

from conftest import EXAMPLE, ROOT
from rules import pool as pool_module
from rules import settlement, tranches, validate

THREE = ROOT / "tests" / "ledgers" / "three-years.beancount"
POOL = 'plugin "rules.pool"\n'
# The three lines, and the one line padded to as many lines, so that every entry keeps its line number.
OLD = 'plugin "rules.tranches"\nplugin "rules.settlement"\nplugin "rules.validate"\n'
NEW = POOL + "\n\n"

REVISION = '2026-02-16 custom "s75-metric-actual" "NEA" "2025-26 H1" 9650\n  revises: 2025-10-17\n'
SPEND_TWICE = ('2025-06-02 * "Acme Homecare Ltd" "Again"\n  system: "council"\n  ref: "GL-EXTRA-1"\n'
               '  Expenses:Scheme:S02  10.00 GBP\n  Assets:Pool:Cash\n') * 2
UNBALANCED = ('"s75-budget" "2025-26" "S02" 2900000.00 GBP', '"s75-budget" "2025-26" "S02" 3000000.00 GBP')


def both(main_file):
    """(entries, errors) of the ledger loaded with the one line, then with the three lines."""
    text = main_file.read_text()
    assert text.count(POOL) == 1
    out = []
    for plugins in (NEW, OLD):
        main_file.write_text(text.replace(POOL, plugins))
        entries, errors, _ = loader._load([(str(main_file), True)], None, None, None)  # no load cache
        out.append((entries, [(e.source.get("filename"), e.source.get("lineno"), e.message, e.entry)
                              for e in errors]))
    main_file.write_text(text)
    return out


def assert_same(main_file, errors_expected: bool):
    (new_entries, new_errors), (old_entries, old_errors) = both(main_file)
    assert new_entries == old_entries
    assert [type(e) for e in new_entries] == [type(e) for e in old_entries]
    assert new_errors == old_errors
    assert bool(new_errors) == errors_expected, new_errors
    assert errors_expected or any(e.meta.get("rule") for e in new_entries)  # the rules wrote entries
    return new_errors


@pytest.fixture
def example(tmp_path):
    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger", ignore=shutil.ignore_patterns(".*"))
    return tmp_path / "ledger"


@pytest.fixture
def three(tmp_path):
    path = tmp_path / "three-years.beancount"
    path.write_text(THREE.read_text())
    return path


def test_the_example(example):
    assert_same(example / "main.beancount", errors_expected=False)


def test_the_example_with_a_revision_whose_virement_the_check_sees(example):
    (example / "imports" / "revision.beancount").write_text(REVISION)
    (new_entries, _), _ = both(example / "main.beancount")
    assert any(getattr(e, "type", "") == "s75-virement" and "revised" in e.meta.get("rule", "") for e in new_entries)
    assert_same(example / "main.beancount", errors_expected=False)
    # S04 left with 1,000.00 after a virement, then a revision to 10,200 that withholds 327,800.00 more of
    # it: an error that only an agreement holding the generated virements gives.
    (example / "imports" / "revision.beancount").write_text(
        '2026-01-10 custom "s75-virement" "2025-26" "S04" "S01" 3479800.00 GBP\n' + REVISION.replace("9650", "10200"))
    errors = assert_same(example / "main.beancount", errors_expected=True)
    assert [message for _, _, message, _ in errors] == [
        "s75-tranche: redirecting 327,800.00 of tranche P4P from S04 on 2026-02-16 leaves S04's 2025-26 budget at "
        "-326,800.00: negative"]


def test_the_example_with_errors(example):
    plan = example / "2025-26" / "plan.beancount"
    plan.write_text(plan.read_text().replace(*UNBALANCED))
    (example / "imports" / "twice.beancount").write_text(SPEND_TWICE)
    assert_same(example / "main.beancount", errors_expected=True)


def test_the_three_year_ledger(three):
    assert_same(three, errors_expected=False)


def test_the_three_year_ledger_with_errors(three):
    text = three.read_text()
    # A close before 31 March, and money left in suspense in a closed year.
    text = text.replace('2025-03-31 custom "s75-close" "2024-25"', '2025-03-30 custom "s75-close" "2024-25"')
    text += ('\n2025-09-01 open Expenses:Suspense GBP\n2025-09-02 * "Unmapped"\n  Expenses:Suspense  5.00 GBP\n'
             '  Assets:Pool:Cash\n2026-03-31 custom "s75-close" "2025-26"\n')
    three.write_text(text)
    assert_same(three, errors_expected=True)


def test_the_three_modules_still_run_on_their_own():
    for module, name in ((tranches, "tranches"), (settlement, "settlement"), (validate, "validate"),
                         (pool_module, "pool")):
        assert module.__plugins__ == (name,)
