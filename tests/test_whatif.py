"""`s75 whatif`: the same model under a scenario, on DOMAIN.md's worked example, figures by hand.

The pool: Council 8,000,000.00 and ICB 12,000,000.00 (8 : 12). Forecasts at Month 9 equal to the
year's spend: S01 6,500,000 on 6,000,000 (+500,000), S02 4,400,000 on 4,000,000 (+400,000), S03
1,900,000 on 2,000,000 (-100,000), S04 7,600,000 on 7,500,000 (+100,000), S05 nil on 500,000
(-500,000): a net overspend of 400,000.00. Risk share: the first 250,000 equally, the rest in
proportion to contributions; underspends returned in proportion.
"""
from __future__ import annotations

import json
import textwrap

import pytest

from conftest import WORKED
from s75.cli import main

FORECASTS = """
2025-12-31 custom "s75-forecast" "2025-26" "S01" 6500000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S02" 4400000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S03" 1900000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S04" 7600000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S05" 0.00 GBP
"""
RISK_SHARE = """
2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"
  to: 250000.00 GBP
  split: "equal"
2025-04-01 custom "s75-risk-share" "overspend" 2 "tier"
  from: 250000.00 GBP
2025-04-01 custom "s75-risk-share" "underspend" 1 "return"
"""
# Contingency first, then each scheme's variance to its commissioner (docs/risk-share.md).
CONTINGENCY_FIRST = """
2025-04-01 custom "s75-risk-share" "overspend" 1 "absorb"
  schemes: "S05"
2025-04-01 custom "s75-risk-share" "overspend" 2 "commissioner"
"""
DATE = "2025-12-31"


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "main.beancount"
    path.write_text(WORKED.read_text() + FORECASTS + RISK_SHARE)
    (tmp_path / "scenarios").mkdir()
    return path


def whatif(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def shares(position: dict) -> dict:
    return {row["partner"]: row["share"] for row in position["risk_share"]["shares"]}


def test_raising_s04_by_200000_moves_the_overspend_to_600000_and_the_shares_by_the_tiers(ledger, capsys):
    before = ledger.read_bytes()
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--forecast", "S04=+200000", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"current", "scenario"}
    now, then = result["current"], result["scenario"]
    # Now: 125,000 each from the equal tier, then 150,000 by 8 : 12 (60,000 and 90,000).
    assert now["risk_share"]["variance"] == "400000.00"
    assert shares(now) == {"Council": "185000.00", "ICB": "215000.00"}
    # S04's outturn 7,800,000 (+300,000): the net overspend 600,000; the equal tier is still 125,000
    # each, the 350,000 above it by 8 : 12 is 140,000 and 210,000.
    s04 = next(s for s in then["schemes"] if s["id"] == "S04")
    assert (s04["forecast_outturn"], s04["forecast_variance"], s04["forecast_date"]) == ("7800000.00", "300000.00",
                                                                                           DATE)
    assert then["risk_share"]["variance"] == "600000.00"
    assert [step["shares"] for step in then["risk_share"]["steps"]] == [
        [{"partner": "Council", "amount": "125000.00"}, {"partner": "ICB", "amount": "125000.00"}],
        [{"partner": "Council", "amount": "140000.00"}, {"partner": "ICB", "amount": "210000.00"}]]
    assert shares(then) == {"Council": "265000.00", "ICB": "335000.00"}
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["main.beancount", "scenarios"]


def test_the_current_side_is_the_position_command_s_json(ledger, capsys):
    assert main(["position", str(ledger), "--date", DATE, "--json"]) == 0
    position = json.loads(capsys.readouterr().out)
    code, out, _ = whatif(capsys, "whatif", ledger, "--date", DATE, "--forecast", "S04=+200000", "--json")
    assert code == 0 and json.loads(out)["current"] == position


def test_an_absolute_forecast_can_turn_the_overspend_into_an_underspend(ledger, capsys):
    # S01 at 5,800,000 is 200,000 under its budget: net -200,000 + 400,000 - 100,000 + 100,000 - 500,000
    # = an underspend of 300,000, returned 8 : 12.
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--forecast", "S01=5,800,000", "--json")
    assert code == 0, err
    then = json.loads(out)["scenario"]
    assert then["risk_share"]["side"] == "underspend"
    assert then["risk_share"]["variance"] == "-300000.00"
    assert shares(then) == {"Council": "-120000.00", "ICB": "-180000.00"}


def test_a_scenario_file_replaces_the_steps_in_force_and_adds_forecasts(ledger, capsys):
    (ledger.parent / "scenarios" / "contingency.beancount").write_text(CONTINGENCY_FIRST)
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--scenario", "contingency", "--json")
    assert code == 0, err
    then = json.loads(out)["scenario"]
    # S05's 500,000 underspend absorbs S01 500,000, S02 400,000, S04 100,000 (all of them, 1,000,000) in
    # proportion: 250,000, 200,000, 50,000; what remains to commissioners: S01 250,000 (ICB 60% 150,000,
    # Council 40% 100,000), S02 200,000 Council, S03 -100,000 half each, S04 50,000 ICB.
    assert then["risk_share"]["variance"] == "400000.00"
    assert [s["kind"] for s in then["risk_share"]["steps"]] == ["absorb", "commissioner"]
    assert shares(then) == {"Council": "250000.00", "ICB": "150000.00"}

    (ledger.parent / "scenarios" / "contingency.beancount").write_text(
        CONTINGENCY_FIRST + '2025-11-30 custom "s75-forecast" "2025-26" "S04" 7800000.00 GBP\n')
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--scenario", "contingency", "--json")
    assert code == 0, err
    then = json.loads(out)["scenario"]
    # S04 +300,000: overspends 500,000 / 400,000 / 300,000 (5 : 4 : 3) absorb S05's 500,000 as 208,333.33,
    # 166,666.67 (the odd penny, the largest remainder) and 125,000.00 (each scheme's variance moves down
    # by it, S05's up by 500,000). Left: S01 291,666.67, split
    # 60 : 40 as 175,000.00 ICB and 116,666.67 Council (the odd penny again); S02 233,333.33 Council;
    # S03 -50,000 each; S04 175,000 ICB. Council 116,666.67 + 233,333.33 - 50,000 = 300,000.00; ICB
    # 175,000 - 50,000 + 175,000 = 300,000.00.
    absorb = then["risk_share"]["steps"][0]["schemes"]
    assert absorb == [{"scheme": "S01", "amount": "-208333.33"}, {"scheme": "S02", "amount": "-166666.67"},
                      {"scheme": "S04", "amount": "-125000.00"}, {"scheme": "S05", "amount": "500000.00"}]
    assert then["risk_share"]["variance"] == "600000.00"
    assert shares(then) == {"Council": "300000.00", "ICB": "300000.00"}


def test_a_relative_change_applies_to_the_scenario_s_own_forecast(ledger, capsys):
    (ledger.parent / "scenarios" / "s04.beancount").write_text(
        '2025-12-31 custom "s75-forecast" "2025-26" "S04" 7700000.00 GBP\n')
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--scenario", "s04",
                            "--forecast", "S04=+100000", "--json")
    assert code == 0, err
    then = json.loads(out)["scenario"]
    assert next(s for s in then["schemes"] if s["id"] == "S04")["forecast_outturn"] == "7800000.00"
    assert shares(then) == {"Council": "265000.00", "ICB": "335000.00"}


