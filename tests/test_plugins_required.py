"""A pool ledger must load the agreement's rules (plugin "rules.pool", or plugin "rules.tranches",
"rules.settlement", "rules.validate", in that order) or `s75 check`, `position`, `statement`, an
import and the Fava page refuse it, naming the line to add; a ledger with no s75-pool directive is
not a pool ledger. (tests/test_pool_plugin.py: both spellings give the same entries and errors.)"""
from __future__ import annotations

import shutil

import pytest

from conftest import EXAMPLE, WORKED
from reports.ledger import load_ledger
from s75.cli import main

PLUGINS = ('plugin "rules.tranches"\n', 'plugin "rules.settlement"\n', 'plugin "rules.validate"\n')
POOL = 'plugin "rules.pool"\n'  # the example's one line, which runs the three
MISSING = 'main.beancount:1: the ledger does not load plugin "{0}": add plugin "{0}"'
CLOSE = '2026-03-31 custom "s75-close" "2025-26"\n'


@pytest.fixture
def pool(tmp_path, monkeypatch):
    """A copy of the example pool, run from the folder that holds it (so errors read ledger/...)."""
    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "ledger" / "main.beancount"


def rewrite(path, old, new, count=1):
    text = path.read_text()
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new, count))


def three_lines(main_file):
    """The example's plugin "rules.pool" spelt as the three rules' own lines."""
    rewrite(main_file, POOL, "".join(PLUGINS))


def without_plugins(main_file, keep=()):
    """The example's rules.pool line replaced by the lines of the rules in `keep` only."""
    rewrite(main_file, POOL, "".join(line for line in PLUGINS if line.split('"')[1] in keep))


def line_of(path, needle) -> int:
    (number,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(needle)]
    return number


def unbalanced_budgets(main_file):
    """S02's budget 100,000.00 more than the contributions fund: what rules.validate catches."""
    rewrite(main_file.parent / "2025-26" / "plan.beancount",
            '"s75-budget" "2025-26" "S02" 2900000.00 GBP', '"s75-budget" "2025-26" "S02" 3000000.00 GBP')


def missing_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "does not load plugin" in line]


def test_check_without_the_plugin_lines_names_each_missing_line(pool, capsys):
    without_plugins(pool)
    unbalanced_budgets(pool)
    assert main(["check", "ledger/main.beancount"]) == 1
    out, err = capsys.readouterr()
    assert "no errors" not in out and "Traceback" not in err
    # The example has a tranche (agreement.beancount:25) but no close yet: it needs tranches and validate.
    tranches, validate = missing_lines(err)
    assert tranches.startswith("ledger/" + MISSING.format("rules.tranches"))
    assert "the s75-tranche at ledger/agreement.beancount:25" in tranches
    assert validate.startswith("ledger/" + MISSING.format("rules.validate"))
    assert err.splitlines()[-1] == "2 error(s) in ledger/main.beancount"


def test_a_close_needs_the_settlement_plugin_too(pool, capsys):
    without_plugins(pool)
    rewrite(pool, 'include "agreement.beancount"\n', 'include "agreement.beancount"\n' + CLOSE)
    assert main(["check", "ledger/main.beancount"]) == 1
    tranches, settlement, validate = missing_lines(capsys.readouterr().err)
    assert settlement.startswith("ledger/" + MISSING.format("rules.settlement"))
    assert f"the s75-close at ledger/main.beancount:{line_of(pool, CLOSE.strip())}" in settlement


