"""`s75 statement`: files named for pool and month, identical bytes, bad input writes nothing."""
from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from conftest import EXAMPLE, WORKED
from htmlcells import cells
from s75.cli import main

NAMES = ["EB-BCF-2025-09-statement.html", "EB-BCF-2025-09-statement.pdf", "EB-BCF-2025-09-statement.xlsx"]


@pytest.fixture(scope="module")
def month6(tmp_path_factory):
    out = tmp_path_factory.mktemp("statement")
    assert main(["statement", str(EXAMPLE), "--month", "2025-09", "--out", str(out)]) == 0
    return out


def test_writes_the_three_files_named_for_pool_and_month(month6, capsys):
    assert sorted(p.name for p in month6.iterdir()) == NAMES


def test_two_runs_give_identical_bytes(month6, tmp_path):
    assert main(["statement", str(EXAMPLE), "--month", "2025-09", "--out", str(tmp_path)]) == 0
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == (month6 / name).read_bytes(), name


def position_json(capsys) -> dict:
    capsys.readouterr()
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_html_totals_equal_the_position(month6, capsys):
    totals = position_json(capsys)["totals"]
    got = cells((month6 / NAMES[0]).read_text()).cells
    for field, value in totals["schemes"].items():
        assert D(got[("total=schemes", field)].replace(",", "").replace("(", "-").replace(")", "")) == D(value)
    for field, value in totals["partners"].items():
        assert D(got[("total=partners", field)].replace(",", "")) == D(value)


@pytest.mark.parametrize("month", ["2024-09", "2026-04"])
def test_month_outside_the_pools_years_writes_nothing(month, tmp_path, capsys):
    assert main(["statement", str(EXAMPLE), "--month", month, "--out", str(tmp_path / "out")]) == 1
    assert "not one of the pool's years" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_month_text(tmp_path, capsys):
    assert main(["statement", str(EXAMPLE), "--month", "September", "--out", str(tmp_path)]) == 1
    assert "not a month as YYYY-MM" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_ledger_with_errors_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.beancount"
    bad.write_text(WORKED.read_text().replace('split: "ICB 50, Council 50"', 'split: "ICB 50, Council 40"', 1))
    out = tmp_path / "out"
    assert main(["statement", str(bad), "--month", "2026-03", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "joint split sums to 90%" in err and "no statement written" in err
    assert not out.exists()


def test_a_failure_midway_leaves_no_half_written_files(tmp_path, monkeypatch):
    import reports.publish as publish
    real = publish.os.replace
    calls = []

    def fail_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(src, dst)

    (tmp_path / "a.html").write_bytes(b"last month")
    monkeypatch.setattr(publish.os, "replace", fail_second)
    with pytest.raises(OSError):
        publish.write_files(tmp_path, {"a.html": b"new", "b.xlsx": b"new"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html"]
    assert (tmp_path / "a.html").read_bytes() == b"last month"