def test_steps_file_replaces_the_set_and_the_table_shows_both_side_by_side(ledger, capsys, tmp_path):
    steps = tmp_path / "fifty-fifty.beancount"
    steps.write_text('2025-04-01 custom "s75-risk-share" "overspend" 1 "fixed"\n  split: "Council 50, ICB 50"\n')
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--steps", steps)
    assert code == 0, err
    assert "Council now" in out and "Council scenario" in out
    assert "185,000.00" in out and "215,000.00" in out  # now
    assert "200,000.00" in out  # 50 : 50 of 400,000
    row = next(line for line in out.splitlines() if line.startswith("│ Council"))
    assert row.split("│")[2:5] == [" 185,000.00 ", "         200,000.00 ", "  15,000.00 "]


def test_a_variation_after_the_scenario_s_set_is_not_in_force_on_the_date(tmp_path, capsys):
    # The ledger varies the overspend steps from 1 October; the scenario replaces that set (the one in
    # force on 31 December), and the April set still holds for dates before October.
    ledger = tmp_path / "main.beancount"
    variation = RISK_SHARE.replace("2025-04-01", "2025-10-01").replace(
        '2025-10-01 custom "s75-risk-share" "underspend" 1 "return"\n', "")
    ledger.write_text(WORKED.read_text() + FORECASTS + RISK_SHARE + variation.replace("250000", "300000"))
    steps = tmp_path / "steps.beancount"
    steps.write_text('2025-04-01 custom "s75-risk-share" "overspend" 1 "fixed"\n  split: "Council 50, ICB 50"\n')
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--steps", steps, "--json")
    assert code == 0, err
    result = json.loads(out)
    # now: 150,000 each from the equal tier to 300,000, then 100,000 by 8 : 12 (40,000 / 60,000)
    assert shares(result["current"]) == {"Council": "190000.00", "ICB": "210000.00"}
    assert result["current"]["risk_share"]["in_force_from"] == "2025-10-01"
    assert shares(result["scenario"]) == {"Council": "200000.00", "ICB": "200000.00"}
    assert result["scenario"]["risk_share"]["in_force_from"] == "2025-10-01"


