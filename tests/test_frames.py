"""reports.frames: the position as DataFrames with exact money; `s75 export` writes them as Parquet."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from beancount.core import data
from beancount.parser.grammar import ValueType

from conftest import EXAMPLE, WORKED
from reports.frames import COLUMNS, SCHEMA_VERSION, TABLES, latest_lock, position_frames
from reports.position_json import position_to_json
from rules.position import build_position
from s75.cli import main
from s75.export import ARROW, export_files

D = Decimal
RISK_SHARE = """
2025-12-31 custom "s75-forecast" "2025-26" "S04" 7800000.00 GBP
2025-04-01 custom "s75-risk-share" "overspend" 1 "tier"
  to: 250000.00 GBP
  split: "equal"
2025-04-01 custom "s75-risk-share" "overspend" 2 "tier"
  from: 250000.00 GBP
"""


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    """The worked example with S04 forecast at 7,800,000 and tiered risk share, at Month 9."""
    from beancount import loader
    path = tmp_path_factory.mktemp("worked") / "main.beancount"
    path.write_text(WORKED.read_text() + RISK_SHARE)
    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    return build_position(entries, datetime.date(2025, 12, 31))


def test_every_table_has_its_documented_columns_in_order(worked, example_entries):
    for position in (worked, build_position(example_entries, datetime.date(2025, 9, 30))):
        frames = position_frames(position)
        assert tuple(frames) == TABLES
        for name, frame in frames.items():
            assert list(frame.columns) == [c for c, _, _ in COLUMNS[name]], name
            assert (frame["pool_id"] == position.pool.id).all()
            for column, kind, _ in COLUMNS[name]:
                if kind in ("money", "percent", "number", "date"):
                    assert frame[column].dtype == object, (name, column)
                    assert all(v is None or not isinstance(v, float) for v in frame[column]), (name, column)


def test_money_is_decimal_and_the_figures_are_the_worked_example_s(worked):
    frames = position_frames(worked)
    schemes = frames["schemes"].set_index("scheme")
    # Month 9: S01 has spent 3,200,000 (run-rate 3,200,000 / 9 x 12 = 4,266,666.67); S04 forecast 7,800,000.
    assert schemes.loc["S01", "actual_to_date"] == D("3200000.00")
    assert isinstance(schemes.loc["S01", "actual_to_date"], Decimal)
    assert (schemes.loc["S01", "forecast_outturn"], schemes.loc["S01", "forecast_basis"]) == (D("4266666.67"), "run-rate")
    assert schemes.loc["S04", "forecast_variance"] == D("300000.00")
    assert schemes.loc["S04", "forecast_date"] == datetime.date(2025, 12, 31)
    assert schemes.loc["S01", "split"] == "ICB 60.00, Council 40.00"
    assert schemes.loc["S02", "benefits"] is None
    # The net: -1,733,333.33 + 7,800,000 - 7,500,000 = an underspend of 1,433,333.33; no underspend rule.
    pool = frames["pool"].iloc[0]
    assert (pool["variance"], pool["side"], pool["statement_month"], pool["month"]) == (
        D("-1433333.33"), "underspend", "2025-12", 9)
    assert pool["schema_version"] == SCHEMA_VERSION
    partners = frames["partners"].set_index("partner")
    assert partners.loc["Council", "share"] == D("40.00") and partners.loc["ICB", "share"] == D("60.00")
    assert partners.loc["ICB", "agreed"] == D("12000000.00")
    assert partners.loc["ICB", "received"] == D("12000000.00")


def test_monthly_actuals_add_up_exactly_to_the_actual_to_date(worked):
    monthly = position_frames(worked)["monthly"]
    assert len(monthly) == 5 * 12
    s01 = monthly[monthly["scheme"] == "S01"].set_index("month")
    assert s01.loc[6, "actual"] == D("3200000.00") and s01.loc[6, "month_end"] == datetime.date(2025, 9, 30)
    assert s01.loc[9, "actual"] == D("0.00")
    assert s01.loc[10, "actual"] is None  # after the position's month
    assert s01["budget"].sum() == D("6000000.00")
    sums = monthly.dropna(subset=["actual"]).groupby("scheme")["actual"].sum()
    schemes = position_frames(worked)["schemes"].set_index("scheme")
    for scheme, total in sums.items():
        assert isinstance(total, Decimal) and total == schemes.loc[scheme, "actual_to_date"]


def test_frames_carry_the_same_figures_as_the_position_json(example_entries):
    position = build_position(example_entries, datetime.date(2025, 9, 30))
    frames, shape = position_frames(position), position_to_json(position)
    for row, scheme in zip(frames["schemes"].itertuples(), shape["schemes"]):
        assert row.scheme == scheme["id"]
        for field in ("annual_budget", "budget_to_date", "actual_to_date", "forecast_outturn", "forecast_variance"):
            assert f"{getattr(row, field):.2f}" == scheme[field]
    steps = frames["risk_steps"]
    for step in shape["risk_share"]["steps"]:
        for share in step["shares"]:
            found = steps[(steps["step"] == step["step"]) & (steps["partner"] == share["partner"])]
            assert f"{found['amount'].item():.2f}" == share["amount"]
    exposure = dict(zip(frames["partners"]["partner"], frames["partners"]["risk_share"]))
    assert {k: f"{v:.2f}" for k, v in exposure.items()} == {s["partner"]: s["share"]
                                                          for s in shape["risk_share"]["shares"]}
    tranche = frames["tranches"].iloc[0]
    assert (tranche["released"], tranche["redirected"], tranche["status"]) == (
        D(shape["tranches"][0]["periods"][0]["released"]), D(shape["tranches"][0]["periods"][0]["redirected"]),
        shape["tranches"][0]["periods"][0]["status"])
    assert len(frames["metrics"]) == len(position.metrics)


def test_latest_lock_reads_s75_lock_directives():
    def lock(month):
        return data.Custom({"filename": "x", "lineno": 1}, datetime.date(2025, 10, 6), "s75-lock",
                           [ValueType(month, str)])
    assert latest_lock([]) is None
    assert latest_lock([lock("2025-07"), lock("2025-09"), lock("2025-08")]) == "2025-09"


def test_parquet_types_are_exact_decimals_and_versioned(worked):
    files = export_files(worked, locked_through="2025-09")
    assert sorted(files) == sorted(f"WE.{table}.parquet" for table in TABLES)
    for table in TABLES:
        parquet = pq.read_table(pa.BufferReader(files[f"WE.{table}.parquet"]))
        assert parquet.schema.metadata[b"s75.schema_version"] == str(SCHEMA_VERSION).encode()
        assert parquet.schema.metadata[b"s75.table"] == table.encode()
        for column, kind, text in COLUMNS[table]:
            field = parquet.schema.field(column)
            assert field.type == ARROW[kind]
            assert field.metadata[b"description"] == text.encode()
    assert ARROW["money"] == pa.decimal128(18, 2)
    schemes = pq.read_table(pa.BufferReader(files["WE.schemes.parquet"])).to_pylist()
    assert schemes[3]["forecast_outturn"] == D("7800000.00")
    pool = pq.read_table(pa.BufferReader(files["WE.pool.parquet"])).to_pylist()[0]
    assert (pool["locked_through"], pool["variance"], pool["as_of"]) == ("2025-09", D("-1433333.33"),
                                                                         datetime.date(2025, 12, 31))
    with pytest.raises(pa.ArrowInvalid):  # a fraction of a penny is never rounded away silently
        pa.array([D("1.005")], type=ARROW["money"])


def test_s75_export_writes_one_set_of_files_named_by_pool(tmp_path, capsys):
    out = tmp_path / "exports"
    assert main(["export", str(EXAMPLE), "--out", str(out), "--date", "2025-09-30"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"EB-BCF.{t}.parquet" for t in TABLES)
    pool = pq.read_table(out / "EB-BCF.pool.parquet").to_pylist()[0]
    assert pool["locked_through"] is None  # the example ledger has no s75-lock: not known
    assert (pool["statement_month"], pool["variance"]) == ("2025-09", D("254000.00"))
    monthly = pq.read_table(out / "EB-BCF.monthly.parquet")
    assert monthly.schema.field("actual").type == pa.decimal128(18, 2)
    position = json.loads(_position_json(capsys))
    partners = pq.read_table(out / "EB-BCF.partners.parquet").to_pylist()
    assert [f"{p['received']:.2f}" for p in partners] == [p["received"] for p in position["partners"]]


def _position_json(capsys) -> str:
    capsys.readouterr()
    assert main(["position", str(EXAMPLE), "--date", "2025-09-30", "--json"]) == 0
    return capsys.readouterr().out


def test_export_for_a_date_outside_the_pool_is_one_line(tmp_path, capsys):
    out = tmp_path / "exports"
    assert main(["export", str(EXAMPLE), "--out", str(out), "--date", "2027-01-31"]) == 1
    err = capsys.readouterr().err
    assert "not one of the pool's years" in err and "nothing exported" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_export_into_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["export", str(EXAMPLE), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert "it is a file, not a folder" in err and "Traceback" not in err


def test_docs_list_every_column_of_every_table_with_its_parquet_type():
    from conftest import ROOT
    text = (ROOT / "docs" / "analysis.md").read_text()
    for table, columns in COLUMNS.items():
        section = text.split(f"#### `{table}`", 1)[1].split("####", 1)[0]
        for name, kind, meaning in columns:
            assert f"| `{name}` | {kind} | {ARROW[kind]} | {meaning} |" in section, (table, name)


def test_locked_through_counts_a_closed_year_as_locked_to_its_march():
    from beancount import loader
    entries, _, _ = loader.load_string('2026-04-10 custom "s75-close" "2025-26"\n')
    assert latest_lock(entries) == "2026-03"
    entries, _, _ = loader.load_string('2026-04-10 custom "s75-close" "2025-26"\n2026-05-05 custom "s75-lock" "2026-04"\n')
    assert latest_lock(entries) == "2026-04"
    assert latest_lock([]) is None
