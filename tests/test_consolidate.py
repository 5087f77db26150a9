"""`s75 consolidate`: three pools' exports read with DuckDB; totals worked by hand; exact money.

Three copies of DOMAIN.md's worked example (Council 8,000,000.00, ICB 12,000,000.00; first 250,000
of an overspend equally, the rest 8 : 12), each with its own pool ID:
  WE-A at 31 December, forecasts equal to the year's spend: overspend 400,000 (Council 185,000, ICB
       215,000); locked to 2025-12;
  WE-B the same with S04 forecast 7,800,000: overspend 600,000 (Council 265,000, ICB 335,000); no lock;
  WE-C at 30 September, before the forecasts were made: S01 at its run-rate 3,200,000 / 6 x 12 =
       6,400,000, the others at budget, overspend 400,000 (185,000 / 215,000); locked to 2025-06, so
       three months late and unlocked.
"""
from __future__ import annotations

import datetime
import re
import shutil
import zipfile
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from beancount import loader
from openpyxl import load_workbook

from conftest import WORKED
from reports.atomic_files import replace_files
from reports.consolidation import consolidate
from rules.position import build_position
from s75.cli import main
from s75.export import export_files

D = Decimal
FORECASTS = """
2025-12-31 custom "s75-forecast" "2025-26" "S01" 6500000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S02" 4400000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S03" 1900000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S04" 7600000.00 GBP
2025-12-31 custom "s75-forecast" "2025-26" "S05" 0.00 GBP
2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"
  to: 250000.00 GBP
  split: "equal"
2025-04-01 custom "s75-risk-share" "overspend" 2 "tier"
  from: 250000.00 GBP
"""
S04_UP = '2025-12-31 custom "s75-forecast" "2025-26" "S04" 7800000.00 GBP\n'


def pool_ledger(folder, pool_id, name, extra=""):
    text = WORKED.read_text().replace('"s75-pool" "WE" "Worked Example Pool"', f'"s75-pool" "{pool_id}" "{name}"')
    folder.mkdir()
    path = folder / "main.beancount"
    path.write_text(text + FORECASTS + extra)
    return path


def export_locked(ledger, date, locked, out):
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    replace_files(out, export_files(build_position(entries, date), locked))


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("pools")
    a = pool_ledger(root / "a", "WE-A", "Worked Example A")
    b = pool_ledger(root / "b", "WE-B", "=SUM(1,2)", S04_UP)
    c = pool_ledger(root / "c", "WE-C", "Worked Example C")
    export_locked(a, datetime.date(2025, 12, 31), "2025-12", root / "north")
    assert main(["export", str(b), "--out", str(root / "north"), "--date", "2025-12-31"]) == 0
    export_locked(c, datetime.date(2025, 9, 30), "2025-06", root / "south")
    return root


def rows(result, key):
    section = next(s for s in result.sections if s.key == key)
    names = [c for c, _, _ in section.columns]
    return [dict(zip(names, row)) for row in section.rows]


def test_totals_by_pool_area_type_and_kind_are_the_hand_figures(exports):
    result = consolidate([exports / "north", exports / "south"])
    assert (result.pools, result.latest_month, result.lock_unknown) == (3, "2025-12", 1)
    pools = {r["pool_id"]: r for r in rows(result, "pools")}
    assert {k: (r["forecast_outturn"], r["forecast_variance"], r["shared"]) for k, r in pools.items()} == {
        "WE-A": (D("20400000.00"), D("400000.00"), D("400000.00")),
        "WE-B": (D("20600000.00"), D("600000.00"), D("600000.00")),
        "WE-C": (D("20400000.00"), D("400000.00"), D("400000.00")),
        None: (D("61400000.00"), D("1400000.00"), D("1400000.00"))}
    assert pools[None]["pool_name"] == "All pools, 2025-26"
    assert (pools[None]["agreed"], pools[None]["actual_to_date"]) == (D("60000000.00"), D("9600000.00"))
    assert isinstance(pools[None]["agreed"], Decimal)
    areas = {r["area"]: (r["pools"], r["schemes"], r["annual_budget"], r["forecast_outturn"], r["forecast_variance"])
             for r in rows(result, "areas")}
    assert areas == {
        "Acute": (3, 3, D("22500000.00"), D("22900000.00"), D("400000.00")),  # S04: 7.6m + 7.8m + 7.5m (budget)
        "Community health": (3, 6, D("24000000.00"), D("25200000.00"), D("1200000.00")),  # S01 + S03
        "Other": (3, 3, D("1500000.00"), D("500000.00"), D("-1000000.00")),  # S05: nil, nil, budget
        "Social care": (3, 3, D("12000000.00"), D("12800000.00"), D("800000.00"))}  # S02: 4.4m, 4.4m, 4.0m
    types = {r["type"]: (r["annual_budget"], r["forecast_variance"]) for r in rows(result, "types")}
    assert types["Home-based intermediate care services"] == (D("34500000.00"), D("1200000.00"))  # S02 + S04
    kinds = {r["kind"]: (r["pools"], r["agreed"], r["exposure"]) for r in rows(result, "kinds")}
    assert kinds == {"council": (3, D("24000000.00"), D("635000.00")),  # 185,000 + 265,000 + 185,000
                     "nhs": (3, D("36000000.00"), D("765000.00"))}  # 215,000 + 335,000 + 215,000