@pytest.mark.parametrize("args, message", [
    (["--forecast", "S99=100"], "--forecast S99=100: unknown scheme S99 (the pool's schemes: S01, S02, S03, S04, S05)"),
    (["--forecast", "S04=lots"], '--forecast "S04=lots": "lots" is not an amount'),
    (["--forecast", "S04"], '--forecast "S04" should be SCHEME=AMOUNT'),
    (["--forecast", "S04=+1.005"], "has more than two decimals"),
    (["--forecast", "S04=-8000000"], "--forecast S04=-8000000: takes S04's forecast outturn from 7,600,000.00 to "
                                     "-400,000.00: an outturn cannot be below nil"),
    (["--forecast", "S04=1", "--forecast", "S04=2"], "--forecast S04 is given twice"),
    (["--scenario", "nope"], 's75 whatif: no scenario "nope": '),
    (["--scenario", "../main"], "should be a scenario's name"),
    ([], "nothing to change"),
])
def test_bad_input_is_one_line_and_exit_1(ledger, capsys, args, message):
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, *args)
    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("text, message", [
    ('2025-04-01 custom "s75-risk-share" "overspend" 1 "fixed"\n  split: "Council 50, ICB 40"\n',
     "bad.beancount:1: s75-risk-share: shares sum to 90%, not 100%"),
    ('2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"\n  to: 100000.00 GBP\n',
     "bad.beancount:1: overspend steps dated 2025-04-01 leave the variance above 100,000.00 with nobody"),
    ('2025-12-31 custom "s75-forecast" "2025-26" "S09" 100.00 GBP\n',
     'bad.beancount:1: s75-forecast: unknown scheme "S09"'),
    ('2025-12-31 custom "s75-forecast" "2024-25" "S01" 100.00 GBP\n',
     "bad.beancount:1: s75-forecast: the scenario's forecast is for 2024-25, but 2025-12-31 is in 2025-26"),
    ('2025-12-31 * "Payee" "spend"\n  Expenses:Scheme:S01  1.00 GBP\n  Assets:Pool:Cash\n',
     "bad.beancount:1: a scenario holds only s75-forecast and s75-risk-share directives, not transaction"),
    ('include "other.beancount"\n', "a scenario cannot include other files"),
    ('2025-12-31 custom "s75-forecast" "2025-26" "S01" 100.00\n', "bad.beancount:1:"),
    ("; nothing here\n", "holds no s75-forecast or s75-risk-share directive"),
])
def test_a_scenario_with_errors_is_one_line_at_its_file_and_line(ledger, capsys, text, message):
    (ledger.parent / "scenarios" / "bad.beancount").write_text(text)
    code, out, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--scenario", "bad")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and "Traceback" not in err


def test_forecasts_are_refused_from_31_march_but_steps_apply_to_the_actual_outturn(ledger, capsys, tmp_path):
    code, _, err = whatif(capsys, "whatif", ledger, "--date", "2026-03-31", "--forecast", "S04=+200000")
    assert code == 1 and "from 2026-03-31 (31 March) the outturn of 2025-26 is the actual spend" in err
    steps = tmp_path / "steps.beancount"
    steps.write_text(textwrap.dedent(CONTINGENCY_FIRST))
    code, out, err = whatif(capsys, "whatif", ledger, "--date", "2026-03-31", "--steps", steps, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["scenario"]["risk_share"]["basis"] == "actual"
    assert shares(result["current"]) == {"Council": "185000.00", "ICB": "215000.00"}
    assert shares(result["scenario"]) == {"Council": "250000.00", "ICB": "150000.00"}


def test_the_example_pool_s_scenario_runs(capsys):
    from conftest import EXAMPLE
    code, out, err = whatif(capsys, "whatif", EXAMPLE, "--date", "2025-12-31", "--scenario", "winter-pressures")
    assert code == 0, err
    assert "Council scenario" in out and "The ledger is unchanged" in out


def test_a_scheme_without_a_budget_in_the_year_has_no_outturn_to_change(tmp_path, capsys):
    ledger = tmp_path / "main.beancount"
    ledger.write_text(WORKED.read_text() + FORECASTS + RISK_SHARE + textwrap.dedent("""
        2025-04-01 open Expenses:Scheme:S06 GBP
        2025-04-01 custom "s75-scheme" "S06" "Winter beds" Expenses:Scheme:S06
          type: "Bed-based intermediate care services"
          area: "Acute"
          commissioner: "ICB"
          provider: "Worked Example Hospitals NHS Trust"
          source: "MinimumNHS"
          recurrent: FALSE
          new: TRUE
        """))
    assert main(["check", str(ledger)]) == 0
    capsys.readouterr()
    code, _, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--forecast", "S06=100000")
    assert code == 1 and err.strip() == ("s75 whatif: --forecast S06=100000: scheme S06 has no budget for 2025-26, "
                                         "so no outturn to change")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "s06.beancount").write_text('2025-12-31 custom "s75-forecast" "2025-26" "S06" 1.00 GBP\n')
    code, _, err = whatif(capsys, "whatif", ledger, "--date", DATE, "--scenario", "s06")
    assert code == 1 and "s06.beancount:1: s75-forecast: scheme S06 has no budget for 2025-26" in err


def test_an_amount_may_be_written_with_a_pound_sign_and_thousands_separators():
    from decimal import Decimal as D

    from rules.scenario import parse_amount
    assert parse_amount("£5,800,000") == (D("5800000.00"), False)
    assert parse_amount("+£200,000.50") == (D("200000.50"), True)
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount("££5")
