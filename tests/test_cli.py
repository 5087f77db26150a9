"""The `s75` command: exit codes, error format, JSON shape."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import EXAMPLE, WORKED
from s75.cli import main


def test_check_example_pool_is_clean(capsys):
    assert main(["check", str(EXAMPLE)]) == 0
    assert "no errors" in capsys.readouterr().out


def test_check_reports_file_and_line_and_exits_1(tmp_path, capsys):
    ledger = tmp_path / "bad.beancount"
    text = WORKED.read_text().replace('split: "ICB 60, Council 40"', 'split: "ICB 60, Council 50"')
    ledger.write_text(text)
    assert main(["check", str(ledger)]) == 1
    err = capsys.readouterr().err
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"s75-scheme" "S01"' in l)
    assert f"bad.beancount:{line}: s75-scheme: joint split sums to 110%, not 100%" in err
    assert "Traceback" not in err


def test_check_missing_file_is_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.beancount")]) == 1
    err = capsys.readouterr().err
    assert "nope.beancount" in err and "Traceback" not in err


def test_position_json_shape(capsys):
    assert main(["position", str(WORKED), "--date", "2026-03-31", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"pool", "year", "date", "month", "partners", "schemes", "totals"}
    assert (out["year"], out["date"], out["month"]) == ("2025-26", "2026-03-31", 12)
    assert out["totals"]["schemes"]["forecast_variance"] == "400000.00"
    assert out["schemes"][0]["split"] == [{"partner": "ICB", "percent": "60.00"},
                                          {"partner": "Council", "percent": "40.00"}]


def test_position_defaults_to_the_latest_month_end(capsys):
    assert main(["position", str(EXAMPLE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["date"], out["month"]) == ("2025-09-30", 6)


def test_position_table_shows_run_rate_note(capsys):
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30"]) == 0
    out = capsys.readouterr().out
    assert "Month 6, to 30 September 2025" in out
    assert "24,250,000.00" in out and "924,000.00 r" in out and "run-rate" in out


def test_position_date_outside_the_pool(capsys):
    assert main(["position", str(EXAMPLE), "--date", "2024-06-30"]) == 1
    assert "2024-25, which is not one of the pool's years (2025-26)" in capsys.readouterr().err


def test_console_script_is_installed():
    script = shutil.which("s75", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run([script, "check", str(EXAMPLE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_example_pool_month_6_risk_share_and_tranche(capsys):
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    r = out["risk_share"]
    # Net forecast overspend 254,000.00: the first 250,000.00 equally (125,000.00 each); the other
    # 4,000.00 by contributions 8,450,000 : 15,800,000 -> 1,393.81 / 2,606.19.
    assert (r["basis"], r["side"], r["variance"], r["in_force_from"]) == \
        ("forecast", "overspend", "254000.00", "2025-04-01")
    assert r["shares"] == [{"partner": "Council", "share": "126393.81"}, {"partner": "ICB", "share": "127606.19"}]
    assert [s["kind"] for s in r["steps"]] == ["absorb", "tier", "tier"]
    (tranche,) = out["tranches"]
    assert (tranche["released"], tranche["redirected"], tranche["pending"]) == ("327800.00", "119200.00", "0.00")
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30"]) == 0
    table = capsys.readouterr().out
    assert "Risk share on the forecast outturn: net overspend 254,000.00" in table
    assert "119,200.00 to S05" in table


def test_an_amount_too_long_to_add_up_is_an_error_at_its_line_not_a_traceback(tmp_path, capsys):
    ledger = tmp_path / "long.beancount"
    text = WORKED.read_text() + ('\n2025-05-20 * "Care" "An amount past the pence Decimal keeps"\n'
                                 '  Expenses:Scheme:S01  100000000000000000000000000.01 GBP\n  Assets:Pool:Cash\n')
    ledger.write_text(text)
    assert main(["check", str(ledger)]) == 1
    err = capsys.readouterr().err
    line = len(text.splitlines()) - 2
    assert f"long.beancount:{line}: cannot be booked: an amount has more digits than can be added up" in err
    assert "Traceback" not in err
