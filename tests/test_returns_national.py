"""`s75 national-return`: the workbook follows the template layout kept as data (reports/
national_template_2025_26.json), and its figures are the example pool's at Month 6, worked by hand
(docs/returns.md, "The national return")."""
from __future__ import annotations

import json
from decimal import Decimal as D

import openpyxl
import pytest

from conftest import EXAMPLE, ROOT
from reports.returns import national
from s75.cli import main

LAYOUT = ROOT / "reports" / "national_template_2025_26.json"
NAME = "EB-BCF-2025-26-Q2-national-return.xlsx"
# (planned expenditure, actual to date, forecast) for Q2 2025-26. S04 carries the P4P tranche: 9,780
# admissions against a baseline of 10,000 releases 220 x 1,490.00 = 327,800.00 of 447,000.00, and the
# 119,200.00 withheld moves from S04's 3,600,000.00 to the contingency S05's 600,000.00 on 30 September.
# S10 has no forecast: its run-rate, 462,000.00 / 6 x 12.
SCHEMES = {
    "S01": ("5400000.00", "2810000.00", "5650000.00"), "S04": ("3480800.00", "1912000.00", "3840000.00"),
    "S05": ("719200.00", "0.00", "0.00"), "S08": ("2400000.00", "1255000.00", "2690000.00"),
    "S10": ("900000.00", "462000.00", "924000.00"),
}


def run(tmp_path, *extra) -> openpyxl.Workbook:
    out = tmp_path / "out"
    assert main(["national-return", str(EXAMPLE), "--quarter", "2025-26-Q2", "--out", str(out), *extra]) == 0
    assert [p.name for p in out.iterdir()] == [NAME]
    return openpyxl.load_workbook(out / NAME)


def rows_under(ws, heading: str) -> tuple[list[str], list[list]]:
    """The header row starting with `heading` and the cells of the rows under it, to the next blank row."""
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == heading)
    header = [c.value for c in ws[top] if c.value is not None]
    rows, r = [], top + 1
    while ws.cell(r, 1).value is not None:
        rows.append(list(ws[r])[:len(header)])
        r += 1
    return header, rows


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return run(tmp_path_factory.mktemp("national"))


def test_the_sheets_and_headings_are_the_layouts(default):
    assert default.sheetnames == ["5. Income & Expenditure", "4. Metrics"]
    header, rows = rows_under(default["5. Income & Expenditure"], "Scheme ID")
    layout = json.loads(LAYOUT.read_text())
    assert header == [c["heading"] for c in layout["sheets"][0]["tables"][1]["columns"]]
    assert [r[0].value for r in rows] == [f"S{n:02}" for n in range(1, 15)] + ["Total"]


def test_scheme_rows_carry_the_register_and_the_hand_figures(default):
    header, rows = rows_under(default["5. Income & Expenditure"], "Scheme ID")
    by_id = {r[0].value: {h: c for h, c in zip(header, r)} for r in rows}
    for scheme, figures in SCHEMES.items():
        cells = by_id[scheme]
        got = [cells["Planned Expenditure (£)"], cells["Actual Expenditure to date (£)"],
               cells["Forecast Expenditure for the year (£)"]]
        assert [D(str(c.value)) for c in got] == [D(v) for v in figures], scheme
        assert all(c.data_type == "n" and "£" in c.number_format for c in got)
    s01 = {h: c.value for h, c in by_id["S01"].items()}
    assert (s01["Scheme Name"], s01["Area of Spend"], s01["Commissioner"], s01["Source of Funding"]) == \
        ("Integrated health and social care teams", "Community health", "Joint", "Minimum NHS contribution")
    assert (s01["% NHS (if Joint Commissioner)"], s01["% LA (if Joint Commissioner)"]) == (60, 40)
    assert by_id["S02"]["Commissioner"].value == "Local Authority"
    assert by_id["S02"]["% NHS (if Joint Commissioner)"].value is None
    total = {h: c.value for h, c in by_id["Total"].items()}
    assert [D(str(total[h])) for h in ("Planned Expenditure (£)", "Actual Expenditure to date (£)",
                                       "Forecast Expenditure for the year (£)")] == \
        [D("24250000.00"), D("12060000.00"), D("24504000.00")]


def test_income_rows(default):
    header, rows = rows_under(default["5. Income & Expenditure"], "Contributing organisation")
    got = {(r[0].value, r[2].value): [D(str(c.value)) for c in r[3:6]] for r in rows}
    assert got[("NHS Example Integrated Care Board", "Minimum NHS contribution")] == \
        [D("15200000.00"), D("3800000.01"), D("7600000.02")]
    assert got[("Total", None)] == [D("24250000.00"), D("5275000.01"), D("13200000.02")]


def test_metrics_with_plan_and_actual(default):
    header, rows = rows_under(default["4. Metrics"], "Metric")
    assert header == ["Metric", "Period", "Baseline", "Planned", "Actual", "On track to meet target?"]
    got = [(r[0].value, r[1].value, r[3].value, r[4].value, r[5].value) for r in rows]
    assert got == [
        ("Non-elective admissions (people 65+)", "2025-26 Q2", 4850, 4875, "No"),
        ("Non-elective admissions (people 65+)", "2025-26 H1", 9700, 9780, "No"),
        ("Permanent admissions of people 65+ to care homes, per 100,000", "2025-26 Q2", 155, 153.2, "Yes"),
        ("Older people still at home 91 days after discharge to reablement", "2025-26 Q2", 85, 85.6, "Yes")]