def test_exposure_by_partner_and_late_or_unlocked_pools(exports):
    result = consolidate([exports / "north", exports / "south"])
    exposure = [(r["pool_id"], r["partner"], r["forecast_variance"], r["risk_share"]) for r in rows(result, "exposure")]
    assert exposure == [("WE-A", "Council", D("400000.00"), D("185000.00")),
                        ("WE-A", "ICB", D("400000.00"), D("215000.00")),
                        ("WE-B", "Council", D("600000.00"), D("265000.00")),
                        ("WE-B", "ICB", D("600000.00"), D("335000.00")),
                        ("WE-C", "Council", D("400000.00"), D("185000.00")),
                        ("WE-C", "ICB", D("400000.00"), D("215000.00"))]
    status = rows(result, "status")
    assert [(r["pool_id"], r["statement_month"], r["months_behind"], r["locked_through"], r["unlocked"])
            for r in status] == [("WE-C", "2025-09", 3, "2025-06", "yes")]


def test_the_command_writes_html_and_xlsx_with_exact_money(exports, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["consolidate", str(exports / "north"), str(exports / "south"), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["consolidation.html", "consolidation.xlsx"]
    html = (out / "consolidation.html").read_text()
    assert "61,400,000.00" in html and "635,000.00" in html and "(1,000,000.00)" in html
    assert "1 pool's export records no lock" in html and "whether the statement month is locked is not known" in html
    assert "<td class=\"text\">=SUM(1,2)</td>" in html
    book = load_workbook(out / "consolidation.xlsx")
    assert book.sheetnames == ["Pools", "By area of spend", "By scheme type", "By partner kind",
                               "Exposure by partner", "Late or unlocked", "Notes"]
    kinds = book["By partner kind"]
    headings = [c.value for c in kinds[4]]
    column = headings.index("Risk-share exposure") + 1
    cell = kinds.cell(5, column)
    assert kinds.cell(5, 2).value == "council" and cell.data_type == "n"
    # The stored figure is the decimal itself, not a float's digits.
    with zipfile.ZipFile(out / "consolidation.xlsx") as z:
        sheets = {i: z.read(f"xl/worksheets/sheet{i}.xml").decode() for i in range(1, 8)}
    assert re.search(rf'<c r="{cell.coordinate}"[^>]*t="n"[^>]*><v>635000.00</v>', sheets[4])
    pools = book["Pools"]
    money_cells = re.findall(r'<c r="([F-K]|[MN])\d+"[^>]*t="n"[^>]*><v>([^<]*)</v>', sheets[1])
    assert money_cells and all(re.fullmatch(r"-?\d+\.\d\d", v) for _, v in money_cells)
    assert "61400000.00" in [v for _, v in money_cells]
    name = next(row[1] for row in pools.iter_rows(min_row=5) if row[0].value == "WE-B")
    assert name.data_type == "s" and name.value == "=SUM(1,2)"  # text, never a formula
    assert "t=\"f\"" not in sheets[1] and "<f>" not in sheets[1]


def test_newer_schema_and_duplicate_pools_are_refused(exports, tmp_path, capsys):
    newer = tmp_path / "newer"
    shutil.copytree(exports / "south", newer)
    table = pq.read_table(newer / "WE-C.pool.parquet")
    index = table.schema.get_field_index("schema_version")
    table = table.set_column(index, table.schema.field(index), pa.array([2], pa.int32()))
    pq.write_table(table, newer / "WE-C.pool.parquet")
    for folders, message in (([exports / "north", newer], "written with schema 2; this s75 reads schema 1"),
                             ([exports / "south", exports / "south"], "pool WE-C is given more than once")):
        out = tmp_path / "out"
        assert main(["consolidate", *map(str, folders), "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert message in err and "nothing written" in err and len(err.strip().splitlines()) == 1
        assert not out.exists()


def test_missing_empty_and_incomplete_folders_are_one_line(exports, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    partial = tmp_path / "partial"
    shutil.copytree(exports / "south", partial)
    (partial / "WE-C.monthly.parquet").unlink()
    for folder, message in ((tmp_path / "nope", "no such folder"), (empty, "holds no pool's export"),
                            (partial, "WE-C.monthly.parquet: missing: WE-C's export is incomplete")):
        assert main(["consolidate", str(folder), "--out", str(tmp_path / "out")]) == 1
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_bench_consolidation_stage_runs_on_three_tiny_pools(tmp_path):
    from bench.run import main as bench_main
    results = tmp_path / "RESULTS.md"
    assert bench_main(["--sizes", "--pools", "3", "--pool-payments", "200", "--data", str(tmp_path / "data"),
                       "--results", str(results)]) == 0
    text = results.read_text()
    assert "Consolidation: 3 pools of 200 payments each" in text
    assert "| export, per pool |" in text and "| consolidate, all pools |" in text
    report = tmp_path / "data" / "pools" / "report"
    assert sorted(p.name for p in report.iterdir()) == ["consolidation.html", "consolidation.xlsx"]
    assert len(list((tmp_path / "data" / "pools" / "exports").glob("*.pool.parquet"))) == 3