def test_only_validate_missing(pool, capsys):
    without_plugins(pool, keep=("rules.tranches", "rules.settlement"))
    assert main(["check", "ledger/main.beancount"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("ledger/" + MISSING.format("rules.validate"))
    assert err[1] == "1 error(s) in ledger/main.beancount"


@pytest.mark.parametrize("command", [["position", "--date", "2025-09-30"], ["position", "--json"],
                                     ["statement", "--month", "2025-09", "--out", "out"]])
def test_position_and_statement_refuse_too(pool, tmp_path, command, capsys):
    without_plugins(pool)
    unbalanced_budgets(pool)
    assert main([command[0], "ledger/main.beancount", *command[1:]]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "ledger/" + MISSING.format("rules.validate") in err
    assert not (tmp_path / "out").exists()


def test_the_plugins_in_the_wrong_order_are_an_error_at_the_line(pool, capsys):
    three_lines(pool)
    rewrite(pool, PLUGINS[0] + PLUGINS[1] + PLUGINS[2], PLUGINS[2] + PLUGINS[0] + PLUGINS[1])
    assert main(["check", "ledger/main.beancount"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "plugin" in line]
    validate, tranches = line_of(pool, PLUGINS[2].strip()), line_of(pool, PLUGINS[0].strip())
    settlement = line_of(pool, PLUGINS[1].strip())
    assert err == [f'ledger/main.beancount:{validate}: plugin "rules.validate" is listed before plugin '
                   f'"rules.tranches" (line {tranches}) and plugin "rules.settlement" (line {settlement}): the '
                   'rules run in the order listed, which must be tranches, then settlement, then validate; '
                   'move this line below them']


def test_settlement_before_tranches(pool, capsys):
    three_lines(pool)
    rewrite(pool, PLUGINS[0] + PLUGINS[1], PLUGINS[1] + PLUGINS[0])
    assert main(["check", "ledger/main.beancount"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "plugin" in line]
    settlement = line_of(pool, PLUGINS[1].strip())
    tranches = line_of(pool, PLUGINS[0].strip())
    assert err == [f'ledger/main.beancount:{settlement}: plugin "rules.settlement" is listed before plugin '
                   f'"rules.tranches" (line {tranches}): the rules run in the order listed, which must be '
                   'tranches, then settlement, then validate; move this line below it']


def test_a_plugin_listed_twice(pool, capsys):
    three_lines(pool)
    rewrite(pool, PLUGINS[2], PLUGINS[0] + PLUGINS[2])
    assert main(["check", "ledger/main.beancount"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "plugin" in line]
    first, second = [i for i, line in enumerate(pool.read_text().splitlines(), 1) if line == PLUGINS[0].strip()]
    assert err == [f'ledger/main.beancount:{second}: plugin "rules.tranches" is listed twice (first at line '
                   f'{first}): it would run twice and write its entries twice; delete this line']


def test_the_three_lines_in_order_load_as_rules_pool_does(pool, capsys):
    three_lines(pool)
    assert main(["check", "ledger/main.beancount"]) == 0
    assert "no errors" in capsys.readouterr().out


def test_a_ledger_without_any_rule_is_told_of_rules_pool_too(pool, capsys):
    without_plugins(pool)
    assert main(["check", "ledger/main.beancount"]) == 1
    tranches, validate = missing_lines(capsys.readouterr().err)
    assert tranches.endswith('(or, for all three rules, the one line plugin "rules.pool")')
    assert validate.endswith('(or, for all three rules, the one line plugin "rules.pool")')


@pytest.mark.parametrize("rule", ["rules.tranches", "rules.settlement", "rules.validate"])
def test_a_rule_listed_beside_rules_pool_is_an_error_at_its_line(pool, capsys, rule):
    rewrite(pool, POOL, POOL + f'plugin "{rule}"\n')
    assert main(["check", "ledger/main.beancount"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "plugin" in line]
    assert err == [f'ledger/main.beancount:{line_of(pool, POOL.strip()) + 1}: plugin "{rule}" is listed with plugin '
                   f'"rules.pool" (line {line_of(pool, POOL.strip())}), which runs it already: it would run twice '
                   '(a rule run twice writes its entries twice); delete this line']


def test_rules_pool_listed_twice(pool, capsys):
    rewrite(pool, POOL, POOL + '; again\n' + POOL)
    assert main(["check", "ledger/main.beancount"]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "plugin" in line]
    first, second = [i for i, line in enumerate(pool.read_text().splitlines(), 1) if line == POOL.strip()]
    assert err == [f'ledger/main.beancount:{second}: plugin "rules.pool" is listed twice (first at line {first}): it '
                   'would run twice and write its entries twice; delete this line']


def test_a_plugin_line_in_an_included_file_is_named(pool, capsys):
    without_plugins(pool, keep=("rules.tranches", "rules.settlement"))
    agreement = pool.parent / "agreement.beancount"
    agreement.write_text(PLUGINS[2] + agreement.read_text())
    assert main(["check", "ledger/main.beancount"]) == 1
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "does not load plugin" in line]
    assert line.startswith("ledger/" + MISSING.format("rules.validate"))
    assert "ledger/agreement.beancount:1" in line and "main file" in line


def test_a_ledger_with_no_pool_is_not_a_pool_ledger(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "books.beancount").write_text(
        'option "operating_currency" "GBP"\n2025-04-01 open Assets:Cash GBP\n2025-04-01 open Income:Grant GBP\n'
        '2025-04-02 * "Grant"\n  Assets:Cash  10.00 GBP\n  Income:Grant\n')
    for command in (["check"], ["position", "--date", "2025-09-30"], ["statement", "--month", "2025-09"]):
        assert main([command[0], "books.beancount", *command[1:]]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        first = err.splitlines()[0]
        assert first.startswith("books.beancount:1: not a pool ledger: it has no s75-pool directive"), first
        assert "does not load plugin" not in err


def test_no_pool_but_other_directives_is_reported_once(pool, capsys):
    rewrite(pool.parent / "agreement.beancount", '2025-04-01 custom "s75-pool" "EB-BCF" "Example Borough Better '
            'Care Fund"\n  host: "Council"\n', "")
    assert main(["check", "ledger/main.beancount"]) == 1
    err = capsys.readouterr().err
    assert err.count("s75-pool directive") == 1  # rules.validate reports it; not again as "not a pool ledger"
    assert "not a pool ledger" not in err


def test_a_pool_without_tranches_or_closes_needs_only_validate():
    """rules.tranches and rules.settlement change nothing in a ledger without s75-tranche or s75-close."""
    worked = WORKED.read_text()
    assert 'plugin "rules.validate"' in worked and 'plugin "rules.' not in worked.replace('plugin "rules.validate"', "")
    assert "s75-tranche" not in worked and "s75-close" not in worked
    assert load_ledger(WORKED).errors == []


def test_an_import_into_it_is_refused(pool, capsys):
    without_plugins(pool)
    extract = next((pool.parent / "extracts" / "2025-26").iterdir())
    imports = sorted(p.name for p in (pool.parent / "imports").iterdir())
    assert main(["import", str(extract), "--ledger", "ledger/main.beancount"]) == 1
    err = capsys.readouterr().err
    assert "ledger/" + MISSING.format("rules.validate") in err and "nothing imported" in err
    assert sorted(p.name for p in (pool.parent / "imports").iterdir()) == imports


def test_the_fava_page_shows_the_same_errors_instead_of_figures(pool):
    from fava.application import create_app

    without_plugins(pool)
    unbalanced_budgets(pool)
    app = create_app([str(pool)], load=True, read_only=True)
    client = app.test_client()
    slug = "example-borough-better-care-fund"
    page = client.get(f"/{slug}/extension/PoolBudget/").get_data(as_text=True)
    assert 'id="s75-errors"' in page
    assert MISSING.format("rules.validate").replace('"', "&#34;") in page
    assert MISSING.format("rules.tranches").replace('"', "&#34;") in page
    assert "data-total" not in page and "s75-download-xlsx" not in page
    download = client.get(f"/{slug}/extension/PoolBudget/download_xlsx?month=2025-09")
    assert download.status_code == 409


def test_the_fava_page_of_the_example_shows_figures(pool):
    from fava.application import create_app

    app = create_app([str(pool)], load=True, read_only=True)
    page = app.test_client().get("/example-borough-better-care-fund/extension/PoolBudget/").get_data(as_text=True)
    assert 's75-errors' not in page and "data-total" in page