def changed_layout() -> dict:
    """Next year's template, say: sheets renamed and swapped, columns reordered, headings reworded, a
    column dropped and one added, the income table gone."""
    layout = json.loads(LAYOUT.read_text())
    spend, metrics = layout["sheets"]
    spend["name"], metrics["name"] = "6. Spend", "3. Metrics"
    spend["tables"] = [spend["tables"][1]]
    columns = spend["tables"][0]["columns"]
    columns.reverse()
    columns[0]["heading"] = "Forecast outturn 2025-26"
    spend["tables"][0]["columns"] = [c for c in columns if c["field"] != "provider"] + \
        [{"field": "actual_in_quarter", "heading": "Spend in the quarter"}]
    layout["sheets"] = [metrics, spend]
    return layout


def test_a_changed_data_file_changes_the_workbook(tmp_path, monkeypatch):
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / LAYOUT.name).write_text(json.dumps(changed_layout()))
    monkeypatch.setattr(national, "LAYOUTS", folder)
    wb = run(tmp_path)
    assert wb.sheetnames == ["3. Metrics", "6. Spend"]
    header, rows = rows_under(wb["6. Spend"], "Forecast outturn 2025-26")
    assert header[:3] == ["Forecast outturn 2025-26", "Actual Expenditure to date (£)", "Planned Expenditure (£)"]
    assert header[-1] == "Spend in the quarter" and "Provider" not in header
    s04 = {h: c.value for h, c in zip(header, rows[3])}
    assert D(str(s04["Forecast outturn 2025-26"])) == D("3840000.00")
    assert D(str(s04["Spend in the quarter"])) == D("977000.00")
    assert s04["Scheme ID"] == "S04"
    assert wb["6. Spend"].cell(1, 1).value == "Better Care Fund 2025-26 Quarterly Reporting Template: Q2"


def test_template_option_names_another_layout(tmp_path):
    other = tmp_path / "mine.json"
    other.write_text(json.dumps(changed_layout()))
    assert run(tmp_path, "--template", str(other)).sheetnames == ["3. Metrics", "6. Spend"]


def bad(layout_change) -> dict:
    layout = json.loads(LAYOUT.read_text())
    layout_change(layout)
    return layout


@pytest.mark.parametrize("layout, message", [
    (bad(lambda d: d["sheets"][0]["tables"][1]["columns"].append({"field": "colour", "heading": "C"})),
     "sheet 1, table 2, column 13: unknown field 'colour' for expenditure rows"),
    (bad(lambda d: d.update(year="2024-25")), "the layout is for '2024-25', not 2025-26"),
    (bad(lambda d: d["sheets"][1].update(name="Metrics: Q2")), "sheet 2: \"name\" is the sheet's name"),
    (bad(lambda d: d["sheets"][1].update(name="5. income & expenditure")), "is used twice"),
    (bad(lambda d: d["sheets"][0]["title"].append("{mayor}")), "a place to fill is one of"),
    ("{not json", "not valid JSON"),
])
def test_a_wrong_layout_is_one_line_and_writes_nothing(layout, message, tmp_path, capsys):
    path = tmp_path / "layout.json"
    path.write_text(layout if isinstance(layout, str) else json.dumps(layout))
    out = tmp_path / "out"
    assert main(["national-return", str(EXAMPLE), "--quarter", "2025-26-Q2", "--out", str(out),
                 "--template", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_year_without_a_layout_says_where_to_put_one(tmp_path, capsys):
    assert main(["national-return", str(EXAMPLE), "--quarter", "2026-27-Q1", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "national_template_2026_27.json: no such file" in err and err.count("\n") == 1


def test_bad_quarter_and_folder_are_one_line(tmp_path, capsys):
    assert main(["national-return", str(EXAMPLE), "--quarter", "Q2", "--out", str(tmp_path / "o")]) == 1
    assert "'Q2' is not a quarter as YYYY-YY-QN" in capsys.readouterr().err
    assert main(["national-return", str(EXAMPLE.parent), "--quarter", "2025-26-Q2", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "is a folder, not a ledger file" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_scheme_names_from_the_ledger_stay_text(tmp_path):
    three = (ROOT / "tests" / "ledgers" / "three-years.beancount").read_text()
    ledger = tmp_path / "main.beancount"
    ledger.write_text(three.replace('"S02" "Reablement"', '"S02" "=SUM(A1:A9)"')
                      .replace('provider: "Three Year Council"', 'provider: "@cmd"', 1))
    layout = tmp_path / "layout.json"
    layout.write_text(LAYOUT.read_text().replace('"2025-26"', '"2026-27"'))
    out = tmp_path / "out"
    assert main(["national-return", str(ledger), "--quarter", "2026-27-Q1", "--out", str(out),
                 "--template", str(layout)]) == 0
    ws = openpyxl.load_workbook(next(out.glob("*.xlsx")))["5. Income & Expenditure"]
    cell = next(c for r in ws.iter_rows() for c in r if c.value == "=SUM(A1:A9)")
    assert cell.data_type == "s"
