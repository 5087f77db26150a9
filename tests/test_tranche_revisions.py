"""A revised metric figure moves a tranche's money from the revision's date, never before: Month 6 stays
as it was issued. Figures from DOMAIN.md's tranche: baseline 10,000, plan 9,700, 1,490.00 per admission
avoided, 447,000.00 in all; the example ledger's first figure for 2025-26 H1 is 9,780 (220 avoided:
327,800.00 released, 119,200.00 to the contingency S05)."""
from __future__ import annotations

import datetime
import json
import shutil

from beancount import loader

from conftest import EXAMPLE
from s75.cli import main

REVISION = ('2026-02-16 custom "s75-metric-actual" "NEA" "2025-26 H1" 9650\n'
            '  revises: 2025-10-17\n')


def ledger_with(tmp_path, text: str):
    shutil.copytree(EXAMPLE.parent, tmp_path / "ledger", ignore=shutil.ignore_patterns(".*"))
    ledger = tmp_path / "ledger" / "main.beancount"
    (tmp_path / "ledger" / "imports" / "revision.beancount").write_text(text)
    return ledger


def position(capsys, ledger, date: str) -> dict:
    assert main(["position", str(ledger), "--date", date, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def s05_budget(data: dict) -> str:
    return next(s["annual_budget"] for s in data["schemes"] if s["id"] == "S05")


def test_a_revision_counts_from_its_date_and_month_6_stays_as_issued(tmp_path, capsys):
    ledger = ledger_with(tmp_path, REVISION)
    month6 = position(capsys, ledger, "2025-09-30")
    assert month6["tranches"][0]["released"] == "327800.00"
    assert s05_budget(month6) == "719200.00"  # 600,000.00 + 119,200.00 redirected
    january = position(capsys, ledger, "2026-01-31")
    assert january["tranches"][0]["released"] == "327800.00" and s05_budget(january) == "719200.00"
    february = position(capsys, ledger, "2026-02-28")
    period = february["tranches"][0]["periods"][0]
    assert (february["tranches"][0]["released"], period["actual"]) == ("447000.00", "9650")
    assert s05_budget(february) == "600000.00"  # the 119,200.00 goes back to S04 on 16 February


def test_the_revision_is_a_generated_virement_dated_when_it_was_published(tmp_path):
    ledger = ledger_with(tmp_path, REVISION)
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    moved = [e for e in entries if getattr(e, "type", "") == "s75-virement" and e.date == datetime.date(2026, 2, 16)]
    assert len(moved) == 1
    year, source, to, amount = (v.value for v in moved[0].values)
    assert (year, source, to, amount.number) == ("2025-26", "S05", "S04", 119200)
    assert "revised from 9780 to 9650" in moved[0].meta["working"]


def test_a_second_figure_without_revises_is_an_error(tmp_path, capsys):
    ledger = ledger_with(tmp_path, '2026-02-16 custom "s75-metric-actual" "NEA" "2025-26 H1" 9650\n')
    assert main(["check", str(ledger)]) == 1
    err = capsys.readouterr().err
    assert "revision.beancount:1: a second figure for NEA 2025-26 H1 (9650; the first, 9780" in err
    assert "needs revises: 2025-10-17" in err


def test_a_revision_naming_no_earlier_figure_is_an_error(tmp_path, capsys):
    ledger = ledger_with(tmp_path, REVISION.replace("2025-10-17", "2025-10-18"))
    assert main(["check", str(ledger)]) == 1
    assert "revision.beancount:1: NEA 2025-26 H1: revises: 2025-10-18 names no earlier figure" in \
        capsys.readouterr().err


def test_the_statement_shows_the_revision(tmp_path, capsys):
    ledger = ledger_with(tmp_path, REVISION)
    assert main(["statement", str(ledger), "--month", "2026-02", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    html = next((tmp_path / "out").glob("*.html")).read_text()
    assert "released; revised 2026-02-16 from 9780" in html
    assert main(["position", str(ledger), "--date", "2026-02-28", "--json"]) == 0
    period = json.loads(capsys.readouterr().out)["tranches"][0]["periods"][0]
    assert period["revised_from"] == {"actual": "9780", "actual_date": "2025-10-17"}
